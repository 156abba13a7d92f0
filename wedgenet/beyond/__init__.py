"""Beyond enumeration: a certified optimality bound and column generation at any dimension.

* :func:`lower_bound` — a certified lower bound on the optimal value of a network's problem
  (weak duality with the maximum dual violation bounded by a pricing MILP).
* :func:`fit_beyond` — column generation from a sampled dictionary with a heuristic pricer
  (adjacent-vertex local search) and the exact pricing MILP, until the bound closes.

See docs/bound.md.
"""

from .bound import Bound, lower_bound
from .colgen import fit_beyond

__all__ = ["Bound", "lower_bound", "fit_beyond"]
