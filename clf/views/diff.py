"""What changed between two versions of a policy, by practice: units added, removed and changed per category.

Both versions are labelled by the same model and aligned unit by unit (`clf.align`). For a category,
a unit counts as added (+) when the new version carries the label and its old counterpart did not
(a new unit, or a changed one that gained the label), removed (−) the other way round, and changed
when the text changed and both sides carry the label. Moved units change nothing and are only counted.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any

from clf.align import CHANGED_MIN_SIMILARITY, align
from clf.card import model_facts
from clf.documents import Document
from clf.labels import CODE_OF, LABELS
from clf.predict import predict_document
from clf.predictor import Predictor
from clf.views.html import NOTICE, render
from clf.views.report import html_unit, reading_units

FORMAT = "clf-diff/1"
KINDS = ("added", "removed", "changed", "moved")


def _side(unit: dict[str, Any] | None) -> dict[str, Any] | None:
    if unit is None:
        return None
    keep = ("n", "id", "text", "labels", "scores", "low_confidence", "top")
    return {key: unit[key] for key in keep if key in unit}


def _category_entry(change: dict[str, Any], label: str) -> str | None:
    """How one change counts for one category: added, removed, changed, gained, lost, or not at all."""
    old = change["old"] is not None and label in change["old"]["labels"]
    new = change["new"] is not None and label in change["new"]["labels"]
    if change["kind"] == "moved" or not (old or new):
        return None
    if change["kind"] != "changed":
        return change["kind"]
    return "changed" if old and new else "gained" if new else "lost"


def diff_documents(
    predictor: Predictor,
    model_dir: str | Path,
    old: Document,
    new: Document,
    threshold: float = CHANGED_MIN_SIMILARITY,
) -> dict[str, Any]:
    """The diff as data (what `--format json` writes): every change in reading order, and per category."""
    sides = [reading_units(doc, predict_document(predictor, doc), predictor.thresholds) for doc in (old, new)]
    steps = align([u["text"] for u in sides[0]], [u["text"] for u in sides[1]], threshold)
    changes = [
        {
            "kind": step.kind,
            "similarity": round(step.similarity, 3),
            "old": _side(sides[0][step.old]) if step.old is not None else None,
            "new": _side(sides[1][step.new]) if step.new is not None else None,
        }
        for step in steps
        if step.kind != "equal"
    ]
    categories = []
    for label in LABELS:
        entries = [kind | {"count_as": entry} for kind in changes if (entry := _category_entry(kind, label))]
        if not entries:
            continue
        plus = sum(e["count_as"] in {"added", "gained"} for e in entries)
        minus = sum(e["count_as"] in {"removed", "lost"} for e in entries)
        changed = sum(e["count_as"] == "changed" for e in entries)
        categories.append(
            {
                "label": label,
                "code": CODE_OF[label],
                "added": plus,
                "removed": minus,
                "changed": changed,
                "net": plus - minus,
                "entries": entries,
            }
        )
    categories.sort(key=lambda c: (-(c["added"] + c["removed"] + c["changed"]), -abs(c["net"])))
    counts = {kind: sum(c["kind"] == kind for c in changes) for kind in KINDS}
    return {
        "format": FORMAT,
        "old": {"policy": old.name, "source": old.source, "units": len(sides[0])},
        "new": {"policy": new.name, "source": new.source, "units": len(sides[1])},
        "notice": NOTICE,
        "model": model_facts(predictor, model_dir),
        "similarity_threshold": threshold,
        "counts": counts | {"unchanged": sum(step.kind == "equal" for step in steps)},
        "changes": changes,
        "categories": categories,
    }


def net_change(category: dict[str, Any]) -> str:
    """A category's net change as people say it: "+3 units, −1, 2 changed"."""
    changed = f", {category['changed']} changed" if category["changed"] else ""
    return f"+{category['added']} unit{'s' if category['added'] != 1 else ''}, −{category['removed']}{changed}"


_CHANGE_MARKS = {"added": "+", "removed": "−", "changed": "~", "gained": "+~", "lost": "−~"}
_CHANGE_NAMES = {"gained": "changed, now labelled", "lost": "changed, no longer labelled"}


def render_text(diff: dict[str, Any]) -> str:
    """`clf diff` for a terminal or a README: per category the net change, then each unit's text."""
    counts = diff["counts"]
    old, new = diff["old"], diff["new"]
    lines = [f"{old['source']} ({old['units']} units) → {new['source']} ({new['units']} units)"]
    if not diff["changes"]:
        return "\n".join([*lines, "no changes", ""])
    lines.append(
        f"{counts['added']} added, {counts['removed']} removed, {counts['changed']} changed, "
        f"{counts['moved']} moved, {counts['unchanged']} unchanged"
    )
    for category in diff["categories"]:
        lines += ["", f"{category['label']} ({category['code']}): {net_change(category)}"]
        for entry in category["entries"]:
            kind = entry["count_as"]
            name = _CHANGE_NAMES.get(kind, kind)
            if entry["kind"] == "changed":
                lines.append(
                    f"  {_CHANGE_MARKS[kind]:<2} {name} (similarity {entry['similarity']:.2f}): {entry['old']['text']}"
                )
                lines.append(f"     → {entry['new']['text']}")
            else:
                lines.append(f"  {_CHANGE_MARKS[kind]:<2} {name}: {(entry['new'] or entry['old'])['text']}")
    if counts["moved"]:
        lines += ["", f"{counts['moved']} unit(s) moved without a change to their text."]
    return "\n".join([*lines, ""])


_TOKENS = re.compile(r"\s+|\w+|[^\w\s]")


def word_diff(old: str, new: str) -> tuple[list[tuple[str, bool]], list[tuple[str, bool]]]:
    """Both texts as (piece, differs) parts, so a changed unit can show exactly which words changed."""
    a, b = _TOKENS.findall(old), _TOKENS.findall(new)
    left: list[tuple[str, bool]] = []
    right: list[tuple[str, bool]] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        left.append(("".join(a[i1:i2]), tag != "equal"))
        right.append(("".join(b[j1:j2]), tag != "equal"))
    return [p for p in left if p[0]], [p for p in right if p[0]]


def _html_entry(entry: dict[str, Any]) -> dict[str, Any]:
    sides = {key: html_unit(entry[key]) if entry[key] is not None else None for key in ("old", "new")}
    if entry["kind"] == "changed":
        sides["old"]["words"], sides["new"]["words"] = word_diff(entry["old"]["text"], entry["new"]["text"])
    return entry | sides


def render_diff(diff: dict[str, Any]) -> str:
    """Side by side, per category, in the report's colours; changed words marked as deleted and inserted."""
    categories = [
        c | {"net_text": net_change(c), "entries": [_html_entry(e) for e in c["entries"]]} for c in diff["categories"]
    ]
    return render("diff.html", d=diff, categories_changed=categories)
