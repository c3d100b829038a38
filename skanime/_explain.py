"""Word-level explanations of genre predictions.

Two methods split the logit (log-odds) of a genre among the words of one
synopsis.

*Leave-one-word-out occlusion* works for any fitted model that maps texts to
genre probabilities, the default model included: a word's contribution is
the drop of the logit when all its occurrences are removed from the text.
It scores one copy of the text per distinct word, so its work is the number
of distinct words times the length of the text; texts with more than
``max_words`` distinct words (:data:`MAX_OCCLUSION_WORDS` by default) are
refused rather than explained slowly.

*Integrated gradients* [1]_ apply to a single-network pipeline (clean ->
embed -> [scale] -> clf). For a synopsis with row-normalised TF-IDF word
weights ``a`` (one per word of the embedding vocabulary),

    x = sum_w a_w v_w          (embedding: linear in a)
    z = (x - mean) / scale     (StandardScaler: affine)
    logit_k = MLP_k(z)         (the network: nonlinear)

so ``logit_k`` is a function ``F_k(a)`` of the word weights alone, and the
contributions

    contribution_w = a_w * integral_0^1 dF_k/da_w(t a) dt

sum to ``F_k(a) - F_k(0)`` (the document against the empty document);
only the integral is approximated, by the midpoint rule on ``n_steps``
points. The gradient is computed by backpropagation through the fitted
weights with the network's own layers (:mod:`skanime._layers`), batch
normalisation in evaluation mode.

References
----------
.. [1] M. Sundararajan, A. Taly and Q. Yan, "Axiomatic Attribution for Deep
   Networks", ICML 2017.
"""

import re
import warnings

import numpy as np
import pandas as pd
from scipy.special import expit
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

from ._embedding import TfidfWeightedW2VTransformer
from ._focal_mlp import FocalMLPClassifier
from ._layers import inverse_std, mlp_logits_and_input_gradients
from ._text import TOKEN_PATTERN

__all__ = ["MAX_OCCLUSION_WORDS", "GenreExplanation", "explain_genres"]

_METHODS = ("auto", "integrated_gradients", "occlusion")
_WORD_PATTERN = re.compile(TOKEN_PATTERN)
_PROBA_FLOOR = 1e-12
_DEFAULT_STEPS = 64
#: Distinct words occlusion explains at most by default: it scores one copy
#: of the text per distinct word. MAL-2021 synopses have at most 314 (99.9 %
#: have under 210); on the default model 1,000 words take about 2 s on one
#: core, 2,000 about 9 s, as the work grows with the square of the length.
MAX_OCCLUSION_WORDS = 1000
# Texts handed to the model's predict_proba at once by occlusion.
_OCCLUSION_BATCH = 256


class GenreExplanation:
    """Word contributions to the predicted genres of one synopsis.

    Returned by :func:`explain_genres` and
    :meth:`skanime.GenreClassifier.explain`; ``str()`` gives a readable
    table.

    Attributes
    ----------
    text : str
        The explained synopsis.
    method : {"integrated_gradients", "occlusion"}
        How the contributions were computed.
    n_steps : int or None
        Integration steps of integrated gradients (None for occlusion).
    frame : pandas.DataFrame
        Columns ``genre``, ``word``, ``weight`` (the word's share of the
        document's TF-IDF mass, or NaN for occlusion) and ``contribution``
        (in logit units); for each genre the ``top_n`` words with the
        largest absolute contribution, largest contribution first.
    summary : pandas.DataFrame
        One row per explained genre (the index), with ``probability``,
        ``logit``, ``baseline_logit`` (the empty document), ``total``
        (sum of all word contributions, not only the ``top_n`` shown) and
        ``residual`` (``total - (logit - baseline_logit)``; the
        completeness error).
    """

    def __init__(self, text, method, n_steps, frame, summary):
        self.text = text
        self.method = method
        self.n_steps = n_steps
        self.frame = frame
        self.summary = summary

    def to_frame(self):
        """The word contributions as a DataFrame (a copy of ``frame``)."""
        return self.frame.copy()

    def to_dict(self):
        """The explanation as JSON-ready builtins.

        Returns
        -------
        explanation : dict
            ``{"text", "method", "n_steps", "genres": [{"genre",
            "probability", "logit", "baseline_logit", "total", "residual",
            "words": [{"word", "weight", "contribution"}, ...]}, ...]}``.
        """
        genres = []
        for genre, row in self.summary.iterrows():
            words = self.frame[self.frame["genre"] == genre]
            genres.append(
                {
                    "genre": str(genre),
                    **{key: float(value) for key, value in row.items()},
                    "words": [
                        {
                            "word": str(w),
                            "weight": None if np.isnan(a) else float(a),
                            "contribution": float(c),
                        }
                        for w, a, c in zip(
                            words["word"],
                            words["weight"],
                            words["contribution"],
                            strict=True,
                        )
                    ],
                }
            )
        return {
            "text": self.text,
            "method": self.method,
            "n_steps": self.n_steps,
            "genres": genres,
        }

    def __str__(self):
        if self.method == "integrated_gradients":
            how = f"integrated gradients, {self.n_steps} steps"
        else:
            how = "leave-one-word-out occlusion"
        lines = []
        for genre, row in self.summary.iterrows():
            lines.append(
                f"{genre}: probability {row['probability']:.3f}, logit "
                f"{row['logit']:+.3f} = empty text {row['baseline_logit']:+.3f} "
                f"+ words {row['total']:+.3f} (residual {row['residual']:+.1e}; {how})"
            )
            words = self.frame[self.frame["genre"] == genre]
            if words.empty:
                lines.append("  (no known word in the text)")
            pairs = zip(words["word"], words["contribution"], strict=True)
            for word, contribution in pairs:
                lines.append(f"  {contribution:+8.3f}  {word}")
        return "\n".join(lines)

    def __repr__(self):
        genres = ", ".join(map(str, self.summary.index))
        return f"<GenreExplanation of {genres or 'no genre'} ({self.method})>"


