"""Regenerate the README's result tables from the files the commands wrote (`make readme`).

Each table sits between `<!-- NAME:start -->` and `<!-- NAME:end -->` markers, so the
numbers in the README are always the ones last written by `clf evaluate`, the annotation
commands and the benchmark script — never typed by hand.
"""

from __future__ import annotations

import re
from pathlib import Path

from clf.agreement import kappa_table, load_passes
from clf.annotations import load_gold, stats
from clf.labels import CODE_OF, LABELS
from clf.metrics import format_score
from clf.report import kappa_markdown, learning_curve_markdown, load_results, stats_markdown

ROOT = Path(__file__).resolve().parent.parent


def results_markdown(results: dict[str, dict]) -> str:
    """Models side by side: unit and paragraph summaries, per-label F1 (precision / recall) and support,
    macro-F1 per held-out policy."""
    names = list(results)
    lines = ["| | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for metric in ("micro_f1", "macro_f1", "samples_f1"):
        cells = " | ".join(format_score(results[n]["summary"][metric]) for n in names)
        lines.append(f"| **{metric.replace('_', '-')}** | {cells} |")
    if all("paragraphs" in results[n] for n in names):
        for metric in ("micro_f1", "macro_f1"):
            cells = " | ".join(format_score(results[n]["paragraphs"]["summary"][metric]) for n in names)
            lines.append(f"| paragraph {metric.replace('_', '-')} | {cells} |")
        lines.append(f"| paragraphs | {' | '.join(str(results[n]['paragraphs']['units']) for n in names)} |")
    seeds = " | ".join(str(len(results[n]["seeds"])) for n in names)
    lines.append(f"| seeds | {seeds} |")
    lines += ["", "Per label — F1 (precision / recall), support:", ""]
    lines += ["| label | support | " + " | ".join(names) + " |", "|---|---:|" + "---|" * len(names)]
    for label in LABELS:
        cells = []
        for n in names:
            row = results[n]["per_label"][label]
            cells.append(f"{format_score(row['f1'])} ({row['precision']['mean']:.2f} / {row['recall']['mean']:.2f})")
        support = results[names[0]]["per_label"][label]["support"]
        lines.append(f"| {label} ({CODE_OF[label]}) | {support} | " + " | ".join(cells) + " |")
    policies = list(results[names[0]]["per_policy"])
    lines += ["", "Macro-F1 per held-out policy:", ""]
    lines += ["| held-out policy | units | " + " | ".join(names) + " |", "|---|---:|" + "---|" * len(names)]
    for policy in policies:
        units = results[names[0]]["per_policy"][policy]["units"]
        cells = " | ".join(format_score(results[n]["per_policy"][policy]["macro_f1"]) for n in names)
        lines.append(f"| {policy} | {units} | {cells} |")
    return "\n".join(lines)


def sections(root: Path = ROOT) -> dict[str, str]:
    found = {
        "stats": stats_markdown(stats(load_gold(root / "annotations"))),
        "agreement": kappa_markdown(kappa_table(*load_passes(root / "annotations" / "agreement"))),
    }
    blind = root / "annotations" / "agreement-2" / "blind"
    if blind.is_dir():
        found["agreement-new"] = kappa_markdown(kappa_table(*load_passes(blind)))
    for name, folder in (("grouped", root / "reports"), ("lopo", root / "reports" / "lopo5")):
        results = {k: r.metrics for k, r in load_results(folder).items()} if folder.is_dir() else {}
        if results:
            found[name] = results_markdown(results)
    curves = load_results(root / "reports") if (root / "reports").is_dir() else {}
    if any(r.metrics.get("learning_curve") for r in curves.values()):
        found["curve"] = learning_curve_markdown(curves)
    benchmarks = {
        "benchmark": "results.md",
        "split": "split.md",
        "report-benchmark": "report_results.md",
        "train-benchmark": "train.md",
        "int8": "int8.md",
        "policies-benchmark": "policies.md",
    }
    for name, file in benchmarks.items():
        bench = root / "benchmarks" / file
        if bench.exists():
            found[name] = bench.read_text(encoding="utf-8").strip()
    scaling = [p for p in (root / "benchmarks" / f"scaling{s}.md" for s in ("", "-memory")) if p.exists()]
    if scaling:  # benchmarks/bench_scaling.py: the transformer run, then the memory run
        found["scaling"] = "\n\n".join(p.read_text(encoding="utf-8").strip() for p in scaling)
    return found


def update(path: Path = ROOT / "README.md", only: list[str] | None = None) -> list[str]:
    """Replace every marked block whose content we can produce (or just the blocks named); returns those replaced."""
    text = path.read_text(encoding="utf-8")
    done = []
    for name, body in sections(path.parent).items():
        if only and name not in only:
            continue
        pattern = re.compile(rf"(<!-- {name}:start -->\n)(?:.*?\n)?(<!-- {name}:end -->)", re.DOTALL)
        if pattern.search(text):
            text = pattern.sub(lambda m, body=body: m.group(1) + body + "\n" + m.group(2), text)
            done.append(name)
    path.write_text(text, encoding="utf-8")
    return done


if __name__ == "__main__":
    import sys

    print("updated:", ", ".join(update(only=sys.argv[1:] or None)))  # `python -m clf.readme NAME...`: those blocks
