"""Splitting time against input size, for ordinary policies and pathological inputs (not a test).

    python benchmarks/bench_split.py            # sizes up to 1 MB, and the 10 MB table
    python benchmarks/bench_split.py --quick    # up to 100 kB (a smoke run)

Inputs, each cut to exactly the size measured:
- ordinary: the 36 policy texts of annotations/policies, one after another (repeated as needed);
- no punctuation: their words on one line, without a full stop, comma or line break (a minified page);
- one huge list: one line "We collect: w1, w2, w3, ..." that never ends its sentence;
- table: web-copy table rows "cell | cell | cell", one per line (the 10 MB case).

Every run is checked (units in order, disjoint, at most MAX_UNIT_CHARS, covering every non-space
character) outside the timed part. The splitter of commit 1215112 (before the fix) runs on the
no-punctuation input at small sizes in the same process, for the ratio. Other sessions share
this machine, so the load average is recorded before and after each size, with the CPU model;
wall and process CPU time are both kept. Writes benchmarks/split.json and benchmarks/split.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from clf.segment import MAX_UNIT_CHARS, collapse, split_units  # noqa: E402

BEFORE = "1215112"  # the splitter before it was made linear
SIZES = [10_000, 100_000, 1_000_000]
TABLE_SIZES = [*SIZES, 10_000_000]
BEFORE_SIZES = [10_000, 20_000, 40_000, 80_000]


def _policies() -> str:
    return "\n\n".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "annotations/policies").glob("*.txt")))


def _fill(pattern: str, size: int) -> str:
    return (pattern * (size // len(pattern) + 1))[:size]


def inputs(size: int) -> dict[str, str]:
    policies = _policies()
    words = re.findall(r"[A-Za-z]+", policies)
    line = " ".join(words)
    items = ", ".join(" ".join(words[i : i + 3]) for i in range(0, len(words), 3))
    rows = "\n".join(" | ".join(" ".join(words[i + k : i + k + 4]) for k in (0, 4, 8)) for i in range(0, 6000, 12))
    return {
        "ordinary": _fill(policies + "\n\n", size),
        "no punctuation": _fill(line + " ", size),
        "one huge list": _fill("We collect: " + items + ", ", size),
        "table": _fill(rows + "\n", size),
    }


def check(text: str, units) -> None:
    previous = 0
    covered = 0
    for u in units:
        assert u.start >= previous and not text[previous : u.start].strip()
        assert len(u.text) <= MAX_UNIT_CHARS and u.text == collapse(text[u.start : u.end])
        covered += len("".join(text[u.start : u.end].split()))
        previous = u.end
    assert not text[previous:].strip() and covered == len("".join(text.split()))


def timed(split, text: str) -> dict:
    load = os.getloadavg()[0]
    wall, cpu = time.perf_counter(), time.process_time()
    units = split(text)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {
        "chars": len(text),
        "wall_s": round(wall, 3),
        "cpu_s": round(cpu, 3),
        "us_per_char": round(cpu / len(text) * 1e6, 2),
        "units": len(units),
        "max_unit_chars": max((len(u.text) for u in units), default=0),
        "load_before": round(load, 2),
        "load_after": round(os.getloadavg()[0], 2),
        "_units": units,
    }


def old_splitter():
    """split_units as it was before the fix, loaded from git (None if git or the commit is not there)."""
    try:
        source = subprocess.run(
            ["git", "show", f"{BEFORE}:clf/segment.py"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    module = types.ModuleType("segment_before")
    sys.modules[module.__name__] = module  # dataclasses look their module up
    exec(compile(source, f"{BEFORE}:clf/segment.py", "exec"), module.__dict__)
    return module.split_units


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="sizes up to 100 kB only")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks")
    args = parser.parse_args()
    sizes, table_sizes = ([10_000, 100_000], [10_000, 100_000]) if args.quick else (SIZES, TABLE_SIZES)

    split_units("Warm-up. The segmenter compiles its rules on first use.")
    rows = []
    for size in sorted(set(sizes) | set(table_sizes)):
        for kind, text in inputs(size).items():
            if size not in (table_sizes if kind == "table" else sizes):
                continue
            row = timed(split_units, text)
            check(text, row.pop("_units"))
            rows.append({"splitter": "now", "input": kind, **row})
            print(f"{kind:>15} {size:>10,} chars: {row['cpu_s']:.2f} s cpu, {row['units']} units", file=sys.stderr)
    before = []
    split_before = old_splitter()
    if split_before is not None:
        for size in BEFORE_SIZES:
            text = inputs(size)["no punctuation"]
            now = timed(split_units, text)
            old = timed(split_before, text)
            now.pop("_units"), old.pop("_units")
            before.append({"chars": size, "now_cpu_s": now["cpu_s"], "before_cpu_s": old["cpu_s"], **_loads(now, old)})
            print(f"before/now {size:>7,} chars: {old['cpu_s']:.2f} / {now['cpu_s']:.2f} s", file=sys.stderr)
    loads = [r["load_before"] for r in rows] + [r["load_after"] for r in rows]
    result = {
        "cpu": cpu_model(),
        "cores": len(os.sched_getaffinity(0)),
        "python": platform.python_version(),
        "max_unit_chars": MAX_UNIT_CHARS,
        "load_average_1min": {"min": min(loads), "max": max(loads)},
        "runs": rows,
        "before_fix": {"commit": BEFORE, "input": "no punctuation", "runs": before},
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "split.json").write_text(json.dumps(result, indent=2) + "\n")
    (args.out / "split.md").write_text(markdown(result))
    print(f"wrote {args.out / 'split.json'} and split.md", file=sys.stderr)


def _loads(*runs: dict) -> dict:
    return {"load_max": max(max(r["load_before"], r["load_after"]) for r in runs)}


def markdown(r: dict) -> str:
    kinds = list(dict.fromkeys(row["input"] for row in r["runs"]))
    sizes = sorted({row["chars"] for row in r["runs"]})
    cell = {(row["input"], row["chars"]): row for row in r["runs"]}

    def label(n: int) -> str:
        return f"{n / 1e6:g} MB" if n >= 1e6 else f"{n / 1e3:g} kB"

    lines = [
        "| input | " + " | ".join(label(s) for s in sizes) + " | µs/char, smallest → largest |",
        "|---|" + "---:|" * len(sizes) + "---|",
    ]
    for kind in kinds:
        runs = [cell[(kind, s)] for s in sizes if (kind, s) in cell]
        times = [f"{cell[(kind, s)]['cpu_s']:.2f} s" if (kind, s) in cell else "" for s in sizes]
        lines.append(
            f"| {kind} | " + " | ".join(times) + f" | {runs[0]['us_per_char']:.1f} → {runs[-1]['us_per_char']:.1f} |"
        )
    lines.append("")
    lines.append(
        f"CPU seconds of `split_units` (one run each; every unit ≤ {r['max_unit_chars']} "
        "characters, checked). "
        f"{r['cpu']}, {r['cores']} cores, load average {r['load_average_1min']['min']:.2f}–"
        f"{r['load_average_1min']['max']:.2f} during the runs."
    )
    before = r["before_fix"]["runs"]
    if before:
        pairs = ", ".join(f"{label(b['chars'])} {b['before_cpu_s']:.2f} s → {b['now_cpu_s']:.2f} s" for b in before)
        lines.append(f"Before the fix ({r['before_fix']['commit']}), no punctuation, same run: {pairs}.")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
