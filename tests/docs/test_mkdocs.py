"""The documentation site builds with ``mkdocs build --strict`` (the ``docs`` extra).

Strict mode turns every warning into a failure: a broken link, a page missing from the nav, an
API reference to a name that no longer exists or a docstring mkdocstrings cannot parse.  The
notebooks are rendered as tutorials without being executed (``execute: false``).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PLUGINS = ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python", "mkdocs_jupyter")


def test_mkdocs_build_strict(tmp_path):
    missing = [m for m in PLUGINS if importlib.util.find_spec(m.split(".")[0]) is None]
    if missing:
        if os.environ.get("CI"):  # CI installs the docs extra (README's test command)
            pytest.fail(f"the docs extra is not installed: {missing}")
        pytest.skip(f"needs the docs extra: {missing}")
    site = tmp_path / "site"
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    # run from tmp_path: mkdocs-jupyter keeps its conversion cache in ./.cache
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "mkdocs.yml"),
                           "-d", str(site)], cwd=tmp_path, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for page in ("index.html", "choosing_settings/index.html", "theory_map/index.html",
                 "conventions/index.html", "inspecting/index.html", "api/network/index.html",
                 "tutorials/01_quickstart/index.html"):
        assert (site / page).is_file(), page
    api = (site / "api" / "network" / "index.html").read_text(encoding="utf-8")
    assert "provenance_table" in api and "sample_influence" in api and "explain" in api
    notebooks = sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))
    for name in notebooks:  # every notebook is a tutorial page
        assert (site / "tutorials" / name / "index.html").is_file(), name
    assert not (ROOT / "notebooks" / ".cache").exists()
