"""Hostile model files (issue 17): non-finite values at save time, sizes later calls cannot
serve, and terminal escape codes in loaded text."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

import wedgenet as wn


@pytest.fixture(scope="module")
def model():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(8, 2))
    return wn.fit(X, X[:, 0] - X[:, 1], lam=0.05)


def _doc(model, tmp_path):
    p = model.save(tmp_path / "m.json")
    return json.loads(p.read_text())


def _write(tmp_path, doc):
    p = tmp_path / "hostile.json"
    p.write_text(json.dumps(doc))
    return p


def test_save_names_a_non_finite_info_entry(model, tmp_path):
    """lam = 5e-324 made ``max_violation = max|K^T r| / lam`` infinite; fit now refuses such a lam,
    and save still names any non-finite entry a network carries."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(8, 2))
    with pytest.raises(ValueError, match="lam"):
        wn.fit(X, X[:, 0] - X[:, 1], lam=5e-324)
    tiny = dataclasses.replace(model, info={**model.info, "max_violation": float("inf")})
    with pytest.raises(ValueError, match=r"info\['max_violation'\] is inf"):
        tiny.save(tmp_path / "tiny.json")
    assert not (tmp_path / "tiny.json").exists()


def test_save_rejects_non_finite_arrays(model, tmp_path):
    bad = dataclasses.replace(model, W2=np.full_like(model.W2, np.inf))
    with pytest.raises(ValueError, match="array W2 contains NaN or infinite"):
        bad.save(tmp_path / "bad.json")


def test_round_trip_still_exact(model, tmp_path):
    p = model.save(tmp_path / "m.json")
    back = wn.load(p)
    np.testing.assert_array_equal(back.W1, model.W1)
    np.testing.assert_array_equal(back.W2, model.W2)


def test_load_refuses_a_huge_sample_index(model, tmp_path):
    doc = _doc(model, tmp_path)
    doc["info"].pop("n_train", None)
    doc["provenance"][0]["samples"] = [10**30]
    with pytest.raises(ValueError, match="sample index"):
        wn.load(_write(tmp_path, doc))


def test_sample_influence_checks_memory_before_building(model, tmp_path):
    doc = _doc(model, tmp_path)
    doc["info"]["n_train"] = 10**8  # the allowed cap: loads, but the table needs ~100 GB
    net = wn.load(_write(tmp_path, doc))
    with pytest.raises(MemoryError, match="sample_influence"):
        net.sample_influence()
    with pytest.raises(ValueError, match="sample_influence"):
        net.sample_influence(10**12)


@pytest.mark.parametrize("text", ["\x1b[2J\x1b[31mpwned", "a\nb", "x\u202eevil", "\x07"])
@pytest.mark.parametrize("field", ["expression", "theorem", "kinds", "info"])
def test_load_refuses_control_characters(model, tmp_path, text, field):
    doc = _doc(model, tmp_path)
    if field == "kinds":
        doc["provenance"][0]["kinds"] = [text]
    elif field == "info":
        doc["info"]["solver"] = text
    else:
        doc["provenance"][0][field] = text
    with pytest.raises(ValueError, match="control characters"):
        wn.load(_write(tmp_path, doc))


def test_summary_of_a_loaded_file_has_no_escape_codes(model, tmp_path):
    net = wn.load(model.save(tmp_path / "m.json"))
    assert "\x1b" not in net.summary()


def test_classes_on_a_regression_model_is_a_value_error(model, tmp_path):
    """fuzz load:261: ``classes`` set on a squared-loss file (1-D W2) raised IndexError."""
    doc = _doc(model, tmp_path)
    doc["classes"] = [1, 2]
    with pytest.raises(ValueError, match="classes do not match"):
        wn.load(_write(tmp_path, doc))


@pytest.mark.parametrize("where", ["params.bias", "params.loss", "certificate.lower_bound", "info.n_train",
                                   "version", "arrays.W1.dtype", "arrays.W1.shape"])
def test_a_20000_character_value_gives_a_short_message(model, tmp_path, where):
    """fuzz load:173/224/953: the refused value was echoed whole (20,000-character messages)."""
    doc = _doc(model, tmp_path)
    node = doc
    *path, last = where.split(".")
    for k in path:
        node = node[k]
    node[last] = "A" * 20000
    with pytest.raises(ValueError) as ei:
        wn.load(_write(tmp_path, doc))
    assert len(str(ei.value)) < 300
    assert "AAAA" in str(ei.value)  # still says what was found
