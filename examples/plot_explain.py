"""
=====================================
Which words drive a genre prediction?
=====================================

:meth:`GenreClassifier.explain <skanime.GenreClassifier.explain>` splits the
score of each predicted genre (its logit, the log-odds of the genre) among
the words of a synopsis. The default model is explained by leave-one-word-out
occlusion: the synopsis is scored again without each of its words in turn,
and a word's contribution is how much the logit drops when all its
occurrences are removed. It needs nothing but the model's probabilities, so it
works for any model; the price is that contributions ignore interactions
between words and do not add up exactly to the logit of the synopsis minus
that of an empty text (the summary reports the difference as the residual).

This example trains a small model on a subset of the anime, then explains
its two most probable genres for the synopsis of *Bakemonogatari*, which the
model did not see during training, and two of its true genres, Supernatural
and Vampire, when they are not among them.
"""

# %%
# Train a genre classifier
# ------------------------
# :class:`~skanime.GenreClassifier` takes raw synopses and genre lists and
# predicts genre names. A smaller pipeline than the default one keeps the
# example fast.
import os
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.exceptions import ConvergenceWarning

from skanime import GenreClassifier, make_genre_pipeline
from skanime.datasets import fetch_mal_anime
from skanime.model_selection import MultilabelStratifiedShuffleSplit

SUBSET = int(os.environ.get("SKANIME_EXAMPLE_SUBSET", "2000"))

anime = fetch_mal_anime()
frame = anime.frame
is_example = frame["name"] == "Bakemonogatari"
if is_example.any():
    text = frame.loc[is_example, "synopsis"].item()
    print("True genres:", ", ".join(frame.loc[is_example, "genres"].item()))
else:
    text = (
        "Koyomi Araragi, a high school student, survives a vampire attack with "
        "the help of a strange man. When a classmate falls down the stairs and "
        "he catches her, he finds that she weighs almost nothing, and decides "
        "to help her with the demons and gods behind her malady."
    )

# Train on a stratified subset that leaves the explained anime out.
keep = np.flatnonzero(~is_example.to_numpy())
if SUBSET < len(keep):
    subset, _ = next(
        MultilabelStratifiedShuffleSplit(
            n_splits=1, train_size=SUBSET, random_state=0
        ).split(anime.data[keep], anime.target[keep])
    )
    keep = keep[subset]

model = GenreClassifier(
    pipeline=make_genre_pipeline(
        stack__network__clf__hidden_layer_sizes=(256,),
        stack__network__clf__max_iter=50,
        random_state=0,
    )
)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    model.fit(anime.data[keep], frame["genres"].iloc[keep])

print("Predicted genres:", ", ".join(model.predict([text])[0]))
for genre, probability in model.top_genres([text], k=5)[0]:
    print(f"  {genre:>14}: {probability:.2f}")

# %%
# Explain the top genres
# ----------------------
# ``explain`` explains the predicted genres unless ``genre`` names others.
# Printing the explanation shows, per genre, the logit of the synopsis, that
# of an empty text, the sum of the word contributions and the residual, then
# the words with the largest contributions.
top2 = [genre for genre, _ in model.top_genres([text], k=2)[0]]
missed = [
    g for g in ("Supernatural", "Vampire") if g in model.classes_ and g not in top2
]
explanation = model.explain(text, genre=top2 + missed, top_n=8)
print(explanation)

# %%
# ``explanation.frame`` holds the same contributions as a DataFrame, one row
# per genre and word; ``explanation.summary`` holds one row per genre.
print(explanation.summary.round(3))

# %%
# Word contributions
# ------------------
# Positive contributions (in log-odds) pushed the genre up, negative ones
# down: removing the word lowers (or raises) the genre's logit by that much.
# Every occurrence of a word is removed at once, so a word repeated through
# the synopsis counts once, with all its occurrences.
#
# Explanations describe the model, right or wrong. Besides genre words
# ("vampire", "supernatural", "school"), a model trained on a couple of
# thousand synopses can lean on words that merely co-occur with a genre in
# its training data, such as character names: the other *Monogatari* series
# share their hero, Araragi, with this one.
genres_shown = list(explanation.summary.index)
fig, axes = plt.subplots(
    1, len(genres_shown), figsize=(4 * len(genres_shown), 4), layout="constrained"
)
for ax, genre in zip(np.atleast_1d(axes), genres_shown, strict=True):
    words = explanation.frame[explanation.frame["genre"] == genre]
    words = words.sort_values("contribution")
    colors = np.where(words["contribution"] > 0, "C0", "C3")
    ax.barh(words["word"], words["contribution"], color=colors)
    ax.axvline(0, color="black", linewidth=0.8)
    probability = explanation.summary.loc[genre, "probability"]
    ax.set_title(f"{genre} (p = {probability:.2f})")
    ax.set_xlabel("contribution to the logit")
fig.suptitle(f"Bakemonogatari: word contributions to {len(genres_shown)} genres")
plt.show()
