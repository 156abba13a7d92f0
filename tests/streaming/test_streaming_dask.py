"""Pricing passes on a Dask cluster (the ``dask`` extra) give the local answer.

A small in-process ``LocalCluster`` (``processes=False``) runs the tasks; each task is the
same :func:`~wedgenet.dictionaries.streaming.scan_range` as the local pass, so scores, top
violators and fits are identical, not just close.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

import wedgenet as wn
from wedgenet.dictionaries.streaming import streamed_dictionary

distributed = pytest.importorskip("dask.distributed")

from wedgenet.dictionaries.dask_pricing import DaskPricer  # noqa: E402


@pytest.fixture(scope="module")
def client():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                           dashboard_address=None)
        c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def test_dask_fit_equals_local(client):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 3))
    y = np.maximum(X @ np.array([1.0, -0.5, 0.3]) + 0.2, 0.0) + 0.05 * rng.standard_normal(30)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        local = wn.fit(X, y, lam=0.05, dictionary_mode="streamed")
        dist = wn.fit(X, y, lam=0.05, pricing="dask", client=client)  # dask implies streamed
    assert dist.info["pricing_backend"] == "dask" and dist.info["dictionary_mode"] == "streamed"
    assert dist.info["primal"] == pytest.approx(local.info["primal"], rel=1e-12)
    assert [r["column"] for r in dist.provenance] == [r["column"] for r in local.provenance]
    assert dist.relative_gap <= 1e-6 and dist.max_violation == pytest.approx(local.max_violation, rel=1e-12)


@pytest.mark.parametrize("reg,bias,depth", [("l1", True, 2), ("l2", False, 2), ("l1", False, 3)])
def test_dask_violators_equal_local(client, reg, bias, depth):
    rng = np.random.default_rng(1)
    n = 8 if depth == 3 else 14
    X = rng.standard_normal((n, 2))
    for theta in (rng.standard_normal(n), rng.standard_normal((n, 2))):
        loc = streamed_dictionary(X, reg=reg, bias=bias, depth=depth, chunk_size=7)
        das = streamed_dictionary(X, reg=reg, bias=bias, depth=depth, chunk_size=7, pricer=DaskPricer(client))
        thr = float(np.quantile(loc.price(theta), 0.8))
        for k in (0, 5, 10**6):
            a = loc.scan(theta, k, thr)
            b = das.scan(theta, k, thr)
            assert b.max_score == a.max_score and b.n_positions == a.n_positions == loc.n_positions
            np.testing.assert_array_equal(b.idx, a.idx)
            np.testing.assert_array_equal(b.scores, a.scores)


def test_dask_ranges_cover_each_candidate_once(client):
    pricer = DaskPricer(client, tasks_per_thread=3)
    for total, chunk in [(1, 1), (10, 3), (1001, 7), (5, 100)]:
        r = pricer.ranges(total, chunk)
        assert r[0][0] == 0 and r[-1][1] == total
        assert all(a < b for a, b in r) and all(r[i][1] == r[i + 1][0] for i in range(len(r) - 1))
    X = np.random.default_rng(2).standard_normal((9, 3))
    S = streamed_dictionary(X, bias=True, chunk_size=4, pricer=pricer)
    res = S.scan(np.ones(9), S.n_columns, -math.inf)
    np.testing.assert_array_equal(np.sort(res.idx), np.arange(S.n_columns))


def test_dask_client_is_checked():
    with pytest.raises(ValueError, match="Client"):
        DaskPricer(object())


def test_default_client_and_estimators_use_the_cluster(client):
    from sklearn.base import clone

    rng = np.random.default_rng(3)
    X = rng.standard_normal((25, 2))
    y = np.maximum(X @ np.array([1.0, -0.7]) + 0.1, 0.0) + 0.05 * rng.standard_normal(25)
    assert distributed.default_client() is client
    local = wn.fit(X, y, lam=0.05, dictionary_mode="streamed")
    dist = wn.fit(X, y, lam=0.05, pricing="dask")  # no client=: the default client
    assert dist.info["pricing_backend"] == "dask"
    assert dist.info["primal"] == pytest.approx(local.info["primal"], rel=1e-12)
    est = clone(wn.WedgeRegressor(lam=0.05, standardize=False, pricing="dask")).fit(X, y)
    assert est.network_.info["pricing_backend"] == "dask"
    assert est.network_.info["primal"] == pytest.approx(local.info["primal"], rel=1e-12)
    np.testing.assert_allclose(est.predict(X), local.predict(X), rtol=1e-10, atol=1e-12)
    plain = wn.WedgeRegressor(lam=0.05, standardize=False).fit(X, y)
    assert plain.network_.info.get("pricing_backend", "local") != "dask"


def test_dask_backend_without_any_client_says_what_to_do(monkeypatch):
    def no_client():
        raise ValueError("No clients found")

    monkeypatch.setattr(distributed, "default_client", no_client)
    X = np.random.default_rng(4).standard_normal((10, 2))
    with pytest.raises(ValueError, match="needs a Dask client"):
        wn.fit(X, X[:, 0], lam=0.1, pricing="dask")
    with pytest.raises(ValueError, match="needs a Dask client"):
        wn.WedgeRegressor(pricing="dask").fit(X, X[:, 0])
