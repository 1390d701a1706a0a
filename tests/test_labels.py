import re

import numpy as np
import pytest

from clf.labels import CODES, DEFINITIONS, FALLBACKS, LABELS, from_row, label_problems, suggest, to_matrix
from tests.conftest import ROOT


def test_labels_match_the_spec_table_in_order():
    spec = (ROOT / "annotations" / "GUIDELINES.md").read_text(encoding="utf-8")
    table = re.findall(r"^\| `([^`]+)` \| (.+?) \|$", spec, flags=re.MULTILINE)
    assert [name for name, _ in table] == list(LABELS)
    assert [definition for _, definition in table] == [DEFINITIONS[x] for x in LABELS]
    assert len(CODES) == 12 and set(CODES.values()) == set(LABELS)


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        (["Data Security"], []),
        ([], ["empty"]),
        (["Data security"], ["unknown label 'Data security' (did you mean 'Data Security'?)"]),
        (["Introductory/Generic", "Data Security"], ["must stand alone"]),
        (["Introductory/Generic", "Practice not covered"], ["must stand alone"]),
        (["Data Security", "Data Security"], ["repeated"]),
        ("Data Security", ["must be a list"]),
    ],
)
def test_label_problems(labels, expected):
    problems = label_problems(labels)
    assert len(problems) == len(expected)
    for problem, fragment in zip(problems, expected, strict=True):
        assert fragment in problem


def test_suggest_and_matrix_round_trip():
    assert suggest("third party sharing/collection") == "Third Party Sharing/Collection"
    assert suggest("Banana") is None
    y = to_matrix([["Data Retention", "Data Security"], ["Do Not Track"]])
    assert y.shape == (2, 12) and y.sum() == 3
    assert from_row(y[0]) == ["Data Retention", "Data Security"]
    assert {"Introductory/Generic", "Practice not covered"} == FALLBACKS
    with pytest.raises(KeyError):
        to_matrix([["Nope"]])
    assert np.array_equal(to_matrix([[]]), np.zeros((1, 12)))
