"""The default genre pipeline and the user-facing genre classifier."""

import warnings

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MultiLabelBinarizer
from sklearn.utils._param_validation import HasMethods
from sklearn.utils.validation import check_is_fitted, has_fit_parameter

from ._embedding import TfidfWeightedW2VTransformer
from ._focal_mlp import FocalMLPClassifier
from ._linear import MultilabelLogisticRegression, MultilabelMultinomialNB
from ._neighbors import MultilabelKNeighborsClassifier
from ._rare_features import RareFeatureSelector
from ._stacking import MultilabelStackingClassifier
from ._targets import ConstantLabelWarning, constant_label_rates, micro_f1_score
from ._text import SynopsisCleaner, check_documents
from ._tfidf import FastTfidfVectorizer


def make_genre_pipeline(**params):
    """Build skanime's default genre model.

    A :class:`~sklearn.pipeline.Pipeline` whose step ``stack`` is a
    :class:`MultilabelStackingClassifier` over four members, each fitted on
    the folds of a 3-fold multilabel-stratified split of the training
    synopses (whole groups per fold when ``fit`` gets ``stack__groups=``):

    - ``network``: :class:`SynopsisCleaner` (credit lines, markup, case,
      non-letters), :class:`TfidfWeightedW2VTransformer` (64-d CBOW word2vec
      trained on the training synopses, ``output="weights"``) and a
      :class:`FocalMLPClassifier` whose first layer is the TF-IDF-weighted
      mean of the word vectors, fine-tuned on the focal loss
      (``embedding_init="vectors"``);
    - ``linear``: TF-IDF of the raw synopses' words and word pairs
      (:class:`FastTfidfVectorizer`, float32 weights: half the memory of
      float64 on a large vocabulary) with :class:`MultilabelLogisticRegression`;
    - ``bayes``: the same TF-IDF cut to the terms of at most 400 training
      synopses (:class:`RareFeatureSelector`; 5% of MAL-2021's, and a count
      rather than a share so that the neighbours' similarity products cost
      about the same per synopsis on a larger training set) with
      :class:`MultilabelMultinomialNB`;
    - ``neighbors``: the genres of the training synopses most similar in
      those rare terms (:class:`MultilabelKNeighborsClassifier`, the 2% most
      similar, two threads).

    The last three share their TF-IDF step and the last two their selector
    (equal deterministic steps are fitted and applied once), so the text is
    tokenised once for them; a parameter that makes one member's TF-IDF
    differ from the others' gives that member its own.

    A second stage (a logistic regression per genre over the out-of-fold
    scores of all members for all genres, a genre's own scores penalised
    less than the others') uses genre co-occurrence. Its decision thresholds
    are chosen on its own out-of-fold predictions: each genre's best
    threshold moved half-way to the best shared one and never above it
    (``threshold="shrunk"``); every synopsis gets at least one genre. The
    transformers (cleaning, TF-IDF, word2vec) are fitted once on all
    training synopses, the classifiers once per fold, two at a time
    (``stack__n_jobs=2``, threads).

    Parameters
    ----------
    **params : dict
        Parameters in ``set_params`` form, for example
        ``stack__network__clf__gamma=2.0``, ``stack__threshold="per_label"``
        or ``stack__cv=5``. ``random_state`` seeds the folds, the networks and
        word2vec.

    Returns
    -------
    pipeline : Pipeline
        An unfitted pipeline taking raw synopses and a label indicator matrix.

    See Also
    --------
    GenreClassifier : The same model taking and returning genre names.

    Notes
    -----
    ``benchmarks/quality.py`` compares this model with fairly tuned
    baselines on random and on new-franchise folds of MAL-2021;
    ``benchmarks/results/quality.md`` has the numbers.

    Examples
    --------
    >>> from skanime import make_genre_pipeline
    >>> pipeline = make_genre_pipeline(stack__network__clf__gamma=2.0,
    ...                                random_state=0)
    >>> [name for name, _ in pipeline.steps]
    ['stack']
    >>> [name for name, _ in pipeline.named_steps["stack"].estimators]
    ['network', 'linear', 'bayes', 'neighbors']
    >>> pipeline.get_params()["stack__network__clf__gamma"]
    2.0
    >>> pipeline.get_params()["stack__threshold"]
    'shrunk'
    """
    random_state = params.pop("random_state", None)
    network = Pipeline(
        [
            ("clean", SynopsisCleaner(stop_words=None)),
            (
                "embed",
                TfidfWeightedW2VTransformer(
                    sg=0,
                    vector_size=64,
                    window=5,
                    min_count=5,
                    epochs=5,
                    stop_words="english",
                    sublinear_tf=True,
                    output="weights",
                ),
            ),
            (
                "clf",
                FocalMLPClassifier(
                    hidden_layer_sizes=(512,),
                    gamma=1.0,
                    dropout=0.3,
                    alpha=1e-3,
                    learning_rate_init=1e-3,
                    embedding_learning_rate=1e-1,
                    embedding_init="vectors",
                    early_stopping=True,
                    n_iter_no_change=5,
                    max_iter=100,
                ),
            ),
        ]
    )

    def words_and_pairs():
        return FastTfidfVectorizer(
            ngram_range=(1, 2),
            min_df=2,
            sublinear_tf=True,
            stop_words="english",
            dtype=np.float32,
        )

    linear = Pipeline(
        [
            ("tfidf", words_and_pairs()),
            ("logreg", MultilabelLogisticRegression(C=10.0, dtype="float16")),
        ]
    )
    bayes = Pipeline(
        [
            ("tfidf", words_and_pairs()),
            ("rare", RareFeatureSelector(max_df=400)),
            ("nb", MultilabelMultinomialNB(alpha=0.1, dtype="float16")),
        ]
    )
    neighbors = Pipeline(
        [
            ("tfidf", words_and_pairs()),
            ("rare", RareFeatureSelector(max_df=400)),
            ("knn", MultilabelKNeighborsClassifier(n_jobs=2)),
        ]
    )
    pipeline = Pipeline(
        [
            (
                "stack",
                MultilabelStackingClassifier(
                    [
                        ("network", network),
                        ("linear", linear),
                        ("bayes", bayes),
                        ("neighbors", neighbors),
                    ],
                    cv=3,
                    threshold="shrunk",
                    min_labels=1,
                    n_jobs=2,
                    random_state=random_state,
                ),
            ),
        ]
    )
    return pipeline.set_params(**params)


