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
    key, sep, raw = text.partition("=")
    keys = key.strip().split(".")
    if not sep or not all(keys):
        raise ConfigError(f"override {text!r} must look like key.sub=value")
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError:
        value = raw
    return keys, value


def _read_yaml(path: Path) -> dict[str, Any]:
    """The config file as a mapping; a syntax error is one line, `file:line:column: problem`."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{where}: not valid YAML ({problem})") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: a config is a YAML mapping")
    return raw


def _apply_overrides(raw: dict[str, Any], overrides: list[str], notices: list[str]) -> set[str]:
    """Set each `key.sub=value` in `raw`; returns the params set. An explicit `params.X` wins over a grid for X."""
    explicit: dict[str, set[str]] = {"params": set(), "search": set()}
    for override in overrides:
        keys, value = parse_override(override)
        node = raw
        for key in keys[:-1]:
            node = node.setdefault(key, {})
            if not isinstance(node, dict):
                raise ConfigError(f"override {override!r}: {key!r} is not a section")
        node[keys[-1]] = value
        if keys[0] in explicit:
            names = keys[1:2] or (list(value) if isinstance(value, dict) else [])
            explicit[keys[0]].update(names)
    grid = raw.get("search")
    for name in sorted(explicit["params"]):
        if not isinstance(grid, dict) or name not in grid:
            continue
        if name in explicit["search"]:
            raise ConfigError(f"--set params.{name} and --set search.{name} contradict each other; give one")
        notices.append(f"--set params.{name} wins over the config's search grid for {name} {grid.pop(name)}")
    return explicit["params"]


def load_config(
    model: str | None = None,
    path: str | Path | None = None,
    overrides: list[str] | None = None,
    seed: int | None = None,
    notices: list[str] | None = None,
) -> Config:
    """`model` means configs/<model>.yaml; `path` any config file. Validates model name, params and grid.

    Anything the user should know but that is not an error (a search grid an override replaced)
    is appended to `notices`.
    """
    from clf.models.registry import check_params

    if path is None:
        if model is None:
            raise ConfigError("give --model NAME or --config FILE")
        path = CONFIGS_DIR / f"{model}.yaml"
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    raw = copy.deepcopy(_read_yaml(path))
    explicit = _apply_overrides(raw, overrides or [], notices if notices is not None else [])
    if seed is not None:
        raw["seed"] = seed
    try:
        config = Config(**raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"])
        raise ConfigError(f"{path}: {where}: {first['msg']}") from None
    params = check_params(config.model, config.params, str(path), {name: f"--set params.{name}" for name in explicit})
    search = {}
    for name, values in config.search.items():
        if not values:
            raise ConfigError(f"{path}: search.{name} is an empty list; give values to try, or remove it")
        search[name] = [check_params(config.model, {**params, name: v}, f"{path} (search)")[name] for v in values]
    return config.model_copy(update={"params": params, "search": search})


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
