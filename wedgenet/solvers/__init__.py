"""Convex solvers for the wedge Lasso, with certificates of global optimality."""

from .backends import BACKENDS, Backend, FullSolve, WorkingSet, get_backend, register_backend
from .base import Certificate, ColumnSource, ExplicitColumns, LassoProblem, SolverResult, certify, penalty
from .classification import GroupProxNewton, HingeLP, ProxNewton
from .errors import SolverError
from .inner import INNER_SOLVERS, CvxpyClarabel, SklearnCD, inner_solver_for
from .losses import LOSSES, HingeLoss, LogisticLoss, Loss, SoftmaxLoss, SquaredLoss, get_loss
from .screening import PricingMemory, gap_safe_radius

__all__ = [
    "BACKENDS",
    "INNER_SOLVERS",
    "LOSSES",
    "Backend",
    "Certificate",
    "ColumnSource",
    "CvxpyClarabel",
    "ExplicitColumns",
    "FullSolve",
    "GroupProxNewton",
    "HingeLP",
    "HingeLoss",
    "LassoProblem",
    "LogisticLoss",
    "Loss",
    "SklearnCD",
    "SoftmaxLoss",
    "PricingMemory",
    "ProxNewton",
    "SolverError",
    "SolverResult",
    "SquaredLoss",
    "WorkingSet",
    "certify",
    "get_backend",
    "gap_safe_radius",
    "get_loss",
    "inner_solver_for",
    "penalty",
    "register_backend",
]
