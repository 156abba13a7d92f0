"""Conformance tests driven by the back-end and restricted-solver registries."""

from __future__ import annotations

import numpy as np
import pytest

import wedgenet as wn
from wedgenet.solvers import BACKENDS, INNER_SOLVERS, LassoProblem, get_backend, get_loss
from wedgenet.solvers.losses import LOSSES


def _problem(loss_name: str, intercept: bool, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(20, 2))
    lo = get_loss(loss_name)
    if lo.labels == "real":
        y = np.sin(2 * X[:, 0]) + X[:, 1]
    elif lo.labels == "binary":
        y = np.where(X[:, 0] * X[:, 1] > 0, 1, -1)
    else:
        y = (np.arctan2(X[:, 1], X[:, 0]) // 2.1).astype(int) % 3
    D = wn.dictionary(X, bias=intercept)
    yy, _ = lo.encode_targets(y, X.shape[0])
    lam = 0.2 * float(D.violators(lo.zero_dual(yy, intercept), 0, np.inf)[2])
    return D, yy, lam, lo


def _reference(D, yy, lam, lo, intercept):
    res = get_backend("cvxpy", LassoProblem(D, yy, lam, lo, intercept)).solve(
        LassoProblem(D, yy, lam, lo, intercept), tol=1e-8)
    return res.certificate.primal


CASES = [(name, b, loss) for name in BACKENDS for loss in sorted(LOSSES) for b in (False, True)]


@pytest.mark.parametrize("name,intercept,loss", CASES)
def test_every_backend_certifies_what_it_supports(name, intercept, loss):
    D, yy, lam, lo = _problem(loss, intercept)
    problem = LassoProblem(D, yy, lam, lo, intercept)
    be = BACKENDS[name]
    if not be.supports(problem):
        with pytest.raises(ValueError):
            get_backend(name, problem)
        return
    res = get_backend(name, problem).solve(problem, tol=1e-7)
    cert = res.certificate
    assert cert.gap >= 0 and cert.relative_gap <= 1e-5 and cert.max_violation <= 1 + 1e-5
    assert cert.primal == pytest.approx(_reference(D, yy, lam, lo, intercept), rel=1e-5, abs=1e-8)
    assert get_backend(name, problem) is not be  # a fresh instance per fit: no shared solve state


INNER_CASES = [(s, loss) for s in INNER_SOLVERS for loss in sorted(LOSSES)
               if s.supports(get_loss(loss), get_loss(loss).labels == "classes")]


def test_every_loss_has_a_restricted_solver():
    for loss in LOSSES.values():
        assert any(s.supports(loss, loss.labels == "classes") for s in INNER_SOLVERS), loss.name


@pytest.mark.parametrize("solver,loss", INNER_CASES, ids=lambda v: getattr(v, "name", v))
def test_every_restricted_solver_matches_the_reference_objective(solver, loss):
    D, yy, lam, lo = _problem(loss, True, seed=3)
    K = D.columns(np.arange(min(D.n_columns, 40)))
    sol = solver.solve(K, yy, lam, lo, True)
    pred = K @ sol.coef + sol.intercept
    coef = sol.coef
    pen = np.abs(coef).sum() if coef.ndim == 1 else np.linalg.norm(coef, axis=1).sum()
    value = lo.value(pred, yy) + lam * pen
    from wedgenet.solvers.base import ExplicitColumns

    ref = get_backend("cvxpy", LassoProblem(ExplicitColumns(K), yy, lam, lo, True)).solve(
        LassoProblem(ExplicitColumns(K), yy, lam, lo, True), tol=1e-9)
    assert value == pytest.approx(ref.certificate.primal, rel=1e-5, abs=1e-7)
