"""Whole-policy benchmark: cold `clf predict` of every annotated policy text, per trained model (not a test).

    HF_HUB_OFFLINE=1 python benchmarks/bench_policies.py --model models/ensemble --model models/tfidf

What a user's run costs end to end: a fresh process reads the 36 policy texts, splits them, builds each unit's
context, labels and writes JSONL. Models are compared as ratios measured in this one run; the CPU and the load
average are recorded. Writes benchmarks/policies.json and benchmarks/policies.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_train import machine  # noqa: E402


def run(model: Path, policies: Path) -> dict[str, object]:
    clf = Path(sys.executable).with_name("clf")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.jsonl"
        load = os.getloadavg()[0]
        started = time.perf_counter()
        subprocess.run(
            [str(clf), "predict", str(policies), "--model", str(model), "--format", "jsonl", "--out", str(out)],
            check=True,
            capture_output=True,
            env={**os.environ, "HF_HUB_OFFLINE": "1"},
        )
        wall = time.perf_counter() - started
        units = sum(1 for _ in out.open(encoding="utf-8"))
    return {
        "model": str(model),
        "wall_seconds": round(wall, 2),
        "units": units,
        "units_per_s": round(units / wall, 1),
        "load_before": round(load, 2),
        "load_after": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, action="append", required=True)
    parser.add_argument("--policies", type=Path, default=ROOT / "annotations" / "policies")
    args = parser.parse_args()
    texts = sorted(args.policies.glob("*.txt"))
    size = sum(p.stat().st_size for p in texts)
    runs = [run(model, args.policies) for model in args.model]
    result = {
        "machine": machine(),
        "date": time.strftime("%Y-%m-%d"),
        "policies": len(texts),
        "bytes": size,
        "runs": runs,
    }
    m = result["machine"]
    lines = [
        f"Cold `clf predict` of {len(texts)} policy texts ({size / 1e6:.2f} MB) to JSONL, fresh process, "
        f"{m['cores']} cores of a {m['cpu']} (AVX-512 {'yes' if m['avx512'] else 'no'}), {result['date']}:",
        "",
        "| model | wall | units | units/s | load before / after |",
        "|---|---:|---:|---:|---|",
    ]
    lines += [
        f"| `{r['model']}` | {r['wall_seconds']:.1f} s | {r['units']:,} | {r['units_per_s']:.0f} | "
        f"{r['load_before']} / {r['load_after']} |"
        for r in runs
    ]
    (ROOT / "benchmarks" / "policies.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    (ROOT / "benchmarks" / "policies.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
