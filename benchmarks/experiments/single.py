"""Single fine-tuned-embedding networks on the fixed split, one JSON config each.

Each network holds out 10 % of the training part for early stopping (its own
split). Scores use threshold 0.3; ``orac`` is the micro-F1 at the best shared
threshold on the test part, for ranking configurations only.

    python single.py --configs '{}' '{"embedding_learning_rate": 1e-3}' \
        '{"init": "random"}' '{"frozen": true}' '{"ngram": [1, 2], "min_df": 2}'
"""

import argparse
import json
import warnings

import _common as c
import _feats
import numpy as np

from skanime import FocalMLPClassifier

warnings.filterwarnings("ignore")
ap = argparse.ArgumentParser()
ap.add_argument("--wv", default="sg1_200")
ap.add_argument("--configs", nargs="+", required=True, help="JSON dicts")
args = ap.parse_args()

clean, Y, tr, te = _feats.data()
wv, wv_secs = _feats.word_vectors(clean, tr, args.wv)
print(f"word vectors {args.wv}: {len(wv)} words, {wv_secs:.1f}s", flush=True)
BAG_KEYS = ("ngram", "min_df", "stop_words", "norm")
cache = {}
for spec in args.configs:
    cfg = json.loads(spec)
    bag = {
        k: (tuple(v) if k == "ngram" else v) for k, v in cfg.items() if k in BAG_KEYS
    }
    key = json.dumps(bag, sort_keys=True)
    if key not in cache:
        cache[key] = _feats.bags(clean, tr, te, wv, **bag)
    W_tr, W_te, E, _ = cache[key]
    if cfg.get("init") == "random":
        E = np.random.default_rng(0).normal(0, E.std(), E.shape).astype(np.float32)
    params = dict(
        hidden_layer_sizes=(512,),
        gamma=1.0,
        dropout=0.3,
        alpha=1e-3,
        learning_rate_init=3e-4,
        embedding_learning_rate=3e-2,
        early_stopping=True,
        max_iter=200,
        random_state=0,
        embedding_init=E,
    )
    params.update(
        {k: v for k, v in cfg.items() if k in params or k in ("focal_alpha",)}
    )
    if isinstance(params["hidden_layer_sizes"], list):
        params["hidden_layer_sizes"] = tuple(params["hidden_layer_sizes"])
    if cfg.get("frozen"):
        params["embedding_learning_rate"] = 1e-12
    for k in ("batch_norm", "batch_size", "n_iter_no_change"):
        if k in cfg:
            params[k] = cfg[k]
    clf = FocalMLPClassifier(**params)
    with c.Timer() as t:
        clf.fit(W_tr, Y[tr])
    P = clf.predict_proba(W_te)
    s = c.scores(Y[te], P, 0.3)
    th = c.best_global_threshold(Y[te], P)
    s["oracle_micro_f1"] = c.scores(Y[te], P, th)["micro_f1"]
    print(
        c.line(spec[:40], s, t.seconds, f"V {E.shape[0]} it {clf.n_iter_}"), flush=True
    )
