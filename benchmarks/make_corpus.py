"""Synthetic policies for timing only: each one is annotated units sampled and shuffled (not a test, not data).

    python benchmarks/make_corpus.py 2000 benchmarks/.corpus/2000 [--seed 0] [--jsonl]

Policy i takes as many units as a real gold policy drawn at random (32 to 354 here), sampled with
replacement from all units of annotations/*.jsonl and shuffled, one unit per paragraph, written to
`OUT/NNN/policy-NNNNNN.txt` (100 per folder, as a crawl would shard them). With `--jsonl`, also
`OUT.jsonl`: one record per unit. The texts are real sentences in a meaningless order: labels
predicted on them mean nothing; they have the length and the vocabulary of real policies.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def make_corpus(n: int, out: Path, seed: int = 0, jsonl: bool = False) -> dict:
    from clf.data import load_dataset

    data = load_dataset(ROOT / "annotations")
    sizes = list(Counter(data.groups).values())
    rng = random.Random(seed)
    shutil.rmtree(out, ignore_errors=True)
    units = 0
    records = out.with_suffix(".jsonl").open("w", encoding="utf-8") if jsonl else None
    for i in range(n):
        chosen = rng.choices(data.texts, k=rng.choice(sizes))
        rng.shuffle(chosen)
        path = out / f"{i // 100:03d}" / f"policy-{i:06d}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n\n".join(chosen) + "\n", encoding="utf-8")
        units += len(chosen)
        if records:
            for j, text in enumerate(chosen):
                records.write(json.dumps({"id": f"policy-{i:06d}-{j:04d}", "text": text}, ensure_ascii=False) + "\n")
    if records:
        records.close()
    return {"policies": n, "sampled_units": units, "bytes": sum(p.stat().st_size for p in out.rglob("*.txt"))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("n", type=int)
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jsonl", action="store_true", help="also OUT.jsonl, one record per unit")
    args = parser.parse_args()
    print(json.dumps(make_corpus(args.n, args.out, args.seed, args.jsonl)))


if __name__ == "__main__":
    main()
