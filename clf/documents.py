"""Read what users ask to label: policy files (txt, md, html), JSONL units, folders, or stdin.

Policy text is cut into units by `clf.segment` — the splitter the gold annotations were cut
with. HTML goes through BeautifulSoup first: scripts, styles and navigation are dropped and
block elements become paragraphs, so `start`/`end` refer to the extracted text.
Headings are known from the markup (`#` lines, `<h1>`–`<h6>`) and guessed for plain text
(`clf.headings`), so views show a policy with its structure and models read each unit under its heading.
Everything is read lazily for streaming (`clf.stream`): folders are walked in sorted order,
JSONL files and stdin line by line in chunks of records.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from clf.errors import DataError
from clf.headings import Heading, level_of, plain_text_headings
from clf.jsonl import parse_lines, split_lines
from clf.segment import Unit, split_units

TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".html", ".htm"}
SUPPORTED = TEXT_SUFFIXES | {".jsonl"}
_DROP_TAGS = ("script", "style", "nav", "header", "footer", "noscript", "template", "svg", "iframe", "form", "button")
_BLOCK_TAGS = (
    "p",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "div",
    "section",
    "article",
    "aside",
    "main",
    "td",
    "th",
    "tr",
    "table",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "blockquote",
    "pre",
    "br",
    "hr",
    "title",
    "address",
    "figcaption",
)


@dataclass
class Document:
    """One input: either a policy text to split (`text`) or pre-cut units (`records`).

    `headings` comes from the markup (Markdown, HTML); None means plain text, where it is guessed.
    """

    name: str
    source: str
    text: str | None = None
    records: list[dict[str, Any]] = field(default_factory=list)
    headings: list[Heading] | None = None

    def units(self) -> list[Unit]:
        return split_units(self.text or "")

    def heading_spans(self) -> list[Heading]:
        """The markup's headings, or for plain text the guessed ones (`clf.headings`)."""
        if self.headings is None:
            self.headings = plain_text_headings(self.text or "")
        return self.headings

    def heading_level(self, start: int, end: int) -> int | None:
        """The level of the heading the span [start, end) lies in, or None for body text."""
        return level_of(self.heading_spans(), start, end)


_HEADING_OPEN, _HEADING_CLOSE = "\ue000", "\ue001"  # private-use marks around <hN> text while extracting
_HEADING_MARK = re.compile(f"({_HEADING_OPEN}[1-6]|{_HEADING_CLOSE})")


def html_to_text(html: str) -> str:
    return html_text_and_headings(html)[0]


