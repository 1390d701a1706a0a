"""Lever screening, cheap: grouped 5-fold by policy, one fit per fold, one seed (not a test, not the reported protocol).

    HF_HUB_OFFLINE=1 python benchmarks/screen.py NAME [--model transformer] [--set params.X=Y ...] [--folds 1,2]

Thresholds for fold k are tuned on the out-of-fold scores of the other four folds (never on fold k).
Saves unit and paragraph scores so ensembles can be scored without refitting. Not the reported protocol:
final numbers come from `clf evaluate` (nested inner CV per fold).
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np

from clf.config import load_config
from clf.data import load_dataset
from clf.folds import outer_folds
from clf.metrics import score
from clf.models import registry
from clf.paragraphs import paragraph_labels, paragraphs
from clf.pooling import pool
from clf.thresholds import decide, tune

ap = argparse.ArgumentParser()
ap.add_argument("name")
ap.add_argument("--model", default="transformer")
ap.add_argument("--set", action="append", default=[])
ap.add_argument("--data", default="annotations")
ap.add_argument("--seed", type=int, default=0)
ap.add_argument("--folds", default="")
ap.add_argument("--out", default="benchmarks/.screens", help="cache of per-fold scores (not committed)")
a = ap.parse_args()
out = Path(a.out) / a.name
out.mkdir(parents=True, exist_ok=True)
cfg = load_config(model=a.model, overrides=[*a.set, "search={}"], seed=a.seed)
data = load_dataset(a.data)
paras = paragraphs(data)
P = np.zeros(data.y.shape)
PP = np.zeros((len(paras), data.y.shape[1]))
PD = np.zeros_like(PP)
fold_of = np.zeros(len(data), int)
times = {}
folds = outer_folds(data.groups, "grouped")
for k, (name, tr, te) in enumerate(folds):
    if a.folds and str(k + 1) not in a.folds.split(","):
        continue
    cache = out / f"{name}.npz"
    te_set = set(te.tolist())
    mine = [j for j, p in enumerate(paras) if p.units[0] in te_set]
    if cache.exists():
        z = np.load(cache)
        P[te] = z["unit"]
        PP[mine] = z["para_units"]
        PD[mine] = z["para_direct"]
        fold_of[te] = k
        continue
    t = time.time()
    model = registry.create(cfg.model, cfg.params)
    part = data.subset(tr)
    model.fit(part.texts, part.y, seed=cfg.seed, contexts=part.contexts)
    times[name] = round(time.time() - t, 1)
    held = data.subset(te)
    P[te] = model.predict_proba(held.texts, held.contexts)
    # paragraph scores: the paragraph text re-split (as clf predict does), unit scores pooled later; and direct
    from clf.predictor import paragraph_pieces

    pieces, around, owners = paragraph_pieces([paras[j].text for j in mine])
    owners = list(owners)
    S = model.predict_proba(pieces, around) if pieces else np.zeros((0, 12))
    np.savez(
        cache,
        unit=P[te],
        pieces=S,
        owners=np.array(owners),
        para_direct=model.predict_proba([paras[j].text for j in mine]) if mine else np.zeros((0, 12)),
        para_units=pool(S, np.array(owners), len(mine), "max") if mine else np.zeros((0, 12)),
    )
    z = np.load(cache)
    PP[mine] = z["para_units"]
    PD[mine] = z["para_direct"]
    fold_of[te] = k
    print(name, "fit+score", times[name], "s", flush=True)
    (out / f"times-{name}.json").write_text(json.dumps({"times": times}))
# cross-fold thresholds
pred = np.zeros_like(data.y)
for k in range(len(folds)):
    te = fold_of == k
    th = tune(data.y[~te], P[~te])
    pred[te] = decide(P[te], th)
m = score(data.y, pred)
ypar = paragraph_labels(data, paras)
pfold = np.array([fold_of[p.units[0]] for p in paras])
ppred = np.zeros_like(ypar)
for k in range(len(folds)):
    te = pfold == k
    th = tune(ypar[~te], PP[~te])
    ppred[te] = decide(PP[te], th, exclusive_fallbacks=False)
pm = score(ypar, ppred)
res = {
    "name": a.name,
    "set": a.set,
    "micro": m["micro_f1"],
    "macro": m["macro_f1"],
    "para_macro_max": pm["macro_f1"],
    "f1": {label: round(r["f1"], 3) for label, r in m["per_label"].items()},
}
(out / "result.json").write_text(json.dumps(res, indent=1))
np.savez(out / "all.npz", P=P, PP=PP, PD=PD, fold_of=fold_of)
print(json.dumps(res))
