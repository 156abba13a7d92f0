"""The site's tutorials are executed copies of notebooks/*.ipynb, with outputs and figures.

``python notebooks/build_notebooks.py --execute`` writes them to ``docs/tutorials/``; each records a
fingerprint of its source cells.  A notebook edited without regenerating its copy fails here (a
stale page), as does a copy with a failed or unexecuted cell, or a gallery that misses a plot
function.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
REGENERATE = "regenerate with: python notebooks/build_notebooks.py --execute"


def _fingerprint(nb) -> str:  # the same as notebooks/build_notebooks.py::source_hash
    cells = [[c.cell_type, c.source] for c in nb.cells]
    return hashlib.sha256(json.dumps(cells, ensure_ascii=False).encode()).hexdigest()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_docs_copy_is_executed_and_current(path):
    src = nbformat.read(path, as_version=4)
    copy = ROOT / "docs" / "tutorials" / path.name
    assert copy.is_file() and not copy.is_symlink(), f"{copy} is missing or a symlink; {REGENERATE}"
    out = nbformat.read(copy, as_version=4)
    assert [c.source for c in out.cells] == [c.source for c in src.cells], f"{copy.name} is stale; {REGENERATE}"
    assert out.metadata.get("wedgenet", {}).get("source_sha256") == _fingerprint(src), \
        f"{copy.name} fingerprint differs; {REGENERATE}"
    code = [c for c in out.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code), f"{copy.name} has unexecuted cells; {REGENERATE}"
    errors = [o for c in code for o in c.outputs if o.get("output_type") == "error"]
    assert not errors, f"{copy.name} stores a failed cell"
    has_figure = any("image/png" in o.get("data", {}) for c in code for o in c.outputs)
    plots = any("plot_" in c.source for c in code)
    assert has_figure or not plots, f"{copy.name} draws figures but stores none"


def test_gallery_shows_every_plot_function():
    import wedgenet.plot as wplot

    functions = [name for name in wplot.__all__ if name.startswith("plot_")]
    gallery = nbformat.read(ROOT / "docs" / "tutorials" / "07_gallery.ipynb", as_version=4)
    code = [c for c in gallery.cells if c.cell_type == "code"]
    for name in functions:
        cells = [c for c in code if f"wplot.{name}(" in c.source]
        assert cells, f"the gallery does not call {name}"
        assert any("image/png" in o.get("data", {}) for c in cells for o in c.outputs), f"no figure for {name}"
