"""The policy report: a policy's text in reading order with every unit's labels, and what it says per category.

`policy_report` builds the content as plain data (what `--format json` writes); `render_report` turns
that same data into one self-contained HTML page. A folder of policies also gets an index.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from clf.card import model_facts
from clf.documents import Document
from clf.errors import ClfError
from clf.labels import CODE_OF, DEFINITIONS, LABELS
from clf.predictor import Predictor
from clf.views.html import NOTICE, link_parts, render

FORMAT = "clf-report/1"
LOW_CONFIDENCE_MARGIN = 0.1  # a unit is low confidence when its best label is less than this over its threshold
_PARAGRAPH_BREAK = re.compile(r"\n[^\S\n]*\n")


def _break_before(doc: Document, previous: dict[str, Any] | None, row: dict[str, Any]) -> str:
    """How a unit is set off from the one before it in the source: "paragraph", "line" or "space"."""
    if previous is None or doc.text is None or "start" not in row:
        return "paragraph"
    between = doc.text[previous["end"] : row["start"]]
    return "paragraph" if _PARAGRAPH_BREAK.search(between) else "line" if "\n" in between else "space"


def reading_units(
    doc: Document, rows: list[dict[str, Any]], thresholds: np.ndarray, margin: float = LOW_CONFIDENCE_MARGIN
) -> list[dict[str, Any]]:
    """The rows of `predict_document`, numbered, with heading level, layout and confidence added.

    A unit's top label is the one of its labels that clears its own threshold by the most; the unit is
    low confidence when that lead is under `margin` (a unit given its best label although nothing
    cleared a threshold always is).
    """
    limit = {label: float(t) for label, t in zip(LABELS, thresholds, strict=True)}
    units = []
    for n, row in enumerate(rows, 1):
        # a model that may leave a unit unlabelled (always_one_label: false) still has a best guess
        top = max(row["labels"] or LABELS, key=lambda label: row["scores"][label] - limit[label])
        heading = doc.heading_level(row["start"], row["end"]) if "start" in row else None
        units.append(
            {"n": n}
            | row
            | {
                "heading": heading,
                "break": _break_before(doc, rows[n - 2] if n > 1 else None, row),
                "top": {"label": top, "score": row["scores"][top], "threshold": round(limit[top], 5)},
                "low_confidence": row["scores"][top] - limit[top] < margin,
            }
        )
    return units


def policy_report(
    doc: Document,
    rows: list[dict[str, Any]],
    predictor: Predictor,
    model_dir: str | Path,
    margin: float = LOW_CONFIDENCE_MARGIN,
    evidence: int = 3,
) -> dict[str, Any]:
    """Everything the HTML report shows, as data: header facts, the per-category summary, every unit."""
    units = reading_units(doc, rows, predictor.thresholds, margin)
    summary = []
    for label in LABELS:
        hits = [u for u in units if label in u["labels"]]
        # evidence is what the policy says: sentences before headings, most confident first
        best = sorted(hits, key=lambda u: (u["heading"] is not None, -u["scores"][label]))[:evidence]
        summary.append(
            {
                "label": label,
                "code": CODE_OF[label],
                "found": bool(hits),
                "count": len(hits),
                "low_confidence": sum(u["low_confidence"] for u in hits),
                "evidence": [
                    {"unit": u["n"], "id": u.get("id"), "score": u["scores"][label], "text": u["text"]} for u in best
                ],
            }
        )
    return {
        "format": FORMAT,
        "policy": doc.name,
        "source": doc.source,
        "notice": NOTICE,
        "model": model_facts(predictor, model_dir),
        "low_confidence_margin": margin,
        "labels": [
            {"label": label, "code": CODE_OF[label], "definition": DEFINITIONS[label], "threshold": round(float(t), 5)}
            for label, t in zip(LABELS, predictor.thresholds, strict=True)
        ],
        "totals": {
            "units": len(units),
            "headings": sum(u["heading"] is not None for u in units),
            "low_confidence": sum(u["low_confidence"] for u in units),
        },
        "summary": summary,
        "units": units,
    }


def _blocks(units: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Headings alone, other units grouped into the paragraphs of the source."""
    blocks: list[dict[str, Any]] = []
    for unit in units:
        if unit["heading"] is not None:
            blocks.append({"heading": unit["heading"], "units": [unit]})
        elif not blocks or blocks[-1]["heading"] is not None or unit["break"] == "paragraph":
            blocks.append({"heading": None, "units": [unit]})
        else:
            blocks[-1]["units"].append(unit)
    return blocks


