"""What a reader sees around a unit: the section heading it sits under and the unit before it.

Units such as "your email address" or an address line after "Contact us" are unreadable alone.
The context is computed from the text and its units only (headings are detected here, never taken
from annotations), so `clf predict` on a raw policy builds exactly what training builds from the gold.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from clf.segment import Unit

HEADING_MAX_CHARS = 90
_NUMBERED = re.compile(r"^(?:\d+(?:\.\d+)*\.?|[A-Z]\.|[IVX]+\.)\s+[A-Z]")  # "4.1 Newsletter data", "B. Cookies"
_BULLET = re.compile(r"^[●•▪◦‣∙·\-–*+]\s|^\(?[a-z0-9ivx]{1,4}\)\s")
_LOWER_NUMBERED = re.compile(r"^\d+(?:\.\d+)*\.?\s+[a-z]")


@dataclass(frozen=True)
class Context:
    heading: str  # the nearest heading above the unit ("" when there is none)
    previous: str  # the unit before, within the same section ("" at a section start)

    def text(self) -> str:
        return " / ".join(x for x in (self.heading, self.previous) if x)


def _gaps(text: str, units: Sequence[Unit], i: int) -> tuple[str, str]:
    before = text[units[i - 1].end : units[i].start] if i else "\n\n"
    after = text[units[i].end : units[i + 1].start] if i + 1 < len(units) else "\n\n"
    return before, after


def is_heading(text: str, units: Sequence[Unit], i: int) -> bool:
    """A short line that does not read as a sentence, a list item or a table row, set apart by blank
    lines (a numbered heading such as "4.1 Newsletter data" needs only a line of its own): runs of short
    lines without blank lines between them are lists and address blocks, not headings."""
    unit = units[i].text
    if unit.startswith("#"):
        return True
    if len(unit) > HEADING_MAX_CHARS or " | " in unit or unit[-1] in ".,;:!?":
        return False
    if _BULLET.match(unit) or _LOWER_NUMBERED.match(unit) or not (unit[0].isupper() or unit[0].isdigit()):
        return False
    before, after = _gaps(text, units, i)
    if _NUMBERED.match(unit):
        return "\n" in before and "\n" in after
    return before.count("\n") > 1 and after.count("\n") > 1


def contexts(text: str, units: Sequence[Unit]) -> list[Context]:
    """One context per unit, in order."""
    out: list[Context] = []
    heading, previous = "", ""
    for i, unit in enumerate(units):
        if is_heading(text, units, i):
            out.append(Context(heading, previous))
            heading, previous = unit.text.lstrip("#").strip(), ""
            continue
        out.append(Context(heading, previous))
        previous = unit.text
    return out
