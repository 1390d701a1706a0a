"""Tools that help a person annotate: reading sheets out, typed label sheets in.

A label sheet is a TSV a person types while reading: `id<TAB>codes[<TAB>flag<TAB>note]`,
codes being the short label codes of `clf.labels.CODES` joined by commas
(`plumstack-0042<TAB>FP,UC`). `apply_sheet` copies those decisions into the gold
file; it never invents a label and refuses to overwrite a different existing one
unless asked.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from clf.annotations import draft_units
from clf.errors import DataError
from clf.jsonl import read_jsonl, read_utf8, split_lines, write_jsonl
from clf.labels import CODES, label_problems


def parse_sheet(path: str | Path) -> dict[str, dict]:
    """Decisions by unit id; malformed lines raise DataError at their line."""
    path = Path(path)
    decisions: dict[str, dict] = {}
    for number, line in enumerate(split_lines(read_utf8(path)), 1):
        if not line.strip() or line.startswith("#"):
            continue
        cells = line.split("\t")
        if len(cells) < 2:
            raise DataError("expected 'id<TAB>codes[<TAB>flag<TAB>note]'", path, number)
        unit_id, codes = cells[0].strip(), [c.strip() for c in cells[1].split(",") if c.strip()]
        unknown = [c for c in codes if c not in CODES]
        if unknown:
            raise DataError(f"unknown code(s) {unknown}; known: {', '.join(CODES)}", path, number)
        labels = [CODES[c] for c in codes]
        problems = label_problems(labels)
        if problems:
            raise DataError(f"{unit_id}: {problems[0]}", path, number)
        decision = {"labels": labels}
        if len(cells) > 2 and cells[2].strip().lower() in {"flag", "1", "true", "yes"}:
            decision["flag"] = True
        if len(cells) > 3 and cells[3].strip():
            decision["note"] = cells[3].strip()
        if unit_id in decisions:
            raise DataError(f"{unit_id} decided twice", path, number)
        decisions[unit_id] = decision
    return decisions


def apply_decisions(decisions: dict[str, dict], gold: str | Path, overwrite: bool = False) -> dict[str, int]:
    """Copy decisions into one gold file (atomically); returns counts of what changed."""
    records = [r for _, r in read_jsonl(gold)]
    missing = sorted(set(decisions) - {r["id"] for r in records})
    if missing:
        raise DataError(f"ids not in this file: {missing[:5]}", gold)
    changed = conflicts = 0
    for record in records:
        decision = decisions.get(record["id"])
        if decision is None:
            continue
        if record["labels"] and record["labels"] != decision["labels"] and not overwrite:
            conflicts += 1
            continue
        if record["labels"] != decision["labels"] or "note" in decision or "flag" in decision:
            changed += 1
        record["labels"] = decision["labels"]
        for key in ("flag", "note"):
            if key in decision:
                record[key] = decision[key]
    if conflicts:
        raise DataError(f"{conflicts} units already carry different labels; pass overwrite to replace them", gold)
    write_jsonl(gold, records)
    return {"decided": len(decisions), "changed": changed, "unlabelled": sum(not r["labels"] for r in records)}


def apply_sheet(sheet: str | Path, gold: str | Path, overwrite: bool = False) -> dict[str, int]:
    return apply_decisions(parse_sheet(sheet), gold, overwrite)


def apply_sheet_to_folder(sheet: str | Path, root: str | Path, overwrite: bool = False) -> dict[str, dict[str, int]]:
    """Route a sheet's decisions to each policy's gold file by id prefix (`<policy>-NNNN`).

    A policy whose text is in `root/policies/` but has no gold file yet gets one, made from
    its draft units, only when the sheet decides every one of them: no half-labelled gold.
    """
    by_policy: dict[str, dict[str, dict]] = {}
    for unit_id, decision in parse_sheet(sheet).items():
        by_policy.setdefault(unit_id.rsplit("-", 1)[0], {})[unit_id] = decision
    new = {}
    for policy, decisions in by_policy.items():
        if (Path(root) / f"{policy}.jsonl").exists():
            continue
        if not (Path(root) / "policies" / f"{policy}.txt").exists():
            raise DataError(f"no gold file and no policy text for {policy!r} in {root}", sheet)
        units = draft_records(policy, root)
        undecided = [r["id"] for r in units if r["id"] not in decisions]
        if undecided:
            raise DataError(
                f"{policy} has no gold file yet, and the sheet leaves {len(undecided)} of its {len(units)} units "
                f"undecided (first: {undecided[0]}); label them all before the gold file is made",
                sheet,
            )
        new[policy] = units
    results = {}
    for policy, decisions in by_policy.items():
        gold = Path(root) / f"{policy}.jsonl"
        if policy in new:
            unknown = sorted(set(decisions) - {r["id"] for r in new[policy]})
            if unknown:
                raise DataError(f"ids not among {policy}'s units: {unknown[:5]}", sheet)
            for record in new[policy]:
                record.update(decisions[record["id"]])
            write_jsonl(gold, new[policy])
            results[policy] = {"decided": len(decisions), "created": len(new[policy]), "unlabelled": 0}
        else:
            results[policy] = apply_decisions(decisions, gold, overwrite)
    return results


def draft_records(policy: str, root: str | Path) -> list[dict]:
    """Unlabelled gold records of a policy: its draft units (splitter + recorded corrections)."""
    return [
        {"policy": policy, "id": f"{policy}-{i:04d}", "start": u.start, "end": u.end, "text": u.text, "labels": []}
        for i, u in enumerate(draft_units(policy, root), 1)
    ]


def resplit(policy: str, root: str | Path, decisions: dict[str, dict] | None = None) -> dict[str, Any]:
    """Carry a policy's gold over to new unit boundaries (after a splitter fix or a new correction).

    A unit whose span is unchanged keeps its id, labels, flag and note. A new unit that spans
    several old ones (a merge) takes the first one's id, so every id cited elsewhere still names the
    same place, and needs a person's decision: without `decisions` for every such unit nothing is
    written, and the changes are returned for reading, each with the old pieces and their labels.
    """
    gold = Path(root) / f"{policy}.jsonl"
    old = [r for _, r in read_jsonl(gold)]
    by_span = {(r["start"], r["end"]): r for r in old}
    new, changed = [], []
    for unit in draft_units(policy, root):
        if (unit.start, unit.end) in by_span:
            new.append(by_span[(unit.start, unit.end)])
            continue
        pieces = [r for r in old if r["start"] >= unit.start and r["end"] <= unit.end]
        if not pieces or pieces[0]["start"] != unit.start or pieces[-1]["end"] != unit.end:
            raise DataError(f"new unit {unit.start}-{unit.end} is not a merge of whole gold units", gold)
        record = {"policy": policy, "id": pieces[0]["id"], "start": unit.start, "end": unit.end, "text": unit.text}
        changed.append({**record, "pieces": [{k: r[k] for k in ("id", "text", "labels")} for r in pieces]})
        new.append({**record, "labels": []})
    undecided = [c["id"] for c in changed if c["id"] not in (decisions or {})]
    if changed and not undecided:
        for record in new:
            if not record["labels"]:
                record.update(decisions[record["id"]])
        write_jsonl(gold, new)
    return {"changed": changed, "undecided": undecided, "written": bool(changed) and not undecided}


def reading_sheet(policy: str, root: str | Path, blind: bool = False) -> str:
    """A policy's units for a person to read and label: `id | labels | text`, a blank line at each
    paragraph break of the source so sections stay visible. Labels are `-` until the gold exists,
    and always with `blind` (for a second annotator)."""
    gold = Path(root) / f"{policy}.jsonl"
    records = [r for _, r in read_jsonl(gold)] if gold.exists() else draft_records(policy, root)
    text = (Path(root) / "policies" / f"{policy}.txt").read_text(encoding="utf-8")
    lines, previous_end = [], 0
    for record in records:
        if lines and text.count("\n", previous_end, record["start"]) > 1:
            lines.append("")
        labels = "-" if blind else ",".join(k for k, v in CODES.items() if v in record["labels"]) or "-"
        lines.append(f"{record['id']} | {labels} | {record['text']}")
        previous_end = record["end"]
    return "\n".join(lines) + "\n"
