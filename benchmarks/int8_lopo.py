"""Does int8 ONNX cost accuracy? Leave-one-policy-out macro-F1 of the same fitted transformer, fp32 vs int8.

    HF_HUB_OFFLINE=1 python benchmarks/int8_lopo.py [--seed 0]

Each fold is trained as `clf evaluate` trains it, saved as `clf train` saves it, then loaded on the torch (fp32)
and onnx (int8) backends; both score the held-out policy with the fold's thresholds. Writes
benchmarks/int8_lopo.json (not a test: it fine-tunes five models).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np

from clf.config import load_config
from clf.data import load_dataset
from clf.folds import outer_folds
from clf.metrics import score
from clf.predictor import Predictor
from clf.train import fit_predictor

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=0)
    seed = parser.parse_args().seed
    config = load_config("transformer", seed=seed)
    data = load_dataset(ROOT / "annotations")
    pred = {"torch": np.zeros_like(data.y), "onnx": np.zeros_like(data.y)}
    folds = []
    for policy, train_idx, test_idx in outer_folds(data.groups):
        fitted = fit_predictor(config, data.subset(train_idx))
        test = data.subset(test_idx)
        with tempfile.TemporaryDirectory() as tmp:
            fitted.save(Path(tmp) / "m", card="")
            row = {"policy": policy}
            scores = {}
            for backend in pred:
                loaded = Predictor.load(Path(tmp) / "m", backend)
                scores[backend] = loaded.scores(test.texts)
                pred[backend][test_idx] = loaded.decide(scores[backend])
                row[f"macro_f1_{backend}"] = score(test.y, pred[backend][test_idx])["macro_f1"]
            row["max_abs_prob_diff"] = float(np.abs(scores["onnx"] - scores["torch"]).max())
        folds.append(row)
        print(row, flush=True)
    result = {
        "seed": seed,
        "pooled_macro_f1": {b: score(data.y, p)["macro_f1"] for b, p in pred.items()},
        "pooled_micro_f1": {b: score(data.y, p)["micro_f1"] for b, p in pred.items()},
        "folds": folds,
    }
    result["macro_f1_drop"] = result["pooled_macro_f1"]["torch"] - result["pooled_macro_f1"]["onnx"]
    (ROOT / "benchmarks" / "int8_lopo.json").write_text(json.dumps(result, indent=1))
    print(json.dumps({k: result[k] for k in ("pooled_macro_f1", "macro_f1_drop")}))


if __name__ == "__main__":
    main()
