"""Honest evaluation: policies held out whole, thresholds tuned only inside each training fold.

Outer folds are the committed grouped folds (`annotations/splits/folds.json`) or leave-one-policy-out
(`clf.folds.outer_folds`). Every fold trains exactly as `clf train` does (inner out-of-fold
thresholds and paragraph pooling, then the final fit) on the other policies and scores the held-out
ones twice: unit by unit, and paragraph by paragraph (`clf.paragraphs`), each paragraph fed whole as a
user's paragraph would be. Repeated over seeds where training is stochastic; numbers are reported as
mean ± std over seeds.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from clf.config import Config
from clf.data import Dataset
from clf.errors import DataError
from clf.folds import outer_folds, resolve_split
from clf.jsonl import dumps, write_text_atomic
from clf.labels import CODE_OF, LABELS, from_row
from clf.metrics import format_score, mean_std, score
from clf.models.base import Progress, within
from clf.paragraphs import paragraph_labels, paragraphs
from clf.predictor import Predictor
from clf.train import fit_predictor

METRICS = ("micro_f1", "macro_f1", "samples_f1")
REPORT_FILES = ("metrics.json", "predictions.jsonl", "per_label.md")


@dataclass
class Evaluation:
    metrics: dict[str, Any]
    predictions: list[dict[str, Any]] = field(default_factory=list)
    parts: dict[str, Evaluation] = field(default_factory=dict)  # an ensemble's members, from the same fits


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


PROTOCOLS = {
    "grouped": "grouped k-fold by policy (annotations/splits/folds.json)",
    "lopo": "leave-one-policy-out",
    "groupkfold": "GroupKFold by policy",
}


@dataclass
class _Run:
    """One seed's pooled out-of-fold results for one model (or one part of it)."""

    y_pred: np.ndarray
    folds: list[dict[str, Any]] = field(default_factory=list)
    par_true: list[np.ndarray] = field(default_factory=list)
    par_pred: list[np.ndarray] = field(default_factory=list)
    predictions: list[dict[str, Any]] = field(default_factory=list)

    def score_fold(self, predictor: Predictor, data: Dataset, name: str, test_idx: np.ndarray, seed: int) -> None:
        test = data.subset(test_idx)
        scores = predictor.scores(test.texts, test.contexts)
        pred = predictor.decide(scores)
        self.y_pred[test_idx] = pred
        paras = paragraphs(test)
        if paras:
            self.par_true.append(paragraph_labels(test, paras))
            self.par_pred.append(predictor.decide_paragraphs(predictor.paragraph_scores([p.text for p in paras])))
        self.folds.append(
            {
                "fold": name,
                "policies": sorted(set(test.groups)),
                "units": len(test_idx),
                "thresholds": dict(zip(LABELS, map(float, predictor.thresholds), strict=True)),
                "pooling": predictor.paragraph.get("pooling"),
                "params": predictor.config.params,
                "metrics": score(test.y, pred),
                "per_policy": {
                    p: score(test.y[idx], pred[idx])
                    for p in sorted(set(test.groups))
                    for idx in [[i for i, g in enumerate(test.groups) if g == p]]
                },
            }
        )
        self.predictions += [
            {"seed": seed, "fold": name, **_prediction_row(data, row, pred[i], scores[i])}
            for i, row in enumerate(test_idx)
        ]

    def result(self, data: Dataset, seed: int) -> dict[str, Any]:
        run = {"seed": seed, "metrics": score(data.y, self.y_pred), "folds": self.folds}
        if self.par_true:
            run["paragraph_metrics"] = score(np.concatenate(self.par_true), np.concatenate(self.par_pred))
        return run


def cross_validate(
    config: Config,
    data: Dataset,
    seeds: list[int] | None = None,
    progress: Progress | None = None,
    split: str = "auto",
) -> Evaluation:
    """Policies held out fold by fold (`clf.folds.outer_folds`), once per seed.

    A model with parts (an ensemble) is scored with each of its members too, from the same fits:
    `Evaluation.parts` holds what `clf evaluate` of that member alone would report.
    """
    seeds = seeds if seeds is not None else config.evaluation.seeds
    folds = outer_folds(data.groups, split)
    runs: dict[str, list[dict[str, Any]]] = {}
    predictions: dict[str, list[dict[str, Any]]] = {}
    configs: dict[str, Config] = {}
    for seed in seeds:
        seeded = config.model_copy(update={"seed": seed})
        current: dict[str, _Run] = {}
        for name, train_idx, test_idx in folds:
            started = time.perf_counter()
            predictor = fit_predictor(seeded, data.subset(train_idx), within(progress, f"seed {seed} · {name}"))
            for part, scorer in {"": predictor, **predictor.parts}.items():
                configs.setdefault(part, scorer.config)
                run = current.setdefault(part, _Run(np.zeros_like(data.y)))
                run.score_fold(scorer, data, name, test_idx, seed)
                run.folds[-1]["seconds"] = round(time.perf_counter() - started, 2)
        for part, run in current.items():
            runs.setdefault(part, []).append(run.result(data, seed))
            predictions.setdefault(part, []).extend(run.predictions)
    protocol = PROTOCOLS[resolve_split(data.groups, split)]
    evaluations = {
        part: Evaluation(summarize(configs[part], data, runs[part], protocol), predictions[part]) for part in runs
    }
    main = evaluations.pop("")
    for part, evaluation in evaluations.items():
        evaluation.metrics["protocol"] += f"; scored as the {part} member of {config.model} (same fits)"
    main.parts = evaluations
    return main


