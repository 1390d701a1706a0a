"""How data is split: by policy whenever the data names policies, so no policy is on both sides.

Outer evaluation folds come from a committed assignment of policies to folds
(`annotations/splits/folds.json`, balanced by units), so every model and every run is scored on
the same held-out policies; data the assignment does not cover falls back to leave-one-policy-out
(up to 10 policies) or `GroupKFold`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from sklearn.model_selection import GroupKFold, KFold

from clf.errors import DataError

MAX_LOPO = 10  # more policies than this, and no assignment covers them: GroupKFold with this many folds
FOLDS_FILE = Path(__file__).resolve().parent.parent / "annotations" / "splits" / "folds.json"


def inner_folds(groups: list[str | None], n_splits: int, seed: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Folds for threshold tuning inside training data: grouped when there are ≥2 groups."""
    if len(groups) < 2:
        raise DataError(f"{len(groups)} training unit(s) in a fold: tuning thresholds needs at least 2")
    index = np.arange(len(groups))
    distinct = {g for g in groups if g is not None}
    if len(distinct) >= 2 and None not in groups:
        codes = np.array([sorted(distinct).index(g) for g in groups])
        yield from GroupKFold(n_splits=min(n_splits, len(distinct))).split(index, groups=codes)
    else:
        yield from KFold(n_splits=min(n_splits, len(groups)), shuffle=True, random_state=seed).split(index)


def assign_folds(units_per_policy: dict[str, int], n_folds: int = 5) -> dict[str, int]:
    """Policies → fold numbers 1..n, balanced by units: largest policy first, into the lightest fold."""
    load = [0] * n_folds
    assignment = {}
    for policy in sorted(units_per_policy, key=lambda p: (-units_per_policy[p], p)):
        fold = min(range(n_folds), key=lambda k: (load[k], k))
        assignment[policy] = fold + 1
        load[fold] += units_per_policy[policy]
    return dict(sorted(assignment.items()))


def read_assignment(path: str | Path = FOLDS_FILE) -> dict[str, int]:
    path = Path(path)
    if not path.exists():
        return {}
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return {str(p): int(k) for p, k in raw["policies"].items()}
    except (ValueError, KeyError, TypeError, AttributeError):
        raise DataError('not a fold assignment (expected {"policies": {slug: fold}})', path) from None


def _check(groups: list[str | None]) -> list[str]:
    if any(g is None for g in groups):
        raise DataError("evaluation splits by policy, but some records have no 'policy' field")
    distinct = sorted(set(groups))
    if len(distinct) < 2:
        raise DataError(f"evaluation needs at least two policies to hold one out; the data has only {distinct}")
    return distinct


def resolve_split(groups: list[str | None], split: str = "auto", assignment: dict[str, int] | None = None) -> str:
    """ "grouped", "lopo" or "groupkfold": what `outer_folds` will do with this data.

    "auto" takes the committed assignment when it covers every policy of the data and spreads
    them over ≥ 2 of its folds, else leave-one-policy-out up to MAX_LOPO policies, else GroupKFold.
    """
    if split not in ("auto", "grouped", "lopo"):
        raise DataError(f"unknown split {split!r}; use grouped, lopo or auto")
    distinct = _check(groups)
    assignment = read_assignment() if assignment is None else assignment
    covered = all(p in assignment for p in distinct) and len({assignment[p] for p in distinct}) >= 2
    if split == "grouped" and not covered:
        missing = [p for p in distinct if p not in assignment]
        detail = f"policies not in it: {missing[:5]}" if missing else "the data spans only one of its folds"
        raise DataError(f"grouped folds need a fold assignment covering the data; {detail}", FOLDS_FILE)
    if split == "lopo" or (split == "auto" and not covered and len(distinct) <= MAX_LOPO):
        return "lopo"
    return "grouped" if covered else "groupkfold"


def outer_folds(
    groups: list[str | None], split: str = "auto", assignment: dict[str, int] | None = None
) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(name, train index, test index) per outer fold; see `resolve_split`."""
    assignment = read_assignment() if assignment is None else assignment
    kind = resolve_split(groups, split, assignment)
    distinct = sorted(set(groups))
    codes = np.array([distinct.index(g) for g in groups])
    if kind == "lopo":
        return [(p, np.flatnonzero(codes != k), np.flatnonzero(codes == k)) for k, p in enumerate(distinct)]
    if kind == "grouped":
        fold_of = np.array([assignment[g] for g in groups])
        return [(f"fold-{k}", np.flatnonzero(fold_of != k), np.flatnonzero(fold_of == k)) for k in sorted(set(fold_of))]
    splitter = GroupKFold(n_splits=MAX_LOPO)
    return [(f"fold-{k + 1}", train, test) for k, (train, test) in enumerate(splitter.split(codes, groups=codes))]
