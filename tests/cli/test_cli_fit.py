"""``wedgenet fit`` and ``wedgenet predict``: task detection, strength, report, files, errors."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import wedgenet
import wedgenet as wn
from wedgenet import cli
from wedgenet.cli import DEFAULT_TIME_LIMIT, detect_task, main

FEATURES = ("age", "bmi", "bp")


def _write_csv(path: Path, header, rows) -> Path:
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for r in rows:
            w.writerow([repr(float(v)) if isinstance(v, (float, np.floating)) else v for v in r])
    return path


@pytest.fixture(scope="module")
def diabetes_csv(tmp_path_factory):
    """A small regression table from sklearn's diabetes data: 30 rows, 3 features, an id column."""
    from sklearn.datasets import load_diabetes

    d = load_diabetes()
    cols = [list(d.feature_names).index(c) for c in FEATURES]
    X = d.data[:30, cols]
    y = d.target[:30]
    path = tmp_path_factory.mktemp("fit") / "diabetes.csv"
    _write_csv(path, ["id", *FEATURES, "progression"],
               [[1000 + i, *row, float(t)] for i, (row, t) in enumerate(zip(X, y, strict=True))])
    return path, X, y


@pytest.fixture(scope="module")
def labels_csv(tmp_path_factory):
    """XOR-like labels, as text and as 0/1, two features."""
    from wedgenet.datasets import make_xor

    X, y = make_xor(40, random_state=0)
    base = tmp_path_factory.mktemp("cls")
    text = _write_csv(base / "text.csv", ["u", "v", "kind"],
                      [[*row, "same" if t > 0 else "differ"] for row, t in zip(X, y, strict=True)])
    zero_one = _write_csv(base / "01.csv", ["u", "v", "flag"],
                          [[*row, int(t > 0)] for row, t in zip(X, y, strict=True)])
    return text, zero_one, X, y


def _run(argv, capsys):
    rc = main([str(a) for a in argv])
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


# ------------------------------------------------------------------------------ task detection
@pytest.mark.parametrize("y, task", [
    (np.array([0.0, 1.0] * 10), "classification"),
    (np.array(["a", "b", "c"] * 5, dtype=object), "classification"),
    (np.array([1.0, 2.0, 3.0] * 10), "classification"),
    (np.arange(100.0), "regression"),                  # integers, too many values
    (np.linspace(0, 1, 20), "regression"),
    (np.array([0.0, 1.0, 2.0, 3.0]), "regression"),    # as many values as rows
])
def test_detect_task(y, task):
    assert detect_task(y)[0] == task


def test_read_table_string_target_and_exclude(tmp_path):
    p = _write_csv(tmp_path / "t.csv", ["id", "a", "y"], [[1, 0.5, "cat"], [2, 1.5, "dog"], [3, 2.5, "cat"]])
    X, y, names = cli.read_table(p, "y", exclude=["id"])
    assert names == ["a"] and y.dtype == object and list(y) == ["cat", "dog", "cat"]
    np.testing.assert_array_equal(X, [[0.5], [1.5], [2.5]])
    with pytest.raises(cli.CLIError, match="excluded column 'nope' not found"):
        cli.read_table(p, "y", exclude=["nope"])
    with pytest.raises(cli.CLIError, match="is the target"):
        cli.read_table(p, "y", exclude=["y"])


# ----------------------------------------------------------------------------------- fit
def test_fit_regression_defaults_and_report(diabetes_csv, tmp_path, capsys):
    path, X, y = diabetes_csv
    out = tmp_path / "model.json"
    rc, text, err = _run(["fit", path, "--target", "progression", "--exclude", "id", "--seed", "0", "--out", out],
                         capsys)
    assert rc == 0, err
    assert "read 30 rows x 3 features" in text and "features: age, bmi, bp (excluded: id)" in text
    net = wedgenet.load(out)
    # the CLI fit is the library fit with the documented defaults
    ref = wedgenet.fit(X, y, lam_ratio=0.05, standardize=True, time_limit=DEFAULT_TIME_LIMIT,
                       feature_names=list(FEATURES), random_state=0)
    np.testing.assert_allclose(net.predict(X), ref.predict(X), rtol=1e-8, atol=1e-8)
    assert json.loads(net.info["features"]) == list(FEATURES) and net.info["target"] == "progression"
    # the one-screen report
    report = text[text.index("wedgenet fit report"):]
    assert "task         regression, squared loss" in report
    assert "lam_ratio=0.05 (default)" in report and "standardized units" in report
    r2 = 1 - np.sum((y - net.predict(X)) ** 2) / np.sum((y - y.mean()) ** 2)
    assert f"R^2 {r2:.4f}" in report and "on 30 rows" in report
    assert f"certificate  {net.certificate.verdict()}" in report
    assert f"scope        {net.certificate.scope}" in report
    assert f"saved        {out}" in report
    assert len(report.splitlines()) <= 24  # one screen


