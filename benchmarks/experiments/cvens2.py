"""Cross-validated ensemble of fine-tuned-embedding focal MLPs on the fixed split.

Network k is trained on folds != k of the training part and stops early on
fold k; its fold-k predictions (out of fold) later pick the thresholds.
"""

import argparse
import json
import os
import warnings

import _common as c
import _feats
import numpy as np
from iterstrat.ml_stratifiers import MultilabelStratifiedKFold

from skanime import FocalMLPClassifier

warnings.filterwarnings("ignore")
ap = argparse.ArgumentParser()
ap.add_argument("--name", required=True)
ap.add_argument("--k", type=int, default=5)
ap.add_argument("--nets", type=int, default=None, help="train only the first N nets")
ap.add_argument("--cfg", default="{}")
ap.add_argument("--wv", default="sg1_200")
ap.add_argument("--seed", type=int, default=0)
args = ap.parse_args()
cfg = json.loads(args.cfg)

clean, Y, tr, te = _feats.data()
wv, _ = _feats.word_vectors(clean, tr, args.wv)
bag = {
    k: (tuple(v) if k == "ngram" else v)
    for k, v in cfg.items()
    if k in ("ngram", "min_df", "norm", "stop_words")
}
W_tr, W_te, E, _ = _feats.bags(clean, tr, te, wv, **bag)
Ytr = Y[tr]
params = dict(
    hidden_layer_sizes=(512,),
    gamma=1.0,
    dropout=0.3,
    alpha=1e-3,
    early_stopping=True,
    max_iter=200,
    learning_rate_init=3e-4,
    embedding_learning_rate=3e-2,
)
params.update({k: v for k, v in cfg.items() if k in FocalMLPClassifier().get_params()})
if "hidden_layer_sizes" in params:
    params["hidden_layer_sizes"] = tuple(np.atleast_1d(params["hidden_layer_sizes"]))
if cfg.get("frozen"):
    params["embedding_learning_rate"] = 1e-12
oof = np.full(Ytr.shape, np.nan, dtype=np.float32)
tests, secs = [], 0.0
folds = MultilabelStratifiedKFold(args.k, shuffle=True, random_state=args.seed).split(
    W_tr, Ytr
)
for k, (fit_idx, val) in enumerate(folds):
    if args.nets is not None and k >= args.nets:
        break
    clf = FocalMLPClassifier(
        **{**params, "random_state": 100 * args.seed + k, "embedding_init": E}
    )
    with c.Timer() as t:
        clf.fit(W_tr[fit_idx], Ytr[fit_idx], X_val=W_tr[val], y_val=Ytr[val])
    secs += t.seconds
    oof[val] = clf.predict_proba(W_tr[val])
    tests.append(clf.predict_proba(W_te))
    s = c.scores(Y[te], tests[-1], 0.3)
    print(c.line(f"{args.name} net {k}", s, t.seconds, f"it {clf.n_iter_}"), flush=True)
os.makedirs("/tmp/skanime_preds", exist_ok=True)
np.savez(f"/tmp/skanime_preds/{args.name}.npz", oof=oof, test=np.array(tests))
P = np.mean(tests, axis=0)
seen = ~np.isnan(oof[:, 0])
th = c.best_global_threshold(Ytr[seen], oof[seen])
s = c.scores(Y[te], P, th)
s["oracle_micro_f1"] = c.scores(Y[te], P, c.best_global_threshold(Y[te], P))["micro_f1"]
print(c.line(f"{args.name} ens{len(tests)}", s, secs, f"oof th {th:.2f}"), flush=True)
