"""What every HTML view shares: the jinja2 templates, one colour per category, links in policy text.

Pages are self-contained: styles and scripts are inlined from `templates/`, fonts are the reader's
own, and the only links that leave the page are URLs written in the policy itself.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from clf.labels import CODE_OF, DEFINITIONS, LABELS

# One colour per category, in LABELS order: badge backgrounds under white text (contrast ≥ 4.5:1).
COLORS: dict[str, str] = dict(
    zip(
        LABELS,
        (
            "#1f5fa8",
            "#b3261e",
            "#1d7a43",
            "#7b3fa0",
            "#8a5300",
            "#0b6e6e",
            "#a4296a",
            "#4d4d4d",
            "#4f6b12",
            "#5b6275",
            "#7a4e2d",
            "#2f4b8f",
        ),
        strict=True,
    )
)
_TINT = 0.8  # a unit's background: its colour mixed with this much white (contrast with the #1a1a1a text ≥ 12:1)

NOTICE = (
    "Not legal advice. These labels were made by a machine-learning model, not by a person: "
    "they point to passages worth reading and can be wrong. Read the policy itself before relying on it."
)


def tint(color: str, amount: float = _TINT) -> str:
    rgb = [int(color[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(c + (255 - c) * amount):02x}" for c in rgb)


def contrast_ratio(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two #rrggbb colours."""

    def luminance(color: str) -> float:
        channels = [int(color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def categories() -> list[dict[str, str]]:
    """Label, code, definition and colours of each category, in LABELS order (the legend and the CSS)."""
    return [
        {
            "label": label,
            "code": CODE_OF[label],
            "definition": DEFINITIONS[label],
            "color": COLORS[label],
            "tint": tint(COLORS[label]),
        }
        for label in LABELS
    ]


_URL = re.compile(r"https?://[^\s<>\"'`]+")


def link_parts(text: str) -> list[tuple[str, str | None]]:
    """A unit's text as (piece, href) parts: the http(s) URLs the policy writes become links."""
    parts: list[tuple[str, str | None]] = []
    cursor = 0
    for match in _URL.finditer(text):
        url = match.group().rstrip(".,;:!?)]")
        if url.count("(") > url.count(")") and match.group()[len(url) :].startswith(")"):
            url += ")"
        if match.start() > cursor:
            parts.append((text[cursor : match.start()], None))
        parts.append((url, url))
        cursor = match.start() + len(url)
    if cursor < len(text):
        parts.append((text[cursor:], None))
    return parts


@lru_cache(maxsize=1)
def _environment():
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("clf.views", "templates"),
        autoescape=True,  # every policy text is escaped; templates mark nothing safe
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["categories"] = categories()
    return env


def render(template: str, **context: Any) -> str:
    return _environment().get_template(template).render(**context)
