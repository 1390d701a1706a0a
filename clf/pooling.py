"""How the scores of a paragraph's sentences become the paragraph's scores.

A paragraph carries a label when any of its sentences does, so pooling is an OR over sentences;
which soft OR works best is measured on inner out-of-fold paragraphs at training time
(`clf.train`), never chosen by taste. "direct" scores the paragraph text in one piece instead.
"""

from __future__ import annotations

import numpy as np

POOLINGS = ("max", "noisy_or", "mean_top2", "direct")


def pool(scores: np.ndarray, owners: np.ndarray, n: int, how: str) -> np.ndarray:
    """(n, labels) pooled scores of n inputs from the (pieces, labels) scores of their pieces."""
    out = np.zeros((n, scores.shape[1]))
    for i in range(n):
        part = scores[owners == i]
        if how == "max":
            out[i] = part.max(axis=0)
        elif how == "noisy_or":
            out[i] = 1.0 - np.prod(1.0 - np.clip(part, 0.0, 1.0), axis=0)
        elif how == "mean_top2":
            top = np.sort(part, axis=0)[-2:]
            out[i] = top.mean(axis=0)
        else:
            raise ValueError(f"unknown pooling {how!r}; use one of {', '.join(POOLINGS[:-1])}")
    return out
