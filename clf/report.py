"""Tables (Markdown) and figures (matplotlib) for the README and the evaluation notebooks.

Every figure function returns a `matplotlib.figure.Figure` built without pyplot (no global state,
nothing shown or printed); every table function returns a Markdown string. Result folders are the
output of `clf evaluate --out DIR` (metrics.json, predictions.jsonl), read by `load_results`.
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib.ticker
import numpy as np

from clf.labels import CODE_OF, FALLBACKS, LABELS

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from clf.annotations import GoldFile

METRIC_NAMES = {"micro_f1": "micro-F1", "macro_f1": "macro-F1", "samples_f1": "samples-F1"}
PREFERRED_ORDER = ("tfidf", "transformer", "ensemble")


def _fmt(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


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


def _md_cell(text: str, limit: int | None = None) -> str:
    text = " ".join(str(text).split())
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return text.replace("|", "\\|")


def _codes(labels: Iterable[str]) -> str:
    return ",".join(CODE_OF[x] for x in labels) or "–"


def _long(label: str) -> str:
    return f"{label} ({CODE_OF[label]})"


# --- figures: common pieces -----------------------------------------------------------------


def _figure(width: float, height: float, nrows: int = 1, ncols: int = 1, **kwargs: Any) -> tuple[Figure, Any]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=90, layout="constrained")
    return fig, fig.subplots(nrows, ncols, squeeze=False, **kwargs)


def _colors(names: Sequence[str]) -> dict[str, Any]:
    from matplotlib import colormaps

    palette = colormaps["tab10"]
    return {name: palette(i % 10) for i, name in enumerate(names)}


def _heatmap(
    ax: Any, values: np.ndarray, annotations: np.ndarray | None = None, cmap: str = "Blues", **kwargs: Any
) -> Any:
    image = ax.imshow(values, cmap=cmap, aspect="auto", **kwargs)
    if annotations is not None:
        finite = values[np.isfinite(values)]
        top = finite.max() if finite.size else 1.0
        for (i, j), text in np.ndenumerate(annotations):
            if text:
                dark = np.isfinite(values[i, j]) and values[i, j] > 0.6 * top
                ax.text(j, i, text, ha="center", va="center", fontsize=7, color="white" if dark else "black")
    return image


# --- annotations ----------------------------------------------------------------------------


def policy_labels_figure(stats: dict[str, Any]) -> Figure:
    """Label counts per policy (cells), coloured by the share of the policy's units carrying the label."""
    policies = list(stats["per_policy"])
    counts = np.array([[stats["per_policy"][p]["labels"][x] for p in policies] for x in LABELS], dtype=float)
    units = np.array([stats["per_policy"][p]["units"] for p in policies], dtype=float)
    fig, axes = _figure(2.0 + 1.3 * len(policies), 5.5)
    ax = axes[0, 0]
    image = _heatmap(ax, counts / units, counts.astype(int).astype(str))
    fig.colorbar(image, ax=ax, label="share of the policy's units")
    ax.set_xticks(
        range(len(policies)), [f"{p}\n({int(n)} units)" for p, n in zip(policies, units, strict=True)], fontsize=8
    )
    ax.set_yticks(range(len(LABELS)), [_long(x) for x in LABELS], fontsize=8)
    ax.set_xlabel("policy")
    ax.set_ylabel("label")
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


# --- result folders -------------------------------------------------------------------------


@dataclass
class Result:
    """One `clf evaluate` output folder."""

    name: str
    path: Path
    metrics: dict[str, Any]
    predictions: list[dict[str, Any]] = field(default_factory=list)

    @property
    def seeds(self) -> list[int]:
        return list(self.metrics.get("seeds") or sorted({p["seed"] for p in self.predictions}))

    def seed_predictions(self, seed: int | None = None) -> list[dict[str, Any]]:
        """Predictions of one seed (default: the first evaluated seed)."""
        seed = self.seeds[0] if seed is None and self.seeds else seed
        return [p for p in self.predictions if p.get("seed", seed) == seed]

    def thresholds(self, seed: int | None = None) -> dict[str, list[float]]:
        """Each fold's tuned threshold per label, for one seed."""
        runs = self.metrics.get("runs") or []
        seed = self.seeds[0] if seed is None and self.seeds else seed
        run = next((r for r in runs if r["seed"] == seed), runs[0] if runs else {"folds": []})
        return {x: [f["thresholds"][x] for f in run["folds"] if "thresholds" in f] for x in LABELS}


