"""Training: inner out-of-fold scores → per-label thresholds → fit on everything → model folder."""

from __future__ import annotations

import itertools
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


@dataclass
class Reading:
    """The training data's paragraphs, cut into units with contexts exactly as `Predictor.paragraph_scores` does."""

    paragraphs: list[Paragraph]
    y: np.ndarray  # paragraph labels: the union of their units'
    pieces: list[str]
    contexts: list[str]
    owners: np.ndarray  # paragraph index of each piece

    @classmethod
    def of(cls, data: Dataset) -> Reading:
        paras = paragraphs(data)
        pieces, contexts, owners = paragraph_pieces([p.text for p in paras])
        return cls(paras, paragraph_labels(data, paras), pieces, contexts, owners)


@dataclass
class OutOfFold:
    """One model's scores on data it did not see: units, paragraph pieces, and paragraphs read whole."""

    units: np.ndarray
    pieces: np.ndarray
    whole: np.ndarray

    @staticmethod
    def mix(parts: list[OutOfFold], weights: np.ndarray) -> OutOfFold:
        w = np.asarray(weights, dtype=float) / np.sum(weights)
        return OutOfFold(*(sum(wi * getattr(p, f) for wi, p in zip(w, parts, strict=True)) for f in OutOfFold.FIELDS))

    FIELDS = ("units", "pieces", "whole")


def out_of_fold_scores(
    config: Config, data: Dataset, reading: Reading, progress: Progress | None = None
) -> dict[str, OutOfFold]:
    """Out-of-fold scores of the model ("") and of each of its parts (an ensemble's members), from models
    that did not see the unit's policy (inner folds grouped by policy)."""
    shape = (len(data), len(LABELS)), (len(reading.pieces), len(LABELS)), (len(reading.paragraphs), len(LABELS))
    out: dict[str, OutOfFold] = {}
    folds = list(inner_folds(data.groups, config.thresholds.inner_folds, config.seed))
    for k, (train_idx, test_idx) in enumerate(folds, 1):
        part = data.subset(train_idx)
        model = registry.create(config.model, config.params)
        stage = within(progress, f"threshold fold {k}/{len(folds)}")
        model.fit(part.texts, part.y, seed=config.seed, progress=stage, contexts=part.contexts)
        held = data.subset(test_idx)
        held_out = set(test_idx.tolist())
        mine = np.array([j for j, p in enumerate(reading.paragraphs) if p.units[0] in held_out], dtype=np.int64)
        my_pieces = np.flatnonzero(np.isin(reading.owners, mine))
        inputs = {
            "units": (test_idx, held.texts, held.contexts),
            "whole": (mine, [reading.paragraphs[j].text for j in mine], None),
            "pieces": (my_pieces, [reading.pieces[i] for i in my_pieces], [reading.contexts[i] for i in my_pieces]),
        }
        parts = model.parts()
        for name in [*parts, ""]:  # the parts first: an ensemble's scores are then mixed, not computed again
            oof = out.setdefault(name, OutOfFold(*(np.zeros(s) for s in shape)))
            for field, (rows, texts, contexts) in inputs.items():
                if not len(rows):
                    continue
                if name:
                    scores = parts[name].predict_proba(texts, contexts)
                else:
                    scores = model.combine([getattr(out[p], field)[rows] for p in parts]) if parts else None
                    if scores is None:
                        scores = model.predict_proba(texts, contexts)
                getattr(oof, field)[rows] = scores
    return out


@dataclass
class Decisions:
    """What inner out-of-fold scores decide: unit thresholds, paragraph pooling and thresholds, inner scores."""

    thresholds: np.ndarray
    paragraph: dict[str, Any]
    inner: dict[str, Any]


def decisions(oof: OutOfFold, data: Dataset, reading: Reading, always_one_label: bool) -> Decisions:
    thresholds = tune(data.y, oof.units)
    inner = score(data.y, decide(oof.units, thresholds, always_one_label))
    tried = []
    for how in POOLINGS if reading.paragraphs else ():
        pooled = oof.whole if how == "direct" else pool(oof.pieces, reading.owners, len(reading.paragraphs), how)
        paragraph_thresholds = tune(reading.y, pooled)
        macro = score(reading.y, decide(pooled, paragraph_thresholds, exclusive_fallbacks=False))["macro_f1"]
        tried.append({"pooling": how, "thresholds": paragraph_thresholds.tolist(), "inner_macro_f1": macro})
    paragraph = {}
    if tried:  # the pooling with the best inner out-of-fold paragraph macro-F1
        best = max(tried, key=lambda t: t["inner_macro_f1"])
        paragraph = {
            **best,
            "paragraphs": len(reading.paragraphs),
            "tried": {t["pooling"]: t["inner_macro_f1"] for t in tried},
        }
    return Decisions(thresholds, paragraph, inner)


