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
from concurrent.futures import as_completed
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
from clf.models.base import Progress, available_cores, set_inference_threads, within
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
class _FoldScore:
    """One fitted predictor (or one part of it) scored on its held-out fold."""

    test_idx: np.ndarray
    y_pred: np.ndarray
    record: dict[str, Any]
    predictions: list[dict[str, Any]]
    par_true: np.ndarray | None = None
    par_pred: np.ndarray | None = None


def _score_fold(predictor: Predictor, data: Dataset, name: str, test_idx: np.ndarray, seed: int) -> _FoldScore:
    test = data.subset(test_idx)
    scores = predictor.scores(test.texts, test.contexts)
    pred = predictor.decide(scores)
    record = {
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
    rows = [
        {"seed": seed, "fold": name, **_prediction_row(data, row, pred[i], scores[i])} for i, row in enumerate(test_idx)
    ]
    result = _FoldScore(test_idx, pred, record, rows)
    paras = paragraphs(test)
    if paras:
        result.par_true = paragraph_labels(test, paras)
        result.par_pred = predictor.decide_paragraphs(predictor.paragraph_scores([p.text for p in paras]))
    return result


def _fit_and_score(
    config: Config, data: Dataset, name: str, train_idx: np.ndarray, test_idx: np.ndarray, progress: Progress | None
) -> tuple[dict[str, _FoldScore], dict[str, Config]]:
    """One (seed, fold) of the cross-validation: train as `clf train` does, score the model and its parts."""
    started = time.perf_counter()
    predictor = fit_predictor(config, data.subset(train_idx), within(progress, f"seed {config.seed} · {name}"))
    scorers = {"": predictor, **predictor.parts}
    scored = {part: _score_fold(scorer, data, name, test_idx, config.seed) for part, scorer in scorers.items()}
    for result in scored.values():
        result.record["seconds"] = round(time.perf_counter() - started, 2)
    return scored, {part: scorer.config for part, scorer in scorers.items()}


def _in_worker(threads: int, *args: Any) -> tuple[dict[str, _FoldScore], dict[str, Config]]:
    set_inference_threads(threads)
    return _fit_and_score(*args, None)


def _run_tasks(tasks: list[tuple[Any, ...]], jobs: int, progress: Progress | None) -> list[Any]:
    """(seed, fold) tasks in order; with jobs > 1, in that many processes sharing the cores (each fit is
    independent, and one process per core trains faster than one process with all of them)."""
    if jobs <= 1 or len(tasks) <= 1:
        return [_fit_and_score(*task, progress) for task in tasks]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    threads = max(1, available_cores() // jobs)
    done = 0
    if progress:
        progress({"stage": f"{len(tasks)} fits in {jobs} processes", "step": 0, "total": len(tasks)})
    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(_in_worker, threads, *task) for task in tasks]
        for future in as_completed(futures):
            future.result()  # a failed fit stops the evaluation here, with its own error
            done += 1
            if progress:
                # a new stage per finished fit, so a log (not a terminal) also shows the progress
                stage = f"{len(tasks)} fits in {jobs} processes, {done} done"
                progress({"stage": stage, "step": done, "total": len(tasks)})
        return [future.result() for future in futures]


def _pooled_run(data: Dataset, seed: int, scored: list[_FoldScore]) -> dict[str, Any]:
    """One seed's folds pooled: metrics over all held-out units (and paragraphs)."""
    y_pred = np.zeros_like(data.y)
    for fold in scored:
        y_pred[fold.test_idx] = fold.y_pred
    run = {"seed": seed, "metrics": score(data.y, y_pred), "folds": [fold.record for fold in scored]}
    paras = [fold for fold in scored if fold.par_true is not None]
    if paras:
        run["paragraph_metrics"] = score(
            np.concatenate([f.par_true for f in paras]), np.concatenate([f.par_pred for f in paras])
        )
    return run


def cross_validate(
    config: Config,
    data: Dataset,
    seeds: list[int] | None = None,
    progress: Progress | None = None,
    split: str = "auto",
    jobs: int = 1,
) -> Evaluation:
    """Policies held out fold by fold (`clf.folds.outer_folds`), once per seed; `jobs` fits at a time.

    A model with parts (an ensemble) is scored with each of its members too, from the same fits:
    `Evaluation.parts` holds what `clf evaluate` of that member alone would report.
    """
    seeds = seeds if seeds is not None else config.evaluation.seeds
    folds = outer_folds(data.groups, split)
    tasks = [
        (config.model_copy(update={"seed": seed}), data, name, train_idx, test_idx)
        for seed in seeds
        for name, train_idx, test_idx in folds
    ]
    results = _run_tasks(tasks, jobs, progress)
    configs: dict[str, Config] = {}
    for _, part_configs in results:
        for part, part_config in part_configs.items():
            configs.setdefault(part, part_config)
    protocol = PROTOCOLS[resolve_split(data.groups, split)]
    evaluations = {}
    for part in configs:
        runs, predictions = [], []
        for i, seed in enumerate(seeds):
            scored = [results[i * len(folds) + k][0][part] for k in range(len(folds))]
            runs.append(_pooled_run(data, seed, scored))
            predictions += [row for fold in scored for row in fold.predictions]
        evaluations[part] = Evaluation(summarize(configs[part], data, runs, protocol), predictions)
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
    include_all: bool = True,
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
        for k in [n for n in sizes if n < len(others)] + ([len(others)] if include_all else []):
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
                        "all": k == len(others),
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
