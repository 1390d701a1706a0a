"""Inference benchmark: naive transformers vs clf's torch and ONNX int8 backends vs TF-IDF (not a test).

    HF_HUB_OFFLINE=1 python benchmarks/bench_inference.py --transformer DIR --tfidf DIR

Every engine runs in its own fresh subprocess (so peak RSS and load time are its own) on the
same ~2,000 sentences: the units of annotations/*.jsonl, repeated as needed. Writes
benchmarks/results.json and benchmarks/results.md. Missing model folders are trained first
(with the configs in configs/), which also gives the training time.

(a) "naive" is the closest naive equivalent of a `transformers` text-classification pipeline
for this model (the pipeline needs an `...ForSequenceClassification` class, and this model is an
AutoModel + mean pooling + head): `AutoTokenizer` + `AutoModel` in fp32 with the same head,
unsorted batches of 32 padded to the longest, truncated at max_length, one forward per batch.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
N_SENTENCES = 2000
EXAMPLE = ROOT / "examples" / "northwind-notes.md"
GOALS = {
    "onnx_sentences_per_s": 600,
    "onnx_speedup_vs_naive": 3.5,
    "cold_predict_s": 3.0,
    "peak_rss_mb": 400,
    "train_s": 180,
    "int8_vs_fp32_max_gap": 0.02,
}


def sentences() -> list[str]:
    from clf.data import load_dataset

    texts = load_dataset(ROOT / "annotations").texts
    return (texts * (N_SENTENCES // len(texts) + 1))[:N_SENTENCES]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


# --------------------------------------------------------------------------- workers (one per subprocess)
def worker(kind: str, model_dir: Path) -> dict:
    texts = sentences()
    started = time.perf_counter()
    if kind == "naive":
        predict = _naive(model_dir)
    elif kind in {"torch", "onnx"}:
        from clf.models.transformer import TransformerModel

        model = TransformerModel.load(model_dir, kind)
        predict = model.predict_proba
    elif kind == "tfidf":
        from clf.models import registry

        predict = registry.load(model_dir).predict_proba
    else:
        raise SystemExit(f"unknown worker {kind}")
    loaded = time.perf_counter()
    predict(texts[:32])  # warm-up (first-call allocations), not timed
    t0 = time.perf_counter()
    scores = predict(texts)
    seconds = time.perf_counter() - t0
    assert len(scores) == len(texts)
    return {
        "engine": kind,
        "sentences": len(texts),
        "load_s": round(loaded - started, 3),
        "predict_s": round(seconds, 3),
        "sentences_per_s": round(len(texts) / seconds, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "torch_imported": "torch" in sys.modules,
    }


def gap_worker(model_dir: Path) -> dict:
    """Largest |int8 ONNX − fp32 torch| probability over the example policy's units and 12 labels."""
    import numpy as np

    from clf.documents import read_file
    from clf.models.transformer import TransformerModel

    units = [u.text for u in read_file(EXAMPLE).units()]
    fp32 = TransformerModel.load(model_dir, "torch").predict_proba(units)
    int8 = TransformerModel.load(model_dir, "onnx").predict_proba(units)
    gap = np.abs(int8 - fp32)
    return {"units": len(units), "max_gap": round(float(gap.max()), 4), "mean_gap": round(float(gap.mean()), 5)}


def _naive(model_dir: Path):
    import numpy as np
    import torch
    from safetensors.torch import load_file
    from transformers import AutoModel, AutoTokenizer

    from clf.models.encoder_torch import MeanPoolClassifier
    from clf.models.transformer import resolve_base_model

    settings = json.loads((model_dir / "transformer.json").read_text())
    params = json.loads((model_dir / "model.json").read_text())["params"]
    base = resolve_base_model(params["base_model"])
    torch.set_num_threads(len(os.sched_getaffinity(0)))
    tokenizer = AutoTokenizer.from_pretrained(str(base))
    encoder = AutoModel.from_pretrained(str(base), add_pooling_layer=False)
    model = MeanPoolClassifier(encoder, 12, normalize=settings.get("normalize", True))
    model.load_state_dict(load_file(str(model_dir / "model.safetensors")))
    model.eval()

    def predict(texts: list[str]) -> np.ndarray:
        out = []
        with torch.no_grad():
            for i in range(0, len(texts), 32):
                batch = tokenizer(
                    texts[i : i + 32],
                    padding=True,
                    truncation=True,
                    max_length=settings["max_length"],
                    return_tensors="pt",
                )
                out.append(torch.sigmoid(model(batch["input_ids"], batch["attention_mask"])).numpy())
        return np.concatenate(out)

    return predict


