"""Scaling benchmark: today's `clf predict` vs streaming (1 and 2 workers) vs Ray Data (2 actors) (not a test).

    HF_HUB_OFFLINE=1 python benchmarks/bench_scaling.py [--model benchmarks/.models/transformer]
        [--sizes 200,2000] [--engines-at 2000=stream-2,ray-2] [--out benchmarks/scaling]

Corpora come from benchmarks/make_corpus.py (synthetic policies: annotated units sampled and shuffled).
Every engine labels the same folder into JSONL in its own fresh process tree, one after the other, in one
run: wall time (Ray's start-up included), units/s, and the peak RSS of every process of the tree (sampled
every 0.2 s with psutil), with the load average and the CPU model, since other sessions share the machine.
"today" is the code of commit 1215112 (before streaming: read and label everything, then write), taken
with `git archive`. A profile of one worker's time (read, split, tokenise, encoder, rest, write) on a
sample of policies backs the projection to 1,000,000 policies (transformer models only).
Writes OUT.json and OUT.md (default benchmarks/scaling.*).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
BASE_COMMIT = "1215112"
CORPORA = ROOT / "benchmarks" / ".corpus"
ENGINES = ("today", "stream-1", "stream-2", "ray-2")
MILLION = 1_000_000
GOALS = {"workers_speedup": 1.7, "ray_vs_stream_max_gap": 0.15}

RAY_DRIVER = """
import json, sys
from dataclasses import asdict
from clf.ray_predict import predict_ray
print(json.dumps(asdict(predict_ray([sys.argv[1]], sys.argv[2], sys.argv[3], actors=2))))
"""


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def old_clf() -> Path:
    """The package as it was before streaming, unpacked from git into a temporary folder."""
    folder = Path(tempfile.mkdtemp(prefix="clf-base-"))
    archive = subprocess.run(["git", "archive", BASE_COMMIT, "clf"], cwd=ROOT, check=True, capture_output=True).stdout
    with tarfile.open(fileobj=__import__("io").BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    return folder


def command(engine: str, corpus: Path, model: Path, out: Path, base: Path) -> list[str]:
    clf = [sys.executable, "-c", "from clf.cli import main; main()"]
    if engine == "today":
        code = (
            f"import sys; sys.path.insert(0, {str(base)!r}); import clf; assert clf.__file__.startswith({str(base)!r})"
        )
        clf = [sys.executable, "-c", code + "; from clf.cli import main; main()"]
        return [*clf, "predict", str(corpus), "--model", str(model), "-f", "jsonl", "--out", str(out)]
    if engine.startswith("stream-"):
        workers = engine.split("-")[1]
        return [*clf, "predict", str(corpus), "--model", str(model), "-f", "jsonl", "--out", str(out), "-w", workers]
    return [sys.executable, "-c", RAY_DRIVER, str(corpus), str(model), str(out)]


def measure(cmd: list[str]) -> dict:
    """Wall time, per-process peak RSS of the whole process tree, and the load average while it ran."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "RAY_AUTH_MODE": "disabled"}
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    root = psutil.Process(proc.pid)
    peaks: dict[int, tuple[float, str]] = {}
    total_peak, loads = 0.0, []
    while proc.poll() is None:
        try:
            tree = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            break
        total = 0.0
        for p in tree:
            try:
                rss = p.memory_info().rss / 2**20
                name = " ".join(p.cmdline()[:3])[:80]
            except psutil.Error:
                continue
            total += rss
            if rss > peaks.get(p.pid, (0.0, ""))[0]:
                peaks[p.pid] = (rss, name)
        total_peak = max(total_peak, total)
        loads.append(os.getloadavg()[0])
        time.sleep(0.2)
    stdout, stderr = proc.communicate()
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[:4]} failed ({proc.returncode}): {stderr[-2000:]}")
    main = peaks.pop(proc.pid, (0.0, ""))[0]
    others = sorted((rss for rss, _ in peaks.values()), reverse=True)
    return {
        "seconds": round(seconds, 2),
        "peak_rss_main_mb": round(main, 1),
        "peak_rss_other_mb": [round(x, 1) for x in others if x > 20],  # workers, actors, Ray's daemons
        "peak_rss_tree_mb": round(total_peak, 1),
        "load_before": round(load_before, 2),
        "load_max": round(max(loads, default=load_before), 2),
        "load_mean": round(sum(loads) / len(loads), 2) if loads else load_before,
        "stdout": stdout.strip()[-500:],
    }


def count_units(out: Path) -> int:
    files = sorted(out.glob("*.jsonl")) if out.is_dir() else [out]
    return sum(sum(1 for _ in f.open("rb")) for f in files)


