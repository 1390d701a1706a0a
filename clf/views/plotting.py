"""Shared pieces of the Markdown tables and matplotlib figures: number formats, label names, colours."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from clf.labels import CODE_OF

if TYPE_CHECKING:
    from matplotlib.figure import Figure


METRIC_NAMES = {"micro_f1": "micro-F1", "macro_f1": "macro-F1", "samples_f1": "samples-F1"}
PREFERRED_ORDER = ("tfidf", "transformer", "ensemble")


def _fmt(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _md_cell(text: str, limit: int | None = None) -> str:
    text = " ".join(str(text).split())
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return text.replace("|", "\\|")


def _codes(labels: Iterable[str]) -> str:
    return ",".join(CODE_OF[x] for x in labels) or "–"


def _long(label: str) -> str:
    return f"{label} ({CODE_OF[label]})"


# --- figures: common pieces -----------------------------------------------------------------


def _figure(width: float, height: float, nrows: int = 1, ncols: int = 1, **kwargs: Any) -> tuple[Figure, Any]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=90, layout="constrained")
    return fig, fig.subplots(nrows, ncols, squeeze=False, **kwargs)


def _colors(names: Sequence[str]) -> dict[str, Any]:
    from matplotlib import colormaps

    palette = colormaps["tab10"]
    return {name: palette(i % 10) for i, name in enumerate(names)}


def _heatmap(
    ax: Any, values: np.ndarray, annotations: np.ndarray | None = None, cmap: str = "Blues", **kwargs: Any
) -> Any:
    image = ax.imshow(values, cmap=cmap, aspect="auto", **kwargs)
    if annotations is not None:
        finite = values[np.isfinite(values)]
        top = finite.max() if finite.size else 1.0
        for (i, j), text in np.ndenumerate(annotations):
            if text:
                dark = np.isfinite(values[i, j]) and values[i, j] > 0.6 * top
                ax.text(j, i, text, ha="center", va="center", fontsize=7, color="white" if dark else "black")
    return image


# --- annotations ----------------------------------------------------------------------------
