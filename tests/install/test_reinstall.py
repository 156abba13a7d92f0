"""A user's install path: ``pip install .``, compile a kernel, then ``pip install -e .`` on top.

numba used to cache into ``site-packages/wedgenet/*/__pycache__``; the leftover directory then
shadowed the editable install (``cannot import name '__version__' from 'wedgenet' (unknown
location)``).  The venv reuses this interpreter's packages through a ``.pth`` line, so nothing is
downloaded.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import numpy as np, wedgenet, wedgenet.algebra as A; from wedgenet import fit; "
    "assert callable(fit) and wedgenet.__version__; "
    "A.cross_from_indices(np.eye(3), np.array([[0, 1]])); print(wedgenet.__file__)"
)


def _run(cmd: list[str], env: dict[str, str], cwd: Path) -> str:
    res = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, f"{cmd} failed:\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
    return res.stdout


def _copy_tree(dst: Path) -> None:
    for name in ("pyproject.toml", "README.md", "wedgenet"):
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dst / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.nb[ic]"))
        else:
            shutil.copy2(src, dst / name)


def _site_packages(env_dir: Path) -> Path:
    found = list(env_dir.glob("lib*/python*/site-packages")) + list(env_dir.glob("Lib/site-packages"))
    assert found, f"no site-packages under {env_dir}"
    return found[0]


@pytest.mark.slow
def test_install_then_editable_reinstall(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    _copy_tree(src)
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False, system_site_packages=False).create(env_dir)
    site = _site_packages(env_dir)
    # the running environment's packages (numpy, numba, setuptools, pip, ...) after the venv's own
    (site / "zz_parent_env.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    py = str(next(p for p in (env_dir / "bin" / "python", env_dir / "Scripts" / "python.exe") if p.exists()))
    cache = tmp_path / "user-cache"
    env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_CACHE_DIR", "PYTHONPATH", "PYTHONHOME")}
    env.update(WEDGENET_CACHE_DIR=str(cache), PIP_DISABLE_PIP_VERSION_CHECK="1", PYTHONNOUSERSITE="1")
    pip = [py, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index", "-q"]

    _run([*pip, str(src)], env, tmp_path)
    installed = _run([py, "-c", PROBE], env, tmp_path).strip()
    assert Path(installed).parent == site / "wedgenet"
    leftovers = [p for p in (site / "wedgenet").rglob("*") if p.suffix in (".nbi", ".nbc")]
    assert leftovers == [], f"numba cache files in site-packages: {leftovers[:5]}"
    assert list(cache.rglob("*.nbi")), "the kernel was not cached in WEDGENET_CACHE_DIR"

    _run([*pip, "-e", str(src)], env, tmp_path)
    assert not (site / "wedgenet").exists(), "the regular install left files behind"
    editable = _run([py, "-c", PROBE], env, tmp_path).strip()
    assert Path(editable).resolve() == (src / "wedgenet" / "__init__.py").resolve()
    assert not list((src / "wedgenet").rglob("*.nbi")), "numba cached into the source tree"


@pytest.mark.skipif(sys.platform.startswith("win"), reason="POSIX cache paths")
def test_cache_dir_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from wedgenet import _cache

    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.delenv(_cache.ENV_VAR, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    if sys.platform != "darwin":
        assert _cache.numba_cache_dir() == tmp_path / "xdg" / "wedgenet" / "numba"
    monkeypatch.setenv(_cache.ENV_VAR, str(tmp_path / "mine"))
    assert _cache.numba_cache_dir() == tmp_path / "mine" / "numba"
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "numba-own"))
    assert _cache.numba_cache_dir() == tmp_path / "numba-own"


def test_kernels_use_the_wedgenet_locator() -> None:
    from numba.core.config import CACHE_DIR

    import wedgenet.algebra._kernels as K
    from wedgenet import _cache

    disp = next(v for v in vars(K).values() if hasattr(v, "_cache") and hasattr(v, "py_func"))
    locator = disp._cache._impl.locator
    if CACHE_DIR:
        assert type(locator).__name__ != "WedgenetCacheLocator"
    else:
        assert type(locator).__name__ == "WedgenetCacheLocator"
        assert Path(locator.get_cache_path()).is_relative_to(_cache.numba_cache_dir()) or "wedgenet-" in str(
            locator.get_cache_path()
        )
