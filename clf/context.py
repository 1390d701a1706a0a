"""What a reader sees around a unit: the headings it sits under and the unit before it.

Units such as "your email address" or an address line after "Contact us" are unreadable alone, and a
unit in a "California residents" section speaks to Californians. The context is computed from the text
and its units only (headings from markup or guessed by `clf.headings`, never from annotations), so
`clf predict` on a raw policy builds exactly what training builds from the gold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from clf.headings import Heading, level_of, plain_text_headings
from clf.segment import Unit


@dataclass(frozen=True)
class Context:
    headings: tuple[str, ...]  # the headings above the unit, outermost first
    previous: str  # the unit before, within the same section ("" at a section start)

    def text(self) -> str:
        """One string for a model: "Heading > Subheading / previous unit"."""
        return " / ".join(x for x in (" > ".join(self.headings), self.previous) if x)


def contexts(text: str, units: Sequence[Unit], headings: list[Heading] | None = None) -> list[Context]:
    """One context per unit, in order; `headings` default to the ones guessed from the text's layout."""
    headings = plain_text_headings(text) if headings is None else headings
    out: list[Context] = []
    path: list[tuple[int, str]] = []  # (level, heading text) of the open sections
    previous = ""
    for unit in units:
        out.append(Context(tuple(h for _, h in path), previous))
        level = level_of(headings, unit.start, unit.end)
        if level is None:
            previous = unit.text
            continue
        while path and path[-1][0] >= level:
            path.pop()
        path.append((level, unit.text))
        previous = ""
    return out
