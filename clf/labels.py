"""The 12 OPP-115-style labels: the one source of truth for the whole project.

Order is the spec's order and is the column order of every label matrix,
every saved model and every report.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

DEFINITIONS: dict[str, str] = {
    "First Party Collection/Use": "What the service operator gathers about users, and how or why it uses the data.",
    "Third Party Sharing/Collection": "Data given to anyone else, or collected on the service by an outside party.",
    "User Choice/Control": "How the user can consent, refuse, opt out or change settings.",
    "User Access, Edit and Deletion": "Viewing, exporting, correcting or deleting one's data or account.",
    "Data Retention": "How long data is kept, or when it is deleted.",
    "Data Security": "How data is protected, and the limits of that protection.",
    "Policy Change": "How the policy may change and how users learn of it.",
    "Do Not Track": "Handling of browser Do Not Track signals.",
    "International and Specific Audiences": (
        "Children, EU/UK, California or other specific groups; cross-border transfers."
    ),
    "Introductory/Generic": "Fallback: text about the document that states no practice.",
    "Practice not covered": "Fallback: a concrete privacy statement that fits no practice label.",
    "Privacy contact information": "How to reach the company about privacy.",
}

LABELS: tuple[str, ...] = tuple(DEFINITIONS)

# Short codes for tables, plots and hand-typed annotation sheets.
CODES: dict[str, str] = dict(
    zip(("FP", "TP", "UC", "UA", "DR", "DS", "PC", "DNT", "ISA", "IG", "PNC", "CI"), LABELS, strict=True)
)
CODE_OF: dict[str, str] = {label: code for code, label in CODES.items()}
FALLBACKS: frozenset[str] = frozenset({"Introductory/Generic", "Practice not covered"})
PRACTICES: tuple[str, ...] = LABELS[:9]
INDEX: dict[str, int] = {label: i for i, label in enumerate(LABELS)}


def label_problems(labels: object) -> list[str]:
    """Everything wrong with one unit's label list, as short messages (empty if valid)."""
    if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
        return ["'labels' must be a list of label strings"]
    if not labels:
        return ["'labels' is empty: every unit needs at least one label"]
    problems = []
    for label in labels:
        if label not in INDEX:
            hint = suggest(label)
            problems.append(f"unknown label {label!r}" + (f" (did you mean {hint!r}?)" if hint else ""))
    if len(set(labels)) != len(labels):
        problems.append("a label is repeated")
    fallbacks = [x for x in labels if x in FALLBACKS]
    if fallbacks and len(set(labels)) > 1:
        problems.append(f"fallback {fallbacks[0]!r} must stand alone, but appears beside other labels")
    return problems


def suggest(label: str) -> str | None:
    """The label a misspelling most likely meant (case, spacing, close edits)."""
    import difflib

    folded = {"".join(x.lower().split()): x for x in LABELS}
    key = "".join(label.lower().split())
    if key in folded:
        return folded[key]
    close = difflib.get_close_matches(label, LABELS, n=1, cutoff=0.75)
    return close[0] if close else None


def to_matrix(label_lists: Iterable[Sequence[str]]) -> np.ndarray:
    """Binary (n, 12) matrix in LABELS order; unknown labels raise KeyError."""
    rows = list(label_lists)
    y = np.zeros((len(rows), len(LABELS)), dtype=np.int8)
    for i, labels in enumerate(rows):
        for label in labels:
            y[i, INDEX[label]] = 1
    return y


def from_row(row: Sequence[float] | np.ndarray) -> list[str]:
    """Label names of the non-zero entries of one matrix row."""
    return [LABELS[j] for j, v in enumerate(row) if v]
