"""The half-plane pricing of ``neighbour_scores`` against a brute-force reference.

The reference swaps every row ``r`` for every row ``q``, takes the null vector of the new row
set by SVD (``Geometry.null_vector``) and scores both orientations: one SVD per swap.
Ties go to the earliest position, then to the orientation of ``v' = (q . g_r) v - (q . v) g_r``,
then to the lowest row: the order the fast path documents.
"""

import numpy as np
import pytest

from wedgenet.beyond import local_search
from wedgenet.beyond.local_search import climb, neighbour_scores
from wedgenet.beyond.vertices import Geometry


def brute_neighbour(geo, rows, v, theta, positions=None):
    """``(score, r, q, sign)`` by direct null vectors; ``sign`` relative to the closed-form ``v'``."""
    G = np.linalg.inv(np.vstack([geo.rows[rows], v[None, :]]))
    best = (-np.inf, -1, -1, 0)
    for r in (range(geo.D - 1) if positions is None else positions):
        r = int(r)
        vals = {1: [], -1: []}
        for q in range(geo.rows.shape[0]):
            if q in rows:
                continue
            new = rows.copy()
            new[r] = q
            u = geo.vertex(new)
            if u is None:
                continue
            a = geo.rows[q]
            vp = (a @ G[:, r]) * v - (a @ v) * G[:, r]  # the closed form fixes the orientation
            u = u if u @ vp >= 0 else -u
            sc = np.abs(geo.scores(np.vstack([u, -u]), theta))
            vals[1].append((sc[0], q))
            vals[-1].append((sc[1], q))
        for sign in (1, -1):
            for val, q in vals[sign]:
                if val > best[0]:
                    best = (float(val), r, q, sign)
    return best


