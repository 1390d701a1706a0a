"""Cut a policy text into annotation units: sentences, headings, list items, standalone lines.

The gold annotations and `clf predict` use this one splitter, so a model sees new
policies cut the way its training data was cut. pysbd finds sentence boundaries
inside a logical line; the rules here decide what a logical line is, because
policies arrive as PDF extractions (hard-wrapped lines, runs of spaces) and web
copies (one paragraph, heading, list item or table row per line).
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


def _sentences(text: str, spans: list[tuple[int, int]]) -> list[Unit]:
    """Split one logical line into sentence units, keeping source offsets."""
    chars: list[str] = []
    where: list[int] = []  # source offset of each collapsed character
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
    flat = "".join(chars)
    if _TABLE_CELL in flat:  # a table row is one unit, like a list item (rule P2), whatever its cells say
        a, b = where[0], where[-1] + 1
        return [Unit(a, b, collapse(text[a:b]))]
    units: list[Unit] = []
    cursor = 0
    for piece in _merge_false_breaks(_segmenter().segment(flat)):
        piece = piece.strip()
        if not piece:
            continue
        at = flat.find(piece, cursor)
        if at < 0:  # pysbd altered the text; keep the rest as one unit rather than lose it
            at = cursor
            piece = flat[cursor:].strip()
        a, b = where[at], where[at + len(piece) - 1] + 1
        units.append(Unit(a, b, collapse(text[a:b])))
        cursor = at + len(piece)
        if cursor >= len(flat):
            break
    return units


def _merge_false_breaks(pieces: list[str]) -> list[str]:
    """Undo pysbd breaks after abbreviations it does not know ("Sp. z o.o.", "ul.", "Art. 6 para. 1")."""
    out: list[str] = []
    for piece in pieces:
        head, tail = piece.strip(), out[-1].strip() if out else ""
        if (
            out
            and head
            and (
                _starts_lower(head)
                or len(tail) <= 4
                or _CONTINUATION_START.match(head)
                or _NO_BREAK_AFTER.search(tail)
                or (_INLINE_ENUMERATOR.match(head) and not _SENTENCE_END.search(tail))
            )
        ):
            out[-1] += piece
        else:
            out.append(piece)
    return out


def split_units(text: str) -> list[Unit]:
    """Cut `text` into non-overlapping units, in order, covering all non-space characters."""
    units: list[Unit] = []
    for spans in _logical_lines(text):
        units.extend(_sentences(text, spans))
    return units
