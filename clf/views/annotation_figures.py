"""Tables and figures about the gold: label counts per policy, labels per unit, lengths, co-occurrence, kappa."""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from clf.labels import CODE_OF, LABELS
from clf.views.plotting import _codes, _figure, _fmt, _heatmap, _long, _md_cell

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from clf.annotations import GoldFile


def stats_markdown(stats: dict[str, Any]) -> str:
    """Units and label counts, one row per policy (label codes as columns) and a total row."""
    codes = [CODE_OF[label] for label in LABELS]
    lines = ["| policy | units | " + " | ".join(codes) + " |", "|---|---:|" + "---:|" * len(codes)]
    for policy, row in stats["per_policy"].items():
        lines.append(f"| {policy} | {row['units']} | " + " | ".join(str(row["labels"][x]) for x in LABELS) + " |")
    total = " | ".join(f"**{stats['labels'][x]}**" for x in LABELS)
    lines.append(f"| **all ({len(stats['per_policy'])} policies)** | **{stats['units']}** | {total} |")
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


def policy_labels_figure(stats: dict[str, Any]) -> Figure:
    """Label counts per policy (cells), coloured by the share of the policy's units carrying the label.
    One row per policy, so 36 policies stay readable."""
    policies = list(stats["per_policy"])
    counts = np.array([[stats["per_policy"][p]["labels"][x] for x in LABELS] for p in policies], dtype=float)
    units = np.array([stats["per_policy"][p]["units"] for p in policies], dtype=float)
    fig, axes = _figure(11, 3.2 + 0.28 * len(policies))
    ax = axes[0, 0]
    image = _heatmap(ax, counts / units[:, None], counts.astype(int).astype(str))
    fig.colorbar(image, ax=ax, label="share of the policy's units")
    ax.set_yticks(range(len(policies)), [f"{p} ({int(n)})" for p, n in zip(policies, units, strict=True)], fontsize=8)
    ax.set_xticks(range(len(LABELS)), [_long(x) for x in LABELS], fontsize=8, rotation=35, ha="right")
    ax.set_xlabel("label")
    ax.set_ylabel("policy (units)")
    ax.set_title("Units labelled with each category, per policy")
    return fig


def labels_per_unit_figure(stats: dict[str, Any]) -> Figure:
    """How many labels a unit carries (bar per count)."""
    sizes = stats["labels_per_unit"]
    fig, axes = _figure(5, 3.2)
    ax = axes[0, 0]
    keys = list(sizes)
    bars = ax.bar(keys, [sizes[k] for k in keys], color="tab:blue")
    ax.bar_label(bars, fontsize=8)
    ax.set_xlabel("labels on the unit")
    ax.set_ylabel("units")
    ax.set_title(f"Labels per unit ({stats['units']} units)")
    return fig


def unit_lengths(files: list[GoldFile]) -> dict[str, list[int]]:
    """Words per unit, per policy (in file order)."""
    return {gold.policy: [len(r["text"].split()) for r in gold.records] for gold in files}


def unit_length_figure(files: list[GoldFile]) -> Figure:
    """Distribution of unit length in words, per policy (box plots, log scale)."""
    lengths = unit_lengths(files)
    fig, axes = _figure(7, 3.5)
    ax = axes[0, 0]
    names = list(lengths)
    ax.boxplot([lengths[p] for p in names], tick_labels=names, showfliers=True, flierprops={"markersize": 2})
    ax.set_yscale("log")
    for i, p in enumerate(names, 1):
        ax.text(i, max(lengths[p]) * 1.15, f"median {int(np.median(lengths[p]))}", ha="center", fontsize=7)
    ax.set_xlabel("policy")
    ax.set_ylabel("words per unit (log scale)")
    ax.set_title("Unit length per policy")
    return fig


def cooccurrence(label_lists: Iterable[Sequence[str]]) -> np.ndarray:
    """(12, 12) counts: [i, j] = units carrying both label i and label j; the diagonal is each label's count."""
    from clf.labels import to_matrix

    y = to_matrix(label_lists).astype(int)
    return y.T @ y


def cooccurrence_figure(label_lists: Iterable[Sequence[str]]) -> Figure:
    """Heatmap of label co-occurrence (off-diagonal counts; the label's own count is in its row name)."""
    counts = cooccurrence(label_lists)
    off = counts.astype(float)
    np.fill_diagonal(off, np.nan)
    notes = np.where(np.isnan(off) | (off == 0), "", counts.astype(str))
    fig, axes = _figure(8, 6.5)
    ax = axes[0, 0]
    image = _heatmap(ax, off, notes, cmap="Oranges")
    fig.colorbar(image, ax=ax, label="units with both labels")
    ax.set_xticks(range(len(LABELS)), [CODE_OF[x] for x in LABELS], fontsize=8)
    ax.set_yticks(range(len(LABELS)), [f"{_long(x)} n={counts[i, i]}" for i, x in enumerate(LABELS)], fontsize=8)
    ax.set_xlabel("label (code)")
    ax.set_ylabel("label")
    ax.set_title("Label co-occurrence (units carrying both labels)")
    return fig


def kappa_figure(table: dict[str, Any]) -> Figure:
    """Cohen's kappa per label with its bootstrap 95% CI, positives per pass beside each row."""
    rows = table["labels"]
    fig, axes = _figure(8, 5)
    ax = axes[0, 0]
    for i, row in enumerate(rows):
        note = f"{row['positives_first']}/{row['positives_second']} pos."
        if row["kappa"] is None:
            ax.text(0.02, i, f"undefined ({note})", va="center", fontsize=8, color="grey")
            continue
        low = row["ci_low"] if row["ci_low"] is not None else row["kappa"]
        high = row["ci_high"] if row["ci_high"] is not None else row["kappa"]
        ax.errorbar(
            row["kappa"], i, xerr=[[row["kappa"] - low], [high - row["kappa"]]], fmt="o", color="tab:blue", capsize=3
        )
        ax.text(1.01, i, note, va="center", fontsize=7, transform=ax.get_yaxis_transform())
    for x, name, style in ((0.6, "κ 0.6: substantial", ":"), (0.8, "κ 0.8: almost perfect", "--")):
        ax.axvline(x, color="grey", linestyle=style, linewidth=1, label=name)
    ax.legend(fontsize=7, loc="lower left")
    ax.set_yticks(range(len(rows)), [_long(r["label"]) for r in rows], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(min(-0.1, *(r["ci_low"] for r in rows if r["ci_low"] is not None)), 1.04)
    ax.set_xlabel("Cohen's κ (95% bootstrap CI)")
    ax.set_ylabel("label")
    macro = table["macro_kappa"]
    ax.set_title(f"Blind double annotation: κ per label ({table['units']} units, macro-κ {_fmt(macro)})")
    return fig


def flagged_markdown(files: list[GoldFile], n: int = 12, seed: int = 0) -> str:
    """A reproducible random sample of units flagged as hard, with labels and the annotator's note."""
    flagged = [r for gold in files for r in gold.records if r.get("flag")]
    sample = sorted(random.Random(seed).sample(flagged, min(n, len(flagged))), key=lambda r: r["id"])
    lines = ["| id | labels | text | note |", "|---|---|---|---|"]
    lines += [
        f"| {r['id']} | {_codes(r['labels'])} | {_md_cell(r['text'], 160)} | {_md_cell(r.get('note', ''), 200)} |"
        for r in sample
    ]
    lines += ["", f"{len(sample)} of {len(flagged)} flagged units (random sample, seed {seed})."]
    return "\n".join(lines)
