"""Tests for the ``wedgenet`` console script (wedgenet.cli): demo, fit, ga-example."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import wedgenet
from wedgenet import cli
from wedgenet.cli import main


def _pixels_vary(path: Path) -> bool:
    from matplotlib.image import imread

    img = imread(str(path))
    return img.ndim == 3 and float(np.ptp(img[..., :3])) > 0.1 and len(np.unique(img[..., 0])) > 5


# ------------------------------------------------------------------------------------ demo
@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """One in-process ``wedgenet demo`` (the fit is shared by the demo tests)."""
    pytest.importorskip("matplotlib")
    out = tmp_path_factory.mktemp("demo") / "regions.png"
    import contextlib
    import io

    fitted = []
    real_fit = wedgenet.fit

    def recording_fit(*args, **kw):
        fitted.append(real_fit(*args, **kw))
        return fitted[-1]

    buf, err = io.StringIO(), io.StringIO()
    wedgenet.fit = recording_fit
    try:
        with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(err):
            rc = main(["demo", "--out-png", str(out)])
    finally:
        wedgenet.fit = real_fit
    assert len(fitted) == 1
    return rc, buf.getvalue(), err.getvalue(), out, fitted[0]


def test_demo_prints_certificate_and_neurons(demo_run):
    rc, text, _, _, _ = demo_run
    assert rc == 0
    assert f"make_spiral({cli.DEMO_N_SAMPLES}" in text
    assert "reg='l1', bias=True" in text
    # the certificate line from net.summary() and the verdict line
    assert "certificate: duality gap" in text
    assert "max dual violation" in text
    assert "exact formulation: yes -> globally optimal" in text
    # the neuron table with provenance
    assert "WedgeNetwork:" in text and "neurons, depth 2, reg=l1" in text
    assert "  #           a  samples" in text
    assert "Vol+(P(x - x" in text or "Vol-(P(x - x" in text
    assert "training accuracy: 100.0%" in text


def test_demo_writes_png(demo_run):
    rc, text, _, out, _ = demo_run
    assert rc == 0
    assert out.is_file() and out.stat().st_size > 10_000
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert _pixels_vary(out)
    assert f"written to {out}" in text and "highlighted: neuron" in text


def test_demo_no_plot_and_missing_matplotlib(demo_run, tmp_path, monkeypatch, capsys):
    """--no-plot writes nothing; without matplotlib the demo still succeeds and says why."""
    net = demo_run[4]
    monkeypatch.setattr(wedgenet, "fit", lambda X, y, **kw: net)  # the CLI is under test, not the solver
    monkeypatch.chdir(tmp_path)
    assert main(["demo", "--no-plot"]) == 0
    assert not (tmp_path / "wedgenet-demo.png").exists()
    assert "written to" not in capsys.readouterr().out

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    assert main(["demo"]) == 0
    text = capsys.readouterr().out
    assert "plot skipped" in text and "pip install 'wedgenet[plot]'" in text
    assert not (tmp_path / "wedgenet-demo.png").exists()


@pytest.mark.parametrize("argv, needle", [
    (["demo", "--lam", "0"], "--lam must be a positive number"),
    (["demo", "--n", "3"], "--n must be at least 4"),
    (["demo", "--out-png", "/nonexistent-wedgenet-dir/x.png"], "does not exist"),
])
def test_demo_bad_options(argv, needle, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err and err.count("\n") == 1


def test_console_script_demo(tmp_path):
    """The installed ``wedgenet`` entry point runs the demo (default PNG in the working directory)."""
    script = Path(sys.executable).with_name("wedgenet")
    if not script.exists():
        found = shutil.which("wedgenet")
        if found is None:
            pytest.skip("the wedgenet console script is not installed")
        script = Path(found)
    env = dict(os.environ, MPLBACKEND="Agg")
    proc = subprocess.run([str(script), "demo"], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                          env=env)
    assert proc.returncode == 0, proc.stderr
    assert "certificate: duality gap" in proc.stdout
    assert "globally optimal" in proc.stdout
    assert "training accuracy" in proc.stdout
    png = tmp_path / "wedgenet-demo.png"
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "plot skipped" in proc.stdout
    else:
        assert png.is_file() and png.stat().st_size > 0 and _pixels_vary(png)


def test_ga_example(capsys):
    """The former demo stays available; the clifford cross-check is skipped here (slow first import,
    and tests/algebra cross-checks clifford already)."""
    assert main(["ga-example", "--no-clifford"]) == 0
    text = capsys.readouterr().out
    assert "section 3.4" in text and "*x1 = cross((1, 1)) = (1, -1)" in text
    assert "*e2 = cross((0, 1)) = (1, 0)" in text
    assert "MultiVector.dual() agrees" not in text


# ------------------------------------------------------------------------------------ fit
FEATURES = ("age", "bmi", "bp")


@pytest.fixture(scope="module")
def diabetes_csv(tmp_path_factory):
    """A small regression table from sklearn's diabetes data: 30 rows, 3 features."""
    from sklearn.datasets import load_diabetes

    d = load_diabetes()
    cols = [list(d.feature_names).index(c) for c in FEATURES]
    X = d.data[:30, cols]
    y = d.target[:30] / 100.0
    path = tmp_path_factory.mktemp("fit") / "diabetes.csv"
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([*FEATURES, "progression"])
        for row, t in zip(X, y, strict=True):
            w.writerow([repr(float(v)) for v in row] + [repr(float(t))])
    return path, X, y


