"""Read what users ask to label: policy files (txt, md, html), JSONL units, folders, or stdin.

Policy text is cut into units by `clf.segment` — the splitter the gold annotations were cut
with. HTML goes through BeautifulSoup first: scripts, styles and navigation are dropped and
block elements become paragraphs, so `start`/`end` refer to the extracted text.
Everything is read lazily for streaming (`clf.stream`): folders are walked in sorted order,
JSONL files and stdin line by line in chunks of records.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from clf.errors import DataError
from clf.jsonl import parse_lines
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
    """One input: either a policy text to split (`text`) or pre-cut units (`records`)."""

    name: str
    source: str
    text: str | None = None
    records: list[dict[str, Any]] = field(default_factory=list)

    def units(self) -> list[Unit]:
        return split_units(self.text or "")


def html_to_text(html: str) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(_DROP_TAGS):
        tag.decompose()
    for tag in soup.find_all(attrs={"role": "navigation"}):
        tag.decompose()
    for tag in soup(_BLOCK_TAGS):
        tag.insert_before("\n\n")
        tag.insert_after("\n\n")
    return soup.get_text()


_MD_MARKUP = re.compile(r"^#{1,6}(?=\s)|\*\*|__|`", re.MULTILINE)


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
        return Document(name, source, records=jsonl_records(text.splitlines(), source))
    if suffix in {".md", ".markdown"}:
        text = markdown_to_text(text)
    if suffix in {".html", ".htm"}:
        text = html_to_text(text)
        if not text.strip():
            raise DataError("no text left after removing HTML markup", source)
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


def parse_stdin(data: bytes) -> Document:
    """Standard input is JSONL when its first non-blank line starts with "{", else policy text."""
    text = _decode(data, "-")
    return parse(data, "-", ".jsonl" if _looks_like_jsonl(text) else ".txt")
