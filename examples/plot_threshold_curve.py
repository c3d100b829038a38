"""
=====================================
Choosing the decision threshold by CV
=====================================

A genre is predicted when its probability reaches a threshold, and micro-F1
depends on that threshold at least as much as on the network. Choosing it on
the test split would make the test score optimistic, so
:class:`~skanime.model_selection.MultiLabelThresholdTuner` chooses it by
cross-validation on the training data only: it fits the pipeline on each
training fold, pools the out-of-fold probabilities, scores every candidate
threshold on them, and finally refits the pipeline on all the training data.

``cv_results_`` keeps the whole threshold curve. This example plots it, then
compares on a held-out test split the best shared threshold, one threshold
per genre (``per_label=True``) and the thresholds the default pipeline chose
for itself.
"""

# %%
# Data: a stratified subset, then a held-out test split
# -----------------------------------------------------
import os
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import f1_score

from skanime import make_genre_pipeline
from skanime.datasets import fetch_mal_anime
from skanime.model_selection import (
    MultilabelStratifiedShuffleSplit,
    MultiLabelThresholdTuner,
    apply_thresholds,
)

SUBSET = int(os.environ.get("SKANIME_EXAMPLE_SUBSET", "2000"))

anime = fetch_mal_anime()
X, Y = anime.data, anime.target
if SUBSET < len(X):
    subset, _ = next(
        MultilabelStratifiedShuffleSplit(
            n_splits=1, train_size=SUBSET, random_state=0
        ).split(X, Y)
    )
    X, Y = X[subset], Y[subset]
frequent = Y.sum(axis=0) >= 15
Y, genres = Y[:, frequent], anime.target_names[frequent]
train, test = next(
    MultilabelStratifiedShuffleSplit(n_splits=1, test_size=0.25, random_state=0).split(
        X, Y
    )
)
X_train, X_test, Y_train, Y_test = X[train], X[test], Y[train], Y[test]

# %%
# Tune the thresholds
# -------------------
# The tuner wraps the whole default pipeline, so word2vec, TF-IDF, the
# network and the logistic regression of the stack are all refitted on each
# training fold: the out-of-fold probabilities are those of a model that
# never saw the synopses they score. ``min_labels=1`` (the stack's own
# setting) predicts the most probable genre for an anime whose probabilities
# all fall below the threshold, and is taken into account while searching.
# A smaller network than the default keeps the example quick.
pipeline = make_genre_pipeline(
    stack__network__clf__hidden_layer_sizes=(256,),
    stack__network__clf__max_iter=50,
    random_state=0,
)
tuner = MultiLabelThresholdTuner(
    pipeline,
    scoring="f1_micro",
    per_label=True,
    thresholds=np.linspace(0.02, 0.7, 69),
    cv=3,
    min_labels=1,
    random_state=0,
)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    tuner.fit(X_train, Y_train)

curve = tuner.cv_results_
best = int(np.argmax(curve["scores"]))
shared_threshold = curve["thresholds"][best]
print(
    f"Best shared threshold: {shared_threshold:.2f} "
    f"(out-of-fold micro-F1 {curve['scores'][best]:.3f})"
)
print(
    "Per-genre thresholds range from "
    f"{tuner.thresholds_.min():.2f} to {tuner.thresholds_.max():.2f}"
)

# %%
# Compare on the test split
# -------------------------
# ``tuner.predict`` applies the per-genre thresholds. The refitted pipeline,
# ``tuner.estimator_``, gives the probabilities for the best shared threshold
# and predicts with its own: the default stack already chooses thresholds on
# the out-of-fold predictions of its second stage, inside each fit, with the
# ``"shrunk"`` rule (each genre's best threshold moved half-way to the best
# shared one, and never above it). Per-genre thresholds aim at each genre's
# own F1: they usually raise the macro-F1, the plain average over genres, and
# may lower the micro-F1, since the threshold of a rare genre is learnt from a
# handful of examples and is often set low; shrinking them towards the shared
# one makes them less noisy.
proba = tuner.predict_proba(X_test)
own_thresholds = tuner.estimator_.named_steps["stack"].thresholds_
print(
    "The stack's own thresholds range from "
    f"{own_thresholds.min():.2f} to {own_thresholds.max():.2f}"
)
rules = {
    "stack's own (shrunk)": tuner.estimator_.predict(X_test),
    f"best shared ({shared_threshold:.2f})": apply_thresholds(
        proba, shared_threshold, min_labels=1
    ),
    "per genre": tuner.predict(X_test),
}
for name, Y_pred in rules.items():
    micro = f1_score(Y_test, Y_pred, average="micro")
    macro = f1_score(Y_test, Y_pred, average="macro", zero_division=0)
    print(f"{name:>24}: test micro-F1 {micro:.3f}, macro-F1 {macro:.3f}")

# %%
# The threshold curve
# -------------------
# The curve is flat near its top, so the exact threshold matters less than
# avoiding the extremes: too low and every anime gets a dozen genres, too
# high and only the most frequent genres are ever predicted. The grey curves
# are the out-of-fold F1 of a few individual genres, whose best thresholds
# differ widely; that is what per-genre thresholds exploit.
fig, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
support = Y_train.sum(axis=0)
for j in np.argsort(-support)[[0, 5, 15, -1]]:
    ax.plot(curve["thresholds"], curve["label_scores"][:, j], color="0.7", lw=1)
    k = int(np.argmax(curve["label_scores"][:, j]))
    ax.annotate(
        genres[j],
        (curve["thresholds"][k], curve["label_scores"][k, j]),
        fontsize=8,
        color="0.4",
        xytext=(0, 4),
        textcoords="offset points",
    )
ax.plot(
    curve["thresholds"],
    curve["scores"],
    color="C0",
    lw=2.5,
    label="micro-F1, one threshold for all genres",
)
ax.axvline(
    shared_threshold,
    color="C0",
    linestyle="--",
    label=f"best shared threshold = {shared_threshold:.2f}",
)
ax.set_xlabel("threshold")
ax.set_ylabel("out-of-fold F1")
ax.set_title("MultiLabelThresholdTuner.cv_results_")
ax.legend(loc="upper right")
plt.show()
