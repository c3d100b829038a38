"""
=========================
Which genres go together?
=========================

An anime on MyAnimeList has about three genres, and they are far from
independent: *Mecha* comes with *Sci-Fi*, *Shoujo* with *Romance*. This
example counts how often every pair of genres appears together and shows the
result as a heatmap of conditional frequencies: the cell in row *A* and column
*B* is the share of the anime of genre *A* that also have genre *B*.

These dependencies are what a multi-label classifier with a shared hidden
layer, such as :class:`~skanime.FocalMLPClassifier`, can exploit and what one
independent binary classifier per genre cannot.
"""

# %%
# Load the data
# -------------
# :func:`~skanime.datasets.fetch_mal_anime` reads the dataset from
# ``$SKANIME_DATA_HOME``. Counting needs no model, so every anime is used.
import matplotlib.pyplot as plt
import numpy as np

from skanime.datasets import fetch_mal_anime

anime = fetch_mal_anime()
Y = anime.target
genres = anime.target_names
print(
    f"{Y.shape[0]} anime, {Y.shape[1]} genres, "
    f"{Y.sum(axis=1).mean():.2f} genres per anime on average"
)

# %%
# Genre frequencies
# -----------------
# The label set is strongly imbalanced: a handful of genres cover most anime
# while the rarest ones have only a few dozen examples or fewer.
support = Y.sum(axis=0)
order = np.argsort(-support)
for name, count in zip(genres[order][:5], support[order][:5], strict=True):
    print(f"{name:>14}: {count:5d} anime ({count / len(Y):.1%})")
print("...")
for name, count in zip(genres[order][-5:], support[order][-5:], strict=True):
    print(f"{name:>14}: {count:5d} anime ({count / len(Y):.2%})")

# %%
# Co-occurrence
# -------------
# ``Y.T @ Y`` counts the anime having both genres of each pair; dividing each
# row by the genre's own count gives P(column genre | row genre). The
# diagonal (always 1) is hidden, and so are the genres with fewer than ten
# anime, whose shares would rest on a handful of examples.
cooccurrence = Y.T @ Y
conditional = cooccurrence / np.maximum(support[:, None], 1)
np.fill_diagonal(conditional, np.nan)
order = order[support[order] >= 10]
conditional = conditional[np.ix_(order, order)]

pairs = [
    (conditional[i, j], genres[order][i], genres[order][j])
    for i in range(len(order))
    for j in range(len(order))
    if i != j and support[order][i] >= 50
]
print("Strongest dependencies among genres with at least 50 anime:")
for value, a, b in sorted(pairs, reverse=True)[:8]:
    print(f"  {value:.0%} of {a} anime are also {b}")

# %%
# Heatmap
# -------
# Genres are sorted from the most to the least frequent, so the dense columns
# on the left are the common genres that accompany almost everything.
fig, ax = plt.subplots(figsize=(10, 9), layout="constrained")
image = ax.imshow(conditional, cmap="magma_r", vmin=0, vmax=1)
ax.set_xticks(range(len(order)), genres[order], rotation=90, fontsize=7)
ax.set_yticks(range(len(order)), genres[order], fontsize=7)
ax.set_xlabel("... also has this genre")
ax.set_ylabel("Share of the anime of this genre ...")
ax.set_title("Genre co-occurrence on MyAnimeList")
fig.colorbar(image, ax=ax, shrink=0.8, label="conditional frequency")
plt.show()
