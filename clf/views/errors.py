"""Error analysis: which labels are confused, the most confident errors, and what kind of unit they are."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from clf.labels import CODE_OF, FALLBACKS, LABELS
from clf.views.plotting import _codes, _colors, _figure, _heatmap, _long, _md_cell
from clf.views.results import Result

if TYPE_CHECKING:
    from matplotlib.figure import Figure


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
