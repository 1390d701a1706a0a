"""Where a command may write: never over one of its own inputs, never over what is not its to replace.

Checked before any work starts, so a mistyped `--out` costs nothing and loses nothing.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from clf.errors import OutputError


def _same(a: Path, b: Path) -> bool:
    """The same file, through symlinks and hard links alike."""
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet)
        return False


def _inputs(inputs: Iterable[str | Path]) -> list[Path]:
    return [Path(p) for p in inputs if str(p) != "-"]


def check_output_file(out: str | Path, inputs: Iterable[str | Path]) -> None:
    """`out` is a file that may be replaced: not a folder, and not one of `inputs`."""
    out = Path(out)
    if out.is_dir():
        raise OutputError(f"{out}: is a folder; give a file name to write")
    for source in _inputs(inputs):
        if _same(out, source):
            raise OutputError(f"{out}: is also an input ({source}); write the output to another file")


def check_output_folder(out: str | Path, inputs: Iterable[str | Path], names: Iterable[str]) -> None:
    """`out` is a folder that receives the files `names`: none of them may be one of `inputs`."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: is a file; give a folder to write {', '.join(names)} into")
    for name in names:
        check_output_file(out / name, inputs)


def check_replaceable_folder(out: str | Path, inputs: Iterable[str | Path], marker: Iterable[str]) -> None:
    """`out` is a folder to be replaced whole: absent, empty or one of ours (holds a `marker` file),
    and no input lives inside it."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: is a file, not a model folder; give a folder name")
    if out.is_dir() and any(out.iterdir()) and not any((out / name).is_file() for name in marker):
        raise OutputError(
            f"{out}: is a folder that is not a clf model folder, and the whole folder would be replaced; "
            "give a new folder name"
        )
    resolved = out.resolve()
    for source in _inputs(inputs):
        if resolved in Path(source).resolve().parents:
            raise OutputError(f"{out}: holds the input {source}, and the whole folder would be replaced")
