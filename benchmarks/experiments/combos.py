"""Thresholds and mixes on saved out-of-fold / test predictions of the fixed split."""

import pickle
import sys
import warnings
from pathlib import Path

import _common as c
import _feats
import numpy as np
from iterstrat.ml_stratifiers import MultilabelStratifiedKFold
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.multiclass import OneVsRestClassifier

from skanime._thresholds import apply_thresholds

warnings.filterwarnings("ignore")
X, Y, _ = c.load()
clean, _, tr, te = _feats.data()
Ytr, Yte = Y[tr], Y[te]
path = Path("/tmp/skanime_lr_oof.pkl")
if path.exists():
    lr_oof, lr_te = pickle.loads(path.read_bytes())
else:

    def lr_fit(docs, Yf):
        vec = TfidfVectorizer(
            ngram_range=(1, 2), min_df=2, sublinear_tf=True, stop_words="english"
        )
        m = OneVsRestClassifier(LogisticRegression(C=10, solver="liblinear"))
        return vec, m.fit(vec.fit_transform(docs), Yf)

    lr_oof = np.zeros(Ytr.shape)
    folds = MultilabelStratifiedKFold(5, shuffle=True, random_state=0).split(tr, Ytr)
    for fit_idx, val in folds:
        vec, m = lr_fit(X[tr][fit_idx], Ytr[fit_idx])
        lr_oof[val] = m.predict_proba(vec.transform(X[tr][val]))
    vec, m = lr_fit(X[tr], Ytr)
    lr_te = m.predict_proba(vec.transform(X[te]))
    path.write_bytes(pickle.dumps((lr_oof, lr_te)))

KINDS = ["global", "label"]
GRID = np.round(np.arange(0.05, 0.81, 0.01), 2)


def global_th(Yv, P):
    return GRID[
        np.argmax(
            [f1_score(Yv, apply_thresholds(P, t, 1), average="micro") for t in GRID]
        )
    ]


def per_label_th(Yv, P, shrink=0.0):
    g = global_th(Yv, P)
    ths = np.empty(Yv.shape[1])
    for j in range(Yv.shape[1]):
        f = [f1_score(Yv[:, j], P[:, j] >= t, zero_division=0) for t in GRID]
        ths[j] = GRID[int(np.argmax(f))] if Yv[:, j].sum() >= 5 else g
    return (1 - shrink) * ths + shrink * g


def show(name, oof, P):
    for kind in KINDS:
        th = (
            global_th(Ytr, oof)
            if kind == "global"
            else per_label_th(Ytr, oof, 0.5 if kind == "label.5" else 0.0)
        )
        s = c.scores(Yte, P, th)
        s["oracle_micro_f1"] = c.scores(Yte, P, global_th(Yte, P))["micro_f1"]
        print(c.line(f"{name} [{kind}]", s, 0, f"th {np.mean(th):.2f}"), flush=True)


show("lr", lr_oof, lr_te)
for name in sys.argv[1:]:
    d = np.load(f"/tmp/skanime_preds/{name}.npz")
    oof, P = d["oof"], d["test"].mean(axis=0)
    show(name, oof, P)
    for w in [0.8, 0.7, 0.6, 0.5]:
        show(f"{name}+lr w={w}", w * oof + (1 - w) * lr_oof, w * P + (1 - w) * lr_te)
