"""Average of registered models' probabilities: each member is trained and saved as it would be alone."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np

from clf.models import params as P
from clf.models.base import Classifier, Progress, within
from clf.models.params import Rule


def _member(value: Any) -> dict[str, Any]:
    """The shape of a member; its params are checked by its own model's rules (`check_params`)."""
    if not isinstance(value, dict) or not isinstance(value.get("model"), str) or set(value) - {"model", "params"}:
        raise P.Rejected
    if not isinstance(value.get("params", {}), dict):
        raise P.Rejected
    return value


class EnsembleModel(Classifier):
    name = "ensemble"
    param_rules: ClassVar[dict[str, Rule]] = {
        "members": P.listed(Rule("{model: NAME, params: {...}}", _member), "{model: NAME, params: {...}}"),
        "weights": P.either(P.choice(None, "auto"), P.listed(P.real(0), "numbers ≥ 0, one per member")),
    }

    @classmethod
    def check_params(cls, params: dict[str, Any]) -> dict[str, Any]:
        """Each member's params by its own model's rules, and one weight per member."""
        from clf.errors import ConfigError
        from clf.models import registry

        checked = super().check_params(params)
        members = checked.get("members", [{"model": "tfidf", "params": {}}])
        for i, member in enumerate(members):
            try:
                params = registry.check_params(member["model"], member.get("params", {}), source=None)
            except ConfigError as exc:
                raise P.InvalidParam(f"members[{i}]", str(exc)) from None
            members[i] = {**member, "params": params}
        weights = checked.get("weights")
        if isinstance(weights, list) and (len(weights) != len(members) or not sum(weights) > 0):
            raise P.InvalidParam(
                "weights", f"{weights!r} is not accepted; use one number ≥ 0 per member ({len(members)}), not all 0"
            )
        return checked

    def __init__(self, members: list[dict[str, Any]] | None = None, weights: list[float] | None = None):
        self.members = members if members is not None else [{"model": "tfidf", "params": {}}]
        self.weights = weights

    def _weights(self) -> np.ndarray:
        """`None`, or `auto` before training chose (`clf.train.mix_weights`): equal weights."""
        w = np.asarray(self.weights, dtype=float) if isinstance(self.weights, list) else np.ones(len(self.members))
        return w / w.sum()

    def names(self) -> list[str]:
        """Member names for reports: the model's name, numbered when two members share it."""
        kinds = [m["model"] for m in self.members]
        return [k if kinds.count(k) == 1 else f"{k}-{kinds[: i + 1].count(k)}" for i, k in enumerate(kinds)]

    def parts(self) -> dict[str, Classifier]:
        return dict(zip(self.names(), getattr(self, "models_", []), strict=False))

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
        return self.combine([m.predict_proba(texts, contexts) for m in self.models_])

    def combine(self, part_scores: list[np.ndarray]) -> np.ndarray:
        return sum(w * s for w, s in zip(self._weights(), part_scores, strict=True))

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