def test_fit_absolute_lam_raw_units(diabetes_csv, tmp_path, capsys):
    path, X, y = diabetes_csv
    out = tmp_path / "raw.json"
    rc, text, err = _run(["fit", path, "--target", "progression", "--exclude", "id", "--lam", "50",
                          "--no-standardize", "--no-bias", "--seed", "0", "--out", out], capsys)
    assert rc == 0, err
    net = wedgenet.load(out)
    assert net.lam == 50 and not net.bias
    ref = wedgenet.fit(X, y, lam=50.0, bias=False, time_limit=DEFAULT_TIME_LIMIT, random_state=0)
    np.testing.assert_allclose(net.predict(X), ref.predict(X), rtol=1e-8, atol=1e-8)
    assert "raw values (--no-standardize)" in text


def test_fit_held_out_score(diabetes_csv, tmp_path, capsys):
    path, X, y = diabetes_csv
    out = tmp_path / "held.json"
    rc, text, err = _run(["fit", path, "--target", "progression", "--exclude", "id", "--test-size", "0.3",
                          "--seed", "1", "--out", out], capsys)
    assert rc == 0, err
    from sklearn.model_selection import train_test_split

    tr, te = train_test_split(np.arange(30), test_size=0.3, random_state=1)
    net = wedgenet.load(out)
    f = net.predict(X[te])
    r2 = 1 - np.sum((y[te] - f) ** 2) / np.sum((y[te] - y[te].mean()) ** 2)
    assert f"held-out     R^2 {r2:.4f}" in text and f"on {te.size} rows (--test-size 0.3)" in text
    assert f"on {tr.size} rows" in text


@pytest.mark.parametrize("which", ["text", "01"])
def test_fit_classification_detected(labels_csv, tmp_path, capsys, which):
    text_csv, zo_csv, X, y = labels_csv
    path, target = (text_csv, "kind") if which == "text" else (zo_csv, "flag")
    out = tmp_path / f"{which}.json"
    rc, text, err = _run(["fit", path, "--target", target, "--lam-ratio", "0.02", "--out", out], capsys)
    assert rc == 0, err
    assert "task         classification, logistic loss" in text
    net = wedgenet.load(out)
    assert net.loss == "logistic"
    pred = net.predict(X)
    expected = np.where(y > 0, "same", "differ") if which == "text" else (y > 0).astype(float)
    acc = float(np.mean(pred == expected))
    assert acc >= 0.9 and f"accuracy {100 * acc:.1f}%" in text