def breakdown(model: Path, corpus: Path, n: int = 10) -> dict:
    """Where one worker's time goes (one intra-op thread), on the first n policies of the corpus."""
    from clf import documents
    from clf.console import Output
    from clf.models.base import set_inference_threads
    from clf.predict import predict_document
    from clf.predictor import Predictor

    set_inference_threads(1)
    predictor = Predictor.load(model)
    paths = list(documents.iter_paths([str(corpus)]))[:n]
    clock = dict.fromkeys(("read", "split", "tokenise", "encoder", "label (rest of predict_document)", "write"), 0.0)
    units = 0
    with tempfile.TemporaryFile("w") as sink:
        for path in paths:
            t0 = time.perf_counter()
            doc = documents.read_file(path)
            t1 = time.perf_counter()
            texts = [u.text for u in doc.units()]
            t2 = time.perf_counter()
            pieces, _ = predictor.model._pieces(texts)
            t3 = time.perf_counter()
            predictor.model._score(pieces)
            t4 = time.perf_counter()
            rows = predict_document(predictor, doc)  # the real path: split + tokenise + encoder + rows again
            t5 = time.perf_counter()
            sink.write(Output("jsonl").render(doc, rows))
            t6 = time.perf_counter()
            clock["read"] += t1 - t0
            clock["split"] += t2 - t1
            clock["tokenise"] += t3 - t2
            clock["encoder"] += t4 - t3
            clock["label (rest of predict_document)"] += max(0.0, (t5 - t4) - (t4 - t1))
            clock["write"] += t6 - t5
            units += len(rows)
    total = sum(clock.values())
    return {
        "policies": len(paths),
        "units": units,
        "seconds": {k: round(v, 3) for k, v in clock.items()},
        "share": {k: round(v / total, 3) for k, v in clock.items()},
        "units_per_s_one_thread": round(units / total, 1),
    }


def ensure_corpus(n: int) -> Path:
    folder = CORPORA / str(n)
    if not folder.is_dir() or sum(1 for _ in folder.rglob("*.txt")) != n:
        sys.path.insert(0, str(ROOT / "benchmarks"))
        from make_corpus import make_corpus

        make_corpus(n, folder)
    return folder


def markdown(result: dict) -> str:
    lines = [
        f"### Scaling: {Path(result['model']).name}",
        "",
        f"{result['cpu']}, {result['cores']} cores; model: {result['model']}. Synthetic corpora "
        "(benchmarks/make_corpus.py). Each engine in a fresh process tree, one after another in one run; "
        "RSS = peak resident memory per process (main; the largest other: a worker, an actor or a Ray daemon).",
        "",
        "| policies | engine | units | seconds | units/s | peak RSS main (MB) | peak RSS other (MB) | "
        "tree peak (MB) | load avg (mean / max) |",
        "|---:|---|---:|---:|---:|---:|---|---:|---:|",
    ]
    for row in result["runs"]:
        other = ", ".join(f"{x:.0f}" for x in row["peak_rss_other_mb"][:4]) or "–"
        more = f" (+{len(row['peak_rss_other_mb']) - 4})" if len(row["peak_rss_other_mb"]) > 4 else ""
        lines.append(
            f"| {row['policies']} | {row['engine']} | {row['units']:,} | {row['seconds']:.1f} | "
            f"{row['units_per_s']:.0f} | {row['peak_rss_main_mb']:.0f} | {other}{more} | "
            f"{row['peak_rss_tree_mb']:.0f} | {row.get('load_mean', float('nan')):.1f} / {row['load_max']:.1f} |"
        )
    lines += ["", "#### Goals", "", "| goal | target | measured | |", "|---|---|---|---|"]
    for goal in result["goals"]:
        lines.append(f"| {goal['goal']} | {goal['target']} | {goal['measured']} | {'✅' if goal['met'] else '❌'} |")
    if "breakdown" not in result:
        return "\n".join(lines) + "\n"
    b = result["breakdown"]
    lines += [
        "",
        f"#### Where one worker's time goes ({b['policies']} policies, {b['units']:,} units, one thread: "
        f"{b['units_per_s_one_thread']:.0f} units/s)",
        "",
        "| stage | seconds | share |",
        "|---|---:|---:|",
        *(f"| {k} | {b['seconds'][k]:.2f} | {100 * b['share'][k]:.1f} % |" for k in b["seconds"]),
    ]
    p = result["projection"]
    lines += [
        "",
        "#### 1,000,000 policies, on paper",
        "",
        f"{p['units_per_policy']:.0f} units per policy → {p['units'] / 1e6:.0f} million units; measured "
        f"{p['units_per_s_per_core']:.0f} units/s per core ({p['basis']}) → **{p['core_hours']:,.0f} core-hours**: "
        + ", ".join(f"{h:,.1f} h on {c} cores" for c, h in p["hours_on"].items())
        + ".",
    ]
    return "\n".join(lines) + "\n"


