"""wedgenet.report: the HTML report's content, its inputs' validation and the ``wedgenet report`` command."""

from __future__ import annotations

import csv
import re

import numpy as np
import pytest

import wedgenet as wn
from wedgenet.cli import main
from wedgenet.datasets import make_spiral
from wedgenet.report import certificate_text, render_report, write_report


@pytest.fixture(scope="module")
def spiral():
    X, y = make_spiral(40, turns=1.0)
    net = wn.fit(X, y, lam=0.1, reg="l1", bias=True)
    return net, X, y


def _no_external(doc: str) -> None:
    assert not re.search(r"""(src|href)\s*=\s*['"]?(https?:)?//""", doc), "the report loads an external resource"


def test_report_with_data(spiral):
    net, X, y = spiral
    doc = render_report(net, X, y, feature_names=["u", "v"])
    _no_external(doc)
    for line in certificate_text(net):
        assert line.replace("'", "&#x27;") in doc or line in doc
    assert "globally optimal" in doc and "docs/conventions.md#certificate" in doc
    assert doc.count("<tr><td data-v=") == net.n_neurons  # one table row per neuron
    assert "data:image/png;base64," in doc
    for j in range(net.n_neurons):  # every neuron's defining samples, as rows with the feature names
        assert f"id='neuron-{j}'" in doc
    rec = net.provenance[0]
    i = int(rec["samples"][0])
    assert f"<td>{i}</td><td>{X[i, 0]:.6g}</td><td>{X[i, 1]:.6g}</td>" in doc
    assert "<th>u</th><th>v</th>" in doc


def test_report_without_data_and_images(spiral):
    net, X, y = spiral
    doc = render_report(net)
    assert "samples are listed by index only" in doc and "<details" not in doc
    # a 4-feature network shown as 2x2 images, with per-neuron profiles as its figure
    rng = np.random.default_rng(0)
    X4 = rng.normal(size=(30, 4))
    net4 = wn.fit(X4, X4[:, 0] - X4[:, 1] ** 2, lam=1.0, reg="l2", bias=False, max_columns=400, random_state=0)
    doc4 = render_report(net4, X4, image_shape=(2, 2))
    assert "Per-neuron profiles" in doc4
    n_img = doc4.count("<svg class=\"img\"")
    assert n_img == sum(min(len(r["samples"]), 64) for r in net4.provenance)


def test_report_rejects_bad_input(spiral):
    net, X, y = spiral
    with pytest.raises(ValueError, match="net"):
        render_report("model.json")
    with pytest.raises(ValueError, match="X"):
        render_report(net, X[:, :1])
    with pytest.raises(ValueError, match="sample"):
        render_report(net, X[:3])
    with pytest.raises(ValueError, match="feature_names"):
        render_report(net, X, feature_names=["a"])
    with pytest.raises(ValueError, match="image_shape"):
        render_report(net, X, image_shape=(3, 1))
    with pytest.raises(ValueError, match="top_k"):
        render_report(net, X, top_k=0)
    with pytest.raises(ValueError, match="y"):
        render_report(net, X, y[:5])


def test_report_command(spiral, tmp_path, capsys):
    net, X, y = spiral
    data = tmp_path / "train.csv"
    with open(data, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["a", "b", "label"])
        w.writerows([[p[0], p[1], t] for p, t in zip(X, y, strict=True)])
    net.info["target"] = "label"
    model = tmp_path / "m.json"
    net.save(model)
    out = tmp_path / "r.html"
    assert main(["report", str(model), "--data", str(data), "--out", str(out)]) == 0
    doc = out.read_text(encoding="utf-8")
    assert "<th>a</th><th>b</th><th>label</th>" in doc
    assert main(["report", str(tmp_path / "missing.json"), "--out", str(out)]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["report", str(model), "--image-shape", "3by3", "--out", str(out)]) == 2
    assert write_report(str(model), tmp_path / "r2.html").is_file()


def test_report_command_output_rules(spiral, tmp_path, capsys, monkeypatch):
    """``wedgenet report`` follows the CLI's rule for outputs: an existing file is replaced only with
    --force, an input is never the output (not even with --force), and the file is written
    atomically (a failed write leaves the old file and no temporary file)."""
    net, X, y = spiral
    model = tmp_path / "m.json"
    net.save(model)
    data = tmp_path / "train.csv"
    with open(data, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["a", "b", "label"])
        w.writerows([[p[0], p[1], t] for p, t in zip(X, y, strict=True)])
    out = tmp_path / "r.html"
    out.write_text("old report", encoding="utf-8")
    model_bytes = model.read_bytes()

    assert main(["report", str(model), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "already exists; pass --force" in err and err.count("\n") == 1
    assert out.read_text(encoding="utf-8") == "old report"

    for argv in (["report", str(model), "--out", str(model), "--force"],
                 ["report", str(model), "--data", str(data), "--target", "label", "--out", str(data), "--force"]):
        assert main(argv) == 2
        assert "is an input of this command" in capsys.readouterr().err
    assert model.read_bytes() == model_bytes

    def failing_write(self, text, *a, **k):  # a full disk, half-way through the file
        with open(self, "w", encoding="utf-8") as f:
            f.write(text[: len(text) // 2])
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as m:
        m.setattr(type(out), "write_text", failing_write)
        assert main(["report", str(model), "--out", str(out), "--force"]) == 2
    err = capsys.readouterr().err
    assert "cannot write report file" in err and "No space left on device" in err
    assert out.read_text(encoding="utf-8") == "old report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json", "r.html", "train.csv"]

    assert main(["report", str(model), "--out", str(out), "--force"]) == 0
    assert f"report written to {out}" in capsys.readouterr().out
    doc = out.read_text(encoding="utf-8")
    assert doc.startswith("<!DOCTYPE html>") or doc.lstrip().lower().startswith("<!doctype html")
    assert "globally optimal" in doc
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json", "r.html", "train.csv"]
