"""Tables (Markdown) and figures (matplotlib) for the README and the evaluation notebooks."""

from __future__ import annotations

from typing import Any

from clf.labels import CODE_OF, LABELS


def _fmt(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def stats_markdown(stats: dict[str, Any]) -> str:
    """Units and label counts per policy (columns) and overall, as a Markdown table."""
    policies = list(stats["per_policy"])
    head = "| label | " + " | ".join(policies) + " | all |"
    lines = [head, "|---|" + "---:|" * (len(policies) + 1)]
    lines.append("| **units** | " + " | ".join(str(stats["per_policy"][p]["units"]) for p in policies) + f" | **{stats['units']}** |")
    for label in LABELS:
        cells = [str(stats["per_policy"][p]["labels"][label]) for p in policies]
        lines.append(f"| {label} ({CODE_OF[label]}) | " + " | ".join(cells) + f" | {stats['labels'][label]} |")
    per_unit = ", ".join(f"{k} label{'s' if k != '1' else ''}: {v}" for k, v in stats["labels_per_unit"].items())
    lines += ["", f"Labels per unit: {per_unit}. Flagged as hard: {len(stats['flagged'])} units."]
    return "\n".join(lines)


def kappa_markdown(table: dict[str, Any]) -> str:
    """Per-label Cohen's kappa with bootstrap CI, positives per pass and observed agreement."""
    lines = [
        "| label | positives (1st / 2nd) | observed agreement | κ | 95% CI |",
        "|---|---:|---:|---:|---|",
    ]
    for row in table["labels"]:
        ci = f"{_fmt(row['ci_low'])}–{_fmt(row['ci_high'])}" if row["ci_low"] is not None else "–"
        lines.append(
            f"| {row['label']} | {row['positives_first']} / {row['positives_second']} | "
            f"{row['observed_agreement']:.3f} | {_fmt(row['kappa'])} | {ci} |"
        )
    lines += [
        "",
        f"{table['units']} units; exact label-set match {table['exact_match']:.3f}; "
        f"macro-κ over labels with ≥ 5 positives: {_fmt(table['macro_kappa'], 3)}.",
    ]
    return "\n".join(lines)