# --------------------------------------------------------------------------- driver
def _env() -> dict[str, str]:
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": path}


def run_worker(kind: str, model_dir: Path) -> dict:
    cmd = [sys.executable, __file__, "--worker", kind, "--model-dir", str(model_dir)]
    result = subprocess.run(cmd, capture_output=True, text=True, env=_env(), check=False)
    if result.returncode:
        return {"engine": kind, "error": result.stderr[-1500:]}
    return json.loads(result.stdout.strip().splitlines()[-1])


def cold_predict(model_dir: Path, backend: str = "auto") -> dict:
    """Wall time of a fresh `clf predict EXAMPLE --model DIR` process (imports, load, split, predict, print)."""
    code = "import sys; from clf.cli import main; sys.argv = ['clf'] + sys.argv[1:]; main()"
    cmd = [
        sys.executable,
        "-c",
        code,
        "predict",
        str(EXAMPLE),
        "--model",
        str(model_dir),
        "--backend",
        backend,
        "--format",
        "jsonl",
    ]
    t0 = time.perf_counter()
    result = subprocess.run(cmd, capture_output=True, text=True, env=_env(), check=False)
    seconds = time.perf_counter() - t0
    return {
        "backend": backend,
        "wall_s": round(seconds, 2),
        "ok": result.returncode == 0,
        "units": len(result.stdout.splitlines()),
        "stderr_tail": result.stderr[-300:] if result.returncode else "",
    }