def test_fit_round_trip(diabetes_csv, tmp_path, capsys):
    path, X, y = diabetes_csv
    out = tmp_path / "model.json"
    assert main(["fit", str(path), "--target", "progression", "--lam", "0.1", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "read 30 rows x 3 features" in text and "features: age, bmi, bp" in text
    assert "certificate: duality gap" in text and "  #           a  samples" in text
    assert "training fit: RMSE" in text and f"model written to {out}" in text
    net = wedgenet.load(out)
    assert net.n_features == 3 and net.reg == "l1" and net.bias and net.loss == "squared" and net.lam == 0.1
    assert json.loads(net.info["features"]) == list(FEATURES) and net.info["target"] == "progression"
    # the CLI fit is the library fit: same predictions
    ref = wedgenet.fit(X, y, lam=0.1, reg="l1", bias=True)
    np.testing.assert_allclose(net.predict(X), ref.predict(X), rtol=1e-9, atol=1e-9)
    # and the saved file reproduces exactly what the CLI network predicts
    again = wedgenet.load(out)
    np.testing.assert_array_equal(again.predict(X), net.predict(X))


def test_fit_streamed_dictionary_mode(diabetes_csv, tmp_path, capsys):
    path, X, y = diabetes_csv
    out = tmp_path / "streamed.json"
    assert main(["fit", str(path), "--target", "progression", "--lam", "0.1", "--dictionary-mode", "streamed",
                 "--out", str(out)]) == 0
    net = wedgenet.load(out)
    ref = wedgenet.fit(X, y, lam=0.1, reg="l1", bias=True)
    assert abs(net.objective(X, y) - ref.objective(X, y)) <= 1e-8 * ref.objective(X, y)


def test_fit_options_no_bias_default_out(diabetes_csv, tmp_path, monkeypatch, capsys):
    path, X, y = diabetes_csv
    monkeypatch.chdir(tmp_path)
    assert main(["fit", str(path), "--target", "progression", "--no-bias", "--lam", "0.5"]) == 0
    capsys.readouterr()
    net = wedgenet.load(tmp_path / "model.json")
    assert not net.bias and net.lam == 0.5
    assert net.b2 == 0.0 and np.all(net.b1 == 0.0)
    ref = wedgenet.fit(X, y, lam=0.5, reg="l1", bias=False)
    np.testing.assert_allclose(net.predict(X), ref.predict(X), rtol=1e-9, atol=1e-9)


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
])
def test_fit_input_errors(tmp_path, capsys, content, target, needles):
    p = _write(tmp_path, content)
    rc = main(["fit", str(p), "--target", target, "--out", str(tmp_path / "m.json")])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.startswith("wedgenet fit: error: ") and err.count("\n") == 1 and "Traceback" not in err
    for n in needles:
        assert n in err, (n, err)
    assert not (tmp_path / "m.json").exists()


