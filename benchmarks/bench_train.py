"""Training benchmark: wall time of `clf train` on all annotated policies, per config (not a test).

    HF_HUB_OFFLINE=1 python benchmarks/bench_train.py                      # the default model (ensemble)
    HF_HUB_OFFLINE=1 python benchmarks/bench_train.py --model tfidf --model ensemble

Each config is trained in a fresh process, as a user runs it, into a temporary folder; the model's own
stage timings (inner out-of-fold fits for thresholds, final fit) come from its training info. The goal
is ≤ 10 minutes wall on 2 cores for the default model. Other sessions may share the CPU, so the load
average before and after, the CPU model and its AVX-512/AMX flags are recorded: re-run when the load was
above ~1. Writes benchmarks/train.json and benchmarks/train.md (rows of configs not trained in this run are kept).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOAL_SECONDS = 600


def machine() -> dict[str, object]:
    info = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = next((line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name")), "?")
    flags = next((line.split(":", 1)[1].split() for line in info.splitlines() if line.startswith("flags")), [])
    return {
        "cpu": model,
        "cores": len(os.sched_getaffinity(0)),
        "avx512": any(f.startswith("avx512") for f in flags),
        "amx": any(f.startswith("amx") for f in flags),
    }


def train_once(model: str, data: Path, keep: Path | None = None, policies: str | None = None) -> dict[str, object]:
    clf = Path(sys.executable).with_name("clf")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / model
        load_before = os.getloadavg()[0]
        started = time.perf_counter()
        subset = ["--policies", policies] if policies else []
        subprocess.run(
            [str(clf), "train", "--model", model, "--data", str(data), "--out", str(out), *subset],
            check=True,
            env={**os.environ, "HF_HUB_OFFLINE": "1"},
        )
        wall = time.perf_counter() - started
        info = json.loads((out / "training.json").read_text(encoding="utf-8"))
        if keep is not None:  # e.g. models/ (the trained folder is moved there as models/NAME)
            keep.mkdir(parents=True, exist_ok=True)
            shutil.rmtree(keep / model, ignore_errors=True)
            shutil.move(str(out), str(keep / model))
    return {
        "model": model + (" (the demo's policies)" if policies else ""),
        "wall_seconds": round(wall, 1),
        "stages_seconds": info.get("timings_seconds", {}),
        "units": info.get("data", {}).get("units"),
        "policies": len(info.get("data", {}).get("policies", [])),
        "load_before": round(load_before, 2),
        "load_after": round(os.getloadavg()[0], 2),
    }


def markdown(result: dict[str, object]) -> str:
    m = result["machine"]
    lines = [
        f"`clf train`, a fresh process each, {m['cores']} cores of a {m['cpu']} "
        f"(AVX-512 {'yes' if m['avx512'] else 'no'}, AMX {'yes' if m['amx'] else 'no'}), {result['date']}:",
        "",
        "| config | policies | units | wall | inner out-of-fold fits (thresholds) | final fit | load before / after "
        "| goal ≤ 10 min |",
        "|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for run in result["runs"]:
        stages = run["stages_seconds"]
        goal = "met" if run["wall_seconds"] <= GOAL_SECONDS else "missed"
        lines.append(
            f"| {run['model']} | {run['policies']} | {run['units']:,} | {run['wall_seconds'] / 60:.1f} min | "
            f"{stages.get('thresholds', 0):.0f} s | "
            f"{stages.get('final_fit', 0):.0f} s | {run['load_before']} / {run['load_after']} | {goal} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", help="config name (repeatable); default: ensemble")
    parser.add_argument("--data", type=Path, default=ROOT / "annotations")
    parser.add_argument("--keep", type=Path, help="keep the trained folders here as NAME/ (replacing them)")
    parser.add_argument("--policies", help="train on these policies only (comma-separated), e.g. the demo's")
    args = parser.parse_args()
    runs = [train_once(model, args.data, args.keep, args.policies) for model in args.model or ["ensemble"]]
    previous = ROOT / "benchmarks" / "train.json"
    if previous.exists():  # keep the other configs' rows (each row says its own load)
        done = {run["model"] for run in runs}
        runs += [run for run in json.loads(previous.read_text())["runs"] if run["model"] not in done]
    result = {"machine": machine(), "date": time.strftime("%Y-%m-%d"), "runs": runs}
    (ROOT / "benchmarks" / "train.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    (ROOT / "benchmarks" / "train.md").write_text(markdown(result) + "\n", encoding="utf-8")
    print(markdown(result))


if __name__ == "__main__":
    main()
