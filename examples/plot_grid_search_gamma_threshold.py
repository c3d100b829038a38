"""
==========================================================
Tuning the focal loss ``gamma`` and the decision threshold
==========================================================

The default genre model, :func:`~skanime.make_genre_pipeline`, stacks a
network with three other members, and picks its own per-genre thresholds on
out-of-fold predictions. This example searches the *single-network pipeline*
instead: an ordinary scikit-learn :class:`~sklearn.pipeline.Pipeline` of the
four steps ``clean`` (:class:`~skanime.SynopsisCleaner`), ``embed``
(:class:`~skanime.TfidfWeightedW2VTransformer`), ``scale``
(:class:`~sklearn.preprocessing.StandardScaler`) and ``clf``
(:class:`~skanime.FocalMLPClassifier`), whose one network has one decision
threshold. :class:`~sklearn.model_selection.GridSearchCV` tunes two
parameters of its classifier on the real MyAnimeList data:

- ``clf__gamma``, the focusing parameter of the focal loss: ``0`` is the
  binary cross-entropy, larger values down-weight the genres the network
  already gets right;
- ``clf__threshold``, the probability from which a genre is predicted.

The folds come from :class:`~skanime.model_selection.MultilabelStratifiedKFold`,
which keeps every genre, rare ones included, in the same proportion in each
fold, and the score is the micro-averaged F1. A test split is held out before
the search, so the final score is measured on anime that played no part in
choosing the parameters.
"""

# %%
# Load a stratified subset of the data
# ------------------------------------
# :func:`~skanime.datasets.fetch_mal_anime` reads ``mal_anime_2021.jsonl``
# from ``$SKANIME_DATA_HOME``. To keep the example fast it uses a subset of
# ``SKANIME_EXAMPLE_SUBSET`` anime, drawn with
# :class:`~skanime.model_selection.MultilabelStratifiedShuffleSplit` so that
# the genre proportions of the whole set are kept. Genres with fewer than
# 15 anime in the subset are too rare to be learnt or scored, and are left out.
import os
import warnings
from tempfile import TemporaryDirectory

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import f1_score
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skanime import FocalMLPClassifier, SynopsisCleaner, TfidfWeightedW2VTransformer
from skanime.datasets import fetch_mal_anime
from skanime.model_selection import (
    MultilabelStratifiedKFold,
    MultilabelStratifiedShuffleSplit,
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
print(f"{len(X)} synopses, {len(genres)} genres")

# %%
# Hold out a test split
# ---------------------
# The search only ever sees the training part.
train, test = next(
    MultilabelStratifiedShuffleSplit(n_splits=1, test_size=0.2, random_state=0).split(
        X, Y
    )
)
X_train, X_test, Y_train, Y_test = X[train], X[test], Y[train], Y[test]

# %%
# The pipeline and the grid
# -------------------------
# The single-network pipeline cleans the synopses, trains word2vec on them,
# averages the word vectors with TF-IDF weights, standardises the result and
# fits one focal-loss MLP. A smaller embedding and network than the defaults
# keep the example quick. ``gamma`` and ``threshold`` only concern the last
# step, so the pipeline's ``memory`` caches the cleaned and embedded synopses
# of each fold: word2vec is trained three times in all, not once per
# candidate.
cache = TemporaryDirectory()
pipeline = Pipeline(
    [
        ("clean", SynopsisCleaner(stop_words=None)),
        (
            "embed",
            TfidfWeightedW2VTransformer(
                sg=1,
                vector_size=100,
                epochs=5,
                min_count=2,
                stop_words="english",
                sublinear_tf=True,
                random_state=0,
            ),
        ),
        ("scale", StandardScaler()),
        (
            "clf",
            FocalMLPClassifier(
                hidden_layer_sizes=(128,),
                dropout=0.3,
                alpha=1e-3,
                early_stopping=True,
                max_iter=60,
                min_labels=1,
                random_state=0,
            ),
        ),
    ],
    memory=cache.name,
)
param_grid = {
    "clf__gamma": [0.0, 1.0, 2.0],
    "clf__threshold": [0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4],
}
search = GridSearchCV(
    pipeline,
    param_grid,
    scoring="f1_micro",
    cv=MultilabelStratifiedKFold(n_splits=3, shuffle=True, random_state=0),
)

# %%
# Run the search
# --------------
# With this small training budget some networks are still improving when
# they reach ``max_iter``; the warnings saying so are silenced here.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    search.fit(X_train, Y_train)
cache.cleanup()

print("Best parameters:", search.best_params_)
print(f"Best cross-validated micro-F1: {search.best_score_:.3f}")

# %%
# The cross-validation table, best candidates first:
results = pd.DataFrame(search.cv_results_)
table = results[
    [
        "param_clf__gamma",
        "param_clf__threshold",
        "mean_test_score",
        "std_test_score",
        "rank_test_score",
    ]
].sort_values("rank_test_score")
table.columns = ["gamma", "threshold", "mean micro-F1", "std", "rank"]
print(table.round(3).to_string(index=False))

# %%
# Score on the held-out test split
# --------------------------------
# ``search`` was refitted on the whole training part with the best
# parameters. Its test score is an honest estimate: neither the network nor
# the threshold saw these anime.
Y_pred = search.predict(X_test)
print(f"Test micro-F1: {f1_score(Y_test, Y_pred, average='micro'):.3f}")

# %%
# Heatmap of the cross-validated scores
# -------------------------------------
# The threshold matters at least as much as ``gamma``, and the two interact.
# The focal loss stops rewarding the network for pushing the probability of
# an absent genre all the way to zero, so the larger ``gamma``, the less
# extreme the probabilities and the higher the best threshold: each value of
# ``gamma`` has to be judged with its own threshold. The best cell is in
# bold.
scores = results.pivot_table(
    index="param_clf__gamma",
    columns="param_clf__threshold",
    values="mean_test_score",
)
fig, ax = plt.subplots(figsize=(7, 3.8), layout="constrained")
image = ax.imshow(scores.to_numpy(), cmap="viridis", aspect="auto")
ax.set_xticks(range(scores.shape[1]), [f"{t:g}" for t in scores.columns])
ax.set_yticks(range(scores.shape[0]), [f"{g:g}" for g in scores.index])
for (i, j), value in np.ndenumerate(scores.to_numpy()):
    best = value == scores.to_numpy().max()
    ax.text(
        j,
        i,
        f"{value:.3f}",
        ha="center",
        va="center",
        color="black" if best else "white",
        fontweight="bold" if best else "normal",
    )
ax.set_xlabel("clf__threshold")
ax.set_ylabel("clf__gamma")
ax.set_title("Cross-validated micro-F1 (3 multilabel stratified folds)")
fig.colorbar(image, ax=ax, label="mean micro-F1")
plt.show()