def test_fit_softmax_for_three_classes(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((45, 2))
    y = np.digitize(X[:, 0], [-0.4, 0.4]) + 1  # labels 1, 2, 3 (not class indices)
    p = _write_csv(tmp_path / "three.csv", ["a", "b", "c"], [[*r, int(t)] for r, t in zip(X, y, strict=True)])
    rc, text, err = _run(["fit", p, "--target", "c", "--out", tmp_path / "m.json"], capsys)
    assert rc == 0, err
    assert "classification, softmax loss" in text and "3 distinct values" in text
    pred = wedgenet.load(tmp_path / "m.json").predict(X)
    assert set(np.unique(pred)) <= {1, 2, 3} and np.mean(pred == y) >= 0.8
    rc, text, err = _run(["fit", p, "--target", "c", "--task", "regression", "--out", tmp_path / "r.json"], capsys)
    assert rc == 0 and "task         regression, squared loss: --task regression" in text


def test_fit_cv_prints_every_value(labels_csv, tmp_path, capsys):
    _, zo_csv, X, y = labels_csv
    out = tmp_path / "cv.json"
    rc, text, err = _run(["fit", zo_csv, "--target", "flag", "--cv", "2", "--seed", "0", "--out", out], capsys)
    assert rc == 0, err
    lines = [ln for ln in text.splitlines() if ln.startswith("  lam_ratio ")]
    assert len(lines) == len(cli.CV_LAM_RATIOS)
    means = [float(ln.split("held-out accuracy ")[1].split()[0]) for ln in lines]
    best = cli.CV_LAM_RATIOS[int(np.argmax(means))]
    assert "<- best" in lines[int(np.argmax(means))]
    assert f"lam_ratio={best:g} (chosen by 2-fold cross-validation" in text
    assert wedgenet.load(out).n_neurons >= 1


def test_fit_sampled_scope_suggests_max_columns(diabetes_csv, tmp_path, capsys):
    path, X, y = diabetes_csv
    rc, text, err = _run(["fit", path, "--target", "progression", "--exclude", "id", "--max-columns", "200",
                          "--seed", "0", "--out", tmp_path / "s.json"], capsys)
    assert rc == 0, err
    assert "scope        sampled" in text and "--max-columns 20000" in text
    assert "globally optimal" not in text[text.index("wedgenet fit report"):]


# ------------------------------------------------------------------------------- predict
def test_predict_matches_columns_by_name(diabetes_csv, tmp_path, capsys):
    path, X, y = diabetes_csv
    model = tmp_path / "m.json"
    assert main(["fit", str(path), "--target", "progression", "--exclude", "id", "--out", str(model)]) == 0
    capsys.readouterr()
    net = wedgenet.load(model)
    # the same table with its columns in another order, and without the target
    shuffled = _write_csv(tmp_path / "new.csv", ["bp", "age", "bmi"], X[:, [2, 0, 1]])
    out = tmp_path / "pred.csv"
    rc, text, err = _run(["predict", model, shuffled, "--out", out], capsys)
    assert rc == 0, err
    assert "columns matched by name: age, bmi, bp" in text
    rows = list(csv.reader(out.open()))
    assert rows[0] == ["predicted_progression"]
    np.testing.assert_allclose([float(r[0]) for r in rows[1:]], net.predict(X), rtol=1e-12)
    # stdout when no --out
    rc, text, _ = _run(["predict", model, path], capsys)
    assert rc == 0 and text.splitlines()[0] == "predicted_progression" and len(text.splitlines()) == 31
    # a missing column is refused, not guessed
    partial = _write_csv(tmp_path / "partial.csv", ["bp", "age"], X[:, [2, 0]])
    rc, _, err = _run(["predict", model, partial], capsys)
    assert rc == 2 and "lacks the model's feature column(s) 'bmi'" in err and err.count("\n") == 1


# -------------------------------------------------------------------------------- errors
def _write(tmp_path, text: str, name: str = "data.csv") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


@pytest.mark.parametrize("content, target, needles", [
    ("a,b,y\n1,2,3\n4,5,6\n", "z", ["target column 'z' not found", "available columns: 'a', 'b', 'y'"]),
    ("a,b,y\n1,2,3\n4,x5,6\n", "y", ["non-numeric value 'x5'", "column 'b'", "line 3"]),
    ("a,b,y\n1,,3\n4,5,6\n", "y", ["empty cell", "column 'b'", "line 2"]),
    ("a,b,y\n1,2,3\n4,NaN,6\n", "y", ["missing value ('NaN')", "column 'b'", "line 3"]),
    ("a,b,y\n1,2,3\n4,5,inf\n", "y", ["non-finite value 'inf'", "column 'y'", "line 3"]),
    ("a,b,y\n1,2,3\n", "y", ["1 data row", "at least 2"]),
    ("a,b,y\n", "y", ["0 data rows", "at least 2"]),
    ("", "y", ["is empty"]),
    ("a,b,y\n1,2,3\n4,5\n", "y", ["line 3", "has 2 fields; the header has 3"]),
    ("y\n1\n2\n", "y", ["no feature columns"]),
    ("a,y,y\n1,2,3\n4,5,6\n", "y", ["appears 2 times"]),
    ("a,b,y\n1,2,x\n4,5,x\n", "y", ["at least two classes"]),
])
def test_fit_input_errors(tmp_path, capsys, content, target, needles):
    p = _write(tmp_path, content)
    rc, _, err = _run(["fit", p, "--target", target, "--out", tmp_path / "m.json"], capsys)
    assert rc == 2
    assert err.startswith("wedgenet fit: error: ") and err.count("\n") == 1 and "Traceback" not in err
    for n in needles:
        assert n in err, (n, err)
    assert not (tmp_path / "m.json").exists()


@pytest.mark.parametrize("extra, needle", [
    (["--lam", "-1"], "--lam must be a positive number"),
    (["--lam-ratio", "0"], "--lam-ratio must be in (0, 1]"),
    (["--lam-ratio", "1.5"], "--lam-ratio must be in (0, 1]"),
    (["--test-size", "1"], "--test-size must be a fraction"),
    (["--time-limit", "0"], "--time-limit must be a positive"),
    (["--tol", "nan"], "--tol must be a positive"),
    (["--cv", "1"], "--cv needs at least 2 folds"),
    (["--cv", "2", "--lam", "1"], "cannot be combined with --lam"),
    (["--task", "regression", "--loss", "logistic"], "is a classification loss"),
])
def test_fit_bad_options(tmp_path, capsys, monkeypatch, extra, needle):
    monkeypatch.setattr(wedgenet, "fit", lambda *a, **k: pytest.fail("fitted with bad options"))
    p = _write(tmp_path, "a,b,y\n0,1,0\n1,0,1\n1,1,0\n")
    rc, _, err = _run(["fit", p, "--target", "y", "--out", tmp_path / "m.json", *extra], capsys)
    assert rc == 2 and needle in err and err.count("\n") == 1


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["fit", "data.csv"])  # --target is required
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        main(["fit", "data.csv", "--target", "y", "--loss", "cubic"])
    assert exc.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["fit", "data.csv", "--target", "y", "--lam", "1", "--lam-ratio", "0.1"])
    assert exc.value.code == 2 and "not allowed with" in capsys.readouterr().err


