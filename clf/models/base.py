"""The interface every classifier implements, so training, evaluation and prediction never branch on model type."""

from __future__ import annotations

import inspect
import json
import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np

from clf.models.params import Rule, check_all

# A training callback receives small dicts such as {"step": 3, "total": 90, "loss": 0.41}.
Progress = Callable[[dict[str, Any]], None]

_threads: int | None = None  # set by set_inference_threads


def available_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def set_inference_threads(threads: int | None) -> None:
    """Threads per model in this process (None: all cores); each worker of a pool of processes sets 1."""
    global _threads
    _threads = None if threads is None else max(1, threads)


def inference_threads() -> int:
    return _threads or available_cores()


def within(progress: Progress | None, stage: str) -> Progress | None:
    """Report a named stage, and nest the stages reported inside it ("seed 0 · final model · member 1/2")."""
    if progress is None:
        return None
    progress({"stage": stage})
    return lambda event: progress({**event, "stage": f"{stage} · {event['stage']}" if "stage" in event else stage})


class Classifier(ABC):
    """Multi-label classifier over the 12 labels, scikit-learn style.

    Hyper-parameters are the explicit keyword arguments of `__init__`, stored unchanged
    under the same names, so `get_config()` rebuilds the model (`cls(**get_config())`).
    Fitted state lives in attributes ending in `_`.
    """

    name: ClassVar[str]
    # Inference engines a saved model can run on; the first is the default ("auto" picks it).
    backends: ClassVar[tuple[str, ...]] = ("default",)
    # The accepted values of every `__init__` parameter (clf.models.params), checked before training.
    param_rules: ClassVar[dict[str, Rule]] = {}

    @classmethod
    def check_params(cls, params: dict[str, Any]) -> dict[str, Any]:
        """`params` checked against `param_rules` (raises InvalidParam); a model may add checks across them."""
        return check_all(cls.param_rules, params)

    def get_config(self) -> dict[str, Any]:
        params = inspect.signature(type(self).__init__).parameters
        return {key: getattr(self, key) for key in params if key != "self"}

    @abstractmethod
    def fit(
        self,
        texts: Sequence[str],
        y: np.ndarray,
        seed: int = 0,
        progress: Progress | None = None,
        contexts: Sequence[str] | None = None,
    ) -> Self:
        """Learn from texts and a binary (n, 12) label matrix.

        `contexts` (one string per text: the section heading and the unit before, `clf.context`) is
        what a reader sees around each unit; a model may use it or ignore it, and must cope without it.
        """

    @abstractmethod
    def predict_proba(self, texts: Sequence[str], contexts: Sequence[str] | None = None) -> np.ndarray:
        """(n, 12) probabilities in LABELS order. Never truncates a long text silently."""

    def parts(self) -> dict[str, Classifier]:
        """Fitted sub-models worth scoring on their own (an ensemble's members); none by default."""
        return {}

    def combine(self, part_scores: list[np.ndarray]) -> np.ndarray | None:
        """This model's probabilities from its parts' (in `parts()` order), when they are a fixed function
        of them, so a caller that has scored the parts need not score them again; None otherwise."""
        return None

    @abstractmethod
    def save_weights(self, folder: Path) -> None:
        """Write fitted state with formats that cannot run code on load (JSON, safetensors, ONNX)."""

    @abstractmethod
    def load_weights(self, folder: Path, backend: str) -> None:
        """Read what `save_weights` wrote, for inference on `backend` (one of `backends`)."""

    def save(self, folder: str | Path) -> None:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "model.json").write_text(json.dumps({"name": self.name, "params": self.get_config()}, indent=2))
        self.save_weights(folder)

    @classmethod
    def load(cls, folder: str | Path, backend: str = "auto") -> Self:
        from clf.errors import ConfigError

        if backend == "auto":
            backend = cls.backends[0]
        if backend not in cls.backends:
            raise ConfigError(f"a {cls.name} model runs on {', '.join(cls.backends)}, not {backend!r}")
        folder = Path(folder)
        spec = json.loads((folder / "model.json").read_text())
        model = cls(**spec["params"])
        model.load_weights(folder, backend)
        return model
