"""Does the int8 ONNX path stay within 0.02 of fp32? The same trained model folder on both backends.

    HF_HUB_OFFLINE=1 python benchmarks/bench_int8.py --model models/ensemble

Loads the folder twice, on the torch backend (fp32 weights, as trained) and on the onnx backend (the int8
graph `clf predict` runs), and scores every gold unit with its context plus every paragraph of the gold
read whole, as `clf predict` would. Reports the largest and typical absolute difference of the model's
final probabilities (an ensemble's mix, its transformer member on each backend), and how many label
decisions differ. Labels do not matter here, so in-sample text is fine.
Writes benchmarks/int8.json and benchmarks/int8.md.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from clf.data import load_dataset
from clf.paragraphs import paragraphs
from clf.predictor import Predictor

ROOT = Path(__file__).resolve().parent.parent
GOAL = 0.02


def scores(predictor: Predictor, texts: list[str], contexts: list[str], paras: list[str]) -> dict[str, np.ndarray]:
    out = {"units": predictor.scores(texts, contexts), "paragraphs": predictor.paragraph_scores(paras)}
    out["decisions"] = predictor.decide(out["units"])
    return out


def on_torch(folder: Path) -> Predictor:
    """The folder's predictor with every transformer (the model itself, or an ensemble's member) on fp32 torch."""
    from clf.models import registry

    predictor = Predictor.load(folder)
    if predictor.model.name == "transformer":
        return Predictor.load(folder, "torch")
    members = getattr(predictor.model, "models_", [])
    for i, member in enumerate(members):
        if member.name == "transformer":
            members[i] = registry.load(folder / f"member-{i}", "torch")
    return predictor


def compare(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> dict[str, float]:
    row = {}
    for kind in ("units", "paragraphs"):
        diff = np.abs(a[kind] - b[kind])
        row[f"{kind}_max"] = float(diff.max())
        row[f"{kind}_p999"] = float(np.quantile(diff, 0.999))
        row[f"{kind}_mean"] = float(diff.mean())
    row["decisions_differing"] = int((a["decisions"] != b["decisions"]).sum())
    row["decisions"] = int(a["decisions"].size)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "ensemble")
    parser.add_argument("--data", type=Path, default=ROOT / "annotations")
    args = parser.parse_args()
    data = load_dataset(args.data)
    paras = [p.text for p in paragraphs(data)]
    fp32, int8 = on_torch(args.model), Predictor.load(args.model)
    inputs = (data.texts, data.contexts, paras)
    rows = {fp32.model.name: compare(scores(fp32, *inputs), scores(int8, *inputs))}
    result = {"model": str(args.model), "units": len(data), "paragraphs": len(paras), "date": time.strftime("%Y-%m-%d")}
    result["rows"] = rows
    row = next(iter(rows.values()))
    result["goal_met"] = row["units_max"] <= GOAL and row["paragraphs_max"] <= GOAL
    lines = [
        f"`{args.model}` on the torch (fp32) and onnx (int8) backends: {len(data)} gold units with their context and "
        f"{len(paras)} paragraphs read whole ({result['date']}). Absolute difference of the probabilities:",
        "",
        "| scores of | units: max | p99.9 | mean | paragraphs: max | mean | decisions differing | ≤ 0.02 |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, r in rows.items():
        ok = "yes" if r["units_max"] <= GOAL and r["paragraphs_max"] <= GOAL else "no"
        lines.append(
            f"| {name} | {r['units_max']:.4f} | {r['units_p999']:.4f} | {r['units_mean']:.5f} | "
            f"{r['paragraphs_max']:.4f} | {r['paragraphs_mean']:.5f} | {r['decisions_differing']} of "
            f"{r['decisions']:,} | {ok} |"
        )
    (ROOT / "benchmarks" / "int8.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    (ROOT / "benchmarks" / "int8.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
