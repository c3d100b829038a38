"""Shared helpers of the exploration scripts: data, one fixed split, metrics."""

import json
import os
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import (
    average_precision_score,
    f1_score,
    hamming_loss,
    label_ranking_average_precision_score,
)
from sklearn.preprocessing import MultiLabelBinarizer

DATA_HOME = Path(
    os.environ.get("SKANIME_DATA_HOME", Path(__file__).parents[3] / "shared" / "data")
)
JSONL = DATA_HOME / "mal_anime_2021.jsonl"
PTB = DATA_HOME / "vectors" / "ptb_cbow_100d.txt.gz"


def load():
    """Synopses, indicator matrix and genre names; rows without genres dropped."""
    docs, genres = [], []
    with open(JSONL, encoding="utf-8") as f:
        for line in f:
            record = json.loads(line)
            names = [g["name"] for g in record.get("genres") or []]
            if names:
                docs.append(record["synopsis"])
                genres.append(names)
    mlb = MultiLabelBinarizer()
    Y = mlb.fit_transform(genres)
    return np.array(docs, dtype=object), Y, mlb.classes_


def split(Y, test_size=0.2, seed=42):
    """One multilabel-stratified train/test split."""
    from iterstrat.ml_stratifiers import MultilabelStratifiedShuffleSplit

    splitter = MultilabelStratifiedShuffleSplit(
        n_splits=1, test_size=test_size, random_state=seed
    )
    return next(splitter.split(np.zeros(len(Y)), Y))


def p_at_1(Y, P):
    return float(Y[np.arange(len(Y)), P.argmax(axis=1)].mean())


GRID = np.arange(0.05, 0.8, 0.01)


def best_global_threshold(Y, P, grid=GRID):
    from skanime._thresholds import apply_thresholds

    scores = [f1_score(Y, apply_thresholds(P, t, 1), average="micro") for t in grid]
    return float(grid[int(np.argmax(scores))])


def scores(Y, P, threshold, min_labels=1):
    from skanime._thresholds import apply_thresholds

    pred = apply_thresholds(P, threshold, min_labels)
    return {
        "micro_f1": f1_score(Y, pred, average="micro", zero_division=0),
        "macro_f1": f1_score(Y, pred, average="macro", zero_division=0),
        "hamming": hamming_loss(Y, pred),
        "p1": p_at_1(Y, P),
        "lrap": label_ranking_average_precision_score(Y, P),
        "micro_ap": average_precision_score(Y, P, average="micro"),
    }


def line(name, s, secs, extra=""):
    oracle = s.get("oracle_micro_f1", float("nan"))
    return (
        f"{name:40s} miF1 {s['micro_f1']:.4f} maF1 {s['macro_f1']:.4f} "
        f"P@1 {s['p1']:.4f} LRAP {s['lrap']:.4f} mAP {s['micro_ap']:.4f} "
        f"orac {oracle:.4f} fit {secs:5.1f}s {extra}"
    )


class Timer:
    def __enter__(self):
        self.t = time.perf_counter()
        return self

    def __exit__(self, *a):
        self.seconds = time.perf_counter() - self.t
