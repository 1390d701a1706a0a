"""Read a user's copy of the OPP-115 corpus (release v1.0) into clf training records.

OPP-115 is licensed for non-commercial research, so clf never ships it: this module
reads the user's own copy. It is strict on purpose: a copy that differs from the
format it expects (fields, categories, segment ids, attribute JSON, or segment texts
that do not contain the annotators' spans) stops with `file:line: message` instead of
importing wrong labels.

Each policy is a pair: `sanitized_policies/<n>_<domain>.html` (one line of simplified
HTML cut into segments by `|||`) and `annotations/<n>_<domain>.csv` (one row per data
practice an annotator recorded). The file-name number `n` names the policy in clf's ids;
column 4 of the CSV is the corpus's own policy uid, a different number, constant within a
file. A label holds for a unit when enough of the policy's annotators gave it (the
agreement rule); every annotator of a policy counts as having read every segment,
including the ones where they recorded nothing.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from clf.errors import ClfError, DataError
from clf.jsonl import loads, read_utf8
from clf.labels import FALLBACKS, LABELS
from clf.segment import collapse, split_units

# Column 6 → this project's label; "Other" is resolved through its "Other Type" attribute.
CATEGORIES: dict[str, str | None] = {label: label for label in LABELS[:9]} | {"Other": None}
OTHER_TYPES: dict[str, str | None] = {
    "Introductory/Generic": "Introductory/Generic",
    "Practice not covered": "Practice not covered",
    "Privacy contact information": "Privacy contact information",
    "Other": None,  # OPP-115's catch-all; the annotation spec drops it
}
FIELDS = 9
SEPARATOR = "|||"
MIN_OVERLAP = 3  # a span must reach this many characters into a sentence to label it (spans can be off by a few)
MAX_LOST_SPANS = 0.5  # more spans than this found neither at their offsets nor by their text: wrong corpus copy
_BREAK_TAGS = {"br", "p", "div", "li", "ul", "ol", "tr", "td", "th", "table", "h1", "h2", "h3", "h4", "h5", "h6"}
_NAME = re.compile(r"^(\d+)_(.+)$")
UNITS = ("segment", "sentence")


# --------------------------------------------------------------------------- agreement


def agreement_rule(text: str) -> Callable[[int, int], bool]:
    """`majority` (more than half), `union` (anyone) or `N` (at least N annotators)."""
    if text == "majority":
        return lambda votes, annotators: 2 * votes > annotators
    if text == "union":
        return lambda votes, annotators: votes >= 1
    if text.isdigit() and int(text) >= 1:
        return lambda votes, annotators: votes >= int(text)
    raise ClfError(f"--agreement must be majority, union or a number of annotators ≥ 1, not {text!r}")


def decide(votes: dict[str, int], annotators: int, holds: Callable[[int, int], bool]) -> list[str]:
    """Labels that hold, in LABELS order, with the spec's rule that a fallback stands alone.

    A fallback beside any other label that holds is dropped; if both fallbacks hold alone,
    the one more annotators gave is kept (the first in label order on a tie).
    """
    held = [label for label in LABELS if label in votes and holds(votes[label], annotators)]
    others = [label for label in held if label not in FALLBACKS]
    if others:
        return others
    if len(held) > 1:
        return [max(held, key=lambda label: (votes[label], -LABELS.index(label)))]
    return held


# --------------------------------------------------------------------------- segment text


class _TextExtractor(HTMLParser):
    """Tag-free, entity-decoded text, plus the positions where a line-breaking tag stood."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.length = 0
        self.breaks: list[int] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)
        self.length += len(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BREAK_TAGS:
            self.breaks.append(self.length)

    def handle_endtag(self, tag: str) -> None:
        self.handle_starttag(tag, [])


@dataclass
class Segment:
    """One segment as the annotators saw it: `plain` (tags removed) is what span offsets index."""

    plain: str
    breaks: list[int]

    @classmethod
    def from_html(cls, html: str) -> Segment:
        parser = _TextExtractor()
        parser.feed(html)
        parser.close()
        return cls("".join(parser.parts), parser.breaks)

    def lined(self) -> tuple[str, list[int]]:
        """The text with a newline where each break tag stood, and each character's offset in `plain`."""
        chars: list[str] = []
        origin: list[int] = []
        breaks = sorted(set(self.breaks))
        b = 0
        for i, ch in enumerate(self.plain + "\0"):
            while b < len(breaks) and breaks[b] == i:
                chars.append("\n")
                origin.append(i)
                b += 1
            chars.append(ch)
            origin.append(i)
        return "".join(chars[:-1]), origin

    @property
    def text(self) -> str:
        return collapse(self.lined()[0])

    def sentences(self) -> list[tuple[int, int, str]]:
        """The project's units inside this segment, as (start, end) offsets in `plain` and text."""
        lined, origin = self.lined()
        return [(origin[u.start], origin[u.end - 1] + 1, u.text) for u in split_units(lined)]


def read_segments(path: Path) -> list[Segment]:
    return [Segment.from_html(part) for part in read_utf8(path).strip("\r\n").split(SEPARATOR)]


# --------------------------------------------------------------------------- annotations


@dataclass
class Annotation:
    annotator: str
    segment: int
    label: str
    spans: list[tuple[int, int, str]]  # (start, end, selected text) in the segment's plain text
    line: int


@dataclass
class SpanCount:
    exact: int = 0
    relocated: int = 0
    lost: int = 0


def _spans(attributes: dict[str, Any], source: Path, line: int) -> list[tuple[int, int, str]]:
    spans = []
    for name, value in attributes.items():
        if not isinstance(value, dict):
            raise DataError(f"attribute {name!r} in column 7 is not a JSON object", source, line)
        start, end, text = value.get("startIndexInSegment"), value.get("endIndexInSegment"), value.get("selectedText")
        if not isinstance(start, int) or not isinstance(end, int):
            raise DataError(f"attribute {name!r} has non-integer span indexes", source, line)
        if start >= 0 and end > start and isinstance(text, str) and text != "null":
            spans.append((start, end, text))
    return spans


def _label(category: str, attrs: dict[str, Any], source: Path, line: int) -> str | None:
    """This project's label for a row; an `Other` row is resolved by its `Other Type` (None: dropped)."""
    if category not in CATEGORIES:
        raise DataError(f"unknown category {category!r}; known: {', '.join(CATEGORIES)}", source, line)
    if category != "Other":
        return CATEGORIES[category]
    kind = attrs.get("Other Type", {})
    value = kind.get("value") if isinstance(kind, dict) else None
    if value not in OTHER_TYPES:
        raise DataError(
            f"category Other needs an 'Other Type' value in {list(OTHER_TYPES)}, found {value!r}", source, line
        )
    return OTHER_TYPES[value]


def read_annotations(path: Path, segments: int) -> tuple[list[Annotation], int, set[str]]:
    """Every row checked; the kept annotations, how many "Other/Other" rows were dropped, and every annotator.

    Blank rows (Excel ends a file with one, or with a row of empty cells) are skipped. Column 4,
    the corpus's policy uid, must be the same on every row: a file holds one policy.
    """
    out: list[Annotation] = []
    dropped = 0
    annotators: set[str] = set()
    policy: tuple[str, int] | None = None  # (uid, first line)
    reader = csv.reader(io.StringIO(read_utf8(path), newline=""), dialect="excel")
    try:
        for row in reader:
            line = reader.line_num
            if not row or all(not cell.strip() for cell in row):
                continue
            if len(row) != FIELDS:
                raise DataError(f"expected {FIELDS} fields, found {len(row)}", path, line)
            _, _, annotator, policy_uid, segment_id, category, attributes, _, _ = row
            if not policy_uid.strip():
                raise DataError("empty policy uid (column 4)", path, line)
            if policy is None:
                policy = (policy_uid.strip(), line)
            elif policy_uid.strip() != policy[0]:
                raise DataError(
                    f"policy uid (column 4) {policy_uid!r} differs from {policy[0]!r} on line {policy[1]}; "
                    "one file holds one policy",
                    path,
                    line,
                )
            if not annotator.strip():
                raise DataError("empty annotator id", path, line)
            if not re.fullmatch(r"[0-9]+", segment_id.strip()):
                raise DataError(f"segment id {segment_id!r} is not a number", path, line)
            if int(segment_id) >= segments:
                raise DataError(
                    f"segment id {segment_id!r} is outside the policy (segments 0–{segments - 1})", path, line
                )
            try:
                attrs = loads(attributes)
            except ValueError as exc:
                raise DataError(f"column 7 is not valid JSON ({exc})", path, line) from None
            if not isinstance(attrs, dict):
                raise DataError("column 7 must be a JSON object of attributes", path, line)
            annotators.add(annotator.strip())
            label = _label(category, attrs, path, line)
            spans = _spans(attrs, path, line)
            if label is None:
                dropped += 1
                continue
            out.append(Annotation(annotator.strip(), int(segment_id), label, spans, line))
    except csv.Error as exc:
        raise DataError(f"unreadable CSV ({exc})", path, reader.line_num) from None
    return out, dropped, annotators


def locate(span: tuple[int, int, str], plain: str) -> tuple[int, int] | None:
    """Where a span really is: at its offsets if the text is there, else the nearest occurrence of its text."""
    start, end, text = span
    if plain[start:end] == text:
        return start, end
    hits = [m.start() for m in re.finditer(re.escape(text), plain)] if text else []
    if not hits:
        return None
    at = min(hits, key=lambda h: abs(h - start))
    return at, at + len(text)


# --------------------------------------------------------------------------- import


@dataclass
class ImportResult:
    records: list[dict[str, Any]] = field(default_factory=list)
    policies: int = 0
    segments: int = 0
    skipped: Counter = field(default_factory=Counter)  # reason → units
    dropped_other: int = 0
    spans: SpanCount = field(default_factory=SpanCount)
    files: list[Path] = field(default_factory=list)  # every file read

    def summary(self) -> dict[str, Any]:
        counts = Counter(label for r in self.records for label in r["labels"])
        return {
            "policies": self.policies,
            "segments": self.segments,
            "records": len(self.records),
            "labels": {label: counts.get(label, 0) for label in LABELS},
            "skipped": dict(self.skipped),
            "dropped_other_other": self.dropped_other,
            "spans": vars(self.spans),
        }


def policy_pairs(corpus: str | Path) -> list[tuple[str, Path, Path]]:
    """(name, html, csv) for each policy; a missing, unmatched, misnamed or doubly numbered file is an error."""
    corpus = Path(corpus)
    if not corpus.is_dir():
        raise DataError("folder not found", corpus)
    html_dir, csv_dir = corpus / "sanitized_policies", corpus / "annotations"
    for folder in (html_dir, csv_dir):
        if not folder.is_dir():
            raise DataError(f"no {folder.name}/ folder; point at the root of the OPP-115 release", corpus)
    # hidden files (macOS archives add `._<name>` twins) are never part of the release
    htmls = {p.stem: p for p in html_dir.glob("*.html") if p.is_file() and not p.name.startswith(".")}
    csvs = {p.stem: p for p in csv_dir.glob("*.csv") if p.is_file() and not p.name.startswith(".")}
    if not csvs:
        raise DataError("no *.csv annotation files", csv_dir)
    for name in sorted(csvs.keys() - htmls.keys()):
        raise DataError(f"no matching {html_dir.name}/{name}.html", csvs[name])
    for name in sorted(htmls.keys() - csvs.keys()):
        raise DataError(f"no matching {csv_dir.name}/{name}.csv", htmls[name])
    numbered: dict[str, str] = {}
    for name in sorted(csvs):
        match = _NAME.match(name)
        if not match:
            raise DataError("file name is not <number>_<domain>.csv", csvs[name])
        if match[1] in numbered:  # the number prefixes every record id: it must name one policy
            raise DataError(f"file number {match[1]} is also used by {numbered[match[1]]}.csv", csvs[name])
        numbered[match[1]] = name
    return [(name, htmls[name], csvs[name]) for name in sorted(csvs, key=lambda n: (int(_NAME.match(n)[1]), n))]


def _votes(hits: dict[str, set[str]]) -> dict[str, int]:
    return {label: len(hits[label]) for label in LABELS if hits.get(label)}


def locate_spans(
    rows: list[Annotation], segments: list[Segment], counts: SpanCount, csv_path: Path, html: Path
) -> list[list[tuple[int, int]]]:
    """Each annotation's spans as found in its segment; a policy whose spans are mostly missing is refused."""
    located: list[list[tuple[int, int]]] = []
    lost = total = 0
    for a in rows:
        places = []
        for span in a.spans:
            total += 1
            where = locate(span, segments[a.segment].plain)
            if where is None:
                lost += 1
            else:
                places.append(where)
                counts.exact += where == span[:2]
                counts.relocated += where != span[:2]
        located.append(places)
    counts.lost += lost
    if total and lost / total > MAX_LOST_SPANS:
        raise DataError(
            f"{lost} of {total} annotated spans are not in the segment texts of {html.name}; "
            "are these the v1.0 sanitized_policies that match this annotations folder?",
            csv_path,
        )
    return located


def segment_units(
    number: str, k: int, segment: Segment, annotations: list[tuple[Annotation, list[tuple[int, int]]]], unit: str
) -> list[tuple[str, str, dict[str, int], dict[str, str]]]:
    """(id, text, votes, extra fields) for the segment, or for each of its sentences from the spans touching it."""
    if unit == "segment":
        hits: dict[str, set[str]] = {}
        for a, _ in annotations:
            hits.setdefault(a.label, set()).add(a.annotator)
        return [(f"{number}-{k}", segment.text, _votes(hits), {})]
    units = []
    for j, (start, end, sentence) in enumerate(segment.sentences()):
        need = min(MIN_OVERLAP, end - start)
        hits = {}
        for a, places in annotations:
            if any(min(e, end) - max(s, start) >= need for s, e in places):
                hits.setdefault(a.label, set()).add(a.annotator)
        units.append((f"{number}-{k}-{j}", sentence, _votes(hits), {"segment": f"{number}-{k}"}))
    return units


def import_policy(
    name: str, html: Path, csv_path: Path, holds: Callable[[int, int], bool], unit: str, result: ImportResult
) -> None:
    number = _NAME.match(name)[1]  # the file name's number, not column 4's policy uid
    segments = read_segments(html)
    rows, dropped, readers = read_annotations(csv_path, len(segments))
    annotators = len(readers) or 1
    located = locate_spans(rows, segments, result.spans, csv_path, html)
    result.policies += 1
    result.segments += len(segments)
    result.dropped_other += dropped
    for k, segment in enumerate(segments):
        if not segment.plain.strip():
            result.skipped["empty segment"] += 1
            continue
        mine = [(a, places) for a, places in zip(rows, located, strict=True) if a.segment == k]
        for unit_id, text, votes, extra in segment_units(number, k, segment, mine, unit):
            labels = decide(votes, annotators, holds)
            if not votes:
                result.skipped["no annotator's span" if unit == "sentence" else "no annotation"] += 1
            elif not labels:
                result.skipped["no label reached agreement"] += 1
            else:
                record = {"policy": name, "id": unit_id, **extra, "text": text, "labels": labels}
                result.records.append({**record, "votes": votes, "annotators": annotators})


def import_corpus(
    corpus: str | Path,
    agreement: str = "majority",
    unit: str = "segment",
    progress: Callable[[dict[str, Any]], None] | None = None,
) -> ImportResult:
    """All policies of the corpus as records, one per segment (or sentence), in file-number order."""
    if unit not in UNITS:
        raise ClfError(f"--unit must be segment or sentence, not {unit!r}")
    holds = agreement_rule(agreement)
    pairs = policy_pairs(corpus)
    result = ImportResult()
    for i, (name, html, rows) in enumerate(pairs, 1):
        import_policy(name, html, rows, holds, unit, result)
        result.files += [html, rows]
        if progress:
            progress({"stage": "importing OPP-115", "step": i, "total": len(pairs)})
    if not result.records:
        raise DataError("no segment reached agreement: nothing to import", corpus)
    return result
