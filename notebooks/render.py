"""Re-execute the notebooks in place, so their saved outputs come from the current result folders.

    /work/venv/bin/python notebooks/render.py                      # all three, ../reports and ../annotations
    /work/venv/bin/python notebooks/render.py 02-evaluation.ipynb  # just one
    /work/venv/bin/python notebooks/render.py --results /some/results --annotations annotations

Each notebook runs top to bottom in a fresh python3 kernel (the one of this interpreter) with its
working directory set to notebooks/; a cell error stops with a non-zero exit and nothing is saved.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
NOTEBOOKS = ("01-annotations.ipynb", "02-evaluation.ipynb", "03-errors.ipynb")


@contextlib.contextmanager
def environment(values: dict[str, str | None]) -> Iterator[None]:
    """Set (or leave) environment variables for the kernel to inherit, restoring them afterwards."""
    saved = {k: os.environ.get(k) for k in values}
    try:
        for key, value in values.items():
            if value is not None:
                os.environ[key] = value
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def execute(
    path: str | Path,
    results: str | Path | None = None,
    annotations: str | Path | None = None,
    out: str | Path | None = None,
    timeout: int = 900,
    extra_env: dict[str, str] | None = None,
) -> nbformat.NotebookNode:
    """Run one notebook (CLF_RESULTS / CLF_ANNOTATIONS set when given); write it to `out` if given."""
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    env = {
        "CLF_RESULTS": str(Path(results).resolve()) if results else None,
        "CLF_ANNOTATIONS": str(Path(annotations).resolve()) if annotations else None,
        **(extra_env or {}),
    }
    with environment(env):
        client = NotebookClient(
            nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
        )
        client.execute()
    if out is not None:
        nbformat.write(nb, out)
    return nb


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", help="notebook files (default: all three)")
    parser.add_argument("--results", help="folder of result folders (default: the notebook's ../reports)")
    parser.add_argument("--annotations", help="annotations folder (default: the notebook's ../annotations)")
    args = parser.parse_args(argv)
    paths = [Path(p) if Path(p).exists() else HERE / p for p in args.notebooks] or [HERE / n for n in NOTEBOOKS]
    for path in paths:
        started = time.perf_counter()
        execute(path, args.results, args.annotations, out=path)
        size = path.stat().st_size / 1e6
        print(f"{path.name}: executed in {time.perf_counter() - started:.1f} s, {size:.2f} MB", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
