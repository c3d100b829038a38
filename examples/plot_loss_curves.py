"""
=======================================
Training loss and early-stopping curves
=======================================

:class:`~skanime.FocalMLPClassifier` records the training loss after every
epoch in ``loss_curve_``. With ``early_stopping=True`` it also holds out a
validation share of the training data, scores it after every epoch (the
micro-averaged average precision of the genre probabilities) in
``validation_scores_``, stops once the score has not improved for
``n_iter_no_change`` epochs, and keeps the weights of the best epoch.

This example trains three networks on the same sentence vectors and plots
both curves: the plain binary cross-entropy (``gamma=0``), the focal loss
(``gamma=2``), and the focal loss with batch normalisation.
"""

# %%
# Sentence vectors of a stratified subset
# ---------------------------------------
# A cleaner, a :class:`~skanime.TfidfWeightedW2VTransformer` and a
# :class:`~sklearn.preprocessing.StandardScaler` turn raw synopses into
# standardised TF-IDF-weighted word2vec vectors, the input of a
# single-network pipeline. They are computed once and shared by the three
# networks.
import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skanime import FocalMLPClassifier, SynopsisCleaner, TfidfWeightedW2VTransformer
from skanime.datasets import fetch_mal_anime
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
Y = Y[:, Y.sum(axis=0) >= 10]

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
vectors = features.fit_transform(X)
print(f"Sentence vectors: {vectors.shape}, {Y.shape[1]} genres")

# %%
# Three networks
# --------------
# All use early stopping on a 10 % validation share. ``verbose=False`` keeps
# the output short; the curves hold everything it would print.
settings = {
    "cross-entropy (gamma=0)": dict(gamma=0.0),
    "focal loss (gamma=2)": dict(gamma=2.0),
    "focal loss + batch norm": dict(gamma=2.0, batch_norm=True),
}
networks = {}
for name, params in settings.items():
    networks[name] = FocalMLPClassifier(
        hidden_layer_sizes=(256,),
        dropout=0.3,
        alpha=1e-3,
        early_stopping=True,
        n_iter_no_change=10,
        max_iter=300,
        random_state=0,
        **params,
    ).fit(vectors, Y)
    net = networks[name]
    best_epoch = int(np.argmax(net.validation_scores_)) + 1
    print(
        f"{name:>24}: {net.n_iter_:3d} epochs, best validation score "
        f"{net.best_validation_score_:.3f} at epoch {best_epoch}"
    )

# %%
# The curves
# ----------
# The focal loss is smaller than the cross-entropy by construction (each
# term is multiplied by ``(1 - p_t) ** gamma < 1``), so the training losses
# are compared by their shape, not their level. The validation curves are
# directly comparable; the dot marks the epoch whose weights were kept.
fig, (ax_loss, ax_val) = plt.subplots(1, 2, figsize=(11, 4.2), layout="constrained")
for (name, net), color in zip(networks.items(), ["C0", "C1", "C2"], strict=True):
    epochs = np.arange(1, net.n_iter_ + 1)
    ax_loss.plot(epochs, net.loss_curve_, color=color, label=name)
    ax_val.plot(epochs, net.validation_scores_, color=color, label=name)
    best = int(np.argmax(net.validation_scores_))
    ax_val.plot(best + 1, net.validation_scores_[best], "o", color=color)
ax_loss.set_yscale("log")
ax_loss.set_xlabel("epoch")
ax_loss.set_ylabel("training loss (log scale)")
ax_loss.set_title("loss_curve_")
ax_val.set_xlabel("epoch")
ax_val.set_ylabel("validation average precision (micro)")
ax_val.set_title("validation_scores_")
ax_val.legend(loc="lower right")
plt.show()