@pytest.mark.parametrize("exc, needle", [
    (RuntimeError("Clarabel failed on the restricted problem: status infeasible"), "the solver failed"),
    (MemoryError("the dictionary needs 80 GB"), "--max-columns 20000"),
    (ValueError("8.9e19 candidate subsets; pass max_columns=... or raise time_limit=60"),
     "pass --max-columns 20000 or raise --time-limit=60"),
])
def test_library_failures_are_one_line_with_cli_advice(tmp_path, capsys, monkeypatch, exc, needle):
    def failing_fit(*args, **kwargs):
        raise exc

    monkeypatch.setattr(wedgenet, "fit", failing_fit)
    p = _write(tmp_path, "a,b,y\n0,1,0.5\n1,0,1.5\n1,1,0.25\n")
    rc, _, err = _run(["fit", p, "--target", "y", "--out", tmp_path / "m.json"], capsys)
    assert rc == 2 and needle in err and err.count("\n") == 1 and "Traceback" not in err


def test_cv_grid_is_the_estimators_grid():
    from wedgenet.estimators import DEFAULT_LAM_RATIOS

    assert cli.CV_LAM_RATIOS == DEFAULT_LAM_RATIOS


def test_subcommands_are_registered_in_one_place():
    names = list(cli.COMMANDS)
    assert names[:5] == ["demo", "fit", "predict", "report", "ga-example"]
    calls = []
    cli.register_command("echo-test", "test only", lambda p: p.add_argument("word"),
                         lambda args: calls.append(args.word) or 0)
    try:
        assert main(["echo-test", "hello"]) == 0 and calls == ["hello"]
    finally:
        del cli.COMMANDS["echo-test"]


def test_python_dash_m_runs_the_console_script(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "wedgenet", "ga-example", "--no-clifford"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip()
    bad = subprocess.run([sys.executable, "-m", "wedgenet", "fit", str(tmp_path / "nope.csv"), "--target", "y"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "not found" in bad.stderr and "Traceback" not in bad.stderr


def test_bound_time_records_a_lower_bound_in_the_report_and_the_model(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 5))
    y = X[:, 0] * X[:, 1] - X[:, 2]
    p = tmp_path / "d.csv"
    p.write_text("a,b,c,d,e,y\n" + "\n".join(",".join(f"{v:.6f}" for v in (*r, t)) for r, t in zip(X, y, strict=True)))
    out = tmp_path / "m.json"
    assert cli.main(["fit", str(p), "--target", "y", "--time-limit", "5", "--bound-time", "10", "--out", str(out)]) == 0
    capsys.readouterr()
    net = wn.load(out)
    assert net.certificate.lower_bound is not None
    assert net.certificate.lower_bound <= net.certificate.primal * (1 + 1e-9)
    if net.certificate.globally_optimal():  # at a certified optimum the bound meets the objective
        assert net.certificate.lower_bound == pytest.approx(net.certificate.primal, rel=1e-5)
    assert cli.main(["fit", str(p), "--target", "y", "--bound-time", "-1", "--out", str(tmp_path / "x.json")]) == 2
