"""Per-label decision thresholds, tuned on out-of-fold scores and never on reported data."""

from __future__ import annotations

import numpy as np

from clf.labels import FALLBACKS, INDEX, LABELS

GRID = np.round(np.arange(0.05, 0.951, 0.025), 3)
_FALLBACK_COLUMNS = [INDEX[x] for x in sorted(FALLBACKS)]
_PRACTICE_COLUMNS = [j for j in range(len(LABELS)) if j not in _FALLBACK_COLUMNS]


def tune(y: np.ndarray, scores: np.ndarray, grid: np.ndarray = GRID) -> np.ndarray:
    """For each label, the threshold with the best F1 on (y, scores); 0.5 where y has no positive.

    Among equally good thresholds the median one is taken, which is steadier than the first.
    """
    thresholds = np.full(y.shape[1], 0.5)
    for j in range(y.shape[1]):
        truth = y[:, j].astype(bool)
        if not truth.any():
            continue
        f1 = []
        for t in grid:
            pred = scores[:, j] >= t
            tp = np.sum(pred & truth)
            f1.append(2 * tp / (pred.sum() + truth.sum()))
        f1 = np.asarray(f1)
        best = np.flatnonzero(f1 >= f1.max() - 1e-12)
        thresholds[j] = grid[best[len(best) // 2]]
    return thresholds


def decide(
    scores: np.ndarray, thresholds: np.ndarray, always_one_label: bool = True, exclusive_fallbacks: bool = True
) -> np.ndarray:
    """Binary labels from scores, following the spec's decision order.

    A fallback never stands beside a practice label, and at most one fallback is kept (a
    paragraph, whose labels are the union of its sentences', passes `exclusive_fallbacks=False`);
    with `always_one_label`, a unit with nothing over threshold gets its best-scoring label.
    """
    pred = (scores >= thresholds).astype(np.int8)
    if not exclusive_fallbacks:
        return _at_least_one(pred, scores, thresholds) if always_one_label else pred
    has_other = pred[:, _PRACTICE_COLUMNS].any(axis=1)
    pred[np.ix_(has_other, _FALLBACK_COLUMNS)] = 0
    both = pred[:, _FALLBACK_COLUMNS].sum(axis=1) > 1
    if both.any():
        weaker = np.array(_FALLBACK_COLUMNS)[np.argmin(scores[np.ix_(both, _FALLBACK_COLUMNS)], axis=1)]
        pred[np.flatnonzero(both), weaker] = 0
    return _at_least_one(pred, scores, thresholds) if always_one_label else pred


def _at_least_one(pred: np.ndarray, scores: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    empty = pred.sum(axis=1) == 0
    # "best" relative to the label's own threshold, so a rare label is not drowned by a frequent one
    margin = scores[empty] / np.maximum(thresholds, 1e-6)
    pred[np.flatnonzero(empty), np.argmax(margin, axis=1)] = 1
    return pred