def _as_genre_lists(y):
    """Normalise genre targets to a list of lists of str."""
    if isinstance(y, (str, bytes)):
        raise ValueError(
            "GenreClassifier expects one genre list per synopsis; got a single string."
        )
    genre_lists = []
    for position, entry in enumerate(y):
        if isinstance(entry, str):
            entry = [g.strip() for g in entry.split(",") if g.strip()]
        elif entry is None or not hasattr(entry, "__iter__"):
            raise TypeError(
                "GenreClassifier expects each target to be a list of genre names or a "
                f"comma-separated string; the target at position {position} is "
                f"{type(entry).__name__} ({entry!r:.40})."
            )
        entry = list(entry)
        for genre in entry:
            if not isinstance(genre, str):
                raise TypeError(
                    f"Genre names must be str; the target at position {position} holds "
                    f"{type(genre).__name__} ({genre!r:.40})."
                )
        genre_lists.append(entry)
    return genre_lists


class GenreClassifier(BaseEstimator):
    """Predict genre names from raw synopses.

    A thin layer over a genre pipeline (by default
    :func:`make_genre_pipeline`) that binarises genre lists itself, predicts
    genre names and returns probabilities as a labelled DataFrame.

    Parameters
    ----------
    pipeline : estimator or None, default=None
        Any estimator taking raw synopses and a label indicator matrix, with
        ``predict_proba`` returning one column per label. ``None`` uses
        :func:`make_genre_pipeline` seeded with ``random_state``.
    random_state : int, RandomState instance or None, default=None
        Seed of the default pipeline. With a given ``pipeline`` it must be
        None: that pipeline's own seeds apply.

    Attributes
    ----------
    pipeline_ : estimator
        The fitted pipeline.
    classes_ : ndarray of str
        Genre names, in the column order of :meth:`predict_proba`.

    See Also
    --------
    make_genre_pipeline : The default pipeline.

    Examples
    --------
    >>> from sklearn.feature_extraction.text import TfidfVectorizer
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.multiclass import OneVsRestClassifier
    >>> from sklearn.pipeline import make_pipeline
    >>> from skanime import GenreClassifier
    >>> synopses = ["robots fight in space", "pilots defend the colony in space",
    ...             "a girl falls in love", "two students fall in love at school"]
    >>> genres = [["Mecha", "Sci-Fi"], ["Sci-Fi"], ["Romance"], ["Romance", "School"]]
    >>> pipe = make_pipeline(TfidfVectorizer(),
    ...                      OneVsRestClassifier(LogisticRegression(C=100)))
    >>> model = GenreClassifier(pipeline=pipe).fit(synopses, genres)
    >>> model.classes_.tolist()
    ['Mecha', 'Romance', 'School', 'Sci-Fi']
    >>> model.predict(["love at school"])
    [['Romance', 'School']]
    >>> model.top_genres(["robots in space"], k=1)[0][0][0]
    'Sci-Fi'
    """

    _parameter_constraints: dict = {
        "pipeline": [None, HasMethods(["fit", "predict_proba"])],
        "random_state": ["random_state"],
    }

    def __init__(self, pipeline=None, *, random_state=None):
        self.pipeline = pipeline
        self.random_state = random_state

    def fit(self, X, y, groups=None):
        """Fit the pipeline on synopses and their genres.

        Parameters
        ----------
        X : iterable of str
            Synopses.
        y : iterable of list of str or of comma-separated str
            Genres of each synopsis.
        groups : array-like of shape (n_synopses,), default=None
            Group of each synopsis, such as its franchise
            (:func:`skanime.datasets.franchise_groups`): the inner folds of
            the pipeline keep each group on one side, so its thresholds are
            chosen for new franchises. The pipeline's last step must take
            ``groups`` in its ``fit`` (the default one does).

        Returns
        -------
        self : GenreClassifier
            The fitted classifier.
        """
        self._validate_params()
        if self.pipeline is not None and self.random_state is not None:
            raise ValueError(
                "random_state seeds the default pipeline only; a given pipeline "
                "keeps its own seeds. Seed its steps instead (e.g. "
                "make_genre_pipeline(random_state=0)) and leave GenreClassifier's "
                f"random_state at None; got random_state={self.random_state!r}."
            )
        documents = check_documents(X, type(self).__name__)
        genre_lists = _as_genre_lists(y)
        # One spelling per genre (" Action ", "ACTION" -> "Action"); see
        # skanime.datasets.fold_genre_names. Empty names are refused.
        from .datasets._taxonomy import fold_genre_names

        genre_lists, _ = fold_genre_names(genre_lists, source="GenreClassifier y")
        if len(genre_lists) != len(documents):
            raise ValueError(
                f"X has {len(documents)} synopses but y has {len(genre_lists)} genre "
                "lists; they must match one to one."
            )
        self._binarizer = MultiLabelBinarizer()
        Y = self._binarizer.fit_transform(genre_lists)
        if Y.shape[1] == 0:
            raise ValueError("y holds no genre at all; nothing to learn.")
        self.classes_ = self._binarizer.classes_
        if self.pipeline is None:
            self.pipeline_ = make_genre_pipeline(random_state=self.random_state)
        else:
            self.pipeline_ = clone(self.pipeline)
        fit_params = self._groups_params(groups, len(documents))
        _, constant = constant_label_rates(Y)
        if constant.any():
            names = [str(name) for name in self.classes_[constant]]
            warnings.warn(
                ConstantLabelWarning(
                    f"Genres {names} are given for every synopsis (or for none), so "
                    "nothing can be learned about them; their probability is fixed "
                    "at the smoothed base rate. Drop them from y to avoid this.",
                    names,
                ),
                stacklevel=2,
            )
        with warnings.catch_warnings():
            # Said above with genre names; the pipeline would repeat it with
            # column numbers.
            warnings.simplefilter("ignore", ConstantLabelWarning)
            self.pipeline_.fit(documents, Y, **fit_params)
        return self

    def _groups_params(self, groups, n_documents):
        """Fit parameters that give ``groups`` to the pipeline's last step."""
        if groups is None:
            return {}
        groups = np.asarray(groups)
        if groups.shape != (n_documents,):
            raise ValueError(
                f"groups must hold one group per synopsis, shape ({n_documents},); "
                f"got shape {groups.shape}."
            )
        if isinstance(self.pipeline_, Pipeline):
            name, last = self.pipeline_.steps[-1]
            if has_fit_parameter(last, "groups"):
                return {f"{name}__groups": groups}
        elif has_fit_parameter(self.pipeline_, "groups"):
            return {"groups": groups}
        raise ValueError(
            f"groups were given, but {type(self.pipeline_).__name__} cannot use "
            "them: its fit (or its last step's fit) takes no groups. Use the "
            "default pipeline, or one ending in a step whose fit takes groups."
        )

    def predict_proba(self, X):
        """Probability of each genre.

        Parameters
        ----------
        X : iterable of str
            Synopses.

        Returns
        -------
        proba : pandas.DataFrame of shape (n_synopses, n_genres)
            One column per genre (``classes_``); the index of ``X`` when it is
            a pandas Series.
        """
        check_is_fitted(self)
        documents = check_documents(X, type(self).__name__)
        proba = np.asarray(self.pipeline_.predict_proba(documents))
        index = X.index if isinstance(X, pd.Series) else None
        return pd.DataFrame(proba, columns=self.classes_, index=index)

    def predict_indicator(self, X):
        """Predicted genres as a label indicator matrix.

        Parameters
        ----------
        X : iterable of str
            Synopses.

        Returns
        -------
        Y : ndarray of shape (n_synopses, n_genres)
            Columns in ``classes_`` order.
        """
        check_is_fitted(self)
        documents = check_documents(X, type(self).__name__)
        return np.asarray(self.pipeline_.predict(documents))

    def predict(self, X):
        """Predict the genres of each synopsis.

        Parameters
        ----------
        X : iterable of str
            Synopses.

        Returns
        -------
        genres : list of list of str
            Predicted genre names of each synopsis, in ``classes_`` order.
        """
        indicator = self.predict_indicator(X)
        rows, columns = np.nonzero(indicator)
        names = self.classes_[columns].tolist()
        ends = np.cumsum(np.bincount(rows, minlength=indicator.shape[0])).tolist()
        starts = [0, *ends[:-1]]
        return [names[start:end] for start, end in zip(starts, ends, strict=True)]

    def top_genres(self, X, k=3):
        """The ``k`` most probable genres of each synopsis.

        Parameters
        ----------
        X : iterable of str
            Synopses.
        k : int, default=3
            Number of genres to return per synopsis.

        Returns
        -------
        top : list of list of (str, float)
            Genre names with their probability, most probable first.
        """
        proba = self.predict_proba(X).to_numpy()
        k = max(1, min(int(k), proba.shape[1]))
        order = np.argsort(-proba, axis=1, kind="stable")[:, :k]
        return [
            [(str(self.classes_[j]), float(row[j])) for j in cols]
            for row, cols in zip(proba, order, strict=True)
        ]

    def score(self, X, y):
        """Micro-averaged F1 of the predicted genres.

        Parameters
        ----------
        X : iterable of str
            Synopses.
        y : iterable of list of str
            True genres.

        Returns
        -------
        score : float
        """
        check_is_fitted(self)
        from .datasets._taxonomy import fold_genre_names

        genre_lists, _ = fold_genre_names(
            _as_genre_lists(y), source="GenreClassifier y"
        )
        Y_true = self._binarizer.transform(genre_lists)
        return micro_f1_score(Y_true, self.predict_indicator(X))

    def explain(self, text, genre=None, top_n=10, **kwargs):
        """Words of ``text`` that pushed each genre up or down.

        The default model (the ensemble of :func:`make_genre_pipeline`) and
        other models are explained by leave-one-word-out occlusion: a word's
        contribution is the logit drop when it is removed from ``text``.
        A single-network Pipeline (clean -> TfidfWeightedW2VTransformer ->
        [StandardScaler] -> FocalMLPClassifier) is explained by integrated
        gradients (contributions in logit units summing to the logit of
        ``text`` minus that of the empty text); see
        :func:`skanime._explain.explain_genres`.

        Parameters
        ----------
        text : str
            One synopsis.
        genre : str, list of str or None, default=None
            Genres to explain; None explains the predicted ones.
        top_n : int or None, default=10
            Words shown per genre, by absolute contribution.
        **kwargs : dict
            ``method`` ("auto", "integrated_gradients", "occlusion") and
            ``n_steps`` (default 64).

        Returns
        -------
        explanation : GenreExplanation
            ``frame`` (genre, word, weight, contribution) and ``summary``;
            ``print(explanation)`` shows a table.
        """
        from ._explain import explain_genres

        return explain_genres(self, text, genre=genre, top_n=top_n, **kwargs)
