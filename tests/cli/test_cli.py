"""Tests for the ``wedgenet`` console script (wedgenet.cli): demo, fit, ga-example."""

from __future__ import annotations

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
    assert "certificate: duality gap" in text  # net.summary()
    assert "certificate: globally optimal (gap closed over every candidate of an exact family) " \
        "[scope: all_candidates]" in text
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


def test_demo_writes_no_file_by_default(demo_run, tmp_path, monkeypatch, capsys):
    """Without --out-png the demo writes nothing (and says how to get the picture); --no-plot is
    still accepted; without matplotlib the default demo still succeeds."""
    net = demo_run[4]
    monkeypatch.setattr(wedgenet, "fit", lambda X, y, **kw: net)  # the CLI is under test, not the solver
    monkeypatch.chdir(tmp_path)
    for argv in (["demo"], ["demo", "--no-plot"]):
        assert main(argv) == 0
        text = capsys.readouterr().out
        assert "training accuracy: 100.0%" in text
        assert "written to" not in text
        assert "picture: not saved (pass --out-png" in text
        assert list(tmp_path.iterdir()) == []

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    assert main(["demo"]) == 0
    assert "training accuracy" in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []


def test_demo_out_png_without_matplotlib_fails_before_fitting(tmp_path, monkeypatch, capsys):
    """An explicit --out-png that cannot be honoured is an error, reported before the fit."""
    monkeypatch.setattr(wedgenet, "fit", lambda *a, **k: pytest.fail("fitted before checking the options"))
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    assert main(["demo", "--out-png", str(tmp_path / "regions.png")]) == 2
    err = capsys.readouterr().err
    assert "--out-png needs matplotlib" in err and "pip install 'wedgenet[plot]'" in err
    assert err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_demo_refuses_existing_picture_without_force(demo_run, tmp_path, monkeypatch, capsys):
    pytest.importorskip("matplotlib")
    net = demo_run[4]
    monkeypatch.setattr(wedgenet, "fit", lambda X, y, **kw: net)
    png = tmp_path / "regions.png"
    png.write_bytes(b"keep me")
    assert main(["demo", "--out-png", str(png)]) == 2
    assert "--force" in capsys.readouterr().err
    assert png.read_bytes() == b"keep me"
    assert main(["demo", "--out-png", str(png), "--force"]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["regions.png"]  # no temporary file left


def test_demo_out_png_and_no_plot_conflict(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["demo", "--out-png", "x.png", "--no-plot"])
    assert exc.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


@pytest.mark.parametrize("argv, needle", [
    (["demo", "--lam", "0"], "--lam must be a positive number"),
    (["demo", "--n", "3"], "--n must be at least 4"),
    (["demo", "--out-png", "/nonexistent-wedgenet-dir/x.png"], "does not exist"),
    (["demo", "--out-png", "x.txt"], "unsupported picture format 'txt'"),
    (["demo", "--n", "100000"], "--n must be at most 2000"),
])
def test_demo_bad_options(argv, needle, capsys, monkeypatch):
    monkeypatch.setattr(wedgenet, "fit", lambda *a, **k: pytest.fail("fitted before checking the options"))
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err and err.count("\n") == 1


def test_console_script_demo(tmp_path):
    """The installed ``wedgenet`` entry point runs the demo; it writes nothing to the working
    directory, and the picture goes where ``--out-png`` says."""
    script = Path(sys.executable).with_name("wedgenet")
    if not script.exists():
        found = shutil.which("wedgenet")
        if found is None:
            pytest.skip("the wedgenet console script is not installed")
        script = Path(found)
    env = dict(os.environ, MPLBACKEND="Agg")
    work = tmp_path / "cwd"
    work.mkdir()
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        has_mpl = False
    else:
        has_mpl = True
    png = tmp_path / "pictures" / "regions.png"
    png.parent.mkdir()
    argv = [str(script), "demo"] + (["--out-png", str(png)] if has_mpl else [])
    proc = subprocess.run(argv, cwd=work, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "certificate: globally optimal" in proc.stdout
    assert "training accuracy" in proc.stdout
    assert list(work.iterdir()) == []
    if has_mpl:
        assert png.is_file() and png.stat().st_size > 0 and _pixels_vary(png)
        assert f"written to {png}" in proc.stdout


def test_ga_example(capsys):
    """The former demo stays available; the clifford cross-check is skipped here (slow first import,
    and tests/algebra cross-checks clifford already)."""
    assert main(["ga-example", "--no-clifford"]) == 0
    text = capsys.readouterr().out
    assert "section 3.4" in text and "*x1 = cross((1, 1)) = (1, -1)" in text
    assert "*e2 = cross((0, 1)) = (1, 0)" in text
    assert "MultiVector.dual() agrees" not in text


