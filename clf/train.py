"""Training: inner out-of-fold scores → per-label thresholds → fit on everything → model folder."""

from __future__ import annotations

import platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from clf.card import model_card
from clf.config import Config, candidates
from clf.data import Dataset, data_files, load_dataset
from clf.errors import DataError
from clf.folds import inner_folds
from clf.labels import LABELS
from clf.metrics import score
from clf.models import registry
from clf.models.base import Progress, within
from clf.outputs import check_replaceable_folder
from clf.paragraphs import Paragraph, paragraph_labels, paragraphs
from clf.pooling import POOLINGS, pool
from clf.predictor import MARKER_FILES, Predictor, paragraph_pieces
from clf.thresholds import decide, tune


def out_of_fold_scores(
    config: Config, data: Dataset, progress: Progress | None = None, paras: list[Paragraph] | None = None
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Scores for every unit, and for every paragraph under each pooling, from a model that did not see
    its policy; paragraphs are read exactly as `Predictor.paragraph_scores` reads them."""
    scores = np.zeros(data.y.shape, dtype=np.float64)
    paras = paras or []
    pooled = {how: np.zeros((len(paras), data.y.shape[1])) for how in POOLINGS}
    folds = list(inner_folds(data.groups, config.thresholds.inner_folds, config.seed))
    for k, (train_idx, test_idx) in enumerate(folds, 1):
        part = data.subset(train_idx)
        model = registry.create(config.model, config.params)
        stage = within(progress, f"threshold fold {k}/{len(folds)}")
        model.fit(part.texts, part.y, seed=config.seed, progress=stage, contexts=part.contexts)
        held = data.subset(test_idx)
        scores[test_idx] = model.predict_proba(held.texts, held.contexts)
        held_out = set(test_idx.tolist())
        mine = [j for j, p in enumerate(paras) if p.units[0] in held_out]
        if mine:
            texts = [paras[j].text for j in mine]
            pooled["direct"][mine] = model.predict_proba(texts)
            pieces, around, owners = paragraph_pieces(texts)
            piece_scores = model.predict_proba(pieces, around)
            for how in POOLINGS[:-1]:
                pooled[how][mine] = pool(piece_scores, owners, len(mine), how)
    return scores, pooled


def choose_pooling(data: Dataset, paras: list[Paragraph], pooled: dict[str, np.ndarray]) -> dict[str, Any]:
    """The pooling and paragraph thresholds with the best inner out-of-fold paragraph macro-F1."""
    if not paras:
        return {}
    y = paragraph_labels(data, paras)
    tried = []
    for how, scores in pooled.items():
        thresholds = tune(y, scores)
        macro = score(y, decide(scores, thresholds, exclusive_fallbacks=False))["macro_f1"]
        tried.append({"pooling": how, "thresholds": thresholds.tolist(), "inner_macro_f1": macro})
    best = max(tried, key=lambda t: t["inner_macro_f1"])
    return {**best, "paragraphs": len(paras), "tried": {t["pooling"]: t["inner_macro_f1"] for t in tried}}


def fit_predictor(config: Config, data: Dataset, progress: Progress | None = None) -> Predictor:
    """Hyper-parameters (if searched), thresholds and paragraph pooling from inner out-of-fold scores,
    then the final fit.

    Everything chosen here is chosen on `data` alone, so an outer evaluation fold stays unseen.
    """
    started = time.perf_counter()
    paras = paragraphs(data)
    best = None
    searched = []
    for candidate in candidates(config):
        oof, pooled = out_of_fold_scores(candidate, data, progress, paras)
        thresholds = tune(data.y, oof)
        inner = score(data.y, decide(oof, thresholds, config.thresholds.always_one_label))
        searched.append({"params": candidate.params, "inner_macro_f1": inner["macro_f1"]})
        if best is None or inner["macro_f1"] > best[2]["macro_f1"]:
            best = (candidate, thresholds, inner, pooled)
    config, thresholds, inner, pooled = best
    paragraph_rule = choose_pooling(data, paras, pooled)
    tuned = time.perf_counter()
    model = registry.create(config.model, config.params)
    model.fit(data.texts, data.y, seed=config.seed, progress=within(progress, "final model"), contexts=data.contexts)
    finished = time.perf_counter()
    info = {
        "seed": config.seed,
        "timings_seconds": {"thresholds": round(tuned - started, 2), "final_fit": round(finished - tuned, 2)},
        "inner_cv": {
            "micro_f1": inner["micro_f1"],
            "macro_f1": inner["macro_f1"],
            "paragraph_macro_f1": paragraph_rule.get("inner_macro_f1"),
            "note": "thresholds tuned on these same out-of-fold scores: optimistic",
        },
    }
    if len(searched) > 1:
        info["search"] = searched
    return Predictor(model, thresholds, config, info, paragraph_rule)


@dataclass
class TrainResult:
    out: Path
    units: int
    seconds: float
    info: dict[str, Any]


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {"python": platform.python_version()}
    for package in ("clf", "numpy", "scikit-learn", "torch", "transformers", "onnxruntime"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            continue
    return found


def train(config: Config, data_path: str | Path, out: str | Path, progress: Progress | None = None) -> TrainResult:
    """Train from a validated config and write the model folder atomically."""
    started = time.perf_counter()
    check_replaceable_folder(out, data_files(data_path), MARKER_FILES)
    data = load_dataset(data_path)
    if len(data) < 2:
        raise DataError("1 record: thresholds are tuned on held-out records, so training needs at least 2", data_path)
    predictor = fit_predictor(config, data, progress)
    predictor.info.update(
        {
            "data": {
                "paths": [str(p) for p in data.files],
                "sha256": data.sha256,
                "units": len(data),
                "policies": data.policies,
                "label_counts": {label: int(data.y[:, j].sum()) for j, label in enumerate(LABELS)},
            },
            "versions": _versions(),
            "trained_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
    )
    predictor.info["timings_seconds"]["total"] = round(time.perf_counter() - started, 2)
    path = predictor.save(out, model_card(predictor))
    return TrainResult(path, len(data), time.perf_counter() - started, predictor.info)