def test_fit_unwritable_output_fails_before_fitting(tmp_path, capsys):
    p = _write(tmp_path, "a,b,y\n0,1,0\n1,0,1\n1,1,0\n")
    rc = main(["fit", str(p), "--target", "y", "--out", str(tmp_path / "missing" / "m.json")])
    cap = capsys.readouterr()
    assert rc == 2 and "directory" in cap.err and "does not exist" in cap.err and cap.err.count("\n") == 1
    assert "fitted in" not in cap.out


def test_fit_missing_file(tmp_path, capsys):
    rc = main(["fit", str(tmp_path / "nope.csv"), "--target", "y"])
    err = capsys.readouterr().err
    assert rc == 2 and "data file" in err and "nope.csv" in err and "not found" in err and err.count("\n") == 1


def test_fit_errors_from_the_library_are_one_line(tmp_path, capsys):
    """Invalid settings found by wedgenet.fit (labels for logistic, lam) also exit 2 without a traceback."""
    p = _write(tmp_path, "a,b,y\n0,1,0\n1,0,1\n1,1,0\n")
    assert main(["fit", str(p), "--target", "y", "--loss", "logistic"]) == 2
    err = capsys.readouterr().err
    assert "labels -1/+1" in err and err.count("\n") == 1 and "Traceback" not in err
    assert main(["fit", str(p), "--target", "y", "--lam", "-1"]) == 2
    assert "--lam must be a positive number" in capsys.readouterr().err


def test_fit_blank_lines_and_whitespace(tmp_path, capsys):
    p = _write(tmp_path, "a, b ,y\n0,1,0.5\n\n 1 ,0,1.5\n1,1,0.25\n\n")
    X, y, names = cli.read_table(p, "y")
    assert names == ["a", "b"]
    np.testing.assert_array_equal(X, [[0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(y, [0.5, 1.5, 0.25])
    # line numbers in messages count blank lines
    p = _write(tmp_path, "a,b,y\n0,1,0.5\n\n1,oops,1\n")
    with pytest.raises(cli.CLIError, match="line 4"):
        cli.read_table(p, "y")


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["fit", "data.csv"])  # --target is required
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        main(["fit", "data.csv", "--target", "y", "--loss", "cubic"])
    assert exc.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


@pytest.mark.parametrize("exc", ["runtime", "cvxpy"])
def test_fit_solver_failures_are_one_line_with_advice(tmp_path, capsys, monkeypatch, exc):
    import cvxpy as cp

    def failing_fit(*args, **kwargs):
        if exc == "runtime":
            raise RuntimeError("Clarabel failed on the restricted problem: status infeasible")
        raise cp.error.SolverError("Solver 'CLARABEL' failed.")

    monkeypatch.setattr(wedgenet, "fit", failing_fit)
    p = _write(tmp_path, "a,b,y\n0,1,0\n1,0,1\n1,1,0\n")
    assert main(["fit", str(p), "--target", "y", "--out", str(tmp_path / "m.json")]) == 2
    err = capsys.readouterr().err
    assert "the solver failed" in err and "rescale" in err and err.count("\n") == 1


def test_python_dash_m_runs_the_console_script(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "wedgenet", "ga-example", "--no-clifford"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip()
    bad = subprocess.run([sys.executable, "-m", "wedgenet", "fit", str(tmp_path / "nope.csv"), "--target", "y"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "not found" in bad.stderr and "Traceback" not in bad.stderr
