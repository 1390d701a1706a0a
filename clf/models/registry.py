"""The one closed map from config model names to classes. Saved models store the name, never an import path."""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any

from clf.errors import ConfigError, ModelDirError
from clf.models.base import Classifier
from clf.models.params import InvalidParam


def _registry() -> dict[str, type[Classifier]]:
    # Imported here so that loading one model never imports another's heavy dependencies.
    from clf.models.ensemble import EnsembleModel
    from clf.models.tfidf import TfidfModel

    models: dict[str, type[Classifier]] = {"tfidf": TfidfModel, "ensemble": EnsembleModel}
    try:
        from clf.models.transformer import TransformerModel
    except ImportError:  # the transformer module is optional until it lands
        return models
    models["transformer"] = TransformerModel
    return models


def names() -> list[str]:
    return sorted(_registry())


def get(name: str) -> type[Classifier]:
    models = _registry()
    if name not in models:
        raise ConfigError(f"unknown model {name!r}; known models: {', '.join(sorted(models))}")
    return models[name]


def check_params(
    name: str, params: dict[str, Any], source: str | None = "config", sources: dict[str, str] | None = None
) -> dict[str, Any]:
    """Unknown hyper-parameters and values a model does not accept are errors that say what is accepted.

    `source` names where the params come from, `sources` where a single one does (a `--set`).
    Returns the params to use (a number YAML read as a string becomes a float).
    """
    cls = get(name)

    def where(key: str) -> str:
        origin = (sources or {}).get(key, source)
        return f"{origin}: " if origin else ""

    accepted = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        raise ConfigError(f"{where(unknown[0])}unknown {name} parameter(s) {unknown}; accepted: {', '.join(accepted)}")
    try:
        return cls.check_params(params)
    except InvalidParam as exc:
        raise ConfigError(f"{where(exc.key)}{name} parameter {exc.key}: {exc.message}") from None


def create(name: str, params: dict[str, Any]) -> Classifier:
    return get(name)(**check_params(name, params))


def load(folder: str | Path, backend: str = "auto") -> Classifier:
    """Rebuild a saved classifier from its folder (`model.json` names the registered class)."""
    folder = Path(folder)
    try:
        spec = json.loads((folder / "model.json").read_text())
        name = spec["name"]
    except (OSError, ValueError, KeyError) as exc:
        raise ModelDirError(f"{folder}: not a clf model folder (model.json unreadable: {exc})") from None
    try:
        cls = get(name)
    except ConfigError as exc:
        raise ModelDirError(f"{folder}: {exc}") from None
    return cls.load(folder, backend)