# --------------------------------------------------------------- the network
def _mlp_parts(clf):
    """Layers of a supported MLP as float64 arrays, or None if unsupported."""
    if isinstance(clf, FocalMLPClassifier):
        check_is_fitted(clf)
        if getattr(clf, "_target_kind", "multilabel") == "multiclass":
            return None
        batch_norm = []
        if clf.batch_norm:
            for scale, offset, mean, var in zip(
                clf.bn_scales_,
                clf.bn_offsets_,
                clf.bn_running_means_,
                clf.bn_running_vars_,
                strict=True,
            ):
                batch_norm.append(
                    (
                        np.asarray(mean, float),
                        inverse_std(np.asarray(var, float)),
                        np.asarray(scale, float),
                        np.asarray(offset, float),
                    )
                )
        activation = clf.activation
    elif isinstance(clf, MLPClassifier):
        check_is_fitted(clf)
        if clf.out_activation_ != "logistic":
            return None
        batch_norm = []
        activation = clf.activation
    else:
        return None
    coefs = [np.asarray(W, dtype=float) for W in clf.coefs_]
    intercepts = [np.asarray(b, dtype=float) for b in clf.intercepts_]
    return coefs, intercepts, batch_norm, activation


# ------------------------------------------------------------------- layouts
def _affine_of(steps):
    """``z = x * slope + offset`` of the steps between embedding and network."""
    slope, offset = 1.0, 0.0
    for _, step in steps:
        if step is None or step == "passthrough":
            continue
        if not isinstance(step, StandardScaler):
            return None
        check_is_fitted(step)
        mean = 0.0 if step.mean_ is None else np.asarray(step.mean_, float)
        scale = 1.0 if step.scale_ is None else np.asarray(step.scale_, float)
        slope, offset = slope / scale, (offset - mean) / scale
    return slope, offset


def _ig_layout(pipeline):
    """Parts of a pipeline integrated gradients handles, or a reason it can't."""
    from .model_selection import MultiLabelThresholdTuner

    if isinstance(pipeline, MultiLabelThresholdTuner):
        # Thresholds change the predicted sets, not the probabilities.
        pipeline = getattr(pipeline, "estimator_", None)
    if not isinstance(pipeline, Pipeline):
        return None, f"the model is a {type(pipeline).__name__}, not a Pipeline"
    steps = pipeline.steps
    positions = [
        i
        for i, (_, step) in enumerate(steps)
        if isinstance(step, TfidfWeightedW2VTransformer)
    ]
    if len(positions) != 1:
        return None, "it has no TfidfWeightedW2VTransformer step"
    e = positions[0]
    embed = steps[e][1]
    if embed.norm is not None:
        return None, f"its embedding uses norm={embed.norm!r} (not linear)"
    affine = _affine_of(steps[e + 1 : -1])
    if affine is None:
        return None, "only StandardScaler steps may sit between embedding and network"
    parts = _mlp_parts(steps[-1][1])
    if parts is None:
        return None, (
            "its last step is not a FocalMLPClassifier or MLPClassifier with "
            "sigmoid outputs"
        )
    return (steps[:e], embed, affine, parts), None


