"""Multi-label scores: micro, macro and samples F1, and per-label precision/recall/F1/support."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import f1_score, precision_recall_fscore_support

from clf.labels import LABELS


def score(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, Any]:
    p, r, f, support = precision_recall_fscore_support(y_true, y_pred, average=None, zero_division=0)
    present = support > 0
    return {
        "micro_f1": float(f1_score(y_true, y_pred, average="micro", zero_division=0)),
        # macro over labels that occur in the reference: a label absent from a held-out policy
        # has no defined recall, and counting it as 0 would punish the model for the data
        "macro_f1": float(np.mean(f[present])) if present.any() else 0.0,
        "samples_f1": float(f1_score(y_true, y_pred, average="samples", zero_division=0)),
        "units": len(y_true),
        "per_label": {
            label: {"precision": float(p[j]), "recall": float(r[j]), "f1": float(f[j]), "support": int(support[j])}
            for j, label in enumerate(LABELS)
        },
    }


def format_score(value: float | dict[str, Any]) -> str:
    """A score for tables: `0.512`, or `0.512 ± 0.013` when it is a mean over several seeds."""
    if isinstance(value, dict):
        return f"{value['mean']:.3f} ± {value['std']:.3f}" if value.get("n", 1) > 1 else f"{value['mean']:.3f}"
    return f"{value:.3f}"


def mean_std(values: list[float]) -> dict[str, float]:
    array = np.asarray(values, dtype=float)
    return {"mean": float(array.mean()), "std": float(array.std(ddof=1)) if len(array) > 1 else 0.0, "n": len(array)}
