"""Honest evaluation: leave-one-policy-out, thresholds tuned only inside each training fold.

Every fold trains exactly as `clf train` does (inner out-of-fold thresholds, then the final
fit) on the other policies and scores the held-out one. Repeated over seeds where training
is stochastic; numbers are reported as mean ± std over seeds.
"""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from clf.config import Config
from clf.data import Dataset
from clf.folds import outer_folds
from clf.jsonl import dumps, write_text_atomic
from clf.labels import CODE_OF, LABELS, from_row
from clf.metrics import format_score, mean_std, score
from clf.models.base import Progress, within
from clf.predictor import Predictor
from clf.train import fit_predictor

METRICS = ("micro_f1", "macro_f1", "samples_f1")
REPORT_FILES = ("metrics.json", "predictions.jsonl", "per_label.md")


@dataclass
class Evaluation:
    metrics: dict[str, Any]
    predictions: list[dict[str, Any]] = field(default_factory=list)


def _prediction_row(data: Dataset, i: int, pred: np.ndarray, scores: np.ndarray) -> dict[str, Any]:
    """One unit's line in predictions.jsonl: who it is, gold and predicted labels, all 12 scores."""
    return {
        "id": data.ids[i],
        "policy": data.groups[i],
        "text": data.texts[i],
        "gold": from_row(data.y[i]),
        "pred": from_row(pred),
        "scores": {label: round(float(s), 5) for label, s in zip(LABELS, scores, strict=True)},
    }


def cross_validate(
    config: Config, data: Dataset, seeds: list[int] | None = None, progress: Progress | None = None
) -> Evaluation:
    """Leave-one-policy-out over the data's policies, once per seed."""
    seeds = seeds if seeds is not None else config.evaluation.seeds
    folds = outer_folds(data.groups)
    runs, predictions = [], []
    for seed in seeds:
        seeded = config.model_copy(update={"seed": seed})
        y_pred = np.zeros_like(data.y)
        fold_rows = []
        for policy, train_idx, test_idx in folds:
            started = time.perf_counter()
            predictor = fit_predictor(
                seeded, data.subset(train_idx), within(progress, f"seed {seed} · held out {policy}")
            )
            test = data.subset(test_idx)
            scores = predictor.scores(test.texts)
            pred = predictor.decide(scores)
            y_pred[test_idx] = pred
            fold_rows.append(
                {
                    "policy": policy,
                    "units": len(test_idx),
                    "thresholds": dict(zip(LABELS, map(float, predictor.thresholds), strict=True)),
                    "params": predictor.config.params,
                    "seconds": round(time.perf_counter() - started, 2),
                    "metrics": score(test.y, pred),
                }
            )
            predictions += [
                {"seed": seed, "fold": policy, **_prediction_row(data, row, pred[i], scores[i])}
                for i, row in enumerate(test_idx)
            ]
        runs.append({"seed": seed, "metrics": score(data.y, y_pred), "folds": fold_rows})
    return Evaluation(summarize(config, data, runs), predictions)


def summarize(config: Config, data: Dataset, runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Pooled out-of-fold metrics per seed, then mean ± std over seeds; per label and per policy."""
    per_label = {
        label: {
            **{k: mean_std([r["metrics"]["per_label"][label][k] for r in runs]) for k in ("precision", "recall", "f1")},
            "support": runs[0]["metrics"]["per_label"][label]["support"],
        }
        for label in LABELS
    }
    policies = [f["policy"] for f in runs[0]["folds"]]
    per_policy = {
        p: {
            "units": runs[0]["folds"][k]["units"],
            **{m: mean_std([r["folds"][k]["metrics"][m] for r in runs]) for m in METRICS},
        }
        for k, p in enumerate(policies)
    }
    return {
        "model": config.model,
        "config": config.model_dump(),
        "protocol": "leave-one-policy-out; thresholds tuned on inner grouped out-of-fold scores of each training fold",
        "data": {"sha256": data.sha256, "units": len(data), "policies": data.policies},
        "seeds": [r["seed"] for r in runs],
        "summary": {m: mean_std([r["metrics"][m] for r in runs]) for m in METRICS},
        "per_label": per_label,
        "per_policy": per_policy,
        "runs": runs,
    }


def learning_curve(
    config: Config, data: Dataset, max_subsets: int = 2, seed: int = 0, progress: Progress | None = None
) -> list[dict[str, Any]]:
    """Macro-F1 on each held-out policy when training on 1, 2, … of the other policies."""
    rows = []
    for held_out, train_idx, test_idx in outer_folds(data.groups):
        others = sorted({data.groups[i] for i in train_idx})
        test = data.subset(test_idx)
        for k in range(1, len(others) + 1):
            for subset in list(itertools.combinations(others, k))[:max_subsets]:
                idx = [i for i in train_idx if data.groups[i] in subset]
                predictor = fit_predictor(
                    config.model_copy(update={"seed": seed}),
                    data.subset(idx),
                    within(progress, f"curve {held_out} k={k}"),
                )
                pred = predictor.decide(predictor.scores(test.texts))
                m = score(test.y, pred)
                rows.append(
                    {
                        "held_out": held_out,
                        "n_train_policies": k,
                        "train": list(subset),
                        "macro_f1": m["macro_f1"],
                        "micro_f1": m["micro_f1"],
                    }
                )
    return rows


def score_predictor(predictor: Predictor, data: Dataset) -> Evaluation:
    """Score a trained model on a labelled file (no training, no tuning)."""
    scores = predictor.scores(data.texts)
    pred = predictor.decide(scores)
    metrics = {
        "model": predictor.config.model,
        "data": {"sha256": data.sha256, "units": len(data)},
        **score(data.y, pred),
    }
    rows = [_prediction_row(data, i, pred[i], scores[i]) for i in range(len(data))]
    return Evaluation(metrics, rows)


def per_label_table(metrics: dict[str, Any]) -> str:
    """Markdown table: per-label P/R/F1 (mean ± std where there are seeds) and support."""
    per_label = metrics["per_label"]
    lines = ["| label | code | precision | recall | F1 | support |", "|---|---|---|---|---|---|"]
    for label in LABELS:
        row = per_label[label]
        lines.append(
            f"| {label} | {CODE_OF[label]} | {format_score(row['precision'])} | {format_score(row['recall'])} "
            f"| {format_score(row['f1'])} | {row['support']} |"
        )
    summary = metrics.get("summary") or {m: metrics[m] for m in METRICS}
    lines.append("")
    lines.append(" · ".join(f"{m.replace('_', '-')}: {format_score(summary[m])}" for m in METRICS))
    return "\n".join(lines)


def write_report(evaluation: Evaluation, out: str | Path) -> Path:
    """REPORT_FILES (metrics.json, predictions.jsonl, per_label.md), each written atomically."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    metrics, predictions, per_label = (out / name for name in REPORT_FILES)
    write_text_atomic(metrics, json.dumps(evaluation.metrics, indent=1))
    write_text_atomic(predictions, "".join(dumps(r) + "\n" for r in evaluation.predictions))
    write_text_atomic(per_label, per_label_table(evaluation.metrics) + "\n")
    return out
