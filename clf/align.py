"""Align the units of two versions of a policy: which were kept, changed, added, removed or moved.

`difflib.SequenceMatcher` over the unit texts finds the runs kept verbatim. Inside each run it
reports as replaced, a removed and an added unit are paired as *changed* when their word
similarity (difflib's ratio over lower-cased words, punctuation ignored) is at least
`CHANGED_MIN_SIMILARITY`; the pairing keeps reading order and maximises the total similarity.
Removed and added units left in different runs are then paired the same way, most similar first:
an identical text is *moved* (no change to what the policy says), a similar one changed. What stays
unpaired is added or removed.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

CHANGED_MIN_SIMILARITY = 0.5
_WORD = re.compile(r"\w+")

Kind = Literal["equal", "changed", "added", "removed", "moved"]


@dataclass(frozen=True)
class Pair:
    """One step of the alignment: `old`/`new` are unit indices (None on the side a unit is missing from)."""

    kind: Kind
    old: int | None
    new: int | None
    similarity: float


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def similarity(a: str, b: str) -> float:
    """difflib's ratio over the lower-cased words of two texts (1.0 = same words in the same order)."""
    return difflib.SequenceMatcher(None, _words(a), _words(b), autojunk=False).ratio()


def _similar(a: list[str], b: list[str], threshold: float) -> float:
    """The ratio if it reaches the threshold, else 0.0; difflib's cheap upper bounds skip most pairs."""
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    if matcher.real_quick_ratio() < threshold or matcher.quick_ratio() < threshold:
        return 0.0
    ratio = matcher.ratio()
    return ratio if ratio >= threshold else 0.0


def _pair_block(old: Sequence[str], new: Sequence[str], threshold: float) -> list[tuple[int, int, float]]:
    """Order-keeping pairs (i, j, similarity), each ≥ threshold, with the largest total (dynamic programming)."""
    n, m = len(old), len(new)
    old_words, new_words = [_words(t) for t in old], [_words(t) for t in new]
    sim = [[_similar(a, b, threshold) for b in new_words] for a in old_words]
    best = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            take = best[i + 1][j + 1] + sim[i][j] if sim[i][j] else 0.0
            best[i][j] = max(best[i + 1][j], best[i][j + 1], take)
    pairs, i, j = [], 0, 0
    while i < n and j < m:
        if sim[i][j] and best[i][j] == best[i + 1][j + 1] + sim[i][j]:
            pairs.append((i, j, sim[i][j]))
            i, j = i + 1, j + 1
        elif best[i][j] == best[i + 1][j]:
            i += 1
        else:
            j += 1
    return pairs


def _replace_block(i1: int, i2: int, j1: int, j2: int, old: Sequence[str], new: Sequence[str], threshold: float):
    """Changed pairs in reading order, with the unpaired units of the block as removed/added between them."""
    steps: list[Pair] = []
    i, j = i1, j1
    for a, b, s in _pair_block(old[i1:i2], new[j1:j2], threshold):
        steps += [Pair("removed", k, None, 0.0) for k in range(i, i1 + a)]
        steps += [Pair("added", None, k, 0.0) for k in range(j, j1 + b)]
        steps.append(Pair("changed", i1 + a, j1 + b, s))
        i, j = i1 + a + 1, j1 + b + 1
    steps += [Pair("removed", k, None, 0.0) for k in range(i, i2)]
    steps += [Pair("added", None, k, 0.0) for k in range(j, j2)]
    return steps


def align(old: Sequence[str], new: Sequence[str], threshold: float = CHANGED_MIN_SIMILARITY) -> list[Pair]:
    """Every unit of both versions exactly once, in reading order (a removed unit where it used to be)."""
    steps: list[Pair] = []
    matcher = difflib.SequenceMatcher(None, list(old), list(new), autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            steps += [Pair("equal", i1 + k, j1 + k, 1.0) for k in range(i2 - i1)]
        else:  # delete and insert are replace blocks with one side empty
            steps += _replace_block(i1, i2, j1, j2, old, new, threshold)
    return _pair_leftovers(steps, old, new, threshold)


def _pair_leftovers(steps: list[Pair], old: Sequence[str], new: Sequence[str], threshold: float) -> list[Pair]:
    """Pair removed and added units across blocks: the same text moved; a similar one moved and changed.

    difflib anchors on the longest run of equal units, which can put a reworded unit and its old
    version in different blocks; they are paired here, most similar first, and shown at the new place.
    """
    removed = [step.old for step in steps if step.kind == "removed"]
    added = [step.new for step in steps if step.kind == "added"]
    candidates = []
    if removed and added:
        old_words = {i: _words(old[i]) for i in removed}
        for j in added:
            words = _words(new[j])
            candidates += [
                (1.0 if old[i] == new[j] else _similar(old_words[i], words, threshold), i, j) for i in removed
            ]
    paired_old: dict[int, tuple[int, float]] = {}
    paired_new: dict[int, tuple[int, float]] = {}
    for s, i, j in sorted((c for c in candidates if c[0] > 0), key=lambda c: (-c[0], c[2], c[1])):
        if i not in paired_old and j not in paired_new:
            paired_old[i], paired_new[j] = (j, s), (i, s)
    out = []
    for step in steps:
        if step.kind == "removed" and step.old in paired_old:
            continue
        if step.kind == "added" and step.new in paired_new:
            i, s = paired_new[step.new]
            step = Pair("moved" if old[i] == new[step.new] else "changed", i, step.new, s)
        out.append(step)
    return out
