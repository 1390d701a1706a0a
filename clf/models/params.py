"""Accepted hyper-parameter values: each model declares a rule per parameter, next to its constructor.

Configs are checked against these rules before anything trains, so a typo or an out-of-range
value is a one-line error that lists what is accepted, never a library's traceback mid-training.
A rule returns the value to use: a number YAML read as a string ("3e-4") becomes a float.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


class Rejected(ValueError):
    """A value a rule does not accept."""


class InvalidParam(ValueError):
    """A parameter whose value is not accepted: `key` and a message that says what is."""

    def __init__(self, key: str, message: str):
        self.key, self.message = key, message
        super().__init__(f"{key}: {message}")


@dataclass(frozen=True)
class Rule:
    accepted: str  # shown in the error message
    check: Callable[[Any], Any]  # the value to use, or raises Rejected

    def __call__(self, value: Any) -> Any:
        return self.check(value)


def _bounds(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    parts = []
    if low is not None:
        parts.append(f"{'>' if low_open else '≥'} {low:g}")
    if high is not None:
        parts.append(f"{'<' if high_open else '≤'} {high:g}")
    return " and ".join(parts)


def _in_bounds(x: float, low: float | None, high: float | None, low_open: bool, high_open: bool) -> bool:
    above = low is None or (x > low if low_open else x >= low)
    below = high is None or (x < high if high_open else x <= high)
    return above and below


def real(
    low: float | None = None, high: float | None = None, *, low_open: bool = False, high_open: bool = False
) -> Rule:
    """A finite number within the bounds; an int or a numeric string is read as a float."""
    bounds = _bounds(low, high, low_open, high_open)

    def check(value: Any) -> float:
        if isinstance(value, bool):
            raise Rejected
        try:
            x = float(value)
        except (TypeError, ValueError):
            raise Rejected from None
        if not math.isfinite(x) or not _in_bounds(x, low, high, low_open, high_open):
            raise Rejected
        return value if isinstance(value, int | float) else x

    return Rule(f"a number {bounds}".strip(), check)


def integer(low: int | None = None, high: int | None = None) -> Rule:
    bounds = _bounds(low, high, False, False)

    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not _in_bounds(value, low, high, False, False):
            raise Rejected
        return value

    return Rule(f"an integer {bounds}".strip(), check)


def flag() -> Rule:
    def check(value: Any) -> bool:
        if not isinstance(value, bool):
            raise Rejected
        return value

    return Rule("true or false", check)


def choice(*values: Any) -> Rule:
    def check(value: Any) -> Any:
        if isinstance(value, bool) or value not in values:  # True == 1 must not pass for 1
            raise Rejected
        return value

    shown = ["null" if v is None else repr(v) for v in values]
    return Rule(shown[0] if len(shown) == 1 else "one of " + ", ".join(shown), check)


def either(first: Rule, second: Rule) -> Rule:
    def check(value: Any) -> Any:
        try:
            return first(value)
        except Rejected:
            return second(value)

    return Rule(f"{first.accepted}, or {second.accepted}", check)


def ngram_range() -> Rule:
    def check(value: Any) -> list[int]:
        if not isinstance(value, list | tuple) or len(value) != 2:
            raise Rejected
        low, high = value
        if any(isinstance(x, bool) or not isinstance(x, int) for x in value) or not 1 <= low <= high:
            raise Rejected
        return list(value)

    return Rule("[low, high], integers with 1 ≤ low ≤ high", check)


def text() -> Rule:
    def check(value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise Rejected
        return value

    return Rule("a non-empty string", check)


def listed(item: Rule, what: str = "") -> Rule:
    def check(value: Any) -> list[Any]:
        if not isinstance(value, list) or not value:
            raise Rejected
        return [item(x) for x in value]

    return Rule(f"a non-empty list of {what or item.accepted}", check)


def check_all(rules: dict[str, Rule], params: dict[str, Any]) -> dict[str, Any]:
    """`params` with every value checked by its rule (keys without a rule are left to the caller)."""
    checked = dict(params)
    for key, value in params.items():
        if key in rules:
            try:
                checked[key] = rules[key](value)
            except Rejected:
                raise InvalidParam(key, f"{value!r} is not accepted; use {rules[key].accepted}") from None
    return checked
