"""The README.md model card written into every model folder, and the facts from it that views show."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from clf.labels import LABELS

if TYPE_CHECKING:
    from clf.predictor import Predictor


def model_card(predictor: Predictor) -> str:
    info = predictor.info
    data = info.get("data", {})
    counts = data.get("label_counts", {})
    rows = "\n".join(
        f"| {label} | {counts.get(label, '–')} | {t:.3f} |"
        for label, t in zip(LABELS, predictor.thresholds, strict=True)
    )
    inner = info.get("inner_cv", {})
    seconds = info.get("timings_seconds", {}).get("total", "?")
    base = predictor.model.card_notes() if hasattr(predictor.model, "card_notes") else ""
    return f"""# clf model: `{predictor.config.model}`

Labels each sentence of a privacy policy with the 12 OPP-115-style categories of the clf
annotation guidelines (multi-label, with a probability per label).

## Intended use
Triage and research: finding which parts of a privacy policy talk about collection, sharing,
choices, retention, security and so on, with the evidence sentences. **Not legal advice**, and not a
compliance verdict: a sentence the model labels is a pointer for a human reader.

## Training data
- {data.get("units", "?")} units from {len(data.get("policies", []))} policies: {", ".join(data.get("policies", []))}
- data sha256: `{data.get("sha256", "?")}`
- seed: {info.get("seed", "?")}; trained {info.get("trained_at", "?")} in {seconds} s
{base}
## Decision thresholds
Tuned per label on inner cross-validated (grouped by policy) out-of-fold scores of the training
data; a unit with no label over its threshold gets its best-scoring label.

| label | training positives | threshold |
|---|---|---|
{rows}

## Metrics
Inner cross-validation with thresholds tuned on the same scores (optimistic):
micro-F1 {inner.get("micro_f1", float("nan")):.3f}, macro-F1 {inner.get("macro_f1", float("nan")):.3f}.
Honest numbers are leave-one-policy-out results from `clf evaluate` (see the project README).

## Limits
- Trained on five small-company policies (842 sentences): rare labels (`Do Not Track`,
  `Policy Change`, `Practice not covered`) have few examples and are unreliable.
- English only; sentence units cut by clf's splitter. Tables and PDF extractions are noisy.
- Probabilities are per label and not calibrated across policies of other styles.
"""


def model_facts(predictor: Predictor, folder: str | Path) -> dict[str, Any]:
    """What a reader of a report needs to know about the model: which one, which version, trained on what, when."""
    info = predictor.info
    data = info.get("data", {})
    base = getattr(predictor.model, "base_info_", None) or {}
    return {
        "folder": str(folder),
        "name": predictor.config.model,
        "base_model": base.get("name"),
        "clf_version": info.get("clf_version"),
        "format_version": info.get("clf_format_version"),
        "trained_at": info.get("trained_at"),
        "data": {
            "units": data.get("units"),
            "policies": list(data.get("policies", [])),
            "sha256": data.get("sha256"),
        },
    }