def html_unit(unit: dict[str, Any]) -> dict[str, Any]:
    """What a template needs to draw a unit: codes, text with links, the 12 scores in LABELS order."""
    return unit | {
        "anchor": f"u{unit['n']}",
        "codes": [CODE_OF[label] for label in unit["labels"]],
        "tags": [{"code": CODE_OF[label], "label": label} for label in unit["labels"]],
        "top_code": CODE_OF[unit["top"]["label"]] if unit["labels"] else "none",
        "parts": link_parts(unit["text"]),
        "score_list": " ".join(f"{unit['scores'][label]:.3f}" for label in LABELS),
    }


def render_report(report: dict[str, Any], index: str | None = None) -> str:
    """The report as one HTML page; `index` is the relative link back to a folder's index page."""
    units = [html_unit(u) for u in report["units"]]
    return render("report.html", r=report, blocks=_blocks(units), index=index)


def index_rows(reports: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per report file: policy, source, units, low-confidence units and units per category."""
    return [
        {
            "file": file,
            "policy": report["policy"],
            "source": report["source"],
            "units": report["totals"]["units"],
            "low_confidence": report["totals"]["low_confidence"],
            "counts": {c["label"]: c["count"] for c in report["summary"]},
        }
        for file, report in reports.items()
    ]


def render_index(reports: dict[str, dict[str, Any]]) -> str:
    first = next(iter(reports.values()))
    return render("index.html", rows=index_rows(reports), model=first["model"], notice=NOTICE)


def report_files(reports: list[dict[str, Any]], out: Path, fmt: str, folder: bool) -> dict[Path, str]:
    """The files to write: one report at `out`, or (`folder`) one per policy in `out` plus an index.

    Planned in full before anything is written, so a clash is an error and not a half-written folder.
    """
    dump = (lambda data: json.dumps(data, ensure_ascii=False, indent=1) + "\n") if fmt == "json" else None
    if not folder:
        refuse_overwriting_inputs([out], [r["source"] for r in reports])
        return {out: dump(reports[0]) if dump else render_report(reports[0])}
    if out.suffix.lower() in {".html", ".htm", ".json"} or (out.exists() and not out.is_dir()):
        raise ClfError(f"{out}: several policies give several reports; --out must be a folder")
    named: dict[str, dict[str, Any]] = {}
    for report in reports:
        name = f"{report['policy']}.{fmt}"
        if name == f"index.{fmt}" or name in named:
            other = named[name]["source"] if name in named else "the index"
            raise ClfError(f"{report['source']}: its report {out / name} would overwrite the one for {other}")
        named[name] = report
    refuse_overwriting_inputs([out / name for name in [*named, f"index.{fmt}"]], [r["source"] for r in reports])
    if dump:
        files = {out / name: dump(report) for name, report in named.items()}
        return files | {out / "index.json": dump({"format": FORMAT, "reports": index_rows(named)})}
    files = {out / name: render_report(report, index="index.html") for name, report in named.items()}
    return files | {out / "index.html": render_index(named)}


def refuse_overwriting_inputs(targets: list[Path], sources: list[str]) -> None:
    """An output that is one of the inputs (after resolving links) would destroy it: refuse before writing."""
    inputs = {Path(s).resolve() for s in sources if s != "-"}
    for target in targets:
        if target.resolve() in inputs:
            raise ClfError(f"{target}: --out is one of the inputs; choose another path")
