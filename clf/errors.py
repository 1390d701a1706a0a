"""Errors a user can fix. The CLI prints them as one line and exits non-zero, without a traceback."""

from __future__ import annotations

from pathlib import Path


class ClfError(Exception):
    """Base class: anything the user can act on."""

    exit_code = 2


class DataError(ClfError):
    """Bad input data, located as `file:line: message` when a line is known."""

    def __init__(self, message: str, path: str | Path | None = None, line: int | None = None):
        self.path, self.line, self.message = path, line, message
        where = f"{path}:{line}: " if path is not None and line is not None else f"{path}: " if path else ""
        super().__init__(where + message)


class ConfigError(ClfError):
    """A config file or override that does not validate."""


class ModelDirError(ClfError):
    """A model folder that is missing, incomplete, newer than this clf, or not a clf model."""


class OutputError(ClfError):
    """An output path that would overwrite an input, or replace something that is not clf's to replace."""
