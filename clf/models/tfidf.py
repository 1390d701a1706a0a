"""TF-IDF baseline: word and character n-grams, one logistic regression per label.

Saved without pickle: the vocabularies as JSON and the idf vectors and coefficients as
safetensors. Prediction needs only those arrays and the vectorizers' settings.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar, Self

import numpy as np
import scipy.sparse as sp
from safetensors.numpy import load_file, save_file
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from clf.labels import LABELS
from clf.models import params as P
from clf.models.base import Classifier, Progress
from clf.models.params import Rule

_ABSENT_LOGIT = -20.0  # a label with no positive training example is scored ~0


class TfidfModel(Classifier):
    name = "tfidf"
    param_rules: ClassVar[dict[str, Rule]] = {
        "word_ngrams": P.ngram_range(),
        "char_ngrams": P.ngram_range(),
        "min_df": P.either(P.integer(1), P.real(0, 1, low_open=True)),  # documents, or a share of them
        "max_features": P.either(P.integer(1), P.choice(None)),
        "sublinear_tf": P.flag(),
        "C": P.real(0, low_open=True),
        "class_weight": P.choice("balanced", None),
        "max_iter": P.integer(1),
        "context_weight": P.real(0),
    }

    def __init__(
        self,
        word_ngrams: tuple[int, int] | list[int] = (1, 2),
        char_ngrams: tuple[int, int] | list[int] = (2, 5),
        min_df: int = 1,
        max_features: int | None = 200_000,
        sublinear_tf: bool = True,
        C: float = 10.0,
        class_weight: str | None = "balanced",
        max_iter: int = 2000,
        context_weight: float = 0.0,
    ):
        self.word_ngrams = word_ngrams
        self.char_ngrams = char_ngrams
        self.min_df = min_df
        self.max_features = max_features
        self.sublinear_tf = sublinear_tf
        self.C = C
        self.class_weight = class_weight
        self.max_iter = max_iter
        # > 0: word n-grams of the context (heading, unit before; `clf.context`) as extra features, scaled by this
        self.context_weight = context_weight

    def _vectorizers(self, vocabularies: dict | None = None) -> dict[str, TfidfVectorizer]:
        """Word and character n-gram vectorizers; with saved vocabularies, fixed to them (no refitting)."""
        vocab = vocabularies or {}
        kinds = {"word": ("word", self.word_ngrams), "char": ("char_wb", self.char_ngrams)}
        if self.context_weight:
            kinds["context"] = ("word", self.word_ngrams)
        return {
            name: TfidfVectorizer(
                analyzer=analyzer,
                ngram_range=tuple(ngrams),
                min_df=1 if vocab else self.min_df,
                max_features=None if vocab else self.max_features,
                vocabulary=vocab.get(name),
                sublinear_tf=self.sublinear_tf,
                lowercase=True,
                dtype=np.float32,
            )
            for name, (analyzer, ngrams) in kinds.items()
        }

    def _columns(self, texts: Sequence[str], contexts: Sequence[str] | None) -> dict[str, Sequence[str]]:
        columns = {"word": texts, "char": texts}
        if self.context_weight:
            columns["context"] = list(contexts) if contexts is not None else [""] * len(texts)
        return columns

    def _stack(self, parts: dict[str, sp.spmatrix]) -> sp.csr_matrix:
        scale = {"context": float(self.context_weight)}
        return sp.hstack([m * scale.get(name, 1.0) for name, m in parts.items()], format="csr")

    def _features(self, texts: Sequence[str], contexts: Sequence[str] | None = None) -> sp.csr_matrix:
        columns = self._columns(texts, contexts)
        return self._stack({name: v.transform(columns[name]) for name, v in self.vectorizers_.items()})

    def fit(
        self,
        texts: Sequence[str],
        y: np.ndarray,
        seed: int = 0,
        progress: Progress | None = None,
        contexts: Sequence[str] | None = None,
    ) -> Self:
        self.vectorizers_ = self._vectorizers()
        for vectorizer in self.vectorizers_.values():  # context words are counted in the units' vocabulary
            vectorizer.fit(texts)
        x = self._features(texts, contexts)
        coef = np.zeros((len(LABELS), x.shape[1]), dtype=np.float32)
        intercept = np.full(len(LABELS), _ABSENT_LOGIT, dtype=np.float32)
        for j in range(len(LABELS)):
            column = y[:, j]
            if 0 < column.sum() < len(column):
                lr = LogisticRegression(
                    C=self.C,
                    class_weight=self.class_weight,
                    solver="liblinear",
                    max_iter=self.max_iter,
                    random_state=seed,
                )
                lr.fit(x, column)
                coef[j], intercept[j] = lr.coef_[0], lr.intercept_[0]
            elif column.sum() == len(column):
                intercept[j] = -_ABSENT_LOGIT
            if progress:
                progress({"step": j + 1, "total": len(LABELS)})
        self.coef_, self.intercept_ = coef, intercept
        return self

    def predict_proba(self, texts: Sequence[str], contexts: Sequence[str] | None = None) -> np.ndarray:
        logits = self._features(list(texts), contexts) @ self.coef_.T + self.intercept_
        return 1.0 / (1.0 + np.exp(-np.asarray(logits, dtype=np.float64)))

    def save_weights(self, folder: Path) -> None:
        vocab = {name: {t: int(i) for t, i in v.vocabulary_.items()} for name, v in self.vectorizers_.items()}
        (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False))
        tensors = {f"{name}_idf": v.idf_.astype(np.float32) for name, v in self.vectorizers_.items()}
        save_file({**tensors, "coef": self.coef_, "intercept": self.intercept_}, str(folder / "model.safetensors"))

    def load_weights(self, folder: Path, backend: str = "default") -> None:
        vocab = json.loads((folder / "vocab.json").read_text(encoding="utf-8"))
        tensors = load_file(str(folder / "model.safetensors"))
        self.vectorizers_ = self._vectorizers(vocab)
        for name, vectorizer in self.vectorizers_.items():
            vectorizer.idf_ = tensors[f"{name}_idf"]
        self.coef_, self.intercept_ = tensors["coef"], tensors["intercept"]
