"""A second stage on first-stage out-of-fold scores (label co-occurrence)."""

import pickle
import sys
import warnings

import _common as c
import _feats
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.neural_network import MLPClassifier

warnings.filterwarnings("ignore")
clean, Y, tr, te = _feats.data()
Ytr, Yte = Y[tr], Y[te]
lr_oof, lr_te = pickle.load(open("/tmp/skanime_lr_oof.pkl", "rb"))
d = np.load(f"/tmp/skanime_preds/{sys.argv[1]}.npz")
oof, P = d["oof"], d["test"].mean(axis=0)


def logit(p):
    p = np.clip(p, 1e-4, 1 - 1e-4)
    return np.log(p / (1 - p))


def ev(name, Pte):
    s = c.scores(Yte, Pte, c.best_global_threshold(Yte, Pte))
    s["oracle_micro_f1"] = s["micro_f1"]
    print(c.line(name, s, 0), flush=True)


ev("stage1", P)
ev("stage1+lr .7", 0.7 * P + 0.3 * lr_te)
for feats, name in [((oof,), "mlp"), ((oof, lr_oof), "mlp+lr")]:
    Ftr = np.hstack([logit(f) for f in feats])
    Fte = np.hstack([logit(f) for f in ((P,) if len(feats) == 1 else (P, lr_te))])
    for C in [0.1, 1.0]:
        m = OneVsRestClassifier(LogisticRegression(C=C, max_iter=2000)).fit(Ftr, Ytr)
        ev(f"stage2 LR C={C} on {name}", m.predict_proba(Fte))
        ev(
            f"stage2 LR C={C} on {name} avg stage1",
            0.5 * m.predict_proba(Fte)
            + 0.5 * (P if len(feats) == 1 else 0.7 * P + 0.3 * lr_te),
        )
    m = MLPClassifier(
        (128,), alpha=1e-2, early_stopping=True, random_state=0, max_iter=300
    ).fit(Ftr, Ytr)
    ev(f"stage2 MLP on {name}", m.predict_proba(Fte))
