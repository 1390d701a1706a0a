"""Aligning the units of two versions of a policy."""

import random

import pytest

from clf.align import CHANGED_MIN_SIMILARITY, align, similarity
from tests.conftest import TINY

SENTENCES = [text for rows in TINY.values() for text, _ in rows]


def kinds(old, new, **kwargs):
    return [(p.kind, p.old, p.new) for p in align(old, new, **kwargs)]


def test_kept_changed_added_removed_and_moved_units():
    old = ["Privacy Policy", "We keep logs for 30 days.", "We sell nothing.", "Contact us.", "Cookies are small files."]
    new = ["Privacy Policy", "Cookies are small files.", "We keep logs for 90 days.", "We share data with partners."]
    assert kinds(old, new) == [
        ("equal", 0, 0),
        ("removed", 2, None),
        ("removed", 3, None),
        ("equal", 4, 1),
        ("changed", 1, 2),  # reworded and moved: difflib kept "Cookies" in place, so it is paired afterwards
        ("added", None, 3),
    ]
    assert kinds(["A b c.", "D e f.", "G h i."], ["G h i.", "A b c.", "D e f."]) == [
        ("moved", 2, 0),
        ("equal", 0, 1),
        ("equal", 1, 2),
    ]


def test_the_threshold_decides_between_changed_and_removed_plus_added():
    old, new = ["We keep logs for 30 days."], ["We keep server logs for a year."]
    s = similarity(old[0], new[0])
    assert 0 < s < 1
    assert kinds(old, new, threshold=s) == [("changed", 0, 0)]
    assert kinds(old, new, threshold=s + 0.01) == [("removed", 0, None), ("added", None, 0)]


def test_similarity_ignores_case_and_punctuation_but_not_words():
    assert similarity("We sell NOTHING.", "we sell nothing") == 1.0
    assert similarity("We sell nothing.", "We sell everything.") < 1.0
    assert similarity("Cookies", "Security") == 0.0


@pytest.mark.parametrize("seed", range(20))
def test_every_unit_of_both_versions_appears_once_in_reading_order(seed):
    rng = random.Random(seed)
    old = rng.sample(SENTENCES, 15)
    new = list(old)
    for _ in range(6):  # random edits: delete, insert, reword, move
        op = rng.choice("dirm")
        i = rng.randrange(len(new))
        if op == "d":
            new.pop(i)
        elif op == "i":
            new.insert(i, rng.choice(SENTENCES) + " Really.")
        elif op == "r":
            new[i] = new[i].replace("We ", "We also ", 1)
        else:
            new.insert(rng.randrange(len(new)), new.pop(i))
    steps = align(old, new)
    assert sorted(p.old for p in steps if p.old is not None) == list(range(len(old)))
    news = [p.new for p in steps if p.new is not None]
    assert news == list(range(len(new))), "the new version is walked in order"
    for p in steps:
        if p.kind in {"equal", "moved"}:
            assert old[p.old] == new[p.new]
        if p.kind == "changed":
            assert old[p.old] != new[p.new] and similarity(old[p.old], new[p.new]) >= CHANGED_MIN_SIMILARITY
    assert all(p.kind == "equal" for p in align(old, old))
