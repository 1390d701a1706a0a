"""Batches of token ids as arrays: numpy only, shared by training (torch) and inference (ONNX, no torch)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def pad(
    sequences: Sequence[Sequence[int]], pad_id: int, pooled: Sequence[int] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Right-pad token ids to the longest sequence of the batch: (input_ids, attention_mask, pool_mask), int64.

    `pooled[i]`: how many leading tokens of sequence i are pooled (the unit before its context); all by default.
    """
    width = max(len(s) for s in sequences)
    ids = np.full((len(sequences), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(sequences), width), dtype=np.int64)
    pool_mask = np.zeros((len(sequences), width), dtype=np.int64)
    for i, s in enumerate(sequences):
        ids[i, : len(s)] = s
        mask[i, : len(s)] = 1
        pool_mask[i, : len(s) if pooled is None else pooled[i]] = 1
    return ids, mask, pool_mask


def bucket_batches(lengths: np.ndarray, batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Shuffled batches of similar lengths: shuffle, sort inside windows of 8 batches, cut, shuffle the batches."""
    order = rng.permutation(len(lengths))
    window = batch_size * 8
    batches = []
    for start in range(0, len(order), window):
        chunk = order[start : start + window]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    rng.shuffle(batches)
    return batches