def dynamic_variant(folder: Path) -> Path:
    """A copy of the trained transformer whose ONNX file uses `quantize_dynamic` (the faster, looser option)."""
    target = folder.with_name(folder.name + "-dynamic")
    code = (
        "import json, shutil; from pathlib import Path; from clf.models.transformer import TransformerModel, "
        "ONNX_FILE; from clf.models.onnx_export import export_int8; import onnx\n"
        f"src, dst = Path({str(folder)!r}), Path({str(target)!r})\n"
        "shutil.rmtree(dst, ignore_errors=True); shutil.copytree(src, dst)\n"
        "meta = {p.key: p.value for p in onnx.load(str(src / ONNX_FILE)).metadata_props}\n"
        "meta.pop('quantization'); meta.pop('fused_ops', None)\n"
        "model = TransformerModel.load(src, 'torch')\n"
        "export_int8(model.module_, dst / ONNX_FILE, meta, 'dynamic')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, env=_env(), capture_output=True)
    return target


def ensure_model(name: str, folder: Path) -> float | None:
    """Train `name` on annotations/ into `folder` if missing; returns the measured wall seconds then."""
    if (folder / "model.json").exists():
        return None
    code = (
        "from clf.config import load_config; from clf.train import train; "
        f"train(load_config({name!r}), {str(ROOT / 'annotations')!r}, {str(folder)!r})"
    )
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, env=_env())
    return round(time.perf_counter() - t0, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--transformer", type=Path, default=ROOT / "benchmarks" / ".models" / "transformer")
    parser.add_argument("--tfidf", type=Path, default=ROOT / "benchmarks" / ".models" / "tfidf")
    parser.add_argument("--worker")
    parser.add_argument("--model-dir", type=Path)
    args = parser.parse_args()
    if args.worker:
        run = gap_worker if args.worker == "gap" else lambda folder: worker(args.worker, folder)
        print(json.dumps(run(args.model_dir)))
        return

    train_wall = {name: ensure_model(name, getattr(args, name)) for name in ("transformer", "tfidf")}
    training = json.loads((args.transformer / "training.json").read_text())
    engines = {kind: run_worker(kind, args.transformer) for kind in ("naive", "torch", "onnx")}
    dynamic = dynamic_variant(args.transformer)
    engines["onnx_dynamic"] = run_worker("onnx", dynamic)
    engines["tfidf"] = run_worker("tfidf", args.tfidf)
    gaps = {"blockwise": run_worker("gap", args.transformer), "dynamic": run_worker("gap", dynamic)}
    cold = {
        "onnx": cold_predict(args.transformer),
        "torch": cold_predict(args.transformer, "torch"),
        "tfidf": cold_predict(args.tfidf),
    }
    naive = engines["naive"].get("sentences_per_s")
    onnx = engines["onnx"].get("sentences_per_s")
    results = {
        "machine": {"cores": len(os.sched_getaffinity(0)), "python": sys.version.split()[0]},
        "sentences": N_SENTENCES,
        "naive_note": "closest naive equivalent of pipeline('text-classification'): AutoTokenizer + AutoModel fp32 "
        "+ the same mean-pooling head, unsorted batches of 32, truncation at max_length",
        "engines": engines,
        "onnx_speedup_vs_naive": round(onnx / naive, 2) if naive and onnx else None,
        "int8_vs_fp32_on_example": gaps,
        "cold_predict": cold,
        "training": {
            "transformer_total_s": training["timings_seconds"]["total"],
            "timings_s": training["timings_seconds"],
            "wall_s_if_trained_here": train_wall["transformer"],
            "units": training["data"]["units"],
            "inner_cv": training["inner_cv"],
        },
        "goals": GOALS,
    }
    out = ROOT / "benchmarks"
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (out / "results.md").write_text(markdown(results))
    print(markdown(results))


def _mark(ok: bool) -> str:
    return "✅" if ok else "❌"


def markdown(r: dict) -> str:
    e = r["engines"]
    rows = []
    names = {
        "naive": "(a) naive fp32 (AutoModel, unsorted batches of 32)",
        "torch": "(b) clf torch fp32",
        "onnx": "(c) clf ONNX int8 (default: int8 weights, fused graph)",
        "onnx_dynamic": "(c′) clf ONNX `quantize_dynamic` (option, not default)",
        "tfidf": "(d) TF-IDF",
    }
    for kind, label in names.items():
        x = e[kind]
        if "error" in x:
            rows.append(f"| {label} | error | | | |")
            continue
        rows.append(
            f"| {label} | {x['sentences_per_s']:.0f} | {x['load_s']:.2f} | {x['peak_rss_mb']:.0f} | "
            f"{'yes' if x['torch_imported'] else 'no'} |"
        )
    g = r["goals"]
    onnx = e["onnx"]
    speed = onnx.get("sentences_per_s", 0)
    cold = r["cold_predict"]["onnx"]["wall_s"]
    train = r["training"]["transformer_total_s"]
    goals = [
        f"| ONNX int8 throughput | ≥ {g['onnx_sentences_per_s']} sentences/s | {speed:.0f} | "
        f"{_mark(speed >= g['onnx_sentences_per_s'])} |",
        f"| ONNX int8 vs naive | ≥ {g['onnx_speedup_vs_naive']}× | {r['onnx_speedup_vs_naive']}× | "
        f"{_mark((r['onnx_speedup_vs_naive'] or 0) >= g['onnx_speedup_vs_naive'])} |",
        f"| cold `clf predict` (ONNX) | ≤ {g['cold_predict_s']} s | {cold:.2f} s | "
        f"{_mark(cold <= g['cold_predict_s'])} |",
        f"| peak RSS (ONNX) | ≤ {g['peak_rss_mb']} MB | {onnx.get('peak_rss_mb', 0):.0f} MB | "
        f"{_mark(onnx.get('peak_rss_mb', 1e9) <= g['peak_rss_mb'])} |",
        f"| training, 5 policies, incl. inner CV | ≤ {g['train_s']} s | {train:.0f} s | "
        f"{_mark(train <= g['train_s'])} |",
    ]
    for name, gap in r["int8_vs_fp32_on_example"].items():
        max_gap = gap.get("max_gap", 1.0)
        goals.append(
            f"| max \\|int8 − fp32\\| probability, example policy ({name}) | ≤ {g['int8_vs_fp32_max_gap']} | "
            f"{max_gap:.3f} | {_mark(max_gap <= g['int8_vs_fp32_max_gap'])} |"
        )
    cold_rows = "\n".join(
        f"| {k} | {v['wall_s']:.2f} | {v['units']} | {'ok' if v['ok'] else 'FAILED'} |"
        for k, v in r["cold_predict"].items()
    )
    return f"""# Inference benchmark

{r["sentences"]} sentences (the units of annotations/*.jsonl, repeated), {r["machine"]["cores"]} CPU cores,
each engine in a fresh process. Load = model load time; RSS = peak resident memory of that process.
(a) is {r["naive_note"]}.

| engine | sentences/s | load (s) | peak RSS (MB) | imports torch |
|---|---|---|---|---|
{chr(10).join(rows)}

## Goals

| goal | target | measured | |
|---|---|---|---|
{chr(10).join(goals)}

## Cold `clf predict {EXAMPLE.relative_to(ROOT)}` (fresh process, wall)

| model / backend | seconds | output lines | |
|---|---|---|---|
{cold_rows}

Training (`train(load_config('transformer'), 'annotations', out)`, {r["training"]["units"]} units):
{r["training"]["timings_s"]} s; inner-CV macro-F1 {r["training"]["inner_cv"]["macro_f1"]:.3f} (optimistic).
"""


if __name__ == "__main__":
    main()
