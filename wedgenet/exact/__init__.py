"""Exact global optimality oracle for two-layer ReLU networks.

The hyperplane-arrangement convex program of Pilanci & Ergen (2020), "Neural Networks are Convex
Regularizers", eq. (8): complete enumeration of the activation patterns, the convex program
(solved by cvxpy + Clarabel), and the optimal network rebuilt from its solution.  Conventions
follow docs/conventions.md: the network penalty is ``(lam/2) sum_j (||w_j||_p^2 + a_j^2)``, hidden biases and
the output intercept are unpenalised, and ``bias=False`` means neither is present.
"""

from .patterns import activation_patterns, max_pattern_count
from .program import ExactResult, network_objective, network_predict, solve_exact

__all__ = [
    "ExactResult",
    "activation_patterns",
    "max_pattern_count",
    "network_objective",
    "network_predict",
    "solve_exact",
]
