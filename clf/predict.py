"""Label documents with a trained model: per-unit labels and all 12 probabilities, plus summaries."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from clf.context import contexts
from clf.documents import Document
from clf.labels import LABELS, from_row
from clf.predictor import Predictor


def _row(labels: list[str], scores) -> dict[str, Any]:
    return {"labels": labels, "scores": {label: round(float(s), 5) for label, s in zip(LABELS, scores, strict=True)}}


def predict_document(predictor: Predictor, doc: Document) -> list[dict[str, Any]]:
    """JSONL records keep their order and id and are never re-split; texts are cut into units."""
    if doc.records:  # a record may be a sentence or a whole paragraph; its own "context" is used if given
        given = [r.get("context") for r in doc.records]
        around = [c if isinstance(c, str) else "" for c in given] if any(given) else None
        scores, pred = predictor.label_inputs([r["text"] for r in doc.records], around)
        return [
            ({"id": r["id"]} if "id" in r else {}) | _row(from_row(p), s)
            for r, p, s in zip(doc.records, pred, scores, strict=True)
        ]
    units = doc.units()
    around = [c.text() for c in contexts(doc.text or "", units, doc.heading_spans())]
    scores = predictor.scores([u.text for u in units], around)
    pred = predictor.decide(scores)
    return [
        {"policy": doc.name, "id": f"{doc.name}-{i:04d}", "start": u.start, "end": u.end, "text": u.text}
        | _row(from_row(p), s)
        for i, (u, p, s) in enumerate(zip(units, pred, scores, strict=True), 1)
    ]


def predict_all(
    predictor: Predictor,
    items: Iterable[Any],
    read: Callable[[Any], Document],
    on_done: Callable[[], None] | None = None,
) -> list[tuple[Document, list[dict[str, Any]]]]:
    """Read and label every input before anything is written (views that need every document at once)."""
    results = []
    for item in items:
        doc = read(item)
        results.append((doc, predict_document(predictor, doc)))
        if on_done:
            on_done()
    return results


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
