"""Labelled training data: any JSONL of `{"text": ..., "labels": [...]}` records, validated at the door."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from clf.errors import DataError
from clf.jsonl import read_jsonl
from clf.labels import INDEX, suggest, to_matrix

DEFAULT_DATA = Path(__file__).resolve().parent.parent / "annotations"


@dataclass
class Dataset:
    texts: list[str]
    y: np.ndarray  # (n, 12) binary, LABELS order
    groups: list[str | None]  # the record's "policy", used to split folds
    ids: list[str | None]
    files: list[Path]
    sha256: str
    # (start, end) in the policy's source text, where the record has offsets and the source is known
    spans: list[tuple[int, int] | None] = field(default_factory=list)
    sources: dict[str, Path] = field(default_factory=dict)  # policy → its text (gold: annotations/policies/)
    # what a reader sees around each unit (`clf.context`): from the policy's text for gold, from a record's
    # "context" field otherwise, "" when neither exists
    contexts: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.spans:
            self.spans = [None] * len(self.texts)
        if not self.contexts:
            self.contexts = [""] * len(self.texts)

    def __len__(self) -> int:
        return len(self.texts)

    def subset(self, index: np.ndarray | list[int]) -> Dataset:
        index = list(index)
        return Dataset(
            [self.texts[i] for i in index],
            self.y[index],
            [self.groups[i] for i in index],
            [self.ids[i] for i in index],
            self.files,
            self.sha256,
            [self.spans[i] for i in index],
            self.sources,
            [self.contexts[i] for i in index],
        )

    def only(self, policies: list[str]) -> Dataset:
        """The records of these policies (unknown names are an error, not an empty set)."""
        unknown = sorted(set(policies) - set(self.policies))
        if unknown:
            raise DataError(f"no records for policies {unknown}; the data has {len(self.policies)} policies")
        return self.subset([i for i, g in enumerate(self.groups) if g in set(policies)])

    @property
    def policies(self) -> list[str]:
        return sorted({g for g in self.groups if g is not None})


def data_files(path: str | Path) -> list[Path]:
    """A file, or the top-level *.jsonl of a folder (subfolders hold work files, not data)."""
    path = Path(path)
    if path.is_dir():
        files = sorted(path.glob("*.jsonl"))
        if not files:
            raise DataError("no *.jsonl files in this folder", path)
        return files
    if not path.exists():
        raise DataError("file not found", path)
    return [path]


def load_dataset(path: str | Path = DEFAULT_DATA) -> Dataset:
    """Read and validate every record; the first problem stops with `file:line: message`."""
    texts: list[str] = []
    label_lists: list[list[str]] = []
    groups: list[str | None] = []
    ids: list[str | None] = []
    spans: list[tuple[int, int] | None] = []
    sources: dict[str, Path] = {}
    contexts: list[str | None] = []
    digest = hashlib.sha256()
    seen: dict[str, tuple[Path, int]] = {}  # id → where it first appeared
    files = data_files(path)
    for file in files:
        digest.update(file.read_bytes())
        for line, record in read_jsonl(file):
            text, labels = record.get("text"), record.get("labels")
            if not isinstance(text, str) or not text.strip():
                raise DataError("'text' must be a non-empty string", file, line)
            if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
                raise DataError("'labels' must be a list of label strings", file, line)
            if not labels:
                raise DataError("'labels' is empty: every record needs at least one label", file, line)
            for label in labels:
                if label not in INDEX:
                    hint = suggest(label)
                    raise DataError(
                        f"unknown label {label!r}" + (f" (did you mean {hint!r}?)" if hint else ""), file, line
                    )
            policy = record.get("policy")
            start, end = record.get("start"), record.get("end")
            source = file.parent / "policies" / f"{policy}.txt"
            has_span = isinstance(start, int) and isinstance(end, int) and policy is not None
            if has_span and str(policy) not in sources and source.is_file():
                sources[str(policy)] = source
            spans.append((start, end) if has_span and str(policy) in sources else None)
            context = record.get("context")
            if context is not None and not isinstance(context, str):
                raise DataError("'context' must be a string", file, line)
            contexts.append(context)
            unit_id = str(record["id"]) if record.get("id") is not None else None
            if unit_id is not None:  # reports and predictions name units by id: one id, one unit
                if unit_id in seen:
                    first, first_line = seen[unit_id]
                    raise DataError(f"duplicate id {unit_id!r} (first at {first}:{first_line})", file, line)
                seen[unit_id] = (file, line)
            texts.append(text)
            label_lists.append(labels)
            groups.append(str(policy) if policy is not None else None)
            ids.append(unit_id)
    if not texts:
        raise DataError("no records", path)
    return Dataset(
        texts,
        to_matrix(label_lists),
        groups,
        ids,
        files,
        digest.hexdigest(),
        spans,
        sources,
        _contexts(texts, groups, spans, sources, contexts),
    )


def _contexts(
    texts: list[str],
    groups: list[str | None],
    spans: list[tuple[int, int] | None],
    sources: dict[str, Path],
    given: list[str | None],
) -> list[str]:
    """Each record's context: its own "context" field, else computed from its policy's text and units."""
    from clf.context import contexts
    from clf.segment import Unit

    out = [c or "" for c in given]
    by_policy: dict[str, list[int]] = {}
    for i, (policy, span) in enumerate(zip(groups, spans, strict=True)):
        if span is not None and given[i] is None:
            by_policy.setdefault(policy, []).append(i)
    for policy, rows in by_policy.items():
        text = sources[policy].read_text(encoding="utf-8")
        units = [Unit(*spans[i], texts[i]) for i in rows]
        for i, context in zip(rows, contexts(text, units), strict=True):
            out[i] = context.text()
    return out
