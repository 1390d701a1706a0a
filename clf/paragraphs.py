"""Paragraph inputs made from sentence gold: how a user's paragraph, a scraped HTML block or an
OPP-115 segment reaches the model.

A paragraph is a run of consecutive units of one policy with no blank line between them in the
source (a paragraph of prose, a list, a table), of at least two units; its text is the source
slice from its first unit to its last, and its labels are the union of its units' labels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from clf.data import Dataset


@dataclass(frozen=True)
class Paragraph:
    policy: str
    units: tuple[int, ...]  # indexes into the dataset
    text: str


def paragraphs(data: Dataset, min_units: int = 2) -> list[Paragraph]:
    """The dataset's multi-unit paragraphs, in data order (units without offsets are left out)."""
    out: list[Paragraph] = []
    texts: dict[str, str] = {}
    run: list[int] = []

    def close() -> None:
        if len(run) >= min_units:
            policy = data.groups[run[0]]
            source = texts[policy]
            out.append(Paragraph(policy, tuple(run), source[data.spans[run[0]][0] : data.spans[run[-1]][1]]))
        run.clear()

    for i, span in enumerate(data.spans):
        policy = data.groups[i]
        if span is None or policy is None:
            close()
            continue
        if policy not in texts:
            texts[policy] = data.sources[policy].read_text(encoding="utf-8")
        if run:
            last = run[-1]
            gap = texts[policy][data.spans[last][1] : span[0]]
            if data.groups[last] != policy or gap.count("\n") > 1 or span[0] < data.spans[last][1]:
                close()
        run.append(i)
    close()
    return out


def paragraph_labels(data: Dataset, items: list[Paragraph]) -> np.ndarray:
    """(n, 12) union of each paragraph's unit labels."""
    if not items:
        return np.zeros((0, data.y.shape[1]), dtype=np.int8)
    return np.stack([data.y[list(p.units)].max(axis=0) for p in items]).astype(np.int8)