def _geometry(seed, n, d, *, bias, reg, samples_only, dup=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * 3.0 + 1.0
    if dup:
        X[n - dup:] = X[:dup]  # duplicated samples: exact ties between their rows
    geo = Geometry(X, bias=bias, reg=reg)
    if samples_only:  # the arrangement polishing climbs on (no coordinate faces)
        geo.rows = np.ascontiguousarray(geo.rows[:n])
    theta = rng.normal(size=n)
    rows = geo.tight_rows(rng.normal(size=geo.D))
    return geo, theta, rows, geo.vertex(rows)


CASES = [(0, 30, 4, True, "l1", False), (1, 25, 3, False, "l1", False), (2, 30, 5, True, "l2", True),
         (3, 40, 4, True, "l1", True), (4, 20, 2, False, "l2", True)]


@pytest.mark.parametrize("case", CASES)
def test_best_swap_matches_brute_force(case):
    seed, n, d, bias, reg, samples_only = case
    geo, theta, rows, v = _geometry(seed, n, d, bias=bias, reg=reg, samples_only=samples_only)
    for positions in (None, np.random.default_rng(seed).permutation(geo.D - 1)[:2]):
        s, r, q, sign = neighbour_scores(geo, rows, v, theta, positions)
        sb, rb, qb, signb = brute_neighbour(geo, rows, v, theta, positions)
        assert (r, q, sign) == (rb, qb, signb)
        assert s == pytest.approx(sb, rel=1e-9)


@pytest.mark.parametrize("case", CASES)
def test_climb_visits_the_same_vertices_as_brute_force(case, monkeypatch):
    seed, n, d, bias, reg, samples_only = case
    geo, theta, rows, v = _geometry(seed, n, d, bias=bias, reg=reg, samples_only=samples_only)
    path_fast, path_brute = [], []

    def spy(fn, path):
        def wrapped(geo, rows, v, theta, positions=None):
            out = fn(geo, rows, v, theta, positions)
            path.append((tuple(rows), out[1:]))
            return out
        return wrapped

    monkeypatch.setattr(local_search, "neighbour_scores", spy(neighbour_scores, path_fast))
    fast = climb(geo, rows, v, theta, max_steps=8)
    monkeypatch.setattr(local_search, "neighbour_scores", spy(brute_neighbour, path_brute))
    brute = climb(geo, rows, v, theta, max_steps=8)
    assert fast[3] == brute[3] and fast[3] >= 1
    assert path_fast == path_brute
    np.testing.assert_array_equal(fast[0], brute[0])
    np.testing.assert_allclose(fast[1], brute[1], rtol=1e-12, atol=1e-14)
    assert fast[2] == brute[2]


@pytest.mark.parametrize("theta_kind", ["zero", "duplicates"])
def test_ties_break_like_the_brute_force(theta_kind):
    geo, theta, rows, v = _geometry(7, 24, 3, bias=True, reg="l1", samples_only=True,
                                    dup=6 if theta_kind == "duplicates" else 0)
    if theta_kind == "zero":
        theta = np.zeros_like(theta)
    s, r, q, sign = neighbour_scores(geo, rows, v, theta)
    sb, rb, qb, signb = brute_neighbour(geo, rows, v, theta)
    assert (r, q, sign) == (rb, qb, signb)
    assert s == pytest.approx(sb, rel=1e-9, abs=1e-300)
    if theta_kind == "zero":
        assert s == 0.0 and r == 0 and sign == 1


def test_climb_is_scale_invariant():
    geo, theta, rows, v = _geometry(11, 35, 4, bias=True, reg="l1", samples_only=False)
    geo2 = Geometry((geo.Xs * geo.R + geo.center) * 1e7 - 5e6, bias=True)
    out = climb(geo, rows, v, theta)
    out2 = climb(geo2, rows, geo2.vertex(rows, sign_ref=v), theta)
    np.testing.assert_array_equal(out[0], out2[0])
    assert out2[2] == pytest.approx(out[2] * 1e7, rel=1e-9)


def test_last_axis_norms_are_row_norms():
    from wedgenet._linalg import row_norms

    rng = np.random.default_rng(3)
    W = rng.normal(size=(4, 7, 5))
    W[0, 0] *= 1e200
    W[1, 1] *= 1e-200
    W[2, 2] = 0.0
    for p in (1, 2):
        np.testing.assert_array_equal(local_search._last_axis_norms(W, p),
                                      row_norms(W.reshape(-1, 5), p).reshape(4, 7))


@pytest.mark.parametrize("p", [1, 2])
def test_swap_norms_within_their_bound(p):
    """Closed-form 2-norms under cancellation (``alpha_q = beta_q c`` with ``g = c v + tiny``) fall back
    to direct sums; everywhere else they agree with the direct norms to ``NORM_RTOL``."""
    rng = np.random.default_rng(5)
    d, k, P = 6, 4, 50
    v = rng.normal(size=d)
    c = rng.normal(size=k)
    Gc = v[:, None] * c[None, :] + rng.normal(size=(d, k)) * np.array([1.0, 1e-9, 1e-13, 1.0])
    beta = rng.normal(size=P)
    al = rng.normal(size=(k, P))
    al[:, :10] = beta[None, :10] * c[:, None]  # w' = -beta_q * (tiny part of g)
    W = al[:, :, None] * v[None, None, :] - beta[None, :, None] * Gc.T[:, None, :]
    exact = local_search.row_norms(W.reshape(-1, d), p).reshape(k, P)
    thr = np.full(k, 1e-10)
    thr[3] = exact[3, 20]  # a norm exactly at the threshold must be summed directly
    nr, rel = local_search._swap_norms(al, beta, v, Gc, p, thr)
    assert np.all(rel <= local_search.NORM_RTOL)
    np.testing.assert_allclose(nr, exact, rtol=2 * local_search.NORM_RTOL, atol=0)
    np.testing.assert_array_equal(nr[rel == 0], exact[rel == 0])
    if p == 2:
        assert rel[3, 20] == 0.0 and np.all(rel[1:3, :10] == 0.0)  # the threshold and the cancellations
        assert np.mean(rel > 0) > 0.8  # the closed form is used elsewhere
