"""
================================
Per-genre F1 on a held-out split
================================

A single micro-averaged score hides how unevenly a multi-label model does
across labels. :func:`~skanime.metrics.multilabel_report` gives the usual
summary (micro, macro, weighted and per-sample averages, Hamming loss,
subset accuracy and, from the probabilities, precision@k and ranking
metrics) together with precision, recall and F1 of every genre.

This example trains the default pipeline, with a smaller network, on a
multilabel-stratified training split and plots the F1 of each
genre on the held-out test split against its number of test examples.
"""

# %%
# Split the data
# --------------
# :class:`~skanime.model_selection.MultilabelStratifiedShuffleSplit` keeps the
# share of every genre the same in the training and test splits; with a plain
# random split the rarest genres could be missing from the test split
# altogether.
import os
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.exceptions import ConvergenceWarning

from skanime import make_genre_pipeline
from skanime.datasets import fetch_mal_anime
from skanime.metrics import multilabel_report
from skanime.model_selection import MultilabelStratifiedShuffleSplit

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
    MultilabelStratifiedShuffleSplit(n_splits=1, test_size=0.25, random_state=0).split(
        X, Y
    )
)
print(f"{len(train)} training and {len(test)} test synopses, {len(genres)} genres")

# %%
# Train and predict
# -----------------
pipeline = make_genre_pipeline(
    stack__network__clf__hidden_layer_sizes=(256,),
    stack__network__clf__max_iter=50,
    random_state=0,
)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    pipeline.fit(X[train], Y[train])
Y_pred = pipeline.predict(X[test])
Y_score = pipeline.predict_proba(X[test])

# %%
# The report
# ----------
# Printing the report gives the per-genre table followed by the averages and
# the ranking metrics.
report = multilabel_report(Y[test], Y_pred, Y_score, target_names=genres)
print(report)

# %%
# The same numbers are available as pandas objects, ``report.summary`` and
# ``report.per_label``:
per_genre = report.per_label.sort_values("support")
print(report.summary[["f1_micro", "f1_macro", "precision_at_1"]].round(3))

# %%
# F1 of every genre
# -----------------
# The genres the model gets best and worst, among those with at least 20
# test anime:
common = per_genre[per_genre["support"] >= 20].sort_values("f1-score")
print(
    "best: ", ", ".join(f"{g} {f:.2f}" for g, f in common["f1-score"][::-1][:5].items())
)
print("worst:", ", ".join(f"{g} {f:.2f}" for g, f in common["f1-score"][:5].items()))

# %%
# In the plot genres are sorted by their number of test examples. The F1 of
# the rare genres at the top is both lower and noisier, being computed on a
# handful of anime, and often zero: a rare genre's probability seldom
# reaches its threshold. The default stack already lowers the thresholds of
# such genres (``stack__threshold="shrunk"``: each genre's best threshold on
# out-of-fold predictions, moved half-way to the best shared one and never
# above it), but a genre with fewer than five training anime takes the shared
# threshold. The dashed lines show the micro and macro averages; the gap
# between them is the cost of the rare genres, and a larger training set
# narrows it.
fig, ax = plt.subplots(figsize=(8, 9), layout="constrained")
positions = np.arange(len(per_genre))
ax.barh(positions, per_genre["f1-score"], color="C0")
ax.set_yticks(
    positions,
    [
        f"{name} ({int(n)})"
        for name, n in zip(per_genre.index, per_genre["support"], strict=True)
    ],
    fontsize=8,
)
ax.axvline(
    report.summary["f1_micro"],
    color="C1",
    linestyle="--",
    label=f"micro F1 = {report.summary['f1_micro']:.2f}",
)
ax.axvline(
    report.summary["f1_macro"],
    color="C2",
    linestyle="--",
    label=f"macro F1 = {report.summary['f1_macro']:.2f}",
)
ax.set_xlim(0, 1)
ax.set_xlabel("F1 on the test split")
ax.set_title("Per-genre F1 (number of test anime in brackets)")
ax.legend(loc="lower right")
plt.show()
