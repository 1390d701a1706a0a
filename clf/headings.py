"""Where a policy's headings are: known from markup, or guessed from the layout of plain text.

One detector for everything that needs headings: the policy report shows them, and `clf.context`
gives each unit the headings it sits under (training reads the gold's plain-text sources with it,
`clf predict` a user's file), so a model sees the same kind of heading in both.
"""

from __future__ import annotations

import re

# A heading: (start, end, level) in a text; level 1 is the top (`#`, `<h1>`, "4." numbering).
Heading = tuple[int, int, int]

_BULLET = re.compile(r"^[●•▪◦‣∙·\-–*]\s")
_NUMBERING = re.compile(r"^(\d+(?:\.\d+)*)\.?\s")
_HEADING_MAX = 80  # characters (whitespace collapsed) of a plain-text heading


def _looks_like_heading(line: str) -> bool:
    text = " ".join(line.split())
    first = next((ch for ch in text if ch.isalnum()), "")
    return (
        2 <= len(text) <= _HEADING_MAX
        and text[-1] not in ".!?;:,"
        and not text[-1].isdigit()  # dates and registry numbers ("Effective date: 1 May 2024")
        and not _BULLET.match(text)
        and " | " not in text
        and any(ch.isalpha() for ch in text)
        and (first.isupper() or first.isdigit())
    )


def plain_text_headings(text: str) -> list[Heading]:
    """Guess headings in plain text: a short line without end punctuation that starts a section.

    It must follow a blank line (or open the text) and be followed by a blank line, the end, or
    a line of prose (long, or ending in punctuation); so key/value blocks and table rows are not headings.
    """
    lines = [(m.start(), m.end()) for m in re.finditer(r"^.*$", text, re.MULTILINE)]
    found: list[Heading] = []
    for i, (start, end) in enumerate(lines):
        line = text[start:end]
        if not line.strip() or not _looks_like_heading(line):
            continue
        before = text[lines[i - 1][0] : lines[i - 1][1]] if i else ""
        after = text[lines[i + 1][0] : lines[i + 1][1]].strip() if i + 1 < len(lines) else ""
        if before.strip() or (after and len(" ".join(after.split())) <= _HEADING_MAX and after[-1] not in ".!?;:"):
            continue
        lead = len(line) - len(line.lstrip())
        numbering = _NUMBERING.match(line.strip())
        level = numbering.group(1).count(".") + 1 if numbering else 1
        found.append((start + lead, start + len(line.rstrip()), level))
    return found


def level_of(headings: list[Heading], start: int, end: int) -> int | None:
    """The level of the heading the span [start, end) lies in, or None for body text."""
    for a, b, level in headings:
        if a <= start and end <= b:
            return level
    return None
