"""Cut a policy text into annotation units: sentences, headings, list items, standalone lines.

The gold annotations and `clf predict` use this one splitter, so a model sees new
policies cut the way its training data was cut. pysbd finds sentence boundaries
inside a logical line; the rules here decide what a logical line is, because
policies arrive as PDF extractions (hard-wrapped lines, runs of spaces) and web
copies (one paragraph, heading, list item or table row per line).

Splitting is linear in the input: pysbd's time grows with the square of its input, so a
long logical line reaches it in windows, and no unit is longer than MAX_UNIT_CHARS. Both
are cut at the safest boundary near the limit: a sentence end, else a clause mark, else a
space, else anywhere (a page of one unbroken token).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

# A line that starts with one of these begins a new unit (bullets, "1.", "2.1", "(a)", "iv)").
_LIST_MARKER = re.compile(r"^\s*(?:[●•▪◦‣∙·\-–*]\s|\(?[0-9ivxa-h]{1,4}[.)]\s|\d+(?:\.\d+)+\s)")
_TERMINAL = ".!?:;"
_WRAP_MIN_CHARS = 55  # a hard-wrapped PDF line is at least this long (spaces collapsed)
_HEADING_MAX_CHARS = 25  # a shorter line without end punctuation after a wrap reads as a heading
_TABLE_CELL = " | "  # web copies give a table row as `cell | cell`: one unit, never continued on the next line
# pysbd breaks after these; the piece that follows continues the sentence ("Art. 6 para. 1", "Str. 20",
# "Ostfeldstr. 49", "3790 .El Camino Real", "... or ii) Algolia SAS")
_NO_BREAK_AFTER = re.compile(
    r"(?:\b(?:Art|para|Str|St|Jr|No|Nr|lit|p|cf|Sec|approx)\.|\bArt\.\s?\d+|\w+str\.|\s\.|\s\(?[ivx]{1,4}\))$"
)
# a piece that starts with a cell or list separator or a dash, or has no word in it, continues the one before it
_CONTINUATION_START = re.compile(r"^(?:[;,|—–]|\W*$)")
# an enumerator inside a sentence ("collects i) ... and (ii) ..."): pysbd breaks before it, the sentence goes on
_INLINE_ENUMERATOR = re.compile(r"^\((?:[ivx]{1,4}|[a-h])\)\s|^(?:[ivx]{1,4})\)\s")
_SENTENCE_END = re.compile(r"[.!?][\"'”’)\]]*$")
_WS = re.compile(r"\s+")
MAX_UNIT_CHARS = 1000  # no unit's text is longer (the longest gold unit has 995 characters)
_PYSBD_WINDOW = 3000  # longer logical lines reach pysbd in windows (the longest in annotations/policies: 2795)
_TAIL = 200  # the merge rules read at most this much of the text before a break
# where a long text may be cut, safest first; a cut falls just after the match
_CUT_AT = (re.compile(r"[.!?][\"'”’)\]]*\s"), re.compile(r"[;:,]\s"), re.compile(r"\s"))


@dataclass(frozen=True)
class Unit:
    """A span of the source: `text` is source[start:end] with whitespace runs collapsed."""

    start: int
    end: int
    text: str


def collapse(text: str) -> str:
    """The unit text convention: runs of whitespace become one space, ends stripped."""
    return _WS.sub(" ", text).strip()


@lru_cache(maxsize=1)
def _segmenter():
    import pysbd

    return pysbd.Segmenter(language="en", clean=False)


def _lines(text: str) -> list[tuple[int, int, bool]]:
    """(start, end, has_trailing_space) of each non-blank line, trimmed to its content."""
    out = []
    pos = 0
    for raw in text.splitlines(keepends=True):
        body = raw.rstrip("\r\n")
        stripped = body.strip()
        if stripped:
            lead = len(body) - len(body.lstrip())
            out.append((pos + lead, pos + lead + len(stripped), body != body.rstrip()))
        else:
            out.append((pos, pos, False))  # blank line: a paragraph break
        pos += len(raw)
    return out


def _starts_lower(text: str) -> bool:
    """A lowercase start continues a sentence; a bare URL does not."""
    return text[0].islower() and not text.startswith(("http", "www."))


def _continues(prev: str, prev_trailing: bool, line: str) -> bool:
    """Does `line` continue the sentence of the line before it (a hard wrap)?

    A lowercase start continues only a line ending in the spaces a PDF extraction leaves:
    web copies put one paragraph, or one unmarked list item ("your name"), per line.
    """
    if _LIST_MARKER.match(line) or prev[-1] in _TERMINAL or _TABLE_CELL in prev:
        return False
    if _starts_lower(line):
        return prev_trailing
    wrapped = prev_trailing and len(collapse(prev)) >= _WRAP_MIN_CHARS
    looks_like_heading = len(collapse(line)) < _HEADING_MAX_CHARS and line[-1] not in _TERMINAL
    return wrapped and not looks_like_heading


def _logical_lines(text: str) -> list[list[tuple[int, int]]]:
    """Groups of line spans that read as one paragraph, list item or heading."""
    groups: list[list[tuple[int, int]]] = []
    prev: tuple[int, int, bool] | None = None
    after_blank = False
    for start, end, trailing in _lines(text):
        if start == end:
            after_blank = True
            continue
        line = text[start:end]
        if prev is None:
            joined = False
        elif after_blank:  # a paragraph break splits a sentence only in broken extractions
            joined = text[prev[1] - 1] not in _TERMINAL and _starts_lower(line) and not _LIST_MARKER.match(line)
        else:
            joined = _continues(text[prev[0] : prev[1]], prev[2], line)
        if joined:
            groups[-1].append((start, end))
        else:
            groups.append([(start, end)])
        prev, after_blank = (start, end, trailing), False
    return groups


def _cuts(flat: str, start: int, end: int, limit: int) -> list[tuple[int, int]]:
    """flat[start:end] as consecutive spans of at most `limit` characters, each cut at the safest
    boundary in the last half of its window (see _CUT_AT), else exactly at the limit."""
    spans = []
    while end - start > limit:
        low, high = start + limit // 2, start + limit
        at = high
        for pattern in _CUT_AT:
            matches = list(pattern.finditer(flat, low, high))
            if matches:
                at = matches[-1].end()
                break
        spans.append((start, at))
        start = at
    spans.append((start, end))
    return spans


def _collapsed(text: str, spans: list[tuple[int, int]]) -> tuple[str, list[int]]:
    """One logical line with whitespace runs collapsed, and the source offset of each of its characters."""
    chars: list[str] = []
    where: list[int] = []
    for i, (start, end) in enumerate(spans):
        if i:
            chars.append(" ")
            where.append(start - 1)
        for offset in range(start, end):
            ch = text[offset]
            if ch.isspace():
                if chars and chars[-1] == " ":
                    continue
                ch = " "
            chars.append(ch)
            where.append(offset)
    return "".join(chars), where


def _sentences(text: str, spans: list[tuple[int, int]]) -> list[Unit]:
    """Split one logical line into sentence units of at most MAX_UNIT_CHARS, keeping source offsets."""
    flat, where = _collapsed(text, spans)
    if _TABLE_CELL in flat and len(flat) <= MAX_UNIT_CHARS:  # a table row is one unit, like a list item (P2)
        a, b = where[0], where[-1] + 1
        return [Unit(a, b, collapse(text[a:b]))]
    pieces = [p for a, b in _cuts(flat, 0, len(flat), _PYSBD_WINDOW) for p in _segmenter().segment(flat[a:b])]
    units: list[Unit] = []
    cursor = 0
    for piece in _merge_false_breaks(pieces):
        piece = piece.strip()
        if not piece:
            continue
        at = flat.find(piece, cursor)
        if at < 0:  # pysbd altered the text; keep the rest rather than lose it
            rest = flat[cursor:]
            piece, at = rest.strip(), cursor + len(rest) - len(rest.lstrip())
        for a, b in _cuts(flat, at, at + len(piece), MAX_UNIT_CHARS):
            part = flat[a:b].strip()
            if part:
                a += len(flat[a:b]) - len(flat[a:b].lstrip())
                start, end = where[a], where[a + len(part) - 1] + 1
                units.append(Unit(start, end, collapse(text[start:end])))
        cursor = at + len(piece)
        if cursor >= len(flat):
            break
    return units


def _merge_false_breaks(pieces: list[str]) -> list[str]:
    """Undo pysbd breaks after abbreviations it does not know ("Sp. z o.o.", "ul.", "Art. 6 para. 1").

    Merged pieces are joined once at the end, and the rules read only the tail of the text
    before a break, so a line of thousands of merged pieces stays linear.
    """
    groups: list[list[str]] = []
    tail = ""  # the last _TAIL characters of the current group
    length = 0  # the current group's length
    for piece in pieces:
        head = piece.strip()
        short = length <= _TAIL and len(tail.strip()) <= 4
        if (
            groups
            and head
            and (
                _starts_lower(head)
                or short
                or _CONTINUATION_START.match(head)
                or _NO_BREAK_AFTER.search(tail.strip())
                or (_INLINE_ENUMERATOR.match(head) and not _SENTENCE_END.search(tail.strip()))
            )
        ):
            groups[-1].append(piece)
            tail, length = (tail + piece)[-_TAIL:], length + len(piece)
        else:
            groups.append([piece])
            tail, length = piece[-_TAIL:], len(piece)
    return ["".join(group) for group in groups]


def split_units(text: str) -> list[Unit]:
    """Cut `text` into non-overlapping units, in order, covering all non-space characters."""
    units: list[Unit] = []
    for spans in _logical_lines(text):
        units.extend(_sentences(text, spans))
    return units