def _label_summary(metrics: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        label: {
            **{k: mean_std([m["per_label"][label][k] for m in metrics]) for k in ("precision", "recall", "f1")},
            "support": metrics[0]["per_label"][label]["support"],
        }
        for label in LABELS
    }


def summarize(config: Config, data: Dataset, runs: list[dict[str, Any]], protocol: str) -> dict[str, Any]:
    """Pooled out-of-fold metrics per seed, then mean ± std over seeds; per label, per policy, per paragraph."""
    policies = sorted({p for f in runs[0]["folds"] for p in f["policies"]})
    per_policy = {
        p: {
            "units": next(f["per_policy"][p]["units"] for f in runs[0]["folds"] if p in f["per_policy"]),
            **{
                m: mean_std([f["per_policy"][p][m] for r in runs for f in r["folds"] if p in f["per_policy"]])
                for m in METRICS
            },
        }
        for p in policies
    }
    metrics = {
        "model": config.model,
        "config": config.model_dump(),
        "protocol": f"{protocol}; thresholds and paragraph pooling tuned on inner grouped out-of-fold scores "
        "of each training fold",
        "data": {"sha256": data.sha256, "units": len(data), "policies": data.policies},
        "seeds": [r["seed"] for r in runs],
        "folds": [{"fold": f["fold"], "policies": f["policies"], "units": f["units"]} for f in runs[0]["folds"]],
        "summary": {m: mean_std([r["metrics"][m] for r in runs]) for m in METRICS},
        "per_label": _label_summary([r["metrics"] for r in runs]),
        "per_policy": per_policy,
        "runs": runs,
    }
    if all("paragraph_metrics" in r for r in runs):
        paragraph = [r["paragraph_metrics"] for r in runs]
        metrics["paragraphs"] = {
            "units": paragraph[0]["units"],
            "summary": {m: mean_std([x[m] for x in paragraph]) for m in METRICS},
            "per_label": _label_summary(paragraph),
        }
    return metrics


CURVE_SIZES = (1, 2, 4, 8, 16)


def learning_curve(
    config: Config,
    data: Dataset,
    max_subsets: int = 2,
    seed: int = 0,
    progress: Progress | None = None,
    split: str = "auto",
    sizes: tuple[int, ...] = CURVE_SIZES,
    folds: list[str] | None = None,
) -> list[dict[str, Any]]:
    """Macro-F1 on each held-out fold when training on 1, 2, 4, 8, 16 and all of the other policies.

    Subsets of each size are drawn at random (seeded), `max_subsets` per size and fold; `folds` limits
    the curve to some outer folds (a transformer's curve costs dozens of fine-tunings).
    """
    rows = []
    rng = np.random.default_rng(seed)
    chosen = outer_folds(data.groups, split)
    unknown = sorted(set(folds or []) - {name for name, _, _ in chosen})
    if unknown:
        raise DataError(f"no outer folds named {unknown}; the folds are {[name for name, _, _ in chosen]}")
    for held_out, train_idx, test_idx in chosen:
        if folds and held_out not in folds:
            continue
        others = sorted({data.groups[i] for i in train_idx})
        test = data.subset(test_idx)
        for k in [n for n in sizes if n < len(others)] + [len(others)]:
            draws = (
                [others]
                if k == len(others)
                else [list(rng.choice(others, k, replace=False)) for _ in range(max_subsets)]
            )
            for subset in draws:
                idx = [i for i in train_idx if data.groups[i] in set(subset)]
                predictor = fit_predictor(
                    config.model_copy(update={"seed": seed}),
                    data.subset(idx),
                    within(progress, f"curve {held_out} k={k}"),
                )
                m = score(test.y, predictor.decide(predictor.scores(test.texts, test.contexts)))
                rows.append(
                    {
                        "held_out": held_out,
                        "n_train_policies": k,
                        "train": sorted(str(x) for x in subset),
                        "train_units": len(idx),
                        "macro_f1": m["macro_f1"],
                        "micro_f1": m["micro_f1"],
                    }
                )
    return rows


def score_predictor(predictor: Predictor, data: Dataset) -> Evaluation:
    """Score a trained model on a labelled file (no training, no tuning); records may be paragraphs."""
    scores, pred = predictor.label_inputs(data.texts, data.contexts)
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
    for name, part in evaluation.parts.items():
        write_report(part, out / "parts" / name)
    return out
