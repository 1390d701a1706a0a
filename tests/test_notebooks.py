"""Every notebook runs top to bottom (fresh python3 kernel) against a tiny result folder made here.

The tiny folder has two models (tfidf, and a copy named `other` without a learning curve) so the
side-by-side and "learning curve absent" paths both run. Notebooks execute in memory; the committed
notebooks in notebooks/ are never written.
"""

from __future__ import annotations

import importlib.util
import shutil
import time
from pathlib import Path

import matplotlib
import nbformat

matplotlib.use("Agg")

import pytest

from tests.test_report import write_tiny_annotations, write_tiny_results

NOTEBOOKS_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))


def _render_module():
    spec = importlib.util.spec_from_file_location("notebook_render", NOTEBOOKS_DIR / "render.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("notebooks")
    annotations = write_tiny_annotations(root / "annotations")
    results = write_tiny_results(annotations, root / "results")
    return {"annotations": annotations, "results": results, "root": root}


def test_the_three_notebooks_exist():
    assert [p.name for p in NOTEBOOKS] == ["01-annotations.ipynb", "02-evaluation.ipynb", "03-errors.ipynb"]


def _outputs(nb) -> tuple[str, int]:
    text, images = [], 0
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            assert output.get("output_type") != "error"
            data = output.get("data", {})
            images += "image/png" in data
            text.append(data.get("text/markdown", "") + output.get("text", ""))
    return "\n".join(text), images


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(path, folders):
    render = _render_module()
    before = path.read_bytes()
    started = time.perf_counter()
    nb = render.execute(
        path, folders["results"], folders["annotations"], extra_env={"CLF_KAPPA_BOOT": "50", "CLF_N_ERRORS": "2"}
    )
    assert time.perf_counter() - started < 60
    assert path.read_bytes() == before  # executed in memory only
    parameters = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(parameters) == 1 and "CLF_RESULTS" in parameters[0].source and "CLF_ANNOTATIONS" in parameters[0].source
    text, images = _outputs(nb)
    assert images >= 1
    if path.stem == "01-annotations":
        assert "alpha" in text and "κ" in text
    else:
        assert "tfidf" in text and "other" in text  # both models side by side
    if path.stem == "02-evaluation":
        assert "No learning curve in metrics.json for: other" in text


def test_render_script_writes_the_executed_notebook(folders):
    render = _render_module()
    copy = folders["root"] / "copy" / "03-errors.ipynb"
    copy.parent.mkdir()
    shutil.copy(NOTEBOOKS_DIR / "03-errors.ipynb", copy)
    nb = nbformat.read(copy, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.update(outputs=[], execution_count=None)
    nbformat.write(nb, copy)
    code = render.main([str(copy), "--results", str(folders["results"]), "--annotations", str(folders["annotations"])])
    assert code == 0
    _, images = _outputs(nbformat.read(copy, as_version=4))
    assert images >= 1
