"""The optimality certificate: its formula, its scope and its verdict, in one place.

For the Lasso ``P(z, t) = L(K z + 1 t; y) + lam R(z)`` and a dual candidate ``theta``
(``-grad L(pred)``, projected onto ``1^T theta = 0`` with a free intercept), weak duality gives
(docs/conventions.md, "Certificates")

    max_violation = max_j ||K_j^T theta|| / lam,
    dual          = -L*(-s theta; y)  with  s = min(1, 1 / max_violation),
    gap           = primal - dual >= primal - optimum >= 0.

The maximum runs over the columns that were priced, so what the gap proves depends on which
columns those are: the certificate's ``scope``.

* ``"dictionary"``: the columns of the dictionary the solver was given (a solver knows nothing
  more; :func:`wedgenet.fit` refines it to one of the scopes below).
* ``"all_candidates"``: every candidate neuron of the family.  For an exact family (``reg="l1"``,
  Theorems 2, 4, 12, 13, 16; ``d = 1``) a closed gap then proves the network is globally optimal.
  For ``reg="l2"`` (Theorems 3, 5, 15, 17) the dictionary approximates the network problem only
  within the chamber-diameter factor ``1/(1-eps)``: the gap proves optimality for that Lasso only.
* ``"sampled"``: a random sample of the candidates: the gap proves optimality over the sample
  only and says nothing about the distance to the global optimum.

A ``lower_bound`` on the network problem's optimal value (from a bound over every neuron, see
``wedgenet.beyond``) turns any scope into a measured distance to the global optimum.

``clock_stopped`` records that a run which normally stops on work (column generation) was cut
short by its safety-net ``time_limit``: the result then depends on the machine's speed, and the
verdict says so.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace

__all__ = ["Certificate", "SCOPES", "dual_certificate"]

#: what the priced columns cover (see the module docstring)
SCOPES = ("dictionary", "all_candidates", "sampled")


@dataclass(frozen=True)
class Certificate:
    """Optimality certificate of a solution over the columns it priced.

    ``max_violation = max_j |K_j^T theta| / lam`` for the loss's dual point
    ``theta = -grad L(pred)``: the solution is optimal over those columns iff it is <= 1.
    ``dual`` is the dual objective at ``theta`` scaled into the feasible set, so
    ``gap = primal - dual >= 0`` bounds the suboptimality of ``primal`` over them.
    """

    primal: float
    dual: float
    gap: float
    relative_gap: float
    max_violation: float
    n_columns_priced: int
    scope: str = "dictionary"
    #: whether the dictionary's Lasso has the network problem's optimal value (``reg="l1"``, d=1)
    exact: bool = True
    #: candidates in the family (every candidate), when known
    n_candidates_total: int | None = None
    #: a certified lower bound on the *network* problem's optimal value, when one was computed
    lower_bound: float | None = None
    #: how ``lower_bound`` was obtained (one line)
    bound_method: str | None = None
    #: the run was stopped by its safety-net time limit, not by its work rule (not reproducible)
    clock_stopped: bool = False

    def __post_init__(self) -> None:
        if self.scope not in SCOPES:
            raise ValueError(f"scope must be one of {SCOPES}; got {self.scope!r}")

    # ------------------------------------------------------------------ what was proven
    def closed(self, tol: float = 1e-6) -> bool:
        """The gap is closed to ``tol`` (relative) and no priced column violates the dual."""
        return bool(self.relative_gap <= tol and self.max_violation <= 1.0 + 1e-6)

    def globally_optimal(self, tol: float = 1e-6) -> bool:
        """Proven optimal for the network problem: closed over every candidate of an exact family."""
        return self.closed(tol) and self.scope == "all_candidates" and self.exact

    @property
    def bound_gap(self) -> float | None:
        """``(primal - lower_bound) / |primal|``: a proven distance to the global optimum."""
        if self.lower_bound is None:
            return None
        return max(self.primal - self.lower_bound, 0.0) / max(abs(self.primal), 1e-300)

    def verdict(self, tol: float = 1e-6) -> str:
        """One line saying exactly what the certificate proves (used by ``summary()``, the CLI, docs)."""
        closed = self.closed(tol)
        gap = f"relative gap {self.relative_gap:.2g}"
        if self.scope == "all_candidates":
            if not closed:
                head = f"NOT certified: {gap} over every candidate"
            elif self.exact:
                head = "globally optimal (gap closed over every candidate of an exact family)"
            else:
                head = ("optimal for the l2 wedge Lasso over every candidate; the network problem is "
                        "approximated within the chamber-diameter factor 1/(1-eps), not certified")
        elif self.scope == "sampled":
            total = f" of {self.n_candidates_total:,}" if self.n_candidates_total else ""
            none = "" if self.lower_bound is not None else ": no bound on the distance to the global optimum"
            head = (f"optimal over a sampled dictionary only ({self.n_columns_priced:,}{total} candidate columns)"
                    + none if closed else
                    f"NOT certified: {gap} over a sampled dictionary ({self.n_columns_priced:,}{total} columns)")
        else:
            head = (f"optimal over the {self.n_columns_priced:,} dictionary columns priced" if closed
                    else f"NOT certified: {gap} over the {self.n_columns_priced:,} dictionary columns priced")
        bg = self.bound_gap
        if bg is not None and not (closed and self.scope == "all_candidates" and self.exact):
            how = f" ({self.bound_method})" if self.bound_method else ""
            head += f"; proven within {100 * bg:.3g}% of the global optimum{how}"
        if self.clock_stopped:
            head += "; stopped at time_limit; not reproducible"
        return head

    # ------------------------------------------------------------------ persistence
    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Certificate:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})

    def with_scope(self, scope: str, **kw) -> Certificate:
        return replace(self, scope=scope, **kw)

    def __str__(self) -> str:
        return (f"primal {self.primal:.10g}, dual {self.dual:.10g}, gap {self.gap:.3g} "
                f"(relative {self.relative_gap:.3g}), max dual violation {self.max_violation:.6f} "
                f"over {self.n_columns_priced:,} columns")


def dual_certificate(loss, y, lam: float, primal: float, theta, max_score: float, n_columns: int) -> Certificate:
    """The certificate of a solution with value ``primal`` and dual candidate ``theta``.

    ``max_score = max_j ||K_j^T theta||`` over the ``n_columns`` columns priced; ``theta`` is
    scaled by ``min(1, lam / max_score)`` into the dual feasible set (module docstring).
    """
    scale = 1.0 if max_score <= lam else lam / max_score
    dual = loss.dual_value(scale * theta, y)
    gap = max(primal - dual, 0.0)
    if not math.isfinite(gap):
        gap = math.inf
    return Certificate(primal=float(primal), dual=float(dual), gap=float(gap),
                       relative_gap=float(gap / max(abs(primal), 1e-300)), max_violation=float(max_score / lam),
                       n_columns_priced=int(n_columns))
