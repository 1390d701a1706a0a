"""Blind double annotation: drawing the sample, and Cohen's kappa per label between two passes."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import numpy as np

from clf.errors import DataError
from clf.labels import LABELS, to_matrix

MIN_POSITIVES_FOR_MACRO = 5


def draw_sample(
    units_by_policy: dict[str, list[str]], whole: str | list[str], fraction: float, seed: int = 0
) -> list[str]:
    """Ids for the second pass: every unit of the `whole` policies, plus `fraction` of each other policy.

    The draw within a policy is systematic over document order from a random offset, so
    every part of each policy (headings, lists, contact blocks) is represented.
    """
    whole = [whole] if isinstance(whole, str) else list(whole)
    unknown = sorted(set(whole) - set(units_by_policy))
    if unknown:
        raise DataError(f"whole-policy sample names policies without units: {unknown}")
    rng = random.Random(seed)
    chosen = [i for policy in whole for i in units_by_policy[policy]]
    for policy, ids in units_by_policy.items():
        if policy in whole:
            continue
        step = 1 / fraction
        offset = rng.random() * step
        picks = sorted({int(offset + k * step) for k in range(int(len(ids) * fraction + 0.999))})
        chosen += [ids[i] for i in picks if i < len(ids)]
    rng.shuffle(chosen)
    return chosen


def blind_items(records: list[dict[str, Any]], ids: list[str], before: int = 2, after: int = 1) -> str:
    """The units to label, in the given order, each with its neighbours as context and no labels anywhere."""
    where = {r["id"]: k for k, r in enumerate(records)}
    lines = [
        "# Blind second pass: units to label",
        "",
        f"Each item: the unit to label (>>>), with the {before} units before it and {after} after it as context only.",
    ]
    for n, unit_id in enumerate(ids, 1):
        k = where[unit_id]
        policy = records[k]["policy"]
        lines += ["", f"## item {n}: {unit_id}"]
        for j in range(k - before, k + after + 1):
            if 0 <= j < len(records) and records[j]["policy"] == policy:
                mark = ">>>" if j == k else f"    context {'before' if j < k else 'after'}:"
                lines.append(f"{mark} {records[j]['text']}")
    return "\n".join(lines) + "\n"


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


def write_blind_sample(
    root: str | Path,
    out: str | Path,
    whole: list[str],
    fraction: float,
    seed: int,
    policies: list[str] | None = None,
    parts: int = 1,
) -> dict[str, Any]:
    """A second-pass package in a new folder: the sample, the first-pass labels as they stand,
    the whole policies as blind reading sheets and the drawn units in `parts` blind item lists."""
    from clf.annotate import reading_sheet
    from clf.annotations import load_gold
    from clf.jsonl import write_text_atomic
    from clf.labels import CODE_OF

    out = Path(out)
    if out.exists():
        raise DataError("already exists; a blind sample is drawn once and never overwritten", out)
    files = [g for g in load_gold(root) if policies is None or g.policy in policies]
    units = {g.policy: [r["id"] for r in g.records] for g in files}
    ids = draw_sample(units, whole, fraction, seed)
    records = [r for g in files for r in g.records]
    labels = {r["id"]: r["labels"] for r in records}
    whole_ids = {i for p in whole for i in units[p]}
    drawn = [i for i in ids if i not in whole_ids]
    out.mkdir(parents=True)
    sample = {"whole_policies": whole, "fraction_of_others": fraction, "seed": seed, "policies": sorted(units)}
    write_text_atomic(out / "sample.json", json.dumps({**sample, "ids": ids}, indent=1) + "\n")
    write_text_atomic(
        out / "first-pass.tsv",
        "# first-pass labels of the agreement sample, copied from the gold files before adjudication\n"
        + "".join(f"{i}\t{','.join(CODE_OF[x] for x in labels[i])}\n" for i in sorted(ids)),
    )
    for policy in whole:
        write_text_atomic(out / f"whole-{policy}.md", reading_sheet(policy, root, blind=True))
    for k in range(parts):
        part = drawn[k::parts]
        write_text_atomic(out / f"units-{chr(ord('a') + k)}.md", blind_items(records, part))
    return {**sample, "units": len(ids), "whole_units": len(whole_ids), "drawn_units": len(drawn)}
