"""
=============================
A map of the synopsis vectors
=============================

:class:`~skanime.TfidfWeightedW2VTransformer` turns every synopsis into one
vector: the mean of the word2vec vectors of its words, weighted by their
TF-IDF. Synopses about similar things should get nearby vectors. This
example projects the vectors of a subset of anime to two dimensions with
t-SNE and colours each anime by a genre with a distinctive vocabulary, to see
how much genre information the vectors hold before any classifier is
trained.
"""

# %%
# Embed the synopses
# ------------------
# :class:`~skanime.SynopsisCleaner` removes MAL's credit lines, HTML, digits
# and punctuation; the transformer then trains word2vec (skip-gram) on the
# cleaned synopses and averages the word vectors.
import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE
from sklearn.pipeline import make_pipeline

from skanime import SynopsisCleaner, TfidfWeightedW2VTransformer
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

embedder = make_pipeline(
    SynopsisCleaner(stop_words=None),
    TfidfWeightedW2VTransformer(
        sg=1,
        vector_size=100,
        epochs=5,
        stop_words="english",
        sublinear_tf=True,
        random_state=0,
    ),
)
vectors = embedder.fit_transform(X)
print(f"{vectors.shape[0]} synopses embedded in {vectors.shape[1]} dimensions")

# %%
# One colour per anime
# --------------------
# An anime has several genres, so it is coloured by the first genre of a
# short list of genres with their own vocabulary that it has; the others
# stay grey.
highlighted = ["Mecha", "Sports", "Music", "Horror", "Romance", "Kids"]
highlighted = [g for g in highlighted if g in set(anime.target_names)]
columns = [list(anime.target_names).index(g) for g in highlighted]
main_genre = np.full(len(Y), -1)
for k in reversed(range(len(columns))):
    main_genre[Y[:, columns[k]] == 1] = k

# %%
# Two dimensions with t-SNE
# -------------------------
# PCA first reduces the vectors to 30 dimensions, which speeds t-SNE up and
# removes noise; 500 iterations are enough for a map of this size.
reduced = PCA(n_components=30, random_state=0).fit_transform(vectors)
embedding = TSNE(
    n_components=2, perplexity=30, init="pca", max_iter=500, random_state=0
).fit_transform(reduced)

# %%
# Genres with a specific vocabulary (robots and pilots, matches and teams,
# bands and songs) gather, loosely, in regions of their own; others are
# spread over the whole map. A sentence vector is an average, so a synopsis
# that mixes several themes lands between them, and word vectors trained on
# a couple of thousand synopses are noisy. The classifier, a non-linear
# network trained on all genres at once, has to sort out the overlap.
fig, ax = plt.subplots(figsize=(8, 7), layout="constrained")
other = main_genre == -1
ax.scatter(*embedding[other].T, s=6, color="0.85", label="other genres")
for k, genre in enumerate(highlighted):
    mask = main_genre == k
    ax.scatter(*embedding[mask].T, s=10, color=f"C{k}", label=f"{genre} ({mask.sum()})")
ax.set_xticks([])
ax.set_yticks([])
ax.set_title("t-SNE map of TF-IDF-weighted word2vec synopsis vectors")
ax.legend(markerscale=2, loc="best", fontsize=9)
plt.show()
