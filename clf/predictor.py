"""A trained model with its thresholds, and the model folder it lives in.

A model folder holds: `config.yaml` (as used), `labels.json`, `thresholds.json`,
`training.json` (format version, data hash, counts, versions, seed, timings),
`model.json` plus weights written by the model, and a `README.md` model card.
It is written to a temporary folder and renamed into place, so an interrupted
run never leaves a half-written model and never destroys the previous one.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from clf import MODEL_FORMAT_VERSION, __version__
from clf.config import Config
from clf.context import contexts
from clf.errors import ClfError, ModelDirError
from clf.labels import LABELS
from clf.models import registry
from clf.models.base import Classifier
from clf.outputs import check_replaceable_folder
from clf.pooling import POOLINGS, pool
from clf.segment import split_units
from clf.thresholds import decide

REQUIRED_FILES = ("config.yaml", "labels.json", "thresholds.json", "training.json", "model.json")
MARKER_FILES = ("training.json", "model.json")  # a folder holding one of these is a clf model folder
PARAGRAPH_FILE = "paragraphs.json"  # optional: models older than paragraph pooling lack it


def paragraph_pieces(texts: Sequence[str]) -> tuple[list[str], list[str], np.ndarray]:
    """A paragraph's units as `clf predict` cuts them, each with its context inside the paragraph,
    and the index of the paragraph each belongs to."""
    pieces: list[str] = []
    around: list[str] = []
    owners: list[int] = []
    for i, text in enumerate(texts):
        units = split_units(text)
        pieces += [u.text for u in units] or [text]
        around += [c.text() for c in contexts(text, units)] or [""]
        owners += [i] * max(1, len(units))
    return pieces, around, np.asarray(owners, dtype=np.int64)


@dataclass
class Predictor:
    model: Classifier
    thresholds: np.ndarray
    config: Config
    info: dict[str, Any] = field(default_factory=dict)
    # how a multi-sentence input is scored and decided: {"pooling": ..., "thresholds": [12 floats]}
    paragraph: dict[str, Any] = field(default_factory=dict)
    # an ensemble's members as predictors of their own (evaluation scores them; never saved)
    parts: dict[str, Predictor] = field(default_factory=dict)

    def scores(self, texts: Sequence[str], contexts: Sequence[str] | None = None) -> np.ndarray:
        """Scores of units (sentences), each read as one piece, with what surrounds it (`clf.context`)."""
        if not len(texts):
            return np.zeros((0, len(LABELS)))
        return self.model.predict_proba(list(texts), None if contexts is None else list(contexts))

    def decide(self, scores: np.ndarray) -> np.ndarray:
        return decide(scores, self.thresholds, self.config.thresholds.always_one_label)

    def paragraph_scores(self, texts: Sequence[str]) -> np.ndarray:
        """Scores of multi-sentence inputs: cut into units as `clf predict` cuts a policy, then pooled."""
        how = self.paragraph.get("pooling", "max")
        if how == "direct" or not len(texts):
            return self.scores(texts)
        pieces, around, owners = paragraph_pieces(texts)
        return pool(self.scores(pieces, around), owners, len(texts), how)

    def decide_paragraphs(self, scores: np.ndarray) -> np.ndarray:
        """A paragraph's labels are its sentences' union, so a fallback may stand beside a practice."""
        thresholds = np.asarray(self.paragraph.get("thresholds", self.thresholds), dtype=float)
        return decide(scores, thresholds, self.config.thresholds.always_one_label, exclusive_fallbacks=False)

    def label_inputs(
        self, texts: Sequence[str], contexts: Sequence[str] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(scores, labels) of inputs that may be sentences or whole paragraphs (JSONL records, segments).

        A paragraph's sentences get their context from within the paragraph; `contexts` serve single units.
        """
        multi = np.array([len(split_units(t)) > 1 for t in texts], dtype=bool)
        scores = np.zeros((len(texts), len(LABELS)))
        pred = np.zeros((len(texts), len(LABELS)), dtype=np.int8)
        if (~multi).any():
            single = np.flatnonzero(~multi)
            around = None if contexts is None else [contexts[i] for i in single]
            scores[single] = self.scores([texts[i] for i in single], around)
            pred[single] = self.decide(scores[single])
        if multi.any():
            scores[multi] = self.paragraph_scores([t for t, m in zip(texts, multi, strict=True) if m])
            pred[multi] = self.decide_paragraphs(scores[multi])
        return scores, pred

    def save(self, out: str | Path, card: str) -> Path:
        """Write the model folder atomically; an existing folder is replaced only once the new one is complete."""
        out = Path(out)
        check_replaceable_folder(out, [], MARKER_FILES)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.parent / f".{out.name}.tmp-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            self.model.save(tmp)
            (tmp / "config.yaml").write_text(self.config.to_yaml(), encoding="utf-8")
            (tmp / "labels.json").write_text(json.dumps(list(LABELS), indent=2))
            thresholds = {label: float(t) for label, t in zip(LABELS, self.thresholds, strict=True)}
            (tmp / "thresholds.json").write_text(json.dumps(thresholds, indent=2))
            if self.paragraph:
                (tmp / PARAGRAPH_FILE).write_text(json.dumps(self.paragraph, indent=2))
            info = {"clf_format_version": MODEL_FORMAT_VERSION, "clf_version": __version__, **self.info}
            (tmp / "training.json").write_text(json.dumps(info, indent=2))
            (tmp / "README.md").write_text(card, encoding="utf-8")
            old = out.parent / f".{out.name}.old-{os.getpid()}"
            if out.exists():
                out.rename(old)
            tmp.rename(out)
            shutil.rmtree(old, ignore_errors=True)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return out

    @classmethod
    def load(cls, folder: str | Path, backend: str = "auto") -> Predictor:
        folder = Path(folder)
        if not folder.exists():
            raise ModelDirError(f"model folder not found: {folder}")
        if not folder.is_dir():
            raise ModelDirError(f"{folder} is a file, not a model folder")
        if not any((folder / name).exists() for name in MARKER_FILES):
            raise ModelDirError(f"{folder} is not a clf model folder (no training.json or model.json)")
        missing = [name for name in REQUIRED_FILES if not (folder / name).exists()]
        if missing:
            raise ModelDirError(f"incomplete model folder {folder}: missing {', '.join(missing)}")
        try:
            info = json.loads((folder / "training.json").read_text())
            labels = json.loads((folder / "labels.json").read_text())
            thresholds = json.loads((folder / "thresholds.json").read_text())
            raw_config = yaml.safe_load((folder / "config.yaml").read_text(encoding="utf-8"))
            paragraph_file = folder / PARAGRAPH_FILE
            paragraph = json.loads(paragraph_file.read_text()) if paragraph_file.exists() else {}
        except (ValueError, yaml.YAMLError) as exc:
            raise ModelDirError(f"{folder}: unreadable model file ({exc})") from None
        version = info.get("clf_format_version")
        if not isinstance(version, int):
            raise ModelDirError(f"{folder}: training.json has no clf_format_version; not a clf model folder")
        if version > MODEL_FORMAT_VERSION:
            raise ModelDirError(
                f"{folder} was written by a newer clf (model format {version}); "
                f"this clf {__version__} reads format {MODEL_FORMAT_VERSION} or older: upgrade clf"
            )
        if paragraph and (
            paragraph.get("pooling") not in POOLINGS or len(paragraph.get("thresholds", [])) != len(LABELS)
        ):
            raise ModelDirError(
                f"{folder}/{PARAGRAPH_FILE}: needs a pooling in {POOLINGS} and {len(LABELS)} thresholds"
            )
        if labels != list(LABELS):
            raise ModelDirError(f"{folder}: its label set differs from this clf's 12 labels")
        try:
            model = registry.load(folder, backend)
            config = Config(**raw_config)
        except ClfError:
            raise
        except Exception as exc:  # a damaged weights file must not surface as a traceback
            raise ModelDirError(f"{folder}: cannot load model weights ({type(exc).__name__}: {exc})") from None
        return cls(model, np.array([thresholds[x] for x in LABELS]), config, info, paragraph)
