"""Report benchmark: size and time of `clf report` for the largest annotated policy (not a test).

    HF_HUB_OFFLINE=1 python benchmarks/bench_report.py --model models/tfidf --model models/transformer

For each model, in one run: a cold `clf report` in a fresh process (wall time, HTML and JSON sizes),
the in-process stages (read + split, label, build, render), and the page in headless Chromium (load
time, time to apply one category filter to every unit). The models are compared as ratios measured
here. Other sessions share this machine's CPU, so the load average before and after and the CPU model
are recorded: re-run when the load during the run was above ~1. Writes benchmarks/report_results.json
and benchmarks/report_results.md.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def largest_annotated_policy() -> Path:
    """The policy text with the most gold units."""
    from clf.annotations import load_gold

    gold = max(load_gold(ROOT / "annotations"), key=lambda f: len(f.records))
    return ROOT / "annotations" / "policies" / f"{gold.policy}.txt"


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def cold_report(policy: Path, model: Path, out: Path, fmt: str) -> float:
    clf = Path(sys.executable).with_name("clf")
    started = time.perf_counter()
    subprocess.run(
        [str(clf), "report", str(policy), "--model", str(model), "--out", str(out), "--format", fmt],
        check=True,
        capture_output=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    return time.perf_counter() - started


def stages(policy: Path, model: Path) -> dict[str, float]:
    from clf.documents import read_file
    from clf.predict import predict_document
    from clf.predictor import Predictor
    from clf.views.report import policy_report, render_report

    times = {}
    t = time.perf_counter()
    predictor = Predictor.load(model)
    times["load_model_s"] = time.perf_counter() - t
    t = time.perf_counter()
    doc = read_file(policy)
    units = doc.units()
    times["read_split_s"] = time.perf_counter() - t
    t = time.perf_counter()
    rows = predict_document(predictor, doc)
    times["label_s"] = time.perf_counter() - t
    t = time.perf_counter()
    report = policy_report(doc, rows, predictor, model)
    times["build_s"] = time.perf_counter() - t
    t = time.perf_counter()
    render_report(report)
    times["render_s"] = time.perf_counter() - t
    assert len(units) == len(rows)
    return {k: round(v, 4) for k, v in times.items()} | {"units": len(rows)}


def in_browser(page: Path) -> dict[str, float]:
    from tests import browser

    with browser.chromium() as driver:
        started = time.perf_counter()
        driver.get(page.resolve().as_uri())
        wall = time.perf_counter() - started
        timing = driver.execute_script(
            "const t = performance.getEntriesByType('navigation')[0];"
            "return {dom: t.domContentLoadedEventEnd, load: t.loadEventEnd};"
        )
        filter_ms = driver.execute_script(
            "const chip = document.querySelector('.chip[data-code]:not([disabled])');"
            "const t0 = performance.now(); chip.click(); document.body.offsetHeight;"
            "return performance.now() - t0;"
        )
        resources = driver.execute_script("return performance.getEntriesByType('resource').length")
    return {
        "get_wall_s": round(wall, 3),
        "dom_content_loaded_ms": round(timing["dom"], 1),
        "load_event_ms": round(timing["load"], 1),
        "one_filter_ms": round(filter_ms, 1),
        "resources_loaded": resources,
    }


def measure(policy: Path, model: Path) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        html, data = Path(tmp) / "r.html", Path(tmp) / "r.json"
        cold_html = cold_report(policy, model, html, "html")
        cold_json = cold_report(policy, model, data, "json")
        raw = html.read_bytes()
        row = {
            "model": str(model),
            "cold_report_html_s": round(cold_html, 2),
            "cold_report_json_s": round(cold_json, 2),
            "html_bytes": len(raw),
            "html_gzip_bytes": len(gzip.compress(raw)),
            "json_bytes": data.stat().st_size,
            "stages": stages(policy, model),
            "browser": in_browser(html),
        }
    return row


def markdown(result: dict) -> str:
    rows = result["models"]
    lines = [
        f"`clf report {result['policy']}`: {result['units']} units ({result['policy_bytes']:,} bytes of text), "
        "the largest annotated policy. "
        f"CPU: {result['cpu']} ({result['cores']} cores); load average {result['load_before']} before, "
        f"{result['load_after']} after.",
        "",
        "| model | cold `clf report` (s) | label (s) | build + render (s) | HTML (KB) | gzip (KB) | JSON (KB) "
        "| Chromium load (ms) | one filter (ms) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        s, b = r["stages"], r["browser"]
        lines.append(
            f"| {Path(r['model']).name} | {r['cold_report_html_s']:.2f} | {s['label_s']:.3f} | "
            f"{s['build_s'] + s['render_s']:.3f} | {r['html_bytes'] / 1024:.0f} | {r['html_gzip_bytes'] / 1024:.0f} | "
            f"{r['json_bytes'] / 1024:.0f} | {b['load_event_ms']:.0f} | {b['one_filter_ms']:.1f} |"
        )
    if len(rows) == 2:
        a, b = rows
        lines += [
            "",
            f"Ratios in this run ({Path(b['model']).name} / {Path(a['model']).name}): cold report "
            f"{b['cold_report_html_s'] / a['cold_report_html_s']:.2f}×, labelling "
            f"{b['stages']['label_s'] / a['stages']['label_s']:.1f}×; the page is the same size whatever the model.",
        ]
    lines += [
        "",
        "Pages loaded no resource at all (styles and scripts inline): "
        + ", ".join(str(r["browser"]["resources_loaded"]) for r in rows)
        + ".",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", type=Path, required=True, help="a model folder (repeat)")
    args = parser.parse_args()
    policy = largest_annotated_policy()
    load_before = [round(x, 2) for x in os.getloadavg()]
    rows = [measure(policy, model) for model in args.model]
    result = {
        "policy": str(policy.relative_to(ROOT)),
        "policy_bytes": policy.stat().st_size,
        "units": rows[0]["stages"]["units"],
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "load_before": load_before,
        "load_after": [round(x, 2) for x in os.getloadavg()],
        "models": rows,
    }
    (ROOT / "benchmarks" / "report_results.json").write_text(json.dumps(result, indent=1) + "\n")
    (ROOT / "benchmarks" / "report_results.md").write_text(markdown(result))
    print(markdown(result))


if __name__ == "__main__":
    main()
