"""Average of registered models' probabilities: each member is trained and saved as it would be alone."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Self

import numpy as np

from clf.models.base import Classifier, Progress, within


class EnsembleModel(Classifier):
    name = "ensemble"

    def __init__(self, members: list[dict[str, Any]] | None = None, weights: list[float] | None = None):
        self.members = members if members is not None else [{"model": "tfidf", "params": {}}]
        self.weights = weights

    def _weights(self) -> np.ndarray:
        w = np.ones(len(self.members)) if self.weights is None else np.asarray(self.weights, dtype=float)
        return w / w.sum()

    def fit(
        self,
        texts: Sequence[str],
        y: np.ndarray,
        seed: int = 0,
        progress: Progress | None = None,
        contexts: Sequence[str] | None = None,
    ) -> Self:
        from clf.models import registry

        self.models_ = []
        for i, member in enumerate(self.members, 1):
            model = registry.create(member["model"], member.get("params", {}))
            stage = f"member {i}/{len(self.members)} ({member['model']})"
            model.fit(texts, y, seed=seed, progress=within(progress, stage), contexts=contexts)
            self.models_.append(model)
        return self

    def predict_proba(self, texts: Sequence[str], contexts: Sequence[str] | None = None) -> np.ndarray:
        return sum(w * m.predict_proba(texts, contexts) for w, m in zip(self._weights(), self.models_, strict=True))

    def save_weights(self, folder: Path) -> None:
        for i, model in enumerate(self.models_):
            model.save(folder / f"member-{i}")

    def load_weights(self, folder: Path, backend: str = "default") -> None:
        from clf.models import registry

        self.models_ = [registry.load(folder / f"member-{i}") for i in range(len(self.members))]

    def card_notes(self) -> str:
        notes = [f"- ensemble: mean of {', '.join(m['model'] for m in self.members)} probabilities"]
        notes += [m.card_notes() for m in getattr(self, "models_", []) if hasattr(m, "card_notes")]
        return "\n".join(notes) + "\n"
