"""Evaluation results (`clf evaluate --out DIR` folders) as tables and figures: scores side by side,
per label and per policy, precision-recall curves, calibration, learning curves."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib.ticker
import numpy as np

from clf.labels import CODE_OF, LABELS
from clf.views.plotting import METRIC_NAMES, PREFERRED_ORDER, _colors, _figure, _long

if TYPE_CHECKING:
    from matplotlib.figure import Figure


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


def paragraph_markdown(results: dict[str, Result]) -> str:
    """The paragraph-level score side by side: overall, then F1 per label (mean ± std over seeds)."""
    found = {n: r.metrics["paragraphs"] for n, r in results.items() if r.metrics.get("paragraphs")}
    if not found:
        return "_no paragraph-level scores in these results (clf evaluate writes them for gold with sections)_"
    names = list(found)
    lines = ["| | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for metric in ("micro_f1", "macro_f1"):
        cells = [f"{found[n]['summary'][metric]['mean']:.3f} ± {found[n]['summary'][metric]['std']:.3f}" for n in names]
        lines.append(f"| **paragraph {METRIC_NAMES[metric]}** | " + " | ".join(cells) + " |")
    lines.append("| paragraphs | " + " | ".join(str(found[n]["units"]) for n in names) + " |")
    for label in LABELS:
        row = [found[n]["per_label"][label] for n in names]
        cells = [f"{r['f1']['mean']:.3f} (n={r['support']})" for r in row]
        lines.append(f"| {_long(label)} | " + " | ".join(cells) + " |")
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


def learning_curve_summary(rows: list[dict[str, Any]], metric: str = "macro_f1") -> dict[int, dict[str, Any]]:
    """Per number of training policies: mean ± std over held-out folds of that fold's mean over subsets.

    Each fold's "all the other policies" (28 or 29 when folds differ in size) is one point, keyed by the
    smallest of those sizes and marked `all` with its `sizes`. Rows say `all` themselves (older curve files:
    a fold's largest size)."""
    largest = defaultdict(int)
    for row in rows:
        largest[row["held_out"]] = max(largest[row["held_out"]], row["n_train_policies"])
    if any("all" in row for row in rows):  # rows say whether they used every other policy
        largest = defaultdict(int, {r["held_out"]: r["n_train_policies"] for r in rows if r.get("all")})
    all_key = min(largest.values(), default=0)
    per_fold: dict[tuple[int, str], list[float]] = defaultdict(list)
    for row in rows:
        k = row["n_train_policies"]
        is_all = row.get("all", k == largest[row["held_out"]])
        per_fold[(all_key if is_all else k, row["held_out"])].append(row[metric])
    by_k: dict[int, list[float]] = defaultdict(list)
    for (k, _), values in sorted(per_fold.items()):
        by_k[k].append(float(np.mean(values)))
    summary: dict[int, dict[str, Any]] = {}
    for k, v in sorted(by_k.items()):
        summary[k] = {"mean": float(np.mean(v)), "std": float(np.std(v, ddof=1)) if len(v) > 1 else 0.0, "n": len(v)}
        if k == all_key:
            summary[k].update({"all": True, "sizes": sorted(set(largest.values()))})
    return summary


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
            size = f"all ({'–'.join(map(str, agg['sizes']))})" if agg.get("all") else str(k)
            lines.append(f"| {name} | {size} | {agg['mean']:.3f} ± {agg['std']:.3f} | {gain} | {agg['n']} |")
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