def load_result(path: str | Path) -> Result:
    path = Path(path)
    metrics = json.loads((path / "metrics.json").read_text(encoding="utf-8"))
    predictions: list[dict[str, Any]] = []
    file = path / "predictions.jsonl"
    if file.exists():
        with file.open(encoding="utf-8") as handle:
            predictions = [json.loads(line) for line in handle if line.strip()]
    return Result(path.name, path, metrics, predictions)


def load_results(root: str | Path) -> dict[str, Result]:
    """Every result folder under `root` (or `root` itself if it is one), in PREFERRED_ORDER. An ensemble's
    members (`NAME/parts/MEMBER/`, scored from the ensemble's own fits) stand in for models not evaluated alone."""
    root = Path(root)
    if (root / "metrics.json").exists():
        folders = [root]
    else:
        folders = sorted(p for p in root.iterdir() if (p / "metrics.json").exists()) if root.is_dir() else []
    names = {p.name for p in folders}
    for part in sorted(q.parent for p in list(folders) for q in p.glob("parts/*/metrics.json")):
        if part.name not in names:
            folders.append(part)
            names.add(part.name)
    rank = {name: i for i, name in enumerate(PREFERRED_ORDER)}
    folders.sort(key=lambda p: (rank.get(p.name, len(rank)), p.name))
    results = {p.name: load_result(p) for p in folders}
    for name, result in results.items():  # `clf learning-curve --out ROOT/curves/NAME.json`
        curve = root / "curves" / f"{name}.json"
        if curve.exists() and not result.metrics.get("learning_curve"):
            result.metrics["learning_curve"] = json.loads(curve.read_text(encoding="utf-8"))["learning_curve"]
    return results


def _seed_values(result: Result, metric: str) -> list[float]:
    return [r["metrics"][metric] for r in result.metrics.get("runs", [])]