WEIGHT_STEP = 0.1


def mix_weights(config: Config, oof: dict[str, OutOfFold], data: Dataset) -> tuple[Config, OutOfFold]:
    """`weights: auto` (an ensemble): the members' mix with the best inner out-of-fold macro-F1, on a grid
    of step WEIGHT_STEP; ties go to the mix closest to equal weights."""
    parts = [oof[name] for name in oof if name]
    if config.params.get("weights") != "auto" or len(parts) < 2:
        return config, oof[""]
    steps = round(1 / WEIGHT_STEP)
    grid = [np.array(w) / steps for w in itertools.product(range(1, steps), repeat=len(parts)) if sum(w) == steps]
    best = None
    for weights in grid:
        mixed = OutOfFold.mix(parts, weights)
        macro = score(data.y, decide(mixed.units, tune(data.y, mixed.units), config.thresholds.always_one_label))[
            "macro_f1"
        ]
        key = (round(macro, 6), -float(np.abs(weights - 1 / len(parts)).sum()))
        if best is None or key > best[0]:
            best = (key, weights, mixed)
    weights = [round(float(w), 3) for w in best[1]]
    return config.model_copy(update={"params": {**config.params, "weights": weights}}), best[2]


def fit_predictor(config: Config, data: Dataset, progress: Progress | None = None) -> Predictor:
    """Hyper-parameters (if searched), an ensemble's weights (if `auto`), thresholds and paragraph pooling
    from inner out-of-fold scores, then the final fit.

    Everything chosen here is chosen on `data` alone, so an outer evaluation fold stays unseen. The
    returned predictor carries a predictor per part (an ensemble's members, each with thresholds from its
    own out-of-fold scores), so an evaluation scores the members of the same fits without training them again.
    """
    started = time.perf_counter()
    reading = Reading.of(data)
    always = config.thresholds.always_one_label
    best = None
    searched = []
    for candidate in candidates(config):
        oof = out_of_fold_scores(candidate, data, reading, progress)
        candidate, mixed = mix_weights(candidate, oof, data)
        decided = decisions(mixed, data, reading, always)
        searched.append({"params": candidate.params, "inner_macro_f1": decided.inner["macro_f1"]})
        if best is None or decided.inner["macro_f1"] > best[1].inner["macro_f1"]:
            best = (candidate, decided, oof)
    config, decided, oof = best
    tuned = time.perf_counter()
    model = registry.create(config.model, config.params)
    model.fit(data.texts, data.y, seed=config.seed, progress=within(progress, "final model"), contexts=data.contexts)
    finished = time.perf_counter()
    info = {
        "seed": config.seed,
        "timings_seconds": {"thresholds": round(tuned - started, 2), "final_fit": round(finished - tuned, 2)},
        "inner_cv": {
            "micro_f1": decided.inner["micro_f1"],
            "macro_f1": decided.inner["macro_f1"],
            "paragraph_macro_f1": decided.paragraph.get("inner_macro_f1"),
            "note": "thresholds tuned on these same out-of-fold scores: optimistic",
        },
    }
    if len(searched) > 1:
        info["search"] = searched
    predictor = Predictor(model, decided.thresholds, config, info, decided.paragraph)
    for name, part in model.parts().items():
        part_decided = decisions(oof[name], data, reading, always)
        part_config = Config(model=part.name, params=part.get_config(), seed=config.seed, thresholds=config.thresholds)
        predictor.parts[name] = Predictor(part, part_decided.thresholds, part_config, {}, part_decided.paragraph)
    return predictor


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


def train(
    config: Config,
    data_path: str | Path,
    out: str | Path,
    progress: Progress | None = None,
    policies: list[str] | None = None,
) -> TrainResult:
    """Train from a validated config and write the model folder atomically (on some `policies` only, if given)."""
    started = time.perf_counter()
    check_replaceable_folder(out, data_files(data_path), MARKER_FILES)
    data = load_dataset(data_path)
    if policies:
        data = data.only(policies)
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
