"""Blind double annotation: drawing the sample, and Cohen's kappa per label between two passes."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np

from clf.errors import DataError
from clf.labels import LABELS, to_matrix

MIN_POSITIVES_FOR_MACRO = 5


def draw_sample(units_by_policy: dict[str, list[str]], whole: str, fraction: float, seed: int = 0) -> list[str]:
    """Ids for the second pass: every unit of `whole`, plus `fraction` of each other policy.

    The draw within a policy is systematic over document order from a random offset, so
    every part of each policy (headings, lists, contact blocks) is represented.
    """
    rng = random.Random(seed)
    chosen = list(units_by_policy[whole])
    for policy, ids in units_by_policy.items():
        if policy == whole:
            continue
        step = 1 / fraction
        offset = rng.random() * step
        picks = sorted({int(offset + k * step) for k in range(int(len(ids) * fraction + 0.999))})
        chosen += [ids[i] for i in picks if i < len(ids)]
    rng.shuffle(chosen)
    return chosen


def kappa_table(
    first: dict[str, list[str]], second: dict[str, list[str]], n_boot: int = 1000, seed: int = 0
) -> dict[str, Any]:
    """Per-label Cohen's kappa (scikit-learn's) with a bootstrap 95% CI, over the units both passes labelled."""
    from sklearn.metrics import cohen_kappa_score

    ids = sorted(set(first) & set(second))
    a, b = to_matrix(first[i] for i in ids), to_matrix(second[i] for i in ids)
    boots = np.random.default_rng(seed).integers(0, len(ids), (n_boot, len(ids)))
    rows = []
    for j, label in enumerate(LABELS):
        x, y = a[:, j], b[:, j]
        kappa = None if _constant_and_equal(x, y) else float(cohen_kappa_score(x, y))
        samples = binary_kappa(x[boots], y[boots])
        samples = samples[~np.isnan(samples)]
        rows.append(
            {
                "label": label,
                "positives_first": int(x.sum()),
                "positives_second": int(y.sum()),
                "observed_agreement": float((x == y).mean()),
                "kappa": kappa,
                "ci_low": float(np.percentile(samples, 2.5)) if kappa is not None and len(samples) else None,
                "ci_high": float(np.percentile(samples, 97.5)) if kappa is not None and len(samples) else None,
            }
        )
    counted = [
        r["kappa"]
        for r in rows
        if r["kappa"] is not None and max(r["positives_first"], r["positives_second"]) >= MIN_POSITIVES_FOR_MACRO
    ]
    exact = sum(set(first[i]) == set(second[i]) for i in ids)
    return {
        "units": len(ids),
        "exact_match": exact / len(ids) if ids else 0.0,
        "macro_kappa": float(np.mean(counted)) if counted else None,
        "labels": rows,
    }


def binary_kappa(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Cohen's kappa of 0/1 vectors along the last axis, vectorised for bootstrap resamples (NaN if undefined)."""
    x, y = x.astype(float), y.astype(float)
    observed = (x == y).mean(axis=-1)
    px, py = x.mean(axis=-1), y.mean(axis=-1)
    expected = px * py + (1 - px) * (1 - py)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(expected < 1, (observed - expected) / (1 - expected), np.nan)


def _constant_and_equal(x: np.ndarray, y: np.ndarray) -> bool:
    """Kappa is undefined when both passes give one and the same answer for every unit."""
    return len(set(x.tolist()) | set(y.tolist())) < 2


def load_passes(folder: str | Path) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """The raw first and second passes of the blind sample (before adjudication)."""
    from clf.annotate import parse_sheet

    folder = Path(folder)
    first = {k: v["labels"] for k, v in parse_sheet(folder / "first-pass.tsv").items()}
    second: dict[str, list[str]] = {}
    for sheet in sorted(folder.glob("second-pass*.tsv")):
        second.update({k: v["labels"] for k, v in parse_sheet(sheet).items()})
    if not first or not second:
        raise DataError(f"no first-pass.tsv / second-pass*.tsv sheets in {folder}")
    return first, second
