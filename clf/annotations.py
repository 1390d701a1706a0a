"""Read and validate the gold annotation files; the only module that knows their layout.

A gold file `annotations/<slug>.jsonl` holds one record per unit of
`annotations/policies/<slug>.txt`, in document order. Training and evaluation
read gold through `load_gold`; `check_paths` reports every problem at once.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clf.errors import DataError
from clf.jsonl import loads, read_jsonl, read_utf8, split_lines
from clf.labels import FALLBACKS, LABELS, label_problems
from clf.segment import Unit, collapse, split_units

# The five policies the project started with: the leave-one-policy-out table keeps them for continuity.
SEED_POLICIES: tuple[str, ...] = ("polymetis", "softwareplant", "plumstack", "piwik-pro", "polyatomic")
ANNOTATIONS_DIR = Path(__file__).resolve().parent.parent / "annotations"


@dataclass(frozen=True)
class Problem:
    path: Path
    line: int | None
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}" if self.line else f"{self.path}: {self.message}"


@dataclass
class GoldFile:
    policy: str
    path: Path
    records: list[dict[str, Any]] = field(default_factory=list)


def source_path(gold_path: Path, policy: str) -> Path:
    return gold_path.parent / "policies" / f"{policy}.txt"


def check_file(path: str | Path) -> list[Problem]:
    """Every problem in one gold file, each located at its line. Never modifies the file."""
    path = Path(path)
    problems: list[Problem] = []

    def report(line: int | None, message: str) -> None:
        problems.append(Problem(path, line, message))

    rows: list[tuple[int, dict[str, Any]]] = []
    try:
        lines = split_lines(read_utf8(path))
    except DataError as exc:
        return [Problem(path, exc.line, exc.message)]
    for number, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        try:
            record = loads(raw)
        except ValueError as exc:
            report(number, f"invalid JSON ({exc})")
            continue
        if not isinstance(record, dict):
            report(number, "each line must be a JSON object")
            continue
        rows.append((number, record))
    if not rows:
        return [*problems, Problem(path, None, "no records")]

    slug = path.stem
    source_file = source_path(path, slug)
    source = None
    if not source_file.is_file():
        report(None, f"source text {source_file} not found; offsets not checked")
    else:
        try:  # read as every other reader of policy texts does: offsets count a byte-order mark
            source = source_file.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            report(None, f"source text {source_file} is not UTF-8; offsets not checked")

    previous_end = previous_number = 0
    seen_ids: set[str] = set()
    for line, record in rows:
        for key, kind in (("policy", str), ("id", str), ("start", int), ("end", int), ("text", str), ("labels", list)):
            if key not in record:
                report(line, f"missing field {key!r}")
            elif not isinstance(record[key], kind) or isinstance(record[key], bool):
                report(line, f"field {key!r} must be {kind.__name__}")
        if record.get("policy") not in (None, slug) and isinstance(record.get("policy"), str):
            report(line, f"policy {record['policy']!r} does not match the file name {slug!r}")
        unit_id = record.get("id")
        if isinstance(unit_id, str):
            number = _id_number(unit_id, slug)
            if unit_id in seen_ids:
                report(line, f"duplicate id {unit_id!r}")
            elif number is None:
                report(line, f"id {unit_id!r} is not '{slug}-NNNN'")
            elif number <= previous_number:
                report(line, f"id {unit_id!r} does not increase (the unit before is number {previous_number})")
            seen_ids.add(unit_id)
            previous_number = max(previous_number, number or 0)
        if "labels" in record:
            for message in label_problems(record["labels"]):
                report(line, message)
        if "flag" in record and not isinstance(record["flag"], bool):
            report(line, "field 'flag' must be true or false")
        start, end = record.get("start"), record.get("end")
        if not (isinstance(start, int) and isinstance(end, int)) or source is None:
            continue
        if not 0 <= start < end <= len(source):
            report(line, f"offsets {start}-{end} are outside the source text (length {len(source)})")
            continue
        if start < previous_end:
            report(line, f"unit {start}-{end} overlaps the previous unit (which ends at {previous_end})")
        else:
            gap = source[previous_end:start]
            if gap.strip():
                report(line, f"text before this unit is not covered by any unit: {collapse(gap)[:60]!r}")
        if isinstance(record.get("text"), str) and record["text"] != collapse(source[start:end]):
            report(line, f"text does not match the source at {start}-{end}: {collapse(source[start:end])[:60]!r}")
        previous_end = max(previous_end, end)
    if source is not None and source[previous_end:].strip():
        report(rows[-1][0], f"text after the last unit is not covered: {collapse(source[previous_end:])[:60]!r}")
    return problems


def _id_number(unit_id: str, slug: str) -> int | None:
    """Ids are `<slug>-NNNN`, increasing in document order; a merge of units keeps the first id and
    retires the others (`clf annotations resplit`), so an id cited anywhere keeps naming one place."""
    prefix, _, number = unit_id.rpartition("-")
    return int(number) if prefix == slug and len(number) == 4 and number.isdigit() else None


def gold_files(root: str | Path = ANNOTATIONS_DIR) -> list[Path]:
    """The gold files of a folder: its top-level *.jsonl (subfolders hold work files)."""
    root = Path(root)
    return sorted(root.glob("*.jsonl")) if root.is_dir() else [root]


def check_paths(paths: list[str | Path]) -> list[Problem]:
    problems: list[Problem] = []
    for path in paths:
        for file in gold_files(path):
            problems.extend(check_file(file))
    return problems


def load_gold(root: str | Path = ANNOTATIONS_DIR) -> list[GoldFile]:
    """All gold files, validated; any problem raises DataError naming file and line."""
    files = gold_files(root)
    problems = check_paths(files)
    if problems:
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        raise DataError(str(problems[0]) + more)
    return [GoldFile(p.stem, p, [r for _, r in read_jsonl(p)]) for p in files]


# --- units for annotation -------------------------------------------------------------


def read_boundary_corrections(root: str | Path = ANNOTATIONS_DIR) -> list[dict[str, Any]]:
    path = Path(root) / "splits" / "corrections.jsonl"
    return [r for _, r in read_jsonl(path)] if path.exists() else []


def apply_corrections(text: str, units: list[Unit], corrections: list[dict[str, Any]]) -> list[Unit]:
    """Hand-made boundary fixes over the splitter's units: merge at / split at an offset."""
    spans = [(u.start, u.end) for u in units]
    for fix in corrections:
        at = fix["at"]
        if fix["op"] == "merge":
            i = next((i for i, (s, _) in enumerate(spans) if s == at), None)
            if i is None:  # the splitter no longer breaks here: nothing left to merge
                continue
            spans[i - 1 : i + 1] = [(spans[i - 1][0], spans[i][1])]
        elif fix["op"] == "split":
            i = next((i for i, (s, e) in enumerate(spans) if s < at < e), None)
            if i is None:  # the splitter now breaks here itself
                continue
            s, e = spans[i]
            left_end = s + len(text[s:at].rstrip())
            spans[i : i + 1] = [(s, left_end), (at, e)]
        else:
            raise DataError(f"unknown boundary correction {fix['op']!r}")
    return [Unit(s, e, collapse(text[s:e])) for s, e in spans]


