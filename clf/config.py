"""Training configs: small YAML files, validated once, with `key.sub=value` overrides.

A config names a registered model and gives its constructor keyword arguments, so a
saved `config.yaml` rebuilds exactly the model that was trained.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from clf.errors import ConfigError

CONFIGS_DIR = Path(__file__).resolve().parent.parent / "configs"


class ThresholdConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    inner_folds: int = Field(5, ge=2, description="folds of the inner cross-validation that tunes thresholds")
    always_one_label: bool = Field(True, description="a unit with no label over threshold gets its best label")


class EvaluationConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    seeds: list[int] = Field(default_factory=lambda: [0])


class Config(BaseModel):
    """The whole training config; unknown keys are errors, never silently ignored."""

    model_config = ConfigDict(extra="forbid")
    model: str
    version: int = 1
    seed: int = 0
    params: dict[str, Any] = Field(default_factory=dict)
    # Optional grid over params, chosen by inner cross-validation inside the training data.
    search: dict[str, list[Any]] = Field(default_factory=dict)
    thresholds: ThresholdConfig = Field(default_factory=ThresholdConfig)
    evaluation: EvaluationConfig = Field(default_factory=EvaluationConfig)

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.model_dump(), sort_keys=False)


def parse_override(text: str) -> tuple[list[str], Any]:
    """`params.C=2.5` → (["params", "C"], 2.5); the value is read as YAML."""
    if "=" not in text:
        raise ConfigError(f"override {text!r} must look like key.sub=value")
    key, raw = text.split("=", 1)
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError:
        value = raw
    return key.strip().split("."), value


def load_config(
    model: str | None = None,
    path: str | Path | None = None,
    overrides: list[str] | None = None,
    seed: int | None = None,
) -> Config:
    """`model` means configs/<model>.yaml; `path` any config file. Validates model name and params."""
    from clf.models.registry import check_params

    if path is None:
        if model is None:
            raise ConfigError("give --model NAME or --config FILE")
        path = CONFIGS_DIR / f"{model}.yaml"
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: a config is a YAML mapping")
    raw = copy.deepcopy(raw)
    for override in overrides or []:
        keys, value = parse_override(override)
        node = raw
        for key in keys[:-1]:
            node = node.setdefault(key, {})
            if not isinstance(node, dict):
                raise ConfigError(f"override {override!r}: {key!r} is not a section")
        node[keys[-1]] = value
    if seed is not None:
        raw["seed"] = seed
    try:
        config = Config(**raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"])
        raise ConfigError(f"{path}: {where}: {first['msg']}") from None
    check_params(config.model, config.params, source=str(path))
    check_params(config.model, config.search, source=f"{path} (search)")
    return config


def candidates(config: Config) -> list[Config]:
    """The configs a `search` grid spans (just `config` when there is no grid)."""
    import itertools

    if not config.search:
        return [config]
    keys = list(config.search)
    return [
        config.model_copy(update={"params": {**config.params, **dict(zip(keys, values, strict=True))}})
        for values in itertools.product(*(config.search[k] for k in keys))
    ]
