"""The polishing step on one layer: orthogonality, signs, norms, nearest samples, rank deficiency."""

import numpy as np
import pytest

import wedgenet
from wedgenet.polishing.selection import polish_weights


def _rel_residual(S, W, b, samples):
    """max over neurons of |x.w + b| / (||(x, 1)|| ||(w, b)||) on the defining samples."""
    out = 0.0
    for j, s in enumerate(samples):
        xa = S[s] if b is None else np.hstack([S[s], np.ones((len(s), 1))])
        wa = W[j] if b is None else np.r_[W[j], b[j]]
        r = np.abs(xa @ wa) / (np.linalg.norm(xa, axis=1) * np.linalg.norm(wa))
        out = max(out, float(r.max()) if r.size else 0.0)
    return out


@pytest.mark.parametrize("biased", [False, True])
def test_full_rank_orthogonal_sign_norm(biased):
    rng = np.random.default_rng(1)
    n, d, m = 80, 6, 12
    S = rng.standard_normal((n, d))
    W = rng.standard_normal((m, d))
    b = rng.standard_normal(m) if biased else None
    res = polish_weights(S, W, b)
    r = d + 1 if biased else d
    assert res.rank == r and res.samples.shape == (m, r - 1)
    assert _rel_residual(S, res.W, res.b, res.samples) < 1e-10
    Wa_old = W if b is None else np.c_[W, b]
    Wa_new = res.W if b is None else np.c_[res.W, res.b]
    Sa = S if b is None else np.c_[S, np.ones(n)]
    assert np.all(np.einsum("ij,ij->j", Sa @ Wa_old.T, Sa @ Wa_new.T) > 0)  # signs agree on the samples
    np.testing.assert_allclose(np.linalg.norm(res.W, axis=1), np.linalg.norm(W, axis=1), rtol=1e-12)
    # per-neuron reference (the paper's loop): the r-1 smallest |x.w+b|, and the null vector by SVD
    for j in range(m):
        sc = np.abs(Sa @ Wa_old[j])
        assert set(res.samples[j]) == set(np.argsort(sc)[: r - 1])
        null = np.linalg.svd(Sa[res.samples[j]])[2][-1]
        null *= np.sign((Sa @ null) @ (Sa @ Wa_old[j]))
        np.testing.assert_allclose(Wa_new[j] / np.linalg.norm(Wa_new[j]), null, atol=1e-10)
        c = np.abs(S).max(axis=0)  # the angle is measured in the unit-free coordinates: features / max|feature|
        e = np.r_[c, 1.0] if b is not None else c
        uo, un = Wa_old[j] * e, Wa_new[j] * e
        ang = np.degrees(np.arccos(uo @ un / np.linalg.norm(uo) / np.linalg.norm(un)))
        assert res.angle[j] == pytest.approx(ang, abs=1e-6)
        # sign changes counted explicitly, defining samples excluded
        others = np.setdiff1d(np.arange(n), res.samples[j])
        expected = np.sum((Sa[others] @ Wa_old[j] > 0) != (Sa[others] @ Wa_new[j] > 0))
        assert res.sign_changes[j] == expected


def test_cross_product_convention():
    """Full rank, no bias: the new neuron is +-cross(selected samples), scaled."""
    rng = np.random.default_rng(2)
    S = rng.standard_normal((40, 4))
    W = rng.standard_normal((5, 4))
    res = polish_weights(S, W, None, normalize=True)
    for j in range(5):
        c = wedgenet.cross(S[np.sort(res.samples[j])])
        cos = c @ res.W[j] / np.linalg.norm(c)
        assert abs(abs(cos) - 1) < 1e-12
    np.testing.assert_allclose(np.linalg.norm(res.W, axis=1), 1.0, rtol=1e-12)


@pytest.mark.parametrize("biased", [False, True])
def test_rank_deficient_row_space(biased):
    """Samples in a 3-dim subspace of R^8: the cross product is taken in the row space."""
    rng = np.random.default_rng(3)
    n, d, m = 50, 8, 10
    S = rng.standard_normal((n, 3)) @ rng.standard_normal((3, d))
    W = rng.standard_normal((m, d))
    b = rng.standard_normal(m) if biased else None
    res = polish_weights(S, W, b)
    r = 4 if biased else 3
    assert res.rank == r and res.samples.shape == (m, r - 1)
    assert _rel_residual(S, res.W, res.b, res.samples) < 1e-10
    Sa = S if b is None else np.c_[S, np.ones(n)]
    Wa_new = res.W if b is None else np.c_[res.W, res.b]
    Vt = np.linalg.svd(Sa)[2][:r]
    proj = Wa_new - (Wa_new @ Vt.T) @ Vt                     # component outside the row space
    assert np.abs(proj).max() < 1e-12 * np.abs(Wa_new).max()
    Wa_old = W if b is None else np.c_[W, b]
    assert np.all(np.einsum("ij,ij->j", Sa @ Wa_old.T, Sa @ Wa_new.T) > 0)


