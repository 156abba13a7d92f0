"""Issue 17, the CLI: it never destroys data, writes atomically, fails in one line, survives Ctrl-C."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import wedgenet
from wedgenet import cli
from wedgenet.cli import main

DATA = "a,b,y\n0,1,0.5\n1,0,1.5\n1,1,0.25\n2,1,1.0\n0,2,2.0\n"


@pytest.fixture
def table(tmp_path):
    p = tmp_path / "good.csv"
    p.write_text(DATA)
    return p


def _run(argv, capsys):
    rc = main([str(a) for a in argv])
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


def _one_line(err: str) -> bool:
    return err.count("\n") == 1 and "Traceback" not in err


def _no_temp_files(directory: Path) -> bool:
    return not [p for p in directory.iterdir() if p.name.endswith(".tmp") or ".tmp." in p.name]


# ------------------------------------------------------------------------ never destroy data
@pytest.mark.parametrize("force", [False, True])
def test_out_equal_to_the_input_is_refused(table, capsys, force, monkeypatch):
    monkeypatch.setattr(wedgenet, "fit", lambda *a, **k: pytest.fail("fitted although --out is the input"))
    rc, _, err = _run(["fit", table, "--target", "y", "--out", table] + (["--force"] if force else []), capsys)
    assert rc == 2 and _one_line(err) and "is an input of this command" in err
    assert table.read_text() == DATA
    # the same file through another spelling of its path
    other = table.parent / "." / table.name
    rc, _, err = _run(["fit", table, "--target", "y", "--out", other, "--force"], capsys)
    assert rc == 2 and "is an input" in err and table.read_text() == DATA


def test_existing_files_need_force(table, tmp_path, capsys):
    out = tmp_path / "model.json"
    out.write_text("precious")
    rc, _, err = _run(["fit", table, "--target", "y", "--out", out], capsys)
    assert rc == 2 and _one_line(err) and "already exists; pass --force" in err
    assert out.read_text() == "precious"
    rc, _, err = _run(["fit", table, "--target", "y", "--out", out, "--force"], capsys)
    assert rc == 0, err
    assert wedgenet.load(out).n_features == 2
    assert _no_temp_files(tmp_path)


def test_predict_output_rules(table, tmp_path, capsys):
    model = tmp_path / "m.json"
    assert _run(["fit", table, "--target", "y", "--out", model], capsys)[0] == 0
    for target in (model, table):
        rc, _, err = _run(["predict", model, table, "--out", target, "--force"], capsys)
        assert rc == 2 and "is an input" in err and _one_line(err)
    assert table.read_text() == DATA and wedgenet.load(model).n_features == 2


def test_a_failed_write_leaves_the_old_file_and_no_temp_file(table, tmp_path, capsys, monkeypatch):
    out = tmp_path / "model.json"
    out.write_text("old model")

    def broken_save(self, path):
        Path(path).write_text('{"half": ')  # a partial file, then the disk fills up
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(wedgenet.WedgeNetwork, "save", broken_save)
    rc, _, err = _run(["fit", table, "--target", "y", "--out", out, "--force"], capsys)
    assert rc == 2 and _one_line(err) and "No space left on device" in err
    assert out.read_text() == "old model"
    assert _no_temp_files(tmp_path)


def test_cli_model_on_a_dataframe_with_other_column_order(table, tmp_path, capsys):
    pd = pytest.importorskip("pandas")
    model = tmp_path / "m.json"
    assert _run(["fit", table, "--target", "y", "--out", model], capsys)[0] == 0
    net = wedgenet.load(model)
    df = pd.read_csv(table)
    expected = net.predict(df[["a", "b"]].to_numpy())
    np.testing.assert_allclose(net.predict(df[["b", "a"]]), expected, rtol=1e-12)  # matched by name
    np.testing.assert_allclose(net.predict(df[["y", "b", "a"]]), expected, rtol=1e-12)  # extra column ignored
    with pytest.raises(ValueError, match="lacks the network's feature column"):
        net.predict(df[["b", "y"]])


def test_atomic_write_replaces_in_one_step(tmp_path):
    target = tmp_path / "f.txt"
    target.write_text("old")
    seen = []

    def write(tmp):
        seen.append(Path(tmp))
        assert Path(tmp).parent == tmp_path  # same directory: os.replace is atomic
        assert target.read_text() == "old"  # not touched while writing
        Path(tmp).write_text("new")

    cli.atomic_write(target, write)
    assert target.read_text() == "new" and not seen[0].exists()


# ---------------------------------------------------------------------------- one-line failures
def test_demo_picture_with_a_bad_suffix(tmp_path, capsys, monkeypatch):
    pytest.importorskip("matplotlib")
    monkeypatch.setattr(wedgenet, "fit", lambda *a, **k: pytest.fail("fitted before checking --out-png"))
    rc, _, err = _run(["demo", "--out-png", tmp_path / "x.txt"], capsys)
    assert rc == 2 and _one_line(err) and "unsupported picture format 'txt'" in err
    assert not (tmp_path / "x.txt").exists()


def test_demo_refuses_to_overwrite_a_picture(tmp_path, capsys, monkeypatch):
    png = tmp_path / "d.png"
    png.write_bytes(b"mine")
    monkeypatch.setattr(wedgenet, "fit", lambda *a, **k: pytest.fail("fitted before checking --out-png"))
    rc, _, err = _run(["demo", "--out-png", png], capsys)
    assert rc == 2 and "already exists; pass --force" in err and png.read_bytes() == b"mine"


def test_subnormal_lam_is_one_line(table, tmp_path, capsys):
    out = tmp_path / "tiny.json"
    rc, _, err = _run(["fit", table, "--target", "y", "--lam", "5e-324", "--out", out], capsys)
    if rc == 0:  # the library may handle it; then the model must load and be finite
        net = wedgenet.load(out)
        assert np.all(np.isfinite(net.W1)) and np.all(np.isfinite(net.W2))
    else:
        assert rc == 2 and _one_line(err.splitlines()[-1] + "\n") and err.strip().splitlines()[-1].startswith(
            "wedgenet fit: error: ")
        assert not out.exists() and _no_temp_files(tmp_path)


@pytest.mark.parametrize("exc", [ZeroDivisionError("float division by zero"), AttributeError("no attribute x"),
                                 OverflowError("overflow"), IndexError("index 3 is out of bounds")])
def test_any_exception_is_one_line(table, tmp_path, capsys, monkeypatch, exc):
    def boom(*a, **k):
        raise exc

    monkeypatch.setattr(wedgenet, "fit", boom)
    rc, _, err = _run(["fit", table, "--target", "y", "--out", tmp_path / "m.json"], capsys)
    assert rc == 2 and _one_line(err) and type(exc).__name__ in err
    assert not (tmp_path / "m.json").exists()


# ------------------------------------------------------------------------------------- Ctrl-C
def _best_network(table):
    X = np.loadtxt(table, delimiter=",", skiprows=1)
    return wedgenet.fit(X[:, :2], X[:, 2], lam_ratio=0.5)


def test_ctrl_c_saves_the_best_certified_network(table, tmp_path, capsys, monkeypatch):
    best = _best_network(table)

    def interrupted(*a, **k):
        raise wedgenet.FitInterrupted("fit interrupted", best)

    monkeypatch.setattr(wedgenet, "fit", interrupted)
    out = tmp_path / "m.json"
    rc, _, err = _run(["fit", table, "--target", "y", "--out", out], capsys)
    assert rc == 130 and _one_line(err) and "interrupted" in err and f"saved to {out}" in err
    back = wedgenet.load(out)
    np.testing.assert_array_equal(back.W1, best.W1)
    assert json.loads(back.info["features"]) == ["a", "b"]


def test_ctrl_c_before_any_certified_state(table, tmp_path, capsys, monkeypatch):
    def interrupted(*a, **k):
        raise wedgenet.FitInterrupted("fit interrupted before the first certified state", None)

    monkeypatch.setattr(wedgenet, "fit", interrupted)
    out = tmp_path / "m.json"
    rc, _, err = _run(["fit", table, "--target", "y", "--out", out], capsys)
    assert rc == 130 and _one_line(err) and "nothing saved" in err and not out.exists()

    def plain(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(wedgenet, "fit", plain)
    rc, _, err = _run(["fit", table, "--target", "y", "--out", out], capsys)
    assert rc == 130 and _one_line(err) and "interrupted" in err and not out.exists()


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process")
def test_ctrl_c_in_a_real_process_is_one_line(tmp_path):
    """A real SIGINT during a long fit: exit 130, one line on stderr, no traceback."""
    import signal
    import time

    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 2))
    y = np.sin(3 * X[:, 0]) * np.cos(2 * X[:, 1]) + 0.1 * rng.standard_normal(300)
    data = tmp_path / "big.csv"
    np.savetxt(data, np.c_[X, y], delimiter=",", header="a,b,y", comments="")
    out = tmp_path / "m.json"
    proc = subprocess.Popen([sys.executable, "-m", "wedgenet", "fit", str(data), "--target", "y", "--lam-ratio",
                             "1e-4", "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, PYTHONUNBUFFERED="1"))
    deadline = time.time() + 120
    line = ""
    while time.time() < deadline and "fitting" not in line:
        line = proc.stdout.readline()
        if not line and proc.poll() is not None:
            break
    time.sleep(3.0)
    if proc.poll() is not None:
        pytest.skip("the fit finished before it could be interrupted")
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("Ctrl-C was not honoured within 60 s")
    if proc.returncode == 0:
        pytest.skip("the fit finished before the signal arrived")
    assert proc.returncode == 130, err
    last = err.strip().splitlines()[-1]
    assert "Traceback" not in err and last.startswith("wedgenet fit: interrupted")
    if "saved to" in last:
        assert wedgenet.load(out).n_features == 2
    else:
        assert not out.exists()
