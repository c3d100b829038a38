"""Threshold rules on the saved out-of-fold probabilities of an ensemble run."""

import sys

import _common as c
import numpy as np

from skanime._fasttext import per_label_thresholds, shared_threshold

X, Y, _ = c.load()
tr, te = c.split(Y)
for name in sys.argv[1:]:
    d = np.load(f"/tmp/skanime_preds/{name}.npz")
    oof, P = d["oof"], d["test"]
    g = shared_threshold(Y[tr], oof, 1)
    per = per_label_thresholds(Y[tr], oof, g)
    for rule, th in [("shared", g), ("per_label", per), ("shrink .5", (per + g) / 2)]:
        s = c.scores(Y[te], P, th)
        print(
            f"{name:12s} {rule:10s} miF1 {s['micro_f1']:.4f} maF1 {s['macro_f1']:.4f} "
            f"ham {s['hamming']:.4f}"
        )
