"""The pricing MILP and the local search against enumeration of every candidate (wedgenet.dictionary)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import wedgenet as wn
from wedgenet.beyond.local_search import best_vertices, climb, neighbour_scores
from wedgenet.beyond.milp import price_milp, solve_side
from wedgenet.beyond.vertices import Geometry


def _data(seed, n, d, scale=1.0, shift=0.0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * scale + shift
    y = rng.normal(size=n)
    return X, y


@pytest.mark.parametrize("d", [2, 3, 4])
@pytest.mark.parametrize("bias", [True, False])
def test_milp_equals_enumeration(d, bias):
    X, y = _data(10 + d, 14 if d < 4 else 11, d)
    theta = y - y.mean() if bias else y
    D = wn.dictionary(X, reg="l1", bias=bias)  # every candidate (not sampled)
    assert not D.sampled
    s = D.K.T @ theta
    geo = Geometry(X, bias=bias)
    for sgn, enum in ((1.0, s.max()), (-1.0, -s.min())):
        r = solve_side(geo, sgn * theta, time_limit=30)
        assert r.optimal
        assert r.value == pytest.approx(enum, rel=1e-7, abs=1e-9)
        assert r.upper >= enum * (1 - 1e-12)
        assert r.upper == pytest.approx(enum, rel=1e-6, abs=1e-9)
    pr = price_milp(geo, theta, 0.5, time_limit=30)
    assert pr.upper == pytest.approx(np.abs(s).max() / 0.5, rel=1e-6)


@pytest.mark.parametrize("kw", [dict(center=False), dict(b_slices=3), dict(hull=True)])
def test_milp_variants_agree(kw):
    X, y = _data(3, 13, 3, scale=2.0, shift=5.0)
    theta = y - y.mean()
    s = wn.dictionary(X, reg="l1", bias=True).K.T @ theta
    r = solve_side(Geometry(X, bias=True), theta, time_limit=30, **kw)
    assert r.value == pytest.approx(s.max(), rel=1e-7)
    assert r.upper == pytest.approx(s.max(), rel=1e-6)


def test_milp_time_limit_gives_valid_upper_bound():
    X, y = _data(5, 60, 5)
    theta = y - y.mean()
    geo = Geometry(X, bias=True)
    r = solve_side(geo, theta, time_limit=0.05)
    # any neuron's score is below the certified bound, even when stopped almost at once
    V = np.random.default_rng(0).normal(size=(300, 6))
    assert np.all(geo.scores(V, theta) <= r.upper * (1 + 1e-12))


def test_milp_l2_polytope_bounds_the_l2_dictionary():
    X, y = _data(7, 12, 3)
    theta = y - y.mean()
    D = wn.dictionary(X, reg="l2", bias=True)
    r1 = solve_side(Geometry(X, bias=True, reg="l2"), theta, time_limit=30)
    r_l1 = solve_side(Geometry(X, bias=True, reg="l1"), theta, time_limit=30)
    assert r1.upper >= (D.K.T @ theta).max() * (1 - 1e-9)
    assert r1.upper <= np.sqrt(3) * r_l1.upper * (1 + 1e-9)  # never looser than sqrt(d) V_1


@settings(max_examples=5, deadline=None)
@given(st.floats(1e-3, 1e3), st.floats(-1e3, 1e3))
def test_milp_scale_and_shift(alpha, shift):
    X, y = _data(1, 12, 2)
    theta = y - y.mean()
    base = solve_side(Geometry(X, bias=True), theta, time_limit=20).value
    moved = solve_side(Geometry(alpha * X + shift, bias=True), theta, time_limit=20).value
    assert moved == pytest.approx(alpha * base, rel=1e-6)


@pytest.mark.parametrize("bias", [True, False])
def test_neighbour_formula_matches_direct_null_vectors(bias):
    X, y = _data(4, 9, 3)
    theta = y - y.mean() if bias else y
    geo = Geometry(X, bias=bias)
    rows = geo.tight_rows(np.random.default_rng(1).normal(size=geo.D))
    v = geo.vertex(rows)
    best, r, q, sign = neighbour_scores(geo, rows, v, theta)
    direct = -np.inf
    for pos in range(geo.D - 1):
        for qq in range(geo.rows.shape[0]):
            if qq in rows:
                continue
            new = rows.copy()
            new[pos] = qq
            vn = geo.vertex(new)
            if vn is None:
                continue
            direct = max(direct, np.abs(geo.scores(np.vstack([vn, -vn]), theta)).max())
    assert best == pytest.approx(direct, rel=1e-8)


def test_climb_reaches_a_dictionary_column_and_increases():
    X, y = _data(8, 15, 3)
    theta = y - y.mean()
    D = wn.dictionary(X, reg="l1", bias=True)
    scores = np.abs(D.K.T @ theta)
    geo = Geometry(X, bias=True)
    V0 = geo.from_data(D.weights[:5], D.biases[:5])
    found = best_vertices(geo, V0, theta, max_starts=5)
    for rows, v, s in found:
        assert s >= scores[:5].min() - 1e-12
        assert np.min(np.abs(scores - s)) <= 1e-9 * s  # a local maximum is a candidate of the dictionary
        rows2, _, s2, steps = climb(geo, rows, v, theta)
        assert steps == 0 and s2 == pytest.approx(s)


def test_ctrl_c_stops_the_milp_child():
    import multiprocessing as mp
    import signal

    X, y = _data(9, 150, 8)
    geo = Geometry(X, bias=True)

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, 1.0)
    try:
        with pytest.raises(KeyboardInterrupt):
            solve_side(geo, y - y.mean(), time_limit=120)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    assert not [p for p in mp.active_children() if p.is_alive()]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cell_vertex_never_lowers_the_violation(seed):
    """The best vertex of a neuron's cell (an LP) is a dictionary candidate at least as violating."""
    X, y = _data(40 + seed, 12, 3)
    theta = y - y.mean()
    geo = Geometry(X, bias=True)
    s = np.abs(wn.dictionary(X, reg="l1", bias=True).K.T @ theta).max()  # every candidate
    rng = np.random.default_rng(seed)
    for _ in range(5):
        w = rng.normal(size=3)
        b = -float(w @ X[rng.integers(12)]) + 0.1  # a breakline through the data
        v0 = geo.from_data(w[None], np.array([b]))[0]
        s0 = abs(geo.scores(v0[None], theta)[0])
        vc = geo.cell_vertex(v0, theta)
        rows = geo.tight_rows(vc, rtol=1e-7, force=False)
        assert rows is not None  # the LP solution is a vertex of the arrangement
        v = geo.vertex(rows, sign_ref=vc)
        sc = abs(geo.scores(v[None], theta)[0])
        assert sc >= s0 * (1 - 1e-9)
        assert sc <= s * (1 + 1e-9)
    assert Geometry(X, bias=True, reg="l2").cell_vertex(v0, theta) is None
