"""Cross-validated ensembles of focal MLPs fine-tuning TF-IDF-weighted word vectors."""

import contextlib
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context, clone
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import check_consistent_length, check_is_fitted

from ._embedding import TfidfWeightedW2VTransformer
from ._focal_mlp import FocalMLPClassifier
from ._text import check_documents
from ._thresholds import apply_thresholds, threshold_mask

# Candidate thresholds searched on the out-of-fold probabilities.
THRESHOLD_GRID = np.round(np.arange(0.02, 0.805, 0.01), 2)
# Labels with fewer positive training documents take the shared threshold.
MIN_POSITIVES_PER_LABEL_THRESHOLD = 5
# Members warn about labels without positives (or negatives) in their fold;
# the ensemble warns once for the labels constant in all of y instead.
_MEMBER_WARNINGS = (
    r"Labels \[[0-9, ]*\] have no positive",
    r"Label not \d+ is present in all training examples",
    r"Label \d+ is present in all training examples",
)


@contextlib.contextmanager
def _quiet_members():
    with warnings.catch_warnings():
        for message in _MEMBER_WARNINGS:
            warnings.filterwarnings("ignore", message=message, category=UserWarning)
        yield


def _positive_proba(proba):
    """Per-label positive probabilities as one ``(n_samples, n_labels)`` array."""
    if isinstance(proba, list):
        return np.column_stack([p[:, -1] for p in proba])
    return np.asarray(proba)


def _micro_f1(Y, mask):
    tp = np.count_nonzero(Y & mask)
    total = np.count_nonzero(Y) + np.count_nonzero(mask)
    return 2.0 * tp / total if total else 0.0


def shared_threshold(Y, proba, min_labels=0, grid=THRESHOLD_GRID):
    """The candidate threshold with the best micro-F1 on ``(Y, proba)``."""
    Y = np.asarray(Y, dtype=bool)
    scores = [_micro_f1(Y, threshold_mask(proba, t, min_labels)) for t in grid]
    return float(grid[int(np.argmax(scores))])


def per_label_thresholds(Y, proba, fallback, grid=THRESHOLD_GRID):
    """The candidate threshold with the best F1 of each label.

    Labels with fewer than ``MIN_POSITIVES_PER_LABEL_THRESHOLD`` positives
    take ``fallback``.
    """
    Y = np.asarray(Y, dtype=bool)
    positives = Y.sum(axis=0)
    curves = np.empty((len(grid), Y.shape[1]))
    for i, t in enumerate(grid):
        mask = proba >= t
        tp = np.count_nonzero(mask & Y, axis=0)
        total = positives + np.count_nonzero(mask, axis=0)
        curves[i] = np.divide(
            2.0 * tp, total, out=np.zeros(Y.shape[1]), where=total > 0
        )
    best = grid[np.argmax(curves, axis=0)]
    return np.where(positives >= MIN_POSITIVES_PER_LABEL_THRESHOLD, best, fallback)


def _fit_member(clf, linear, embedding, weights, raw, Y, train, val, seed):
    """Fit one network (and linear model) on ``train``; score ``val``."""
    network = clone(clf).set_params(embedding_init=embedding, random_state=seed)
    # A rare label may be missing from some folds; it gets a constant
    # probability in that member only, which the ensemble averages out.
    with _quiet_members():
        if network.early_stopping:
            network.fit(weights[train], Y[train], X_val=weights[val], y_val=Y[val])
        else:
            network.fit(weights[train], Y[train])
        linear_model = None
        if linear is not None:
            linear_model = clone(linear).fit(raw[train], Y[train])
    # The optimiser's moments of the embedding are only needed to continue
    # training; the ensemble never does, and they triple the model size.
    network.discard_optimizer_state()
    network_proba = network.predict_proba(weights[val])
    linear_proba = None
    if linear_model is not None:
        linear_proba = _positive_proba(linear_model.predict_proba(raw[val]))
    return network, network_proba, linear_proba