# ----------------------------------------------------------------- methods
def _integrated_gradients(layout, text, outputs, n_steps):
    pre_steps, embed, (slope, offset), parts = layout
    documents = [text]
    for _, step in pre_steps:
        if step is not None and step != "passthrough":
            documents = step.transform(documents)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        weights = embed.transform_weights(documents).tocsr()
    weights.sum_duplicates()
    columns = weights.indices
    a = np.asarray(weights.data, dtype=float)
    vectors = np.asarray(embed.vectors_, dtype=float)[columns]
    terms = np.empty(len(embed.vocabulary_), dtype=object)
    for term, j in embed.vocabulary_.items():
        terms[j] = term
    words = terms[columns]

    x = a @ vectors if a.size else np.zeros(vectors.shape[1])
    alphas = (np.arange(n_steps) + 0.5) / n_steps
    path = alphas[:, None] * x[None, :]
    ends = np.vstack([x, np.zeros_like(x)])
    Z = np.vstack([path, ends]) * slope + offset
    logits, gradients = mlp_logits_and_input_gradients(parts, Z, outputs)
    mean_gradient = gradients[:n_steps].mean(axis=0) * np.reshape(slope, (-1, 1))
    contributions = a[:, None] * (vectors @ mean_gradient)
    logit_doc = logits[n_steps, outputs]
    logit_empty = logits[n_steps + 1, outputs]
    return words, a, contributions, logit_doc, logit_empty


def _logit(p):
    p = np.clip(np.asarray(p, dtype=float), _PROBA_FLOOR, 1 - _PROBA_FLOOR)
    return np.log(p) - np.log1p(-p)


def _occlusion_words(text):
    """Distinct lower-cased words of ``text`` and the spans of each."""
    spans = {}
    for match in _WORD_PATTERN.finditer(text):
        spans.setdefault(match.group().lower(), []).append(match.span())
    return spans


def _without(text, spans):
    """``text`` with each span replaced by a space."""
    pieces, start = [], 0
    for begin, end in spans:
        pieces.append(text[start:begin])
        start = end
    pieces.append(text[start:])
    return " ".join(pieces)


def _occlusion(predict_proba, text, outputs, spans):
    words = sorted(spans)
    scores = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        batch = [text, ""]
        for word in words:
            batch.append(_without(text, spans[word]))
            if len(batch) == _OCCLUSION_BATCH:
                scores.append(_logit(np.asarray(predict_proba(batch))[:, outputs]))
                batch = []
        if batch:
            scores.append(_logit(np.asarray(predict_proba(batch))[:, outputs]))
    scores = np.vstack(scores)
    contributions = scores[0] - scores[2:]
    return (
        np.array(words, dtype=object),
        np.full(len(words), np.nan),
        contributions.reshape(len(words), len(outputs)),
        scores[0],
        scores[1],
    )