def test_more_features_than_samples():
    rng = np.random.default_rng(4)
    S = rng.standard_normal((5, 12))
    W = rng.standard_normal((7, 12))
    b = rng.standard_normal(7)
    res = polish_weights(S, W, b)
    assert res.rank == 5 and res.samples.shape == (7, 4)
    assert _rel_residual(S, res.W, res.b, res.samples) < 1e-10


def test_duplicates_and_zero_rows_are_skipped():
    """Nearest samples that are duplicates (or zero rows without a bias) are replaced by the next ones."""
    rng = np.random.default_rng(5)
    base = rng.standard_normal((30, 5))
    S = np.vstack([base, np.zeros((20, 5)), np.repeat(base[:3], 10, axis=0)])
    W = rng.standard_normal((9, 5))
    for b in (None, rng.standard_normal(9)):
        res = polish_weights(S, W, b)
        Sa = S if b is None else np.c_[S, np.ones(len(S))]
        for s in res.samples:
            assert np.linalg.matrix_rank(Sa[s]) == res.samples.shape[1]
        assert _rel_residual(S, res.W, res.b, res.samples) < 1e-10
        assert res.n_unique == 31  # 30 distinct rows and the zero row


def test_rank_one():
    S = np.outer(np.arange(1.0, 9.0), [1.0, -2.0, 0.5])
    W = np.array([[0.3, 0.1, 2.0], [-1.0, 0.0, 0.0]])
    res = polish_weights(S, W, None)
    assert res.rank == 1 and res.samples.shape == (2, 0)
    u = np.array([1.0, -2.0, 0.5]) / np.linalg.norm([1.0, -2.0, 0.5])
    for j in range(2):
        np.testing.assert_allclose(np.abs(res.W[j] @ u), np.linalg.norm(res.W[j]), rtol=1e-12)
        assert res.W[j] @ W[j] > 0


def test_numpy_models_work_without_torch():
    """torch is an optional extra: numpy weights are polished and refit with torch blocked."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'torch' or name.startswith('torch.'):\n"
        "            raise ImportError('torch blocked')\n"
        "sys.meta_path.insert(0, Block())\n"
        "import numpy as np, wedgenet\n"
        "rng = np.random.default_rng(0); X = rng.standard_normal((30, 3)); y = X[:, 0] ** 2\n"
        "out, rep = wedgenet.polish([(rng.standard_normal((6, 3)), rng.standard_normal(6)),"
        " (rng.standard_normal((1, 6)), np.zeros(1))], X, y, lam=0.1)\n"
        "assert rep.after['objective'] <= rep.before['objective']\n"
        "assert 'torch' not in sys.modules\n"
        "print('ok')\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "ok"


def test_spread_skips_samples_dependent_inside_the_old_hyperplane():
    """Two near samples on a horizontal segment would turn a near-vertical line horizontal."""
    X = np.array([[0.0, 0.0], [0.1, 0.0], [0.3, 3.0], [-2.0, -1.0], [3.0, 1.0]])
    W, b = np.array([[1.0, 0.01]]), np.array([-0.04])
    plain = polish_weights(X, W, b)
    assert set(plain.samples[0]) == {0, 1} and plain.angle[0] > 80
    spread = polish_weights(X, W, b, spread=0.2)
    assert set(spread.samples[0]) == {0, 2}
    # the line through (0, 0) and (0.3, 3), oriented like the old neuron
    w = np.r_[spread.W[0], spread.b[0]]
    np.testing.assert_allclose(w / np.linalg.norm(w), np.array([1.0, -0.1, 0.0]) / np.linalg.norm([1.0, -0.1]),
                               atol=1e-12)
    assert spread.angle[0] < 10


def test_spread_on_clustered_data_keeps_neurons_close():
    rng = np.random.default_rng(6)
    X = rng.standard_normal((300, 6))
    X[:200, :3] = 0.0  # a cluster sharing three feature values
    W, b = rng.standard_normal((20, 6)), 0.1 * rng.standard_normal(20)
    plain = polish_weights(X, W, b)
    spread = polish_weights(X, W, b, spread=0.2)
    assert np.median(spread.angle) < np.median(plain.angle)
    assert _rel_residual(X, spread.W, spread.b, spread.samples) < 1e-10