def draft_units(slug: str, root: str | Path = ANNOTATIONS_DIR) -> list[Unit]:
    """Gold unit boundaries: the splitter's units plus the recorded hand corrections."""
    text = (Path(root) / "policies" / f"{slug}.txt").read_text(encoding="utf-8")
    fixes = [f for f in read_boundary_corrections(root) if f["policy"] == slug]
    return apply_corrections(text, split_units(text), fixes)


# --- statistics -----------------------------------------------------------------------


def stats(files: list[GoldFile]) -> dict[str, Any]:
    """Units and label counts per policy and overall; labels per unit; flagged units."""
    per_policy: dict[str, dict[str, Any]] = {}
    total = Counter()
    sizes = Counter()
    flagged = []
    for gold in files:
        counts = Counter(label for r in gold.records for label in r["labels"])
        per_policy[gold.policy] = {"units": len(gold.records), "labels": {x: counts[x] for x in LABELS}}
        total.update(counts)
        sizes.update(len(r["labels"]) for r in gold.records)
        flagged += [
            {"id": r["id"], "text": r["text"], "note": r.get("note", "")} for r in gold.records if r.get("flag")
        ]
    units = sum(p["units"] for p in per_policy.values())
    return {
        "units": units,
        "per_policy": per_policy,
        "labels": {x: total[x] for x in LABELS},
        "labels_per_unit": {str(k): sizes[k] for k in sorted(sizes)},
        "fallback_share": sum(total[x] for x in FALLBACKS) / units if units else 0.0,
        "flagged": flagged,
    }


def split_score(files: list[GoldFile]) -> dict[str, Any]:
    """How well the bare splitter (no hand corrections) reproduces the gold units, per policy."""
    per_policy = {}
    for gold in files:
        text = source_path(gold.path, gold.policy).read_text(encoding="utf-8")
        predicted = {(u.start, u.end) for u in split_units(text)}
        truth = {(r["start"], r["end"]) for r in gold.records}
        same = len(predicted & truth)
        per_policy[gold.policy] = {
            "gold_units": len(truth),
            "splitter_units": len(predicted),
            "exact_units": same,
            "precision": same / len(predicted) if predicted else 0.0,
            "recall": same / len(truth) if truth else 0.0,
        }
    return per_policy
