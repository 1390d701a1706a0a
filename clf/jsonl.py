"""Strict reading of UTF-8 text and JSON Lines from anywhere, and atomic writing."""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from clf.errors import DataError

_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")  # the JSON escape of half a UTF-16 pair


def loads(text: str) -> Any:
    """json.loads for input from anywhere: every way it can fail is a ValueError that says why.

    Besides syntax errors: nesting deep enough to exhaust the stack, integers longer than Python
    reads, and escaped lone surrogates (valid JSON, but not text: writing them as UTF-8 fails later).
    """
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{exc.msg} at column {exc.colno}") from None
    except RecursionError:
        raise ValueError("nested too deeply") from None
    except ValueError:
        raise ValueError("a number too long to read") from None
    if _SURROGATE.search(text):
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("a \\uD800-\\uDFFF escape that is half of a character") from None
    return value


def parse_lines(lines: Iterable[str], source: str | Path, first_line: int = 1) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (line number, object) for each non-blank line; bad JSON raises DataError at its line."""
    for number, line in enumerate(lines, first_line):
        if not line.strip():
            continue
        try:
            record = loads(line)
        except ValueError as exc:
            raise DataError(f"invalid JSON ({exc})", source, number) from None
        if not isinstance(record, dict):
            raise DataError("each line must be a JSON object", source, number)
        yield number, record


def read_utf8(path: str | Path) -> str:
    """A text file's contents, with or without a byte-order mark; a bad byte is reported at its line."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DataError("file not found", path) from None
    except OSError as exc:
        raise DataError(f"cannot read ({exc.strerror})", path) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError("not UTF-8 text", path, data[: exc.start].count(b"\n") + 1) from None


def split_lines(text: str) -> list[str]:
    """Lines as JSON Lines means them: cut at \\n, \\r\\n or \\r only (never at U+2028 or U+0085,
    which JSON strings may hold raw, as `str.splitlines` would)."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def read_jsonl(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    yield from parse_lines(split_lines(read_utf8(path)), path)


def dumps(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write via a temporary file in the same folder, then rename: readers never see half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600 files; outputs are for sharing, like any new file
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_jsonl(path: str | Path, records: Iterable[dict[str, Any]]) -> None:
    write_text_atomic(path, "".join(dumps(r) + "\n" for r in records))