def goals(runs: list[dict], sizes: list[int]) -> list[dict]:
    def rate(engine: str, n: int) -> float | None:
        row = next((r for r in runs if r["engine"] == engine and r["policies"] == n), None)
        return row["units_per_s"] if row else None

    def rss(engine: str, n: int) -> float | None:
        row = next((r for r in runs if r["engine"] == engine and r["policies"] == n), None)
        return max([row["peak_rss_main_mb"], *row["peak_rss_other_mb"]]) if row else None

    out = []
    small, big = min(sizes), max(sizes)
    for engine in ("stream-1", "stream-2"):
        a, b = rss(engine, small), rss(engine, big)
        if a and b and small != big:
            out.append(
                {
                    "goal": f"{engine}: largest process's peak RSS, {small} → {big} policies",
                    "target": "flat (≤ +10 %)",
                    "measured": f"{a:.0f} → {b:.0f} MB ({100 * (b / a - 1):+.0f} %)",
                    "met": b <= 1.10 * a,
                }
            )
    for n in sizes:
        one, two, ray2 = rate("stream-1", n), rate("stream-2", n), rate("ray-2", n)
        if one and two:
            speedup = two / one
            out.append(
                {
                    "goal": f"--workers 2 vs --workers 1 ({n} policies)",
                    "target": f"≥ {GOALS['workers_speedup']}×",
                    "measured": f"{speedup:.2f}×",
                    "met": speedup >= GOALS["workers_speedup"],
                }
            )
        row = next((r for r in runs if r["engine"] == "ray-2" and r["policies"] == n), None)
        if two and ray2 and row:
            started = row["units"] / (row["seconds"] - row["ray"]["startup_seconds"])
            gap = 1 - started / two
            out.append(
                {
                    "goal": f"Ray (2 actors) once started vs streaming --workers 2 ({n} policies)",
                    "target": f"within {100 * GOALS['ray_vs_stream_max_gap']:.0f} %",
                    "measured": f"{started:.0f} vs {two:.0f} units/s ({100 * abs(gap):.0f} % "
                    f"{'slower' if gap > 0 else 'faster'}; with start-up {ray2:.0f})",
                    "met": gap <= GOALS["ray_vs_stream_max_gap"],
                }
            )
    return out


def projection(runs: list[dict]) -> dict:
    best = max((r for r in runs if r["engine"] == "stream-2"), key=lambda r: r["policies"])
    per_core = best["units_per_s"] / 2
    units_per_policy = best["units"] / best["policies"]
    units = units_per_policy * MILLION
    core_hours = units / per_core / 3600
    return {
        "basis": f"streaming --workers 2 on {best['policies']} policies, 2 cores",
        "units_per_policy": units_per_policy,
        "units": units,
        "units_per_s_per_core": per_core,
        "core_hours": core_hours,
        "hours_on": {cores: core_hours / cores for cores in (2, 64, 512)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, default=ROOT / "benchmarks" / ".models" / "transformer")
    parser.add_argument("--sizes", default="200,2000")
    parser.add_argument("--engines-at", action="append", default=[], help="N=engine,engine (default: all)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "scaling")
    parser.add_argument("--render", action="store_true", help="only rewrite OUT.md (and its goals) from OUT.json")
    args = parser.parse_args()
    if args.render:
        result = json.loads(args.out.with_suffix(".json").read_text())
        result["goals"] = goals(result["runs"], sorted({r["policies"] for r in result["runs"]}))
        args.out.with_suffix(".json").write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
        args.out.with_suffix(".md").write_text(markdown(result))
        return
    if not (args.model / "model.json").is_file():
        sys.exit(f"no model in {args.model}: clf train --model transformer --out {args.model}")
    sizes = [int(x) for x in args.sizes.split(",")]
    chosen = {int(k): v.split(",") for k, v in (e.split("=") for e in args.engines_at)}
    base = old_clf()
    runs = []
    with tempfile.TemporaryDirectory(prefix="clf-scaling-") as tmp:
        for n in sizes:
            corpus = ensure_corpus(n)
            for engine in chosen.get(n, ENGINES):
                out = Path(tmp) / f"{engine}-{n}{'' if engine.startswith('ray') else '.jsonl'}"
                print(f"{n} policies: {engine} ...", file=sys.stderr, flush=True)
                row = {"policies": n, "engine": engine, **measure(command(engine, corpus, args.model, out, base))}
                row["units"] = count_units(out)
                row["units_per_s"] = round(row["units"] / row["seconds"], 1)
                if engine.startswith("ray"):
                    row["ray"] = json.loads(row["stdout"].splitlines()[-1])
                print(f"  {row['units']:,} units in {row['seconds']:.0f} s, load {row['load_max']}", file=sys.stderr)
                runs.append(row)
    result = {
        "cpu": cpu_model(),
        "cores": psutil.cpu_count(),
        "model": str(args.model.relative_to(ROOT) if args.model.is_relative_to(ROOT) else args.model),
        "runs": runs,
    }
    result["goals"] = goals(runs, sizes)
    if (args.model / "model.int8.onnx").is_file() and any(r["engine"] == "stream-2" for r in runs):
        result["breakdown"] = breakdown(args.model, ensure_corpus(min(sizes)))
        result["projection"] = projection(runs)
    result["load_after"] = os.getloadavg()
    args.out.with_suffix(".json").write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    args.out.with_suffix(".md").write_text(markdown(result))
    print(markdown(result))


if __name__ == "__main__":
    main()