# -------------------------------------------------------------------- entry
def _is_int(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _resolve_model(model):
    """The model's pipeline, genre names, and its proba and predict on texts."""
    if hasattr(model, "pipeline_") and hasattr(model, "classes_"):
        check_is_fitted(model)
        classes = np.asarray(model.classes_).astype(str)

        def proba(texts):
            return model.predict_proba(texts).to_numpy()

        def predicted(text):
            return np.flatnonzero(np.asarray(model.predict_indicator([text]))[0])

        return model.pipeline_, classes, proba, predicted
    if not (hasattr(model, "predict_proba") and hasattr(model, "predict")):
        raise TypeError(
            "explain_genres expects a fitted GenreClassifier, or a fitted model "
            "with predict_proba and predict on a list of texts (a Pipeline from "
            f"text to label sets); got {type(model).__name__}."
        )
    if hasattr(model, "fit"):  # an estimator; a plain scoring object is taken as is
        check_is_fitted(model)

    def proba(texts):
        values = model.predict_proba(texts)
        if isinstance(values, list):
            raise TypeError(
                f"{type(model).__name__}.predict_proba returns one array per "
                "label; explain_genres needs one (n_texts, n_labels) array of "
                "label probabilities, as OneVsRestClassifier gives."
            )
        return np.asarray(values)

    def predicted(text):
        return np.flatnonzero(np.asarray(model.predict([text])).reshape(1, -1)[0])

    n_outputs = proba([""]).shape[1]
    classes = np.array([str(i) for i in range(n_outputs)])
    return model, classes, proba, predicted


def _resolve_outputs(genre, classes, text, predicted, proba):
    if genre is None:
        outputs = predicted(text)
        if outputs.size == 0:
            outputs = np.array([int(np.argmax(proba([text])[0]))])
        return outputs
    names = [genre] if isinstance(genre, str) else list(genre)
    lookup = {str(c).casefold(): i for i, c in enumerate(classes)}
    outputs = []
    for name in names:
        key = str(name).casefold()
        if key not in lookup:
            raise ValueError(
                f"Unknown genre {name!r}; the model knows {len(classes)} genres: "
                f"{', '.join(classes)}."
            )
        outputs.append(lookup[key])
    return np.array(outputs, dtype=int)


def explain_genres(
    model,
    text,
    *,
    genre=None,
    top_n=10,
    method="auto",
    n_steps=None,
    max_words=MAX_OCCLUSION_WORDS,
):
    """Which words of a synopsis pushed each genre up or down.

    :meth:`skanime.GenreClassifier.explain` calls this function.

    Parameters
    ----------
    model : GenreClassifier or estimator
        A fitted :class:`~skanime.GenreClassifier`, or any fitted model whose
        ``predict_proba`` maps a list of texts to an ``(n_texts, n_labels)``
        array of label probabilities and whose ``predict`` gives label
        indicator rows (for example a :class:`~sklearn.pipeline.Pipeline`
        from text to label sets). The default model of
        :func:`skanime.make_genre_pipeline` and every other model are
        explained by leave-one-word-out occlusion; a single-network Pipeline
        (text steps, a :class:`~skanime.TfidfWeightedW2VTransformer` without
        ``norm``, optional :class:`~sklearn.preprocessing.StandardScaler`
        steps and a :class:`~skanime.FocalMLPClassifier` or
        :class:`~sklearn.neural_network.MLPClassifier` with sigmoid outputs)
        can also be explained by integrated gradients.
    text : str
        One synopsis.
    genre : str, list of str or None, default=None
        Genres to explain (case-insensitive). None explains the predicted
        genres (the most probable one if none is predicted).
    top_n : int or None, default=10
        Words shown per genre, those with the largest absolute contribution.
        None keeps every word. ``summary["total"]`` always sums all words.
    method : {"auto", "integrated_gradients", "occlusion"}, default="auto"
        ``"occlusion"`` works for any model; ``"integrated_gradients"``
        requires a single-network Pipeline and raises
        :class:`NotImplementedError` for other models (the default model
        included); ``"auto"`` uses integrated gradients when they apply and
        occlusion otherwise.
    n_steps : int or None, default=None
        Midpoints of the integration path of integrated gradients; None
        means 64. Passing it when the explanation is made by occlusion is a
        ``ValueError``, since occlusion has no steps.
    max_words : int, default=MAX_OCCLUSION_WORDS
        Occlusion explains texts of at most this many distinct words
        (1,000 by default) and raises a ``ValueError`` for longer ones: it
        scores one copy of the text per distinct word, so its work grows as
        the number of distinct words times the length of the text.
        Integrated gradients have no such limit.

    Returns
    -------
    explanation : GenreExplanation
        ``frame`` (genre, word, weight, contribution) and ``summary``
        (probability, logits, completeness residual per genre).

    Notes
    -----
    Contributions are in logit units (log-odds of the genre).

    *Occlusion* (any model): a word's contribution is the logit drop when all
    its occurrences are removed from the text. Contributions do not add up
    to the logit difference (the residual shows by how much) and interactions
    between words are ignored. Words are the text's runs of two letters or
    more, case folded, before any cleaning.

    *Integrated gradients* (single-network Pipeline): contributions sum to
    ``logit(text) - logit(empty text)`` up to the midpoint-rule error of the
    path integral, reported as ``summary["residual"]`` and shrinking as
    ``n_steps`` grows. It is exact, whatever ``n_steps``, when the network is
    linear in its input (``activation="identity"``): the embedding and the
    scaler are affine, so the gradient is constant along the path.
    Everything else, notably the ReLU network's kinks along the path, makes
    the contributions an approximation of the integral. Words are the
    embedding's vocabulary terms after cleaning; words without a vector or
    removed as stop words get nothing.

    Examples
    --------
    >>> from sklearn.feature_extraction.text import TfidfVectorizer
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.multiclass import OneVsRestClassifier
    >>> from sklearn.pipeline import make_pipeline
    >>> from skanime import GenreClassifier
    >>> pipe = make_pipeline(TfidfVectorizer(),
    ...                      OneVsRestClassifier(LogisticRegression(C=100)))
    >>> model = GenreClassifier(pipeline=pipe).fit(
    ...     ["robots fight in space", "a girl falls in love",
    ...      "pilots defend the colony in space", "students fall in love"],
    ...     [["Sci-Fi"], ["Romance"], ["Sci-Fi"], ["Romance"]])
    >>> explanation = model.explain("love in space", genre="Romance")
    >>> explanation.method
    'occlusion'
    >>> explanation.frame["word"].iloc[0]
    'love'
    """
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}; got {method!r}.")
    if not isinstance(text, str):
        raise TypeError(
            f"explain_genres explains one synopsis given as a str; got "
            f"{type(text).__name__}."
        )
    if n_steps is not None and (not _is_int(n_steps) or n_steps < 1):
        raise ValueError(f"n_steps must be a positive int or None; got {n_steps!r}.")
    if top_n is not None and (not _is_int(top_n) or top_n < 0):
        raise ValueError(f"top_n must be a non-negative int or None; got {top_n!r}.")
    if not _is_int(max_words) or max_words < 1:
        raise ValueError(f"max_words must be a positive int; got {max_words!r}.")

    pipeline, classes, proba, predicted = _resolve_model(model)
    layout, reason = (None, None) if method == "occlusion" else _ig_layout(pipeline)
    if method == "integrated_gradients" and layout is None:
        raise NotImplementedError(
            "Integrated gradients apply only to a single-network Pipeline (text "
            "steps, TfidfWeightedW2VTransformer, optional StandardScaler, "
            "FocalMLPClassifier); this model is not one: "
            f"{reason}. Use method='occlusion', which explains any model."
        )
    used = "occlusion" if layout is None else "integrated_gradients"
    if used == "occlusion":
        if n_steps is not None:
            why = "method='occlusion'" if method == "occlusion" else reason
            raise ValueError(
                "n_steps (--steps on the command line) sets the integration steps "
                "of integrated gradients, but this explanation is made by "
                f"occlusion ({why}), which has no steps; do not pass it."
            )
        spans = _occlusion_words(text)
        if len(spans) > max_words:
            raise ValueError(
                f"The text has {len(spans):,} distinct words; occlusion explains "
                f"at most max_words={max_words:,}, since it scores one copy of "
                "the text per distinct word. Explain a shorter text (or raise "
                "max_words in the Python API)."
            )
    outputs = _resolve_outputs(genre, classes, text, predicted, proba)
    if used == "occlusion":
        words, weights, contributions, logit_doc, logit_empty = _occlusion(
            proba, text, outputs, spans
        )
    else:
        n_steps = _DEFAULT_STEPS if n_steps is None else int(n_steps)
        words, weights, contributions, logit_doc, logit_empty = _integrated_gradients(
            layout, text, outputs, n_steps
        )

    rows = []
    summary = {}
    for j, k in enumerate(outputs):
        column = contributions[:, j]
        order = np.lexsort((words.astype(str), -np.abs(column)))
        if top_n is not None:
            order = order[: int(top_n)]
        order = order[np.argsort(-column[order], kind="stable")]
        for i in order:
            rows.append((classes[k], words[i], weights[i], column[i]))
        total = float(column.sum())
        summary[classes[k]] = {
            "probability": float(expit(logit_doc[j])),
            "logit": float(logit_doc[j]),
            "baseline_logit": float(logit_empty[j]),
            "total": total,
            "residual": total - float(logit_doc[j] - logit_empty[j]),
        }
    frame = pd.DataFrame(rows, columns=["genre", "word", "weight", "contribution"])
    frame = frame.astype({"weight": float, "contribution": float})
    summary = pd.DataFrame.from_dict(summary, orient="index")
    summary.index.name = "genre"
    steps = n_steps if used == "integrated_gradients" else None
    return GenreExplanation(text, used, steps, frame, summary)
