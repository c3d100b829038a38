"""
=========================================
Does the focal loss help the rare genres?
=========================================

The focal loss multiplies the cross-entropy of every label by
``(1 - p_t) ** gamma``, where ``p_t`` is the probability the network gives
to the label's true value. Entries the network already gets right (``p_t``
near 1), which for a rare genre are almost all of its negatives, then weigh
little, and the gradient concentrates on the hard ones. ``gamma=0`` is the
plain binary cross-entropy.

This example trains :class:`~skanime.FocalMLPClassifier` with several values
of ``gamma`` on the same sentence vectors and compares, on a held-out test
split, the F1 of the rare, middle and frequent genres.
"""

# %%
# Data and sentence vectors
# -------------------------
# The genres are split in three equal groups by their number of training
# examples. The sentence vectors are fitted on the training split only.
import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import average_precision_score, f1_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skanime import FocalMLPClassifier, SynopsisCleaner, TfidfWeightedW2VTransformer
from skanime.datasets import fetch_mal_anime
from skanime.model_selection import (
    MultilabelStratifiedShuffleSplit,
    MultiLabelThresholdTuner,
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
frequent = Y.sum(axis=0) >= 10
Y, genres = Y[:, frequent], anime.target_names[frequent]
train, test = next(
    MultilabelStratifiedShuffleSplit(n_splits=1, test_size=0.3, random_state=0).split(
        X, Y
    )
)

features = make_pipeline(
    SynopsisCleaner(stop_words=None),
    TfidfWeightedW2VTransformer(
        sg=1,
        vector_size=100,
        epochs=5,
        min_count=2,
        stop_words="english",
        sublinear_tf=True,
        random_state=0,
    ),
    StandardScaler(),
)
V_train = features.fit_transform(X[train])
V_test = features.transform(X[test])
Y_train, Y_test = Y[train], Y[test]

order = np.argsort(Y_train.sum(axis=0))
groups = dict(
    zip(["rare", "middle", "frequent"], np.array_split(order, 3), strict=True)
)
for name, members in groups.items():
    counts = Y_train[:, members].sum(axis=0)
    print(
        f"{name:>8} genres: {len(members)}, {counts.min()} to {counts.max()} "
        "training anime each"
    )

# %%
# One network per ``gamma``
# -------------------------
# Each network gets its own per-genre thresholds, chosen on a validation
# quarter of the training split (``refit=False`` keeps the network trained
# on the other three quarters): the focal loss changes how confident the
# network is, so a threshold that suits one ``gamma`` does not suit another.
# The test split is used for scoring only.
#
# Training with a large ``gamma`` starts slowly, since the loss of most
# entries is tiny from the first epoch on, so early stopping is given a
# patience of 30 epochs.
gammas = [0.0, 0.5, 1.0, 2.0, 3.0, 5.0]
f1 = np.empty((len(gammas), Y.shape[1]))
ap = np.empty((len(gammas), Y.shape[1]))
for i, gamma in enumerate(gammas):
    network = FocalMLPClassifier(
        hidden_layer_sizes=(256,),
        gamma=gamma,
        dropout=0.3,
        alpha=1e-3,
        early_stopping=True,
        n_iter_no_change=30,
        max_iter=400,
        random_state=0,
    )
    tuner = MultiLabelThresholdTuner(
        network,
        per_label=True,
        cv=MultilabelStratifiedShuffleSplit(n_splits=1, test_size=0.25, random_state=0),
        refit=False,
    ).fit(V_train, Y_train)
    f1[i] = f1_score(Y_test, tuner.predict(V_test), average=None, zero_division=0)
    ap[i] = average_precision_score(Y_test, tuner.predict_proba(V_test), average=None)
    print(
        f"gamma={gamma:<4g} epochs={tuner.estimator_.n_iter_:3d} "
        f"micro-F1={f1_score(Y_test, tuner.predict(V_test), average='micro'):.3f} "
        + " ".join(f"{g}-F1={f1[i, m].mean():.3f}" for g, m in groups.items())
    )

# %%
# F1 and average precision by genre group
# ---------------------------------------
# F1 depends on the thresholds as well as on the network; average precision
# only on how the network ranks the anime for each genre, so it shows the
# effect of ``gamma`` on the network alone.
#
# On a subset of a few thousand anime the rare genres have a handful of test
# examples each, so their scores move a lot between values of ``gamma``; a
# trend has to hold over several values before it means anything. In our
# runs, moderate values of ``gamma`` move the three groups by about as much
# as that noise, and a very large one (5) lowers them all: the rare genres
# stay far behind whatever ``gamma``. Re-weighting the loss does not replace
# examples, and most of the gain from the focal loss in the default pipeline
# comes with a retuned threshold (see
# :ref:`sphx_glr_auto_examples_plot_grid_search_gamma_threshold.py`). Rerun
# with a larger ``SKANIME_EXAMPLE_SUBSET`` to see the effect on more data.
fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), layout="constrained")
for (name, members), color in zip(groups.items(), ["C3", "C1", "C0"], strict=True):
    axes[0].plot(
        gammas, f1[:, members].mean(axis=1), "o-", color=color, label=f"{name} genres"
    )
    axes[1].plot(
        gammas, ap[:, members].mean(axis=1), "o-", color=color, label=f"{name} genres"
    )
axes[0].set_ylabel("mean test F1 (per-genre thresholds)")
axes[1].set_ylabel("mean test average precision")
for ax in axes:
    ax.set_xlabel("gamma")
    ax.set_xticks(gammas)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
axes[0].legend()
fig.suptitle("Focal loss gamma and genre frequency")
plt.show()
