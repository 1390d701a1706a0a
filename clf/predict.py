"""Label documents with a trained model: per-unit labels and all 12 probabilities, plus summaries."""

from __future__ import annotations

from typing import Any

from clf.documents import Document
from clf.labels import LABELS, from_row
from clf.predictor import Predictor


def _row(labels: list[str], scores) -> dict[str, Any]:
    return {"labels": labels, "scores": {label: round(float(s), 5) for label, s in zip(LABELS, scores, strict=True)}}


def predict_document(predictor: Predictor, doc: Document) -> list[dict[str, Any]]:
    """JSONL records keep their order and id and are never re-split; texts are cut into units."""
    if doc.records:
        scores = predictor.scores([r["text"] for r in doc.records])
        pred = predictor.decide(scores)
        return [
            ({"id": r["id"]} if "id" in r else {}) | _row(from_row(p), s)
            for r, p, s in zip(doc.records, pred, scores, strict=True)
        ]
    units = doc.units()
    scores = predictor.scores([u.text for u in units])
    pred = predictor.decide(scores)
    return [
        {"policy": doc.name, "id": f"{doc.name}-{i:04d}", "start": u.start, "end": u.end, "text": u.text}
        | _row(from_row(p), s)
        for i, (u, p, s) in enumerate(zip(units, pred, scores, strict=True), 1)
    ]


def summarize(doc: Document, rows: list[dict[str, Any]], evidence: int = 3) -> dict[str, Any]:
    """Per category present: how many units carry it, and the most confident evidence units."""
    categories = {}
    for label in LABELS:
        hits = [r for r in rows if label in r["labels"]]
        if not hits:
            continue
        best = sorted(hits, key=lambda r: -r["scores"][label])[:evidence]
        categories[label] = {
            "count": len(hits),
            "evidence": [{"id": r.get("id"), "score": r["scores"][label], "text": r.get("text", "")} for r in best],
        }
    return {"policy": doc.name, "source": doc.source, "units": len(rows), "categories": categories}