class EmbeddingBagClassifier(ClassifierMixin, BaseEstimator):
    """Label sets from raw text with fine-tuned TF-IDF-weighted word vectors.

    A cross-validated ensemble of :class:`FocalMLPClassifier` networks whose
    first layer is the TF-IDF-weighted embedding of the documents. Fitting:

    1. ``clean`` cleans the documents (optional);
    2. ``embed`` learns the word vectors and the TF-IDF weights; each document
       becomes its row-normalised TF-IDF weights over the embedding
       vocabulary (``transform_weights``);
    3. the training documents are split into ``n_estimators`` folds
       (multilabel-stratified). Network ``k`` starts from the word vectors
       (``embedding_init=embed.vectors_``), fine-tunes them on the focal loss
       on all folds but ``k``, and stops early on fold ``k`` when ``clf`` has
       ``early_stopping=True``;
    4. every training document thus gets an out-of-fold probability from the
       one network that did not train on it, and the decision thresholds are
       chosen on these probabilities, never on the documents a network saw.

    Probabilities are the mean over the networks. With ``linear``, a linear
    model of the raw documents is mixed in with weight ``linear_weight``: its
    out-of-fold probabilities come from copies fitted on the same folds, and
    its predictions from a copy fitted on all the training documents.

    Parameters
    ----------
    clean : transformer or None, default=None
        Applied to the documents first, e.g.
        :class:`~skanime.SynopsisCleaner`. None uses them as they are.
    embed : TfidfWeightedW2VTransformer or None, default=None
        Any transformer of documents with ``transform_weights`` and
        ``vectors_``. None uses ``TfidfWeightedW2VTransformer()``.
    clf : FocalMLPClassifier or None, default=None
        The network, cloned for each fold; its ``embedding_init`` and
        ``random_state`` are set per fold, and its ``threshold`` and
        ``min_labels`` are not used (see ``threshold`` and ``min_labels``
        below). None uses ``FocalMLPClassifier(early_stopping=True)``.
    n_estimators : int, default=5
        Number of networks, and of folds of the training documents. Each
        network trains on a share ``1 - 1 / n_estimators`` of them.
    threshold : {"per_label", "shared"}, float or array-like of shape \
            (n_labels,), default="per_label"
        Decision thresholds. "shared" picks the one threshold with the best
        out-of-fold micro-F1 (counting ``min_labels``); "per_label" picks
        each label's threshold with the best out-of-fold F1 of that label,
        and gives the shared one to labels with fewer than five positive
        training documents. Candidates run from 0.02 to 0.80 by 0.01. A
        number or an array is used as given.
    min_labels : int, default=1
        Predict at least this many labels per document, the most probable
        ones when fewer pass their threshold.
    linear : classifier or None, default=None
        An optional second member taking the raw documents (``clean`` is not
        applied), whose ``predict_proba`` gives one probability per label, e.g.
        ``make_pipeline(TfidfVectorizer(), OneVsRestClassifier(
        LogisticRegression()))``.
    linear_weight : float, default=0.3
        Weight of ``linear`` in the probabilities (ignored without it).
    n_jobs : int or None, default=None
        Folds fitted in parallel. ``None`` means 1 unless in a
        :obj:`joblib.parallel_backend` context; ``-1`` uses all processors.
    random_state : int, RandomState instance or None, default=None
        Seeds the folds and the networks. ``embed`` keeps its own
        ``random_state``.

    Attributes
    ----------
    clean_ : transformer or None
        The fitted ``clean``.
    embed_ : transformer
        The fitted ``embed``.
    estimators_ : list of FocalMLPClassifier
        The fitted networks; ``estimators_[k]`` did not train on fold ``k``.
    linear_estimator_ : classifier or None
        ``linear`` fitted on all the training documents, or None without it.
    oof_proba_ : ndarray of shape (n_documents, n_labels)
        Out-of-fold probabilities of the training documents.
    thresholds_ : ndarray of shape (n_labels,)
        Decision threshold of each label.
    classes_ : ndarray of shape (n_labels,)
        ``arange(n_labels)``.
    n_outputs_ : int
        Number of labels.
    constant_labels_ : ndarray of int
        Labels with no positive or no negative training document; their
        probability is the smoothed base rate ``(n_positives + 0.5) /
        (n_documents + 1)``.

    See Also
    --------
    skanime.make_genre_pipeline : The default genre model, built on this class.
    skanime.FocalMLPClassifier : The network and its ``embedding_init``.
    skanime.TfidfWeightedW2VTransformer : The embedding.

    Notes
    -----
    The networks never see the raw words: their input is the sparse matrix of
    TF-IDF weights, and their first layer is the matrix of word vectors, so
    that ``X @ embedding`` is exactly the TF-IDF-weighted mean word vector
    before training. Only the rows of the words of each minibatch are
    updated.

    References
    ----------
    .. [1] A. Joulin, E. Grave, P. Bojanowski and T. Mikolov, "Bag of Tricks
       for Efficient Text Classification", EACL 2017.
    .. [2] T.-Y. Lin, P. Goyal, R. Girshick, K. He and P. Dollar, "Focal Loss
       for Dense Object Detection", ICCV 2017.
    .. [3] K. Sechidis, G. Tsoumakas and I. Vlahavas, "On the Stratification
       of Multi-label Data", ECML PKDD 2011.

    Examples
    --------
    >>> import numpy as np
    >>> from skanime import FocalMLPClassifier, TfidfWeightedW2VTransformer
    >>> from skanime._fasttext import EmbeddingBagClassifier
    >>> docs = ["giant robots fight in space", "robots defend the space colony",
    ...         "a girl falls in love at school", "love letters at school"] * 5
    >>> Y = np.array([[1, 0], [1, 0], [0, 1], [0, 1]] * 5)
    >>> vectors = {"robots": [1.0, 0.0], "space": [0.9, 0.1],
    ...            "love": [0.0, 1.0], "school": [0.1, 0.9]}
    >>> model = EmbeddingBagClassifier(
    ...     embed=TfidfWeightedW2VTransformer(vectors=vectors),
    ...     clf=FocalMLPClassifier((8,), early_stopping=True, random_state=0),
    ...     n_estimators=2, threshold=0.5, random_state=0,
    ... ).fit(docs, Y)
    >>> model.predict(["robots in space", "love at school"])
    array([[1, 0],
           [0, 1]])
    """

    _parameter_constraints: dict = {
        "clean": [None, HasMethods(["fit", "transform"])],
        "embed": [None, HasMethods(["fit", "transform_weights"])],
        "clf": [None, FocalMLPClassifier],
        "n_estimators": [Interval(Integral, 2, None, closed="left")],
        "threshold": [
            StrOptions({"per_label", "shared"}),
            Interval(Real, 0, 1, closed="both"),
            "array-like",
        ],
        "min_labels": [Interval(Integral, 0, None, closed="left")],
        "linear": [None, HasMethods(["fit", "predict_proba"])],
        "linear_weight": [Interval(Real, 0, 1, closed="both")],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        clean=None,
        embed=None,
        clf=None,
        *,
        n_estimators=5,
        threshold="per_label",
        min_labels=1,
        linear=None,
        linear_weight=0.3,
        n_jobs=None,
        random_state=None,
    ):
        self.clean = clean
        self.embed = embed
        self.clf = clf
        self.n_estimators = n_estimators
        self.threshold = threshold
        self.min_labels = min_labels
        self.linear = linear
        self.linear_weight = linear_weight
        self.n_jobs = n_jobs
        self.random_state = random_state

    def _check_targets(self, y, n_documents):
        Y = np.asarray(y.toarray() if hasattr(y, "toarray") else y)
        y_type = type_of_target(Y, input_name="y")
        if y_type != "multilabel-indicator":
            raise ValueError(
                f"{type(self).__name__} expects y as a label indicator matrix of 0 "
                f"and 1, shape (n_documents, n_labels) with n_labels >= 2; got "
                f"{y_type!r}. Encode label lists with "
                "sklearn.preprocessing.MultiLabelBinarizer."
            )
        if not np.isin(Y, (0, 1)).all():
            raise ValueError(
                f"{type(self).__name__} expects a label indicator matrix of 0 and 1; "
                f"y holds the values {np.unique(Y).tolist()}. Encode label lists "
                "with sklearn.preprocessing.MultiLabelBinarizer."
            )
        check_consistent_length(np.empty(n_documents), Y)
        if n_documents < self.n_estimators:
            raise ValueError(
                f"n_estimators={self.n_estimators} folds need at least as many "
                f"documents; got {n_documents}."
            )
        return Y.astype(np.int8)

    def _clean(self, documents, fit=False):
        if fit:
            self.clean_ = None if self.clean is None else clone(self.clean)
            if self.clean_ is not None:
                return np.asarray(self.clean_.fit_transform(documents), dtype=object)
        elif self.clean_ is not None:
            return np.asarray(self.clean_.transform(documents), dtype=object)
        return np.asarray(documents, dtype=object)

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y):
        """Fit the embedding, the networks and the thresholds.

        Parameters
        ----------
        X : iterable of str
            Training documents.
        y : array-like of shape (n_documents, n_labels)
            Label indicator matrix.

        Returns
        -------
        self : EmbeddingBagClassifier
            The fitted classifier.
        """
        from .model_selection import MultilabelStratifiedKFold

        raw = np.asarray(check_documents(X, type(self).__name__), dtype=object)
        documents = self._clean(raw, fit=True)
        Y = self._check_targets(y, len(documents))
        rng = check_random_state(self.random_state)
        split_seed, *seeds = rng.randint(
            np.iinfo(np.int32).max, size=1 + self.n_estimators
        )

        self.embed_ = clone(
            TfidfWeightedW2VTransformer() if self.embed is None else self.embed
        )
        self.embed_.fit(documents)
        weights = self.embed_.transform_weights(documents)
        vectors = self.embed_.vectors_
        clf = FocalMLPClassifier(early_stopping=True) if self.clf is None else self.clf

        positives = Y.sum(axis=0)
        self.constant_labels_ = np.flatnonzero((positives == 0) | (positives == len(Y)))
        self._constant_proba = (positives[self.constant_labels_] + 0.5) / (len(Y) + 1)
        if self.constant_labels_.size:
            warnings.warn(
                f"Labels {self.constant_labels_.tolist()} have no positive or no "
                "negative training document; their probability is fixed at the "
                "smoothed base rate.",
                UserWarning,
                stacklevel=2,
            )
        folds = list(
            MultilabelStratifiedKFold(
                self.n_estimators, shuffle=True, random_state=split_seed
            ).split(weights, Y)
        )
        members = Parallel(n_jobs=self.n_jobs)(
            delayed(_fit_member)(
                clf, self.linear, vectors, weights, raw, Y, train, val, seed
            )
            for (train, val), seed in zip(folds, seeds, strict=True)
        )
        # The networks' embedding_init is the transformer's vectors_: one
        # shared array instead of one copy per network.
        self.estimators_ = []
        for network, *_ in members:
            network.embedding_init = vectors
            self.estimators_.append(network)
        self.linear_estimator_ = None
        if self.linear is not None:
            with _quiet_members():
                self.linear_estimator_ = clone(self.linear).fit(raw, Y)

        self.oof_proba_ = np.zeros(Y.shape, dtype=np.float64)
        for (_, val), (_, network_proba, linear_proba) in zip(
            folds, members, strict=True
        ):
            self.oof_proba_[val] = self._mix(network_proba, linear_proba)
        self.n_outputs_ = Y.shape[1]
        self.classes_ = np.arange(Y.shape[1])
        self.thresholds_ = self._fit_thresholds(Y, self.oof_proba_)
        return self

    def _mix(self, network_proba, linear_proba):
        proba = network_proba
        if linear_proba is not None:
            w = self.linear_weight
            proba = (1 - w) * network_proba + w * linear_proba
        proba[:, self.constant_labels_] = self._constant_proba
        return proba

    def _fit_thresholds(self, Y, proba):
        n_labels = Y.shape[1]
        if isinstance(self.threshold, str):
            shared = shared_threshold(Y, proba, self.min_labels)
            if self.threshold == "shared":
                return np.full(n_labels, shared)
            return per_label_thresholds(Y, proba, shared)
        thresholds = np.asarray(self.threshold, dtype=float)
        if thresholds.ndim == 0:
            return np.full(n_labels, float(thresholds))
        if thresholds.shape != (n_labels,) or not np.all(
            (thresholds >= 0) & (thresholds <= 1)
        ):
            raise ValueError(
                f"threshold as an array must hold one value in [0, 1] per label, "
                f"shape ({n_labels},); got shape {thresholds.shape}."
            )
        return thresholds

    def predict_proba(self, X):
        """Probability of each label.

        Parameters
        ----------
        X : iterable of str
            Documents.

        Returns
        -------
        proba : ndarray of shape (n_documents, n_labels)
            Mean probability of the networks (mixed with the linear model
            when ``linear`` is set).
        """
        check_is_fitted(self)
        raw = np.asarray(check_documents(X, type(self).__name__), dtype=object)
        weights = self.embed_.transform_weights(self._clean(raw))
        network_proba = np.mean(
            [network.predict_proba(weights) for network in self.estimators_], axis=0
        )
        linear_proba = None
        if self.linear_estimator_ is not None:
            linear_proba = _positive_proba(self.linear_estimator_.predict_proba(raw))
        return self._mix(network_proba, linear_proba)

    def predict(self, X):
        """Predict label sets.

        Parameters
        ----------
        X : iterable of str
            Documents.

        Returns
        -------
        Y : ndarray of shape (n_documents, n_labels)
            Label indicator matrix: the labels whose probability reaches
            ``thresholds_``, at least ``min_labels`` per document.
        """
        return apply_thresholds(
            self.predict_proba(X), self.thresholds_, self.min_labels
        )

    def score(self, X, y, sample_weight=None):
        """Micro-averaged F1 of the predicted label sets.

        Parameters
        ----------
        X : iterable of str
            Documents.
        y : array-like of shape (n_documents, n_labels)
            True label indicator matrix.
        sample_weight : array-like of shape (n_documents,), default=None
            Sample weights.

        Returns
        -------
        score : float
        """
        from sklearn.metrics import f1_score

        return float(
            f1_score(
                y,
                self.predict(X),
                average="micro",
                sample_weight=sample_weight,
                zero_division=0,
            )
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        tags.classifier_tags.multi_label = True
        tags.classifier_tags.multi_class = False
        return tags