def summary_markdown(results: dict[str, Result]) -> str:
    """Models side by side: micro/macro/samples F1 as mean ± std over seeds."""
    lines = ["| model | seeds | units | " + " | ".join(METRIC_NAMES.values()) + " |", "|---|---|---:|---:|---:|---:|"]
    for name, result in results.items():
        summary = result.metrics["summary"]
        cells = [f"{summary[m]['mean']:.3f} ± {summary[m]['std']:.3f}" for m in METRIC_NAMES]
        seeds = ",".join(map(str, result.seeds))
        lines.append(f"| {name} | {seeds} | {result.metrics['data']['units']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def summary_figure(results: dict[str, Result]) -> Figure:
    """Micro/macro/samples F1 per model: bar = mean over seeds, error bar = std, dots = single seeds."""
    names = list(results)
    colors = _colors(names)
    fig, axes = _figure(7, 3.8)
    ax = axes[0, 0]
    width = 0.8 / max(len(names), 1)
    for k, name in enumerate(names):
        summary = results[name].metrics["summary"]
        x = np.arange(len(METRIC_NAMES)) + (k - (len(names) - 1) / 2) * width
        means = [summary[m]["mean"] for m in METRIC_NAMES]
        stds = [summary[m]["std"] for m in METRIC_NAMES]
        bars = ax.bar(
            x,
            means,
            width,
            yerr=stds,
            capsize=3,
            color=colors[name],
            label=f"{name} ({len(results[name].seeds)} seed(s))",
        )
        ax.bar_label(bars, fmt="%.3f", fontsize=7, padding=2)
        for i, m in enumerate(METRIC_NAMES):
            values = _seed_values(results[name], m)
            ax.scatter([x[i]] * len(values), values, color="black", s=8, zorder=3)
    ax.set_xticks(range(len(METRIC_NAMES)), list(METRIC_NAMES.values()))
    ax.set_ylim(0, 1)
    ax.set_xlabel("metric (pooled out-of-fold, leave-one-policy-out)")
    ax.set_ylabel("F1")
    ax.set_title("Overall scores per model (mean ± std over seeds; dots = seeds)")
    ax.legend(fontsize=8, loc="upper right")
    return fig


def per_label_figure(results: dict[str, Result]) -> Figure:
    """Per-label precision, recall and F1 (mean ± std over seeds) per model, with the label's support."""
    names = list(results)
    colors = _colors(names)
    fig, axes = _figure(13, 6, 1, 3, sharey=True)
    support = next(iter(results.values())).metrics["per_label"] if results else {}
    height = 0.8 / max(len(names), 1)
    for col, key in enumerate(("precision", "recall", "f1")):
        ax = axes[0, col]
        for k, name in enumerate(names):
            per_label = results[name].metrics["per_label"]
            y = np.arange(len(LABELS)) + (k - (len(names) - 1) / 2) * height
            means = [per_label[x][key]["mean"] for x in LABELS]
            stds = [per_label[x][key]["std"] for x in LABELS]
            ax.barh(y, means, height, xerr=stds, color=colors[name], label=name, capsize=2)
        ax.set_xlim(0, 1)
        ax.set_xlabel(key if key != "f1" else "F1")
        ax.set_title(key.capitalize() if key != "f1" else "F1")
        ax.grid(axis="x", alpha=0.3)
    axes[0, 0].set_yticks(
        range(len(LABELS)), [f"{_long(x)} n={support[x]['support']}" for x in LABELS] if support else LABELS, fontsize=8
    )
    axes[0, 0].invert_yaxis()
    axes[0, 0].set_ylabel("label (n = gold units)")
    axes[0, 2].legend(fontsize=8, loc="lower right")
    fig.suptitle("Per-label precision, recall and F1 (leave-one-policy-out, mean ± std over seeds)")
    return fig


def per_policy_figure(results: dict[str, Result], metric: str = "macro_f1") -> Figure:
    """One metric on each held-out policy (LOPO fold), per model, mean ± std over seeds."""
    names = list(results)
    colors = _colors(names)
    policies = list(next(iter(results.values())).metrics["per_policy"]) if results else []
    fig, axes = _figure(8, 3.8)
    ax = axes[0, 0]
    width = 0.8 / max(len(names), 1)
    for k, name in enumerate(names):
        per_policy = results[name].metrics["per_policy"]
        x = np.arange(len(policies)) + (k - (len(names) - 1) / 2) * width
        means = [per_policy[p][metric]["mean"] if p in per_policy else np.nan for p in policies]
        stds = [per_policy[p][metric]["std"] if p in per_policy else 0 for p in policies]
        bars = ax.bar(x, means, width, yerr=stds, capsize=3, color=colors[name], label=name)
        ax.bar_label(bars, fmt="%.2f", fontsize=7, padding=2)
    units = next(iter(results.values())).metrics["per_policy"] if results else {}
    ax.set_xticks(range(len(policies)), [f"{p}\n({units[p]['units']} units)" for p in policies], fontsize=8)
    ax.set_ylim(0, 1)
    ax.set_xlabel("held-out policy")
    ax.set_ylabel(METRIC_NAMES.get(metric, metric))
    ax.set_title(f"{METRIC_NAMES.get(metric, metric)} on each held-out policy")
    ax.legend(fontsize=8)
    return fig


# --- precision–recall and calibration ----------------------------------------------------------


def label_arrays(predictions: list[dict[str, Any]], label: str) -> tuple[np.ndarray, np.ndarray]:
    """(gold 0/1, score) of one label over a list of prediction rows."""
    y = np.array([label in p["gold"] for p in predictions], dtype=int)
    s = np.array([p["scores"][label] for p in predictions], dtype=float)
    return y, s


def operating_point(y: np.ndarray, scores: np.ndarray, threshold: float) -> tuple[float, float]:
    """(recall, precision) when predicting score ≥ threshold; precision is 1.0 when nothing is predicted."""
    pred = scores >= threshold
    tp = int(np.sum(pred & (y == 1)))
    precision = tp / pred.sum() if pred.sum() else 1.0
    recall = tp / y.sum() if y.sum() else 0.0
    return float(recall), float(precision)


def pr_curve(y: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(recall, precision) over all score thresholds, highest threshold first."""
    order = np.argsort(-scores, kind="stable")
    s, hits = scores[order], y[order]
    last = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]  # last index of each distinct score
    tp = np.cumsum(hits)[last]
    predicted = last + 1
    recall = tp / max(int(y.sum()), 1)
    precision = tp / predicted
    return np.r_[0.0, recall], np.r_[1.0, precision]


def pr_curves_figure(results: dict[str, Result], labels: Sequence[str] = LABELS, seed: int | None = None) -> Figure:
    """Precision–recall curve per label from the pooled out-of-fold scores, per model.

    Crosses mark where each fold's tuned threshold falls on the pooled curve; the circle marks
    the mean of the fold thresholds. (Final decisions also apply the fallback rules.)
    """
    names = [n for n, r in results.items() if r.predictions]
    colors = _colors(list(results))
    ncols = min(4, len(labels))
    nrows = -(-len(labels) // ncols)
    fig, axes = _figure(3.2 * ncols, 2.9 * nrows, nrows, ncols)
    for ax in axes.flat[len(labels) :]:
        ax.set_visible(False)
    for ax, label in zip(axes.flat, labels, strict=False):
        for name in names:
            result = results[name]
            y, s = label_arrays(result.seed_predictions(seed), label)
            recall, precision = pr_curve(y, s)
            ax.plot(recall, precision, color=colors[name], linewidth=1.2, label=name)
            thresholds = result.thresholds(seed)[label]
            for t in thresholds:
                ax.plot(*operating_point(y, s, t), "x", color=colors[name], markersize=5)
            if thresholds:
                r, p = operating_point(y, s, float(np.mean(thresholds)))
                ax.plot(r, p, "o", color=colors[name], markersize=7, markeredgecolor="black")
            ax.axhline(y.mean() if len(y) else 0, color=colors[name], linestyle=":", linewidth=0.8)
        ax.set_xlim(0, 1.02)
        ax.set_ylim(0, 1.05)
        ax.set_title(f"{label} ({CODE_OF[label]})", fontsize=9)
        ax.set_xlabel("recall", fontsize=8)
        ax.set_ylabel("precision", fontsize=8)
        ax.tick_params(labelsize=7)
    if names:
        axes.flat[0].legend(fontsize=7, loc="lower left")
    fig.suptitle(
        "Precision–recall per label (pooled out-of-fold scores; × = each fold's threshold, ● = mean; "
        "dotted = prevalence)",
        fontsize=10,
    )
    return fig


def calibration_bins(y: np.ndarray, p: np.ndarray, bins: int = 10) -> list[dict[str, float]]:
    """Equal-width score bins: mean score, observed positive rate and count of each non-empty bin."""
    y, p = np.asarray(y, dtype=float).ravel(), np.asarray(p, dtype=float).ravel()
    index = np.minimum((p * bins).astype(int), bins - 1)
    rows = []
    for b in range(bins):
        mask = index == b
        if mask.any():
            rows.append(
                {
                    "low": b / bins,
                    "high": (b + 1) / bins,
                    "mean_score": float(p[mask].mean()),
                    "positive_rate": float(y[mask].mean()),
                    "count": int(mask.sum()),
                }
            )
    return rows


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """Count-weighted mean |observed rate − mean score| over the bins."""
    rows = calibration_bins(y, p, bins)
    total = sum(r["count"] for r in rows)
    return float(sum(r["count"] * abs(r["positive_rate"] - r["mean_score"]) for r in rows) / total) if total else 0.0


def _all_label_arrays(result: Result, seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    predictions = result.seed_predictions(seed)
    y = np.array([[x in p["gold"] for x in LABELS] for p in predictions], dtype=int).reshape(-1, len(LABELS))
    s = np.array([[p["scores"][x] for x in LABELS] for p in predictions], dtype=float).reshape(-1, len(LABELS))
    return y, s


def reliability_figure(results: dict[str, Result], bins: int = 10, seed: int | None = None) -> Figure:
    """Reliability diagram over all (unit, label) pairs per model, with the score histogram below."""
    names = [n for n, r in results.items() if r.predictions]
    colors = _colors(list(results))
    fig, axes = _figure(6, 6.5, 2, 1, height_ratios=[3, 1.3], sharex=True)
    top, bottom = axes[0, 0], axes[1, 0]
    top.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="perfect calibration")
    width = 1 / bins / max(len(names), 1)
    for k, name in enumerate(names):
        y, s = _all_label_arrays(results[name], seed)
        rows = calibration_bins(y, s, bins)
        ece = expected_calibration_error(y, s, bins)
        top.plot(
            [r["mean_score"] for r in rows],
            [r["positive_rate"] for r in rows],
            "o-",
            color=colors[name],
            label=f"{name} (ECE {ece:.3f})",
        )
        bottom.bar([r["low"] + (k + 0.5) * width for r in rows], [r["count"] for r in rows], width, color=colors[name])
    top.set_xlim(0, 1)
    top.set_ylim(0, 1)
    top.set_xlabel("mean predicted score in bin")
    top.set_ylabel("observed share of positives")
    top.set_title("Reliability diagram: all labels pooled, out-of-fold scores")
    top.legend(fontsize=8, loc="upper left")
    bottom.set_yscale("log")
    bottom.set_xlabel("predicted score")
    bottom.set_ylabel("(unit, label) pairs")
    bottom.set_title("Score histogram", fontsize=9)
    return fig


def calibration_markdown(results: dict[str, Result], bins: int = 10, seed: int | None = None) -> str:
    """ECE per model overall and for each label."""
    names = [n for n, r in results.items() if r.predictions]
    lines = ["| label | " + " | ".join(f"ECE {n}" for n in names) + " |", "|---|" + "---:|" * len(names)]
    arrays = {n: _all_label_arrays(results[n], seed) for n in names}
    lines.append(
        "| **all labels** | "
        + " | ".join(f"**{expected_calibration_error(*arrays[n], bins):.3f}**" for n in names)
        + " |"
    )
    for j, label in enumerate(LABELS):
        cells = [f"{expected_calibration_error(arrays[n][0][:, j], arrays[n][1][:, j], bins):.3f}" for n in names]
        lines.append(f"| {_long(label)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


# --- learning curve ---------------------------------------------------------------------------


def learning_curve_summary(rows: list[dict[str, Any]], metric: str = "macro_f1") -> dict[int, dict[str, float]]:
    """Per number of training policies: mean ± std over held-out policies of that policy's mean over subsets."""
    per_fold: dict[tuple[int, str], list[float]] = defaultdict(list)
    for row in rows:
        per_fold[(row["n_train_policies"], row["held_out"])].append(row[metric])
    by_k: dict[int, list[float]] = defaultdict(list)
    for (k, _), values in sorted(per_fold.items()):
        by_k[k].append(float(np.mean(values)))
    return {
        k: {"mean": float(np.mean(v)), "std": float(np.std(v, ddof=1)) if len(v) > 1 else 0.0, "n": len(v)}
        for k, v in sorted(by_k.items())
    }


def learning_curve_markdown(results: dict[str, Result], metric: str = "macro_f1") -> str:
    """Mean ± std of the metric per number of training policies, and the gain over the previous step."""
    with_curve = {n: r.metrics["learning_curve"] for n, r in results.items() if r.metrics.get("learning_curve")}
    missing = [n for n in results if n not in with_curve]
    lines = [
        "| model | training policies | " + METRIC_NAMES.get(metric, metric) + " | gain | held-out folds |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, rows in with_curve.items():
        previous = None
        for k, agg in learning_curve_summary(rows, metric).items():
            gain = f"{agg['mean'] - previous:+.3f}" if previous is not None else "–"
            lines.append(f"| {name} | {k} | {agg['mean']:.3f} ± {agg['std']:.3f} | {gain} | {agg['n']} |")
            previous = agg["mean"]
    if missing:
        lines += [
            "",
            "No learning curve in metrics.json for: "
            + ", ".join(missing)
            + " (run `clf evaluate --learning-curve` to add one).",
        ]
    return "\n".join(lines)


def learning_curve_figure(results: dict[str, Result], metric: str = "macro_f1") -> Figure:
    """Metric vs number of training policies: mean ± std band over held-out policies; thin lines = each policy."""
    colors = _colors(list(results))
    fig, axes = _figure(7, 4)
    ax = axes[0, 0]
    missing = []
    for name, result in results.items():
        rows = result.metrics.get("learning_curve")
        if not rows:
            missing.append(name)
            continue
        agg = learning_curve_summary(rows, metric)
        ks = np.array(list(agg))
        mean = np.array([agg[k]["mean"] for k in ks])
        std = np.array([agg[k]["std"] for k in ks])
        ax.plot(ks, mean, "o-", color=colors[name], linewidth=2, label=f"{name} (mean over held-out policies)")
        ax.fill_between(ks, mean - std, mean + std, color=colors[name], alpha=0.15)
        for held_out in sorted({r["held_out"] for r in rows}):
            one = learning_curve_summary([r for r in rows if r["held_out"] == held_out], metric)
            ax.plot(list(one), [v["mean"] for v in one.values()], color=colors[name], alpha=0.35, linewidth=0.8)
    if missing:
        ax.text(
            0.5,
            0.06,
            "no learning curve for: " + ", ".join(missing),
            transform=ax.transAxes,
            ha="center",
            fontsize=8,
            color="grey",
        )
    ax.set_ylim(0, 1)
    ax.set_xscale("log", base=2)  # 1, 2, 4, 8, 16 and all training policies
    ax.set_xlabel("number of training policies (log scale)")
    ax.set_ylabel(f"{METRIC_NAMES.get(metric, metric)} on the held-out policy")
    ax.set_title(
        f"Learning curve: {METRIC_NAMES.get(metric, metric)} vs training policies (thin lines: each held-out policy)"
    )
    ax.xaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
    if len(missing) < len(results):
        ax.legend(fontsize=8, loc="upper left")
    return fig


# --- label confusion -----------------------------------------------------------------------------

OTHER_COLUMN = "(no wrong label)"


def label_confusion(predictions: list[dict[str, Any]], mode: str = "missed") -> np.ndarray:
    """Which labels stand in for which, as a (12, 13) count matrix.

    mode="missed": row = a gold label the model missed on a unit; columns = the labels the model
    predicted on that unit that are not gold, or the last column when every predicted label was gold.
    mode="spurious": row = a label predicted but not gold; columns = the gold labels it missed there
    (last column: none missed).
    """
    if mode not in {"missed", "spurious"}:
        raise ValueError(f"mode must be 'missed' or 'spurious', not {mode!r}")
    index = {x: j for j, x in enumerate(LABELS)}
    counts = np.zeros((len(LABELS), len(LABELS) + 1), dtype=int)
    for p in predictions:
        gold, pred = set(p["gold"]), set(p["pred"])
        rows, cols = (gold - pred, pred - gold) if mode == "missed" else (pred - gold, gold - pred)
        for r in rows:
            if cols:
                for c in cols:
                    counts[index[r], index[c]] += 1
            else:
                counts[index[r], -1] += 1
    return counts


def confusion_figure(predictions: list[dict[str, Any]], mode: str = "missed", model: str = "") -> Figure:
    """Heatmap of `label_confusion`, each row as shares of its own errors, counts written in the cells."""
    counts = label_confusion(predictions, mode)
    errors = np.array(
        [
            sum(
                1
                for p in predictions
                if (x in p["gold"]) != (x in p["pred"]) and ((x in p["gold"]) if mode == "missed" else (x in p["pred"]))
            )
            for x in LABELS
        ]
    )
    shares = counts / np.maximum(errors[:, None], 1)
    fig, axes = _figure(9, 6)
    ax = axes[0, 0]
    image = _heatmap(ax, shares, np.where(counts > 0, counts.astype(str), ""), cmap="Reds", vmin=0, vmax=1)
    fig.colorbar(image, ax=ax, label="share of the row's errors (a unit can add to several columns)")
    ax.set_xticks(
        range(len(LABELS) + 1), [CODE_OF[x] for x in LABELS] + [OTHER_COLUMN], fontsize=8, rotation=45, ha="right"
    )
    what = "missed" if mode == "missed" else "wrongly predicted"
    ax.set_yticks(
        range(len(LABELS)), [f"{_long(x)}: {n} {what}" for x, n in zip(LABELS, errors, strict=True)], fontsize=8
    )
    if mode == "missed":
        ax.set_xlabel("label predicted instead (not in gold)")
        ax.set_ylabel("gold label that was missed")
        title = "When a gold label is missed, what was predicted instead"
    else:
        ax.set_xlabel("gold label the unit really had (and that was missed)")
        ax.set_ylabel("label predicted without being gold")
        title = "When a label is wrongly predicted, what the gold label was"
    ax.set_title(f"{title}{f' — {model}' if model else ''}")
    return fig


# --- error analysis ------------------------------------------------------------------------------

TAGS = ("table row", "list fragment", "heading/short line", "contact detail", "negation", "fallback", "sentence")
_BULLET = re.compile(r"^\s*(?:[•●▪◦·*\-–—]|\(?[a-z]\)|\(?[ivx]{1,4}\)|\d+\))\s*")
_SECTION = re.compile(r"^\s*(?:\d+(?:\.\d+)*\.?|[A-Z]\.)\s+\S")
_JOINED_CELLS = re.compile(r"[a-z]{5,}[A-Z][a-z]+")  # "ProcessingRequest": cells of a table row run together
_BRANDS = re.compile(r"DoubleClick|LinkedIn|JavaScript|TypeScript|PayPal|SoftwarePlant|PlumStack", re.IGNORECASE)
_GRID = re.compile(r"(?:\b(?:YES|NO|N/A)\b|[✓✔✗✘])")
_NEGATION = re.compile(r"\b(?:not|never|no|none|nor|neither|cannot|without)\b|n't\b", re.IGNORECASE)
_CONTACT = re.compile(r"@|\b(?:e-?mail|phone|tel|fax|address)\s*:|\+?\d[\d ()-]{7,}\d", re.IGNORECASE)
_END = (".", "?", "!", ",", ";", ":")


def error_tags(text: str, gold: Iterable[str] = (), pred: Iterable[str] = ()) -> list[str]:
    """Display heuristics for error analysis: what kind of unit this is (several tags may apply).

    table row: cells run together ("ProcessingRequest"), tab/pipe separated, or a YES/NO grid;
    list fragment: bullet or (a)/(iv)/1) marker, lower-case start, or a trailing , ; : ;
    heading/short line: at most 8 words without final punctuation, or a numbered section title
    (a heading cannot be told from a short list item without context); contact detail:
    e-mail/phone/address; negation: not, never, no, n't…; fallback: gold or prediction holds a
    fallback label; otherwise sentence. The first tag is the one used for grouping.
    """
    text = text.strip()
    words = text.split()
    tags = []
    joined = _JOINED_CELLS.search(_BRANDS.sub(" ", text))
    if "\t" in text or " | " in text or joined or len(_GRID.findall(text)) >= 3:
        tags.append("table row")
    if _BULLET.match(text) or text[:1].islower() or text.endswith((",", ";", ":")):
        tags.append("list fragment")
    if (len(words) <= 8 and not text.endswith(_END)) or (_SECTION.match(text) and len(words) <= 10):
        tags.append("heading/short line")
    if _CONTACT.search(text):
        tags.append("contact detail")
    if _NEGATION.search(text):
        tags.append("negation")
    if FALLBACKS & (set(gold) | set(pred)):
        tags.append("fallback")
    return tags or ["sentence"]


def join_predictions(results: dict[str, Result], seed: int | None = None) -> list[dict[str, Any]]:
    """One row per unit (in the first model's order) with each model's predicted labels and scores.

    Models are joined by unit id on one seed (default: each model's first seed); units missing from a
    model have no entry for it.
    """
    by_model = {n: {p["id"]: p for p in r.seed_predictions(seed)} for n, r in results.items() if r.predictions}
    order: dict[str, None] = {}
    for rows in by_model.values():
        order.update(dict.fromkeys(rows))
    joined = []
    for unit_id in order:
        first = next(rows[unit_id] for rows in by_model.values() if unit_id in rows)
        joined.append(
            {
                "id": unit_id,
                "policy": first["policy"],
                "text": first["text"],
                "gold": first["gold"],
                "pred": {n: rows[unit_id]["pred"] for n, rows in by_model.items() if unit_id in rows},
                "scores": {n: rows[unit_id]["scores"] for n, rows in by_model.items() if unit_id in rows},
            }
        )
    return joined


def top_errors(
    joined: list[dict[str, Any]], model: str, label: str, kind: str = "fp", n: int = 5
) -> list[dict[str, Any]]:
    """The model's most confident errors on one label.

    kind="fp": label predicted but not gold, highest score first; kind="fn": label gold but not
    predicted, lowest score first. Each row carries every model's score for the label and its tags.
    """
    if kind not in {"fp", "fn"}:
        raise ValueError(f"kind must be 'fp' or 'fn', not {kind!r}")
    rows = []
    for unit in joined:
        if model not in unit["pred"]:
            continue
        gold, pred = label in unit["gold"], label in unit["pred"][model]
        if (kind == "fp" and pred and not gold) or (kind == "fn" and gold and not pred):
            rows.append(
                {
                    **unit,
                    "label": label,
                    "kind": kind,
                    "label_scores": {m: s[label] for m, s in unit["scores"].items()},
                    "tags": error_tags(unit["text"], unit["gold"], unit["pred"][model]),
                }
            )
    rows.sort(key=lambda r: r["label_scores"][model], reverse=kind == "fp")
    return rows[:n]


def errors_markdown(
    rows: list[dict[str, Any]], models: Sequence[str], group_by_tag: bool = True, width: int = 180
) -> str:
    """Error rows as a Markdown table (tag, id, gold, predictions, every model's score for the label, text)."""
    if not rows:
        return "_no errors of this kind_"
    if group_by_tag:
        rows = sorted(rows, key=lambda r: TAGS.index(r["tags"][0]))  # stable: keeps confidence order inside a tag
    head = (
        "| tag | id | gold | "
        + " | ".join(f"pred {m}" for m in models)
        + " | "
        + " | ".join(f"score {m}" for m in models)
    )
    lines = [head + " | text |", "|---|---|---|" + "---|" * len(models) + "---:|" * len(models) + "---|"]
    for r in rows:
        preds = [_codes(r["pred"].get(m, [])) if m in r["pred"] else "–" for m in models]
        scores = [f"{r['label_scores'][m]:.2f}" if m in r["label_scores"] else "–" for m in models]
        lines.append(
            f"| {', '.join(r['tags'])} | {r['id']} | {_codes(r['gold'])} | "
            + " | ".join(preds)
            + " | "
            + " | ".join(scores)
            + f" | {_md_cell(r['text'], width)} |"
        )
    return "\n".join(lines)


def error_tag_counts(joined: list[dict[str, Any]], model: str) -> dict[str, dict[str, int]]:
    """Per primary tag: units, units with any error, false-positive and false-negative label decisions."""
    counts: dict[str, Counter] = {t: Counter() for t in TAGS}
    for unit in joined:
        if model not in unit["pred"]:
            continue
        gold, pred = set(unit["gold"]), set(unit["pred"][model])
        tag = error_tags(unit["text"], gold, pred)[0]
        counts[tag].update(
            {"units": 1, "wrong_units": int(gold != pred), "fp": len(pred - gold), "fn": len(gold - pred)}
        )
    return {t: {k: c[k] for k in ("units", "wrong_units", "fp", "fn")} for t, c in counts.items() if c["units"]}


def error_tags_figure(joined: list[dict[str, Any]], models: Sequence[str]) -> Figure:
    """Share of units with at least one wrong label decision, by unit type (primary tag), per model."""
    colors = _colors(list(models))
    tags = [t for t in TAGS if any(t in error_tag_counts(joined, m) for m in models)]
    fig, axes = _figure(8, 3.8)
    ax = axes[0, 0]
    width = 0.8 / max(len(models), 1)
    for k, model in enumerate(models):
        counts = error_tag_counts(joined, model)
        x = np.arange(len(tags)) + (k - (len(models) - 1) / 2) * width
        shares = [counts[t]["wrong_units"] / counts[t]["units"] if t in counts else 0 for t in tags]
        bars = ax.bar(x, shares, width, color=colors[model], label=model)
        ax.bar_label(
            bars,
            labels=[f"{counts[t]['wrong_units']}/{counts[t]['units']}" if t in counts else "" for t in tags],
            fontsize=7,
            padding=2,
        )
    ax.set_xticks(range(len(tags)), tags, fontsize=8)
    ax.set_ylim(0, 1.1)
    ax.set_xlabel("unit type (first matching display heuristic)")
    ax.set_ylabel("share of units with an error")
    ax.set_title("Where the errors are: units with any wrong label, by unit type")
    ax.legend(fontsize=8)
    return fig


def error_tag_markdown(joined: list[dict[str, Any]], model: str) -> str:
    """Per label, the model's false positives / false negatives split by primary tag (cells: FP/FN)."""
    table: dict[str, dict[str, list[int]]] = {x: {t: [0, 0] for t in TAGS} for x in LABELS}
    for unit in joined:
        if model not in unit["pred"]:
            continue
        gold, pred = set(unit["gold"]), set(unit["pred"][model])
        tag = error_tags(unit["text"], gold, pred)[0]
        for x in pred - gold:
            table[x][tag][0] += 1
        for x in gold - pred:
            table[x][tag][1] += 1
    lines = ["| label | " + " | ".join(TAGS) + " |", "|---|" + "---:|" * len(TAGS)]
    for x in LABELS:
        cells = [f"{fp}/{fn}" if fp or fn else "·" for fp, fn in table[x].values()]
        lines.append(f"| {_long(x)} | " + " | ".join(cells) + " |")
    lines += ["", f"Cells: false positives / false negatives of {model}, by the unit's first tag."]
    return "\n".join(lines)


def results_overview_markdown(results: dict[str, Result]) -> str:
    """Which result folders were found and what each holds."""
    lines = ["| model | folder | seeds | units | prediction rows | learning curve |", "|---|---|---|---:|---:|---|"]
    for name, r in results.items():
        curve = r.metrics.get("learning_curve")
        lines.append(
            f"| {name} | `{r.path}` | {','.join(map(str, r.seeds))} | {r.metrics['data']['units']} | "
            f"{len(r.predictions) or 'none'} | {f'{len(curve)} runs' if curve else 'absent'} |"
        )
    return "\n".join(lines)


def headline_markdown(results: dict[str, Result]) -> str:
    """Facts computed from the results (so they stay true after a re-run): weakest labels, ECE, curve gain."""
    lines = []
    for name, r in results.items():
        per_label = r.metrics["per_label"]
        ranked = sorted((x for x in LABELS if per_label[x]["support"]), key=lambda x: per_label[x]["f1"]["mean"])
        weak = ", ".join(
            f"{CODE_OF[x]} {per_label[x]['f1']['mean']:.2f} (n={per_label[x]['support']})" for x in ranked[:4]
        )
        strong = ", ".join(f"{CODE_OF[x]} {per_label[x]['f1']['mean']:.2f}" for x in ranked[-3:][::-1])
        summary = r.metrics["summary"]
        facts = [
            f"macro-F1 {summary['macro_f1']['mean']:.3f} ± {summary['macro_f1']['std']:.3f}, "
            f"micro-F1 {summary['micro_f1']['mean']:.3f} ± {summary['micro_f1']['std']:.3f} "
            f"over {len(r.seeds)} seed(s)",
            f"weakest labels (F1): {weak}; strongest: {strong}",
        ]
        if r.predictions:
            facts.append(f"pooled ECE {expected_calibration_error(*_all_label_arrays(r), 10):.3f}")
        curve = r.metrics.get("learning_curve")
        if curve:
            agg = learning_curve_summary(curve)
            first, last = min(agg), max(agg)
            facts.append(
                f"learning curve macro-F1 {agg[first]['mean']:.3f} with {first} training "
                f"polic{'y' if first == 1 else 'ies'} → {agg[last]['mean']:.3f} with {last}"
            )
        lines.append(f"- **{name}**: " + "; ".join(facts) + ".")
    return "\n".join(lines) if lines else "_no results_"