def html_text_and_headings(html: str) -> tuple[str, list[Heading]]:
    """The text of a page and where its <h1>–<h6> headings are in that text."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html.replace(_HEADING_OPEN, "").replace(_HEADING_CLOSE, ""), "html.parser")
    for tag in soup(_DROP_TAGS):
        tag.decompose()
    for tag in soup.find_all(attrs={"role": "navigation"}):
        tag.decompose()
    for tag in soup(["h1", "h2", "h3", "h4", "h5", "h6"]):
        tag.insert(0, _HEADING_OPEN + tag.name[1])
        tag.append(_HEADING_CLOSE)
    for tag in soup(_BLOCK_TAGS):
        tag.insert_before("\n\n")
        tag.insert_after("\n\n")
    text, headings, opened = "", [], []
    for piece in _HEADING_MARK.split(soup.get_text()):
        if piece.startswith(_HEADING_OPEN):
            opened.append((len(text), int(piece[1])))
        elif piece == _HEADING_CLOSE:
            if opened:
                start, level = opened.pop()
                headings.append((start, len(text), level))
        else:
            text += piece
    return text, sorted(headings)


_MD_MARKUP = re.compile(r"^#{1,6}(?=\s)|\*\*|__|`", re.MULTILINE)
_MD_HEADING = re.compile(r"^(#{1,6})[ \t]+(\S.*)$", re.MULTILINE)


def markdown_headings(text: str) -> list[Heading]:
    return [(m.start(2), m.end(2), len(m.group(1))) for m in _MD_HEADING.finditer(text)]


def markdown_to_text(text: str) -> str:
    """Blank out heading hashes, bold and code marks with spaces, so offsets still point into the file."""
    return _MD_MARKUP.sub(lambda m: " " * len(m.group()), text)


def _decode(data: bytes, source: str) -> str:
    if not data.strip():
        raise DataError("empty input: nothing to label", source)
    if b"\x00" in data[:8192]:
        raise DataError("binary file, not text", source)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"not UTF-8 text (invalid byte at offset {exc.start})", source) from None


def jsonl_records(lines: list[str], source: str, first_line: int = 1) -> list[dict[str, Any]]:
    records = []
    for number, record in parse_lines(lines, source, first_line):
        if not isinstance(record.get("text"), str) or not record["text"].strip():
            raise DataError("each record needs a non-empty 'text' string", source, number)
        records.append(record)
    return records


def _looks_like_jsonl(text: str) -> bool:
    first = next((line for line in text.splitlines() if line.strip()), "")
    return first.lstrip().startswith("{")


def parse(data: bytes, source: str, suffix: str) -> Document:
    text = _decode(data, source)
    name = Path(source).stem if source != "-" else "stdin"
    if suffix == ".jsonl":
        return Document(name, source, records=jsonl_records(split_lines(text), source))
    if suffix in {".md", ".markdown"}:
        return Document(name, source, text=markdown_to_text(text), headings=markdown_headings(text))
    if suffix in {".html", ".htm"}:
        text, headings = html_text_and_headings(text)
        if not text.strip():
            raise DataError("no text left after removing HTML markup", source)
        return Document(name, source, text=text, headings=headings)
    return Document(name, source, text=text)


def read_file(path: Path) -> Document:
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise DataError(
            f"unsupported file type {suffix or '(none)'!r}; supported: {', '.join(sorted(SUPPORTED))}", path
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read ({exc.strerror})", path) from None
    return parse(data, str(path), suffix)


def _walk(folder: Path, seen: set[tuple[int, int]]) -> Iterator[Path]:
    """Supported files under `folder` in sorted path order; symlinked folders are followed once (no loops)."""
    try:
        info = folder.stat()
        if (info.st_dev, info.st_ino) in seen:
            return
        seen.add((info.st_dev, info.st_ino))
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as exc:
        raise DataError(f"cannot read folder ({exc.strerror})", folder) from None
    for entry in entries:
        path = Path(entry.path)
        if entry.is_dir():
            yield from _walk(path, seen)
        elif entry.is_file() and path.suffix.lower() in SUPPORTED:
            yield path


def iter_paths(inputs: list[str]) -> Iterator[str | Path]:
    """Input arguments → the files to read, lazily and in order ("-" stays "-"); every problem is a DataError."""
    if not inputs:
        raise DataError("no input given")
    for item in inputs:
        if item == "-":
            yield "-"
            continue
        path = Path(item)
        if path.is_dir():
            files = _walk(path, set())
            first = next(files, None)
            if first is None:
                raise DataError(f"no supported files in this folder ({', '.join(sorted(SUPPORTED))})", path)
            yield first
            yield from files
        elif path.exists():
            yield path
        else:
            raise DataError("file not found", path)


def jsonl_chunks(handle: BinaryIO, source: str, size: int) -> Iterator[tuple[int, list[str], int]]:
    """A JSONL stream read line by line: (first line number, lines holding `size` records, their bytes)."""
    chunk: list[str] = []
    first, records, nbytes, seen_any = 1, 0, 0, False
    for number, raw in enumerate(handle, 1):
        nbytes += len(raw)
        if number == 1:
            if b"\x00" in raw[:8192]:
                raise DataError("binary file, not text", source)
            raw = raw.removeprefix(b"\xef\xbb\xbf")
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DataError(f"not UTF-8 text (invalid byte at column {exc.start + 1})", source, number) from None
        if not chunk:
            first = number
        chunk.append(line)
        if line.strip():
            records += 1
        if records >= size:
            yield first, chunk, nbytes
            chunk, records, nbytes, seen_any = [], 0, 0, True
    if records:
        yield first, chunk, nbytes
    elif not seen_any:
        raise DataError("empty input: nothing to label", source)


def read_input(item: str | Path) -> Document:
    """One input read whole: a file, or "-" for standard input."""
    return parse_stdin(sys.stdin.buffer.read()) if item == "-" else read_file(Path(item))


def parse_stdin(data: bytes) -> Document:
    """Standard input is JSONL when its first non-blank line starts with "{", else policy text."""
    text = _decode(data, "-")
    return parse(data, "-", ".jsonl" if _looks_like_jsonl(text) else ".txt")
