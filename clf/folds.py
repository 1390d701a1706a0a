"""How data is split: by policy whenever the data names policies, so no policy is on both sides."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from sklearn.model_selection import GroupKFold, KFold

from clf.errors import DataError


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


def outer_folds(groups: list[str | None], max_folds: int = 10) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """Leave-one-policy-out (grouped k-fold when there are more than `max_folds` policies)."""
    if any(g is None for g in groups):
        raise DataError("evaluation splits by policy, but some records have no 'policy' field")
    distinct = sorted(set(groups))
    if len(distinct) < 2:
        raise DataError(f"evaluation needs at least two policies to hold one out; the data has only {distinct}")
    codes = np.array([distinct.index(g) for g in groups])
    if len(distinct) <= max_folds:
        return [(p, np.flatnonzero(codes != k), np.flatnonzero(codes == k)) for k, p in enumerate(distinct)]
    splitter = GroupKFold(n_splits=max_folds)
    return [(f"fold-{k + 1}", train, test) for k, (train, test) in enumerate(splitter.split(codes, groups=codes))]
