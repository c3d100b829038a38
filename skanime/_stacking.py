"""Multilabel stacking: a second stage per label over all members' scores."""

import contextlib
import warnings
from concurrent.futures import ThreadPoolExecutor
from numbers import Integral, Real

import numpy as np
from joblib import effective_n_jobs
from scipy import sparse
from scipy.special import expit
from sklearn.base import ClassifierMixin, _fit_context, clone
from sklearn.model_selection import check_cv
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import _safe_indexing, check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.metaestimators import _BaseComposition
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import (
    _num_samples,
    check_is_fitted,
    has_fit_parameter,
    indexable,
)
from threadpoolctl import threadpool_limits

from ._linear import (
    MultilabelLogisticRegression,
    _coef_to_predict_with,
    _LinearScoresMixin,
)
from ._neighbors import MultilabelKNeighborsClassifier
from ._targets import (
    ConstantLabelWarning,
    check_label_indicator,
    constant_label_rates,
    micro_f1_score,
    warn_constant_labels,
)
from ._thresholds import apply_thresholds, fit_thresholds, positive_scores

# Member scores enter the second stage as logits, clipped so that a
# probability of exactly 0 or 1 stays finite.
_LOGIT_CLIP = 12.0
# Labels (coefficient rows) averaged at a time when linear fold models merge.
_MERGE_ROWS = 4
# Samples scored at a time by predict and transform: bounds the members'
# intermediate arrays (a network's hidden layer has a row per sample) on
# large inputs.
_PREDICT_ROWS = 8192
# From this many samples, predict and transform score members that share no
# step in threads of their own (``n_jobs``): the neighbours' products, which
# run without the GIL, overlap the other members' tokenising. Below it,
# starting threads costs more than it saves.
_CONCURRENT_ROWS = 2048
# The value of a member's ``embedding_init`` that asks for the word vectors of
# the transformer before it (see ``estimators``).
_VECTORS = "vectors"


def _member_scores(estimator, X):
    """Per-label logits of a fitted member, shape (n_samples, n_labels)."""
    if hasattr(estimator, "_trusted_decision_function"):
        # skanime's own classifiers, on their fitted transformer's output.
        scores = estimator._trusted_decision_function(X)
    elif hasattr(estimator, "decision_function"):
        scores = np.asarray(estimator.decision_function(X), dtype=np.float64)
    else:
        proba = positive_scores(
            estimator.predict_proba(X), getattr(estimator, "classes_", None)
        )
        proba = np.clip(np.asarray(proba, dtype=np.float64), 1e-6, 1 - 1e-6)
        scores = np.log(proba / (1.0 - proba))
    return np.clip(scores, -_LOGIT_CLIP, _LOGIT_CLIP)


def _split_member(estimator):
    """``(transformer or None, classifier)`` of a member.

    The transformer holds the steps before the classifier that do something
    (not ``"passthrough"`` or None).
    """
    if not isinstance(estimator, Pipeline):
        return None, estimator
    steps = [
        (name, step)
        for name, step in estimator.steps[:-1]
        if not (step is None or (isinstance(step, str) and step == "passthrough"))
    ]
    return (Pipeline(steps) if steps else None), estimator.steps[-1][1]


def _same_deterministic_step(first, second):
    """Whether two transformer steps would fit to the same thing.

    Same type with equal parameters, and no ``random_state`` (which the
    stacker seeds per member).
    """
    if type(first) is not type(second):
        return False
    params_a, params_b = first.get_params(deep=False), second.get_params(deep=False)
    if "random_state" in params_a or params_a.keys() != params_b.keys():
        return False
    for name, value in params_a.items():
        other = params_b[name]
        if hasattr(value, "get_params") or hasattr(other, "get_params"):
            return False
        try:
            if value is not other and not bool(value == other):
                return False
        except (TypeError, ValueError):  # e.g. arrays of several values
            return False
    return True


def _n_shared_steps(transformer, fitted):
    """Number of leading steps of ``transformer`` that ``fitted`` can lend."""
    n_shared = 0
    for (_, step), (_, fitted_step) in zip(
        transformer.steps, fitted.steps, strict=False
    ):
        if not _same_deterministic_step(step, fitted_step):
            break
        n_shared += 1
    return n_shared


def _steps_key(steps):
    """Key of the output of a run of fitted steps."""
    return tuple(id(step) for _, step in steps)


def _fit_fold(classifier, Z, Y, groups, train, seed):
    model = clone(classifier)
    if "random_state" in model.get_params(deep=False):
        model.set_params(random_state=seed)
    params = {}
    if groups is not None and has_fit_parameter(model, "groups"):
        params["groups"] = _safe_indexing(groups, train)
    model.fit(_safe_indexing(Z, train), Y[train], **params)
    return model


def _fit_fold_of(member, fold, *args):
    """``(member, fold, _fit_fold(*args))``: a fold model and where it belongs."""
    return member, fold, _fit_fold(*args)


def _one_blas_thread_if_parallel(n_jobs):
    """BLAS held to one thread while ``n_jobs`` threads of our own run."""
    if effective_n_jobs(n_jobs) == 1:
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


# Above this size of the members' scores, the second stage's fits run one at
# a time: each holds copies of its rows (scaled), so that fits in parallel
# would add that much to the peak memory of a large corpus' fit.
_PARALLEL_STAGE_MAX_BYTES = 64 * 2**20


def _fit_stage(final, scores, Y, rows):
    """A clone of ``final`` fitted on ``rows`` of ``scores`` (all if None)."""
    if rows is None:
        return clone(final).fit(scores, Y)
    return clone(final).fit(scores[rows], Y[rows])


def _release_training_state(model):
    """Drop what only further training needs from a fitted member."""
    if hasattr(model, "discard_optimizer_state"):
        model.discard_optimizer_state()
    init = model.get_params(deep=False).get("embedding_init")
    if init is not None and not isinstance(init, str):
        # The word vectors were only the starting point of the fine-tuned
        # embedding; the parameter goes back to what the member asked for.
        model.set_params(embedding_init=_VECTORS)


def _member_scores_in_blocks(model, Z, rows):
    """:func:`_member_scores` of the rows ``rows`` of ``Z``, a block at a time.

    A fold's test part is a third of the training set: at once, a network's
    hidden layer for all its rows would be one of the largest arrays of a fit.
    """
    blocks = [
        rows[start : start + _PREDICT_ROWS]
        for start in range(0, len(rows), _PREDICT_ROWS)
    ]
    return np.vstack(
        [_member_scores(model, _safe_indexing(Z, block)) for block in blocks]
    )


def _awaiting_merge(model):
    """A scored fold model, reduced to what :func:`_merge_fold_models` reads.

    A neighbours model is replaced at the merge (None); a linear model keeps
    its coefficients in the type that holds their values exactly in the least
    space (float16 for ``dtype="float16"``, half the memory of the float32
    arrays it predicts with).
    """
    if isinstance(model, MultilabelKNeighborsClassifier):
        return None
    if isinstance(model, _LinearScoresMixin):
        model.coef_ = model.coef_.astype(model._compact_dtype(), copy=False)
    return model


def _merge_fold_models(models, classifier, Z, Y):
    """Fold models of one member, as prediction uses them (once
    :func:`_ready_to_predict` has given merged coefficients their type).

    Linear ones merge into one model: the mean logit of linear models on one
    feature space is the logit of the model with their mean coefficients.
    Neighbours models are replaced by one fitted on all training rows
    (fitting one stores its rows; with ``n_neighbors`` a share of the rows,
    its neighbourhoods are the fold models' share): prediction then
    compares a sample with each training row once, not ``cv - 1`` times.
    """
    if isinstance(classifier, MultilabelKNeighborsClassifier):
        return [clone(classifier).fit(Z, Y)]
    if all(isinstance(model, _LinearScoresMixin) for model in models):
        merged = models[0]
        # Rounded as _with_precision rounds, and held in the compact type until
        # the fit ends (_ready_to_predict), while other members still fit.
        coef = np.empty(merged.coef_.shape, dtype=merged._compact_dtype(), order="F")
        # A few labels at a time: the float64 sum of all the fold models'
        # coefficients at once would be the largest array of a fit on a large
        # vocabulary.
        for start in range(0, coef.shape[0], _MERGE_ROWS):
            rows = slice(start, start + _MERGE_ROWS)
            total = models[0].coef_[rows].astype(np.float64)
            for model in models[1:]:
                total += model.coef_[rows]
            coef[rows] = (total / len(models)).astype(merged._array_dtype())
        merged.coef_ = coef
        merged.intercept_ = np.mean([m.intercept_ for m in models], axis=0).astype(
            merged.intercept_.dtype
        )
        return [merged]
    return list(models)


def _ready_to_predict(model):
    """A merged fold model with its coefficients in the type it predicts with."""
    if isinstance(model, _LinearScoresMixin):
        model.coef_ = _coef_to_predict_with(model.coef_)
    return model


class MultilabelStackingClassifier(ClassifierMixin, _BaseComposition):
    """Stacked multilabel classifier: a second stage over all labels' scores.

    Genres are correlated (Mecha with Sci-Fi, Romance with School), and
    different models rank different genres well. Each member is fitted on
    the folds of ``cv``; its out-of-fold scores for *all* labels of every
    training sample become the features of a second stage
    (``final_estimator``) that predicts each label from all members' scores
    of all labels. Unlike :class:`~sklearn.ensemble.StackingClassifier`, the
    target is a label indicator matrix.

    Fitting:

    1. a member that is a :class:`~sklearn.pipeline.Pipeline` has all its
       steps but the last (its transformer: TF-IDF, word vectors) fitted once
       on all training samples, without ``y``; only the last step (its
       classifier) is fitted per fold. A member's classifier with
       ``embedding_init="vectors"`` gets the ``vectors_`` of the transformer's
       last step (a :class:`TfidfWeightedW2VTransformer` with
       ``output="weights"``): its first layer starts from the word vectors
       and is fine-tuned. Members whose leading steps are equal and
       deterministic (the same types with the same parameters, none with a
       ``random_state``) share them: a TF-IDF step common to several
       members is fitted, stored and applied once, and the members' later
       steps (e.g. a :class:`RareFeatureSelector`) start from its output;
    2. every training sample gets out-of-fold scores (logits) from the member
       models that did not train on it; ``final_estimator`` is fitted on
       them;
    3. the decision thresholds are chosen on out-of-fold predictions of the
       second stage too: ``final_estimator`` is cross-fitted on the same
       folds of the first-stage scores. Thresholds never come from a model
       that saw the rows they are chosen on.

    At prediction a member's score is the mean logit of its fold models (a
    cross-validated ensemble). The exception is a
    :class:`MultilabelKNeighborsClassifier` member: fitting one only stores
    samples, so one model on all training samples replaces its fold models
    (with a fractional ``n_neighbors`` its neighbourhoods are the same share
    of the samples as the fold models').

    Parameters
    ----------
    estimators : list of (str, estimator)
        Named members. Each classifier's ``decision_function`` (or
        ``predict_proba``) gives one score per label.

    final_estimator : estimator or None, default=None
        Second stage, fitted on the members' logits (``n_members * n_labels``
        features) with the label indicator matrix. ``None`` uses a
        ``StandardScaler`` followed by ``MultilabelLogisticRegression(C=0.03,
        own_label_C=10.0, solver="lbfgs")``: each label's coefficients on the
        members' scores of that label are penalised less than those on the
        other labels' scores.

    cv : int or cross-validation generator, default=3
        Folds of the training samples. An int gives a
        :class:`~skanime.model_selection.MultilabelStratifiedKFold`, or a
        :class:`~skanime.model_selection.MultilabelStratifiedGroupKFold` when
        ``fit`` gets ``groups`` (so that out-of-fold scores, and the
        thresholds chosen on them, are those of unseen groups, e.g. new
        franchises).

    threshold : {"shared", "per_label", "shrunk"}, float or array-like, \
            default="shared"
        Decision thresholds on the second stage's probabilities. ``"shared"``:
        the one threshold with the best micro-F1 on the out-of-fold
        predictions; ``"per_label"``: each label's best F1 threshold there
        (labels with few positives take the shared one); ``"shrunk"``: each
        label's best threshold moved half-way to the shared one and never
        above it; a float or one value per label is used as given.

    min_labels : int, default=1
        Every sample gets at least this many labels (its best-scored ones).

    n_jobs : int or None, default=None
        Threads of ``fit``: the member fold fits, then the second stage's
        fits, run in parallel (``None`` means one). The second stage's fits
        run one at a time when the members' scores exceed 64 MB (about
        48,000 synopses of 43 genres and four members), so that a large
        corpus' peak memory does not grow by their copies. With more than one
        thread, BLAS is held to one thread of its own during those fits, as
        scikit-learn's ``KMeans`` does: BLAS threads of several fits at once
        would oversubscribe the cores (on two cores a fit took twice as
        long). At prediction (``predict``, ``predict_proba``, ``transform``)
        on 2,048 samples or more, members that share no transformer step are
        scored in parallel threads. Predictions do not depend on it.

    random_state : int, RandomState instance or None, default=None
        Seeds the folds and the ``random_state`` of each member fit.

    Attributes
    ----------
    transformers_ : list of (Pipeline or None)
        Fitted transformer of each member. Members that share leading steps
        hold the same step objects (the same Pipeline when they share all
        their steps).

    estimators_ : list of list of estimator
        Fitted classifiers of each member, one per fold (one in all for a
        :class:`MultilabelLogisticRegression` or
        :class:`MultilabelMultinomialNB` member, whose fold models are merged
        by averaging their coefficients, and for a
        :class:`MultilabelKNeighborsClassifier` member, fitted on all
        samples).

    final_estimator_ : estimator
        Second stage fitted on all out-of-fold member scores.

    oof_proba_ : ndarray of shape (n_samples, n_labels)
        Out-of-fold probabilities of the second stage, on which
        ``thresholds_`` were chosen.

    thresholds_ : ndarray of shape (n_labels,)
        Decision threshold of each label.

    constant_labels_ : ndarray of int
        Labels whose training column is constant; their probability is fixed
        at the smoothed base rate.

    fold_constant_labels_ : ndarray of int
        Labels constant in the training part of at least one fold (e.g. a
        genre with fewer positives than folds). The members' scores of these
        labels enter the second stage as 0: scored at a constant in one fold
        and by a model in the others, they would only tell the second stage
        which fold a row came from.

    classes_ : ndarray of shape (n_labels,)
        ``arange(n_labels)``.

    See Also
    --------
    sklearn.ensemble.StackingClassifier : Stacking for single-label targets.
    skanime.model_selection.MultiLabelThresholdTuner : Thresholds for one
        multilabel model.

    References
    ----------
    Wolpert, D. H. (1992). Stacked generalization. Neural Networks, 5(2),
    241-259.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.feature_extraction.text import TfidfVectorizer
    >>> from skanime import MultilabelLogisticRegression
    >>> from skanime import MultilabelStackingClassifier
    >>> docs = ["giant robot war", "robot pilot space", "school love story",
    ...         "love letter school", "space war robot", "first love"] * 3
    >>> Y = np.array([[1, 0], [1, 0], [0, 1], [0, 1], [1, 0], [0, 1]] * 3)
    >>> words = make_pipeline(TfidfVectorizer(),
    ...                       MultilabelLogisticRegression(C=10.0))
    >>> model = MultilabelStackingClassifier([("words", words)], cv=3,
    ...                                      random_state=0).fit(docs, Y)
    >>> model.predict(["a robot in space", "love at school"])
    array([[1, 0],
           [0, 1]])
    """

    _parameter_constraints: dict = {
        "estimators": [list],
        "final_estimator": [None, HasMethods(["fit", "predict_proba"])],
        "cv": ["cv_object"],
        "threshold": [
            StrOptions({"shared", "per_label", "shrunk"}),
            Real,
            "array-like",
        ],
        "min_labels": [Interval(Integral, 0, None, closed="left")],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        estimators,
        final_estimator=None,
        *,
        cv=3,
        threshold="shared",
        min_labels=1,
        n_jobs=None,
        random_state=None,
    ):
        self.estimators = estimators
        self.final_estimator = final_estimator
        self.cv = cv
        self.threshold = threshold
        self.min_labels = min_labels
        self.n_jobs = n_jobs
        self.random_state = random_state

    def get_params(self, deep=True):
        """Parameters of the stacker and, with ``deep``, of its members.

        Parameters
        ----------
        deep : bool, default=True
            Include the members' parameters as ``<name>__<parameter>``.

        Returns
        -------
        params : dict
        """
        return self._get_params("estimators", deep=deep)

    def set_params(self, **params):
        """Set parameters of the stacker or of its members.

        Parameters
        ----------
        **params : dict
            ``<name>__<parameter>`` reaches a member.

        Returns
        -------
        self : MultilabelStackingClassifier
        """
        self._set_params("estimators", **params)
        return self

    @property
    def named_estimators(self):
        """The members by name."""
        return dict(self.estimators)

    def _check_estimators(self):
        if not self.estimators:
            raise ValueError(
                "estimators must hold at least one (name, estimator) pair; got an "
                "empty list."
            )
        names = []
        for item in self.estimators:
            if not (
                isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)
            ):
                raise ValueError(
                    "estimators must be a list of (name, estimator) pairs; got "
                    f"{item!r}."
                )
            names.append(item[0])
            _, classifier = _split_member(item[1])
            if not (
                hasattr(classifier, "decision_function")
                or hasattr(classifier, "predict_proba")
            ):
                raise ValueError(
                    f"Member {item[0]!r} has neither decision_function nor "
                    "predict_proba; a member must score every label."
                )
        self._validate_names(names)

    def _splits(self, X, Y, groups, seed):
        from .model_selection import (
            MultilabelStratifiedGroupKFold,
            MultilabelStratifiedKFold,
        )

        cv = self.cv
        if isinstance(cv, Integral):
            if groups is not None:
                cv = MultilabelStratifiedGroupKFold(cv, shuffle=True, random_state=seed)
            else:
                cv = MultilabelStratifiedKFold(cv, shuffle=True, random_state=seed)
        else:
            cv = check_cv(cv)
        return list(cv.split(X, Y, groups))

    def _fit_transformer(self, estimator, X, seed, fitted, outputs):
        """Fitted transformer, unfitted classifier and features of a member.

        The member's leading steps that equal those of a transformer in
        ``fitted`` (deterministic steps with the same parameters) are that
        transformer's fitted steps, and their output is taken from
        ``outputs``, which gets the output of every step fitted here.
        """
        transformer, classifier = _split_member(estimator)
        if transformer is None:
            return None, classifier, X
        classifier = clone(classifier)
        init = classifier.get_params(deep=False).get("embedding_init")
        takes_vectors = isinstance(init, str) and init == _VECTORS
        lender, n_shared = None, 0
        for candidate in fitted if not takes_vectors else ():
            if candidate is None:
                continue
            n_candidate = _n_shared_steps(transformer, candidate)
            if n_candidate > n_shared:
                lender, n_shared = candidate, n_candidate
        if lender is not None and n_shared == len(transformer.steps) == len(
            lender.steps
        ):
            return lender, classifier, outputs[_steps_key(lender.steps)]
        # The member's own step names, with the lender's fitted steps.
        lent = lender.steps[:n_shared] if lender is not None else []
        steps = [
            (name, step)
            for (name, _), (_, step) in zip(transformer.steps, lent, strict=False)
        ]
        Z = outputs[_steps_key(steps)] if steps else X
        for name, step in transformer.steps[n_shared:]:
            step = clone(step)
            if "random_state" in step.get_params(deep=False):
                step.set_params(random_state=seed)
            Z = step.fit_transform(Z)
            steps.append((name, step))
            outputs[_steps_key(steps)] = Z
        transformer = Pipeline(steps)
        if takes_vectors:
            vectors = getattr(transformer[-1], "vectors_", None)
            if vectors is None or getattr(transformer[-1], "output", None) != "weights":
                raise ValueError(
                    "A member classifier with embedding_init='vectors' needs a "
                    "transformer ending in TfidfWeightedW2VTransformer("
                    "output='weights'); got "
                    f"{type(transformer[-1]).__name__}."
                )
            classifier.set_params(embedding_init=vectors)
        return transformer, classifier, Z

    @_fit_context(
        # The members are validated when they are fitted.
        prefer_skip_nested_validation=False
    )
    def fit(self, X, y, groups=None):
        """Fit the members on the folds, the second stage and the thresholds.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Training data in the form the members take (e.g. a list of
            synopses).
        y : array-like of shape (n_samples, n_labels)
            Label indicator matrix.
        groups : array-like of shape (n_samples,), default=None
            Group of each sample (e.g. its franchise). Folds, and so the
            out-of-fold scores the second stage and the thresholds learn from,
            keep each group on one side; members whose ``fit`` takes
            ``groups`` get them too.

        Returns
        -------
        self : MultilabelStackingClassifier
            The fitted classifier.
        """
        self._check_estimators()
        if isinstance(X, str):
            raise ValueError(
                "X must be a sequence of samples (e.g. a list of synopses), not a "
                "single string; wrap one synopsis in a list."
            )
        X, groups = indexable(X, groups)
        if isinstance(X, list):
            X = np.asarray(X, dtype=object)
        n_samples = X.shape[0]
        Y = check_label_indicator(y, n_samples, self)
        if groups is not None:
            groups = np.asarray(groups)
        rng = check_random_state(self.random_state)
        n_members = len(self.estimators)
        split_seed, *seeds = rng.randint(np.iinfo(np.int32).max, size=1 + n_members)
        splits = self._splits(X, Y, groups, split_seed)
        if any(len(test) == 0 for _, test in splits):
            raise ValueError("Every fold of cv must hold test samples.")

        rates, constant = constant_label_rates(Y)
        self.constant_labels_ = np.flatnonzero(constant)
        self._constant_proba = rates[constant]
        if self.constant_labels_.size:
            warn_constant_labels(self.constant_labels_.tolist(), stacklevel=2)

        members = []
        outputs = {}
        for (_, estimator), seed in zip(self.estimators, seeds, strict=True):
            fitted = [transformer for transformer, _, _ in members]
            members.append(self._fit_transformer(estimator, X, seed, fitted, outputs))
        del outputs
        self.transformers_ = [transformer for transformer, _, _ in members]
        classifiers = [classifier for _, classifier, _ in members]
        inputs = [Z for _, _, Z in members]
        del members

        fold_seeds = rng.randint(np.iinfo(np.int32).max, size=(n_members, len(splits)))
        n_labels = Y.shape[1]
        self.n_labels_ = n_labels
        self.fold_constant_labels_ = np.flatnonzero(
            np.any([constant_label_rates(Y[train])[1] for train, _ in splits], axis=0)
        )
        # float32 while the members fit, when memory peaks: the members'
        # scores are float32 values, the neighbours' rounded to float32.
        oof_scores = np.zeros((n_samples, n_members * n_labels), dtype=np.float32)
        with warnings.catch_warnings(), _one_blas_thread_if_parallel(self.n_jobs):
            # A label can be missing from a fold's training part; its member
            # model then scores it at the fold's base rate, and the second
            # stage learns from the scores. The labels constant in all of y
            # were warned about above.
            warnings.simplefilter("ignore", ConstantLabelWarning)
            # Each fold model is scored on its test rows as soon as it is
            # fitted, while other fold models are still being fitted, and
            # kept only in the form its member's merge needs; a member is
            # merged when its last fold model is in.
            fitted = Parallel(
                n_jobs=self.n_jobs, prefer="threads", return_as="generator_unordered"
            )(
                delayed(_fit_fold_of)(
                    m, k, classifiers[m], inputs[m], Y, groups, train, fold_seeds[m, k]
                )
                for m in range(n_members)
                for k, (train, _) in enumerate(splits)
            )
            pending = [{} for _ in range(n_members)]
            merged = [None] * n_members
            for m, k, model in fitted:
                oof_scores[splits[k][1], m * n_labels : (m + 1) * n_labels] = (
                    _member_scores_in_blocks(model, inputs[m], splits[k][1])
                )
                _release_training_state(model)
                pending[m][k] = _awaiting_merge(model)
                del model
                if len(pending[m]) == len(splits):
                    models = [pending[m].pop(k) for k in range(len(splits))]
                    merged[m] = _merge_fold_models(models, classifiers[m], inputs[m], Y)
                    del models
                    # The members' features are the largest arrays of a fit:
                    # each goes once no member that reads it is still fitting.
                    inputs[m] = None
        del inputs
        oof_scores = oof_scores.astype(np.float64)
        self._blank_fold_constant(oof_scores)
        for transformer, estimator in zip(
            self.transformers_, self.estimators, strict=True
        ):
            _, classifier = _split_member(estimator[1])
            init = classifier.get_params(deep=False).get("embedding_init")
            if isinstance(init, str) and init == _VECTORS:
                # The fold networks hold their own fine-tuned copies.
                transformer[-1].discard_vectors()

        # The second stage on all rows, and cross-fitted on the folds for
        # out-of-fold probabilities, the thresholds' data.
        final = self._final_estimator()
        stage_jobs = (
            self.n_jobs if oof_scores.nbytes <= _PARALLEL_STAGE_MAX_BYTES else 1
        )
        with _one_blas_thread_if_parallel(stage_jobs):
            self.final_estimator_, *stages = Parallel(
                n_jobs=stage_jobs, prefer="threads"
            )(
                delayed(_fit_stage)(final, oof_scores, Y, rows)
                for rows in [None, *(train for train, _ in splits)]
            )
        self.oof_proba_ = np.zeros(Y.shape)
        for stage, (_, test) in zip(stages, splits, strict=True):
            self.oof_proba_[test] = positive_scores(
                stage.predict_proba(oof_scores[test])
            )
        self._fix_constant(self.oof_proba_)
        self.classes_ = np.arange(n_labels)
        self.thresholds_ = fit_thresholds(
            Y, self.oof_proba_, self.threshold, min_labels=self.min_labels
        )
        del oof_scores
        # Last, once the out-of-fold scores are gone: the types prediction
        # uses take more memory than the merged models' compact ones.
        self.estimators_ = [
            [_ready_to_predict(model) for model in models] for models in merged
        ]
        return self

    def _final_estimator(self):
        if self.final_estimator is not None:
            return self.final_estimator
        return Pipeline(
            [
                ("scale", StandardScaler()),
                (
                    "logreg",
                    MultilabelLogisticRegression(
                        C=0.03,
                        own_label_C=10.0,
                        solver="lbfgs",
                        max_iter=300,
                        tol=1e-3,
                    ),
                ),
            ]
        )

    def _blank_fold_constant(self, scores):
        """Zero the members' scores of the labels constant in a fold.

        A label with no positive (or no negative) sample in the training part
        of one fold is scored at a constant there and by a learned model in
        the other folds: its columns would tell the second stage which fold a
        row came from, and a second stage cross-fitted without that fold
        would meet values it never saw (too high probabilities of the rare
        labels on that fold's rows, and so thresholds chosen too high). Its
        columns carry no signal the second stage can transfer; they are 0
        everywhere.
        """
        if self.fold_constant_labels_.size:
            n_members = scores.shape[1] // self.n_labels_
            columns = (
                np.arange(n_members)[:, None] * self.n_labels_
                + self.fold_constant_labels_
            )
            scores[:, columns.ravel()] = 0.0
        return scores

    def _fix_constant(self, proba):
        if self.constant_labels_.size:
            proba[:, self.constant_labels_] = self._constant_proba
        return proba

    def _in_row_blocks(self, X, compute):
        """``compute(X)``, ``_PREDICT_ROWS`` rows of a large ``X`` at a time.

        Only one block's features and scores are held at once.
        """
        if isinstance(X, str):
            raise ValueError(
                "X must be a sequence of samples (e.g. a list of synopses), not a "
                "single string; wrap one synopsis in a list."
            )
        if isinstance(X, list):
            X = np.asarray(X, dtype=object)
        n_samples = _num_samples(X)
        if n_samples <= _PREDICT_ROWS:
            return compute(X)
        result = None
        for start in range(0, n_samples, _PREDICT_ROWS):
            rows = slice(start, start + _PREDICT_ROWS)
            block = compute(_safe_indexing(X, rows))
            if result is None:
                result = np.empty((n_samples, *block.shape[1:]), dtype=block.dtype)
            result[rows] = block
        return result

    def _member_inputs(self, X, members=None):
        """Each member's features of ``X``: its transformer's output.

        Only the members at the positions ``members`` (all by default); a
        step that they share is applied once.
        """
        outputs = {}
        inputs = []
        for member in range(len(self.transformers_)) if members is None else members:
            transformer = self.transformers_[member]
            Z = X
            for end in range(len(transformer.steps) if transformer else 0):
                key = _steps_key(transformer.steps[: end + 1])
                if key not in outputs:
                    step = transformer.steps[end][1]
                    if end > 0 and sparse.isspmatrix_csr(Z):
                        # A step's own output: a skanime step needs no checks.
                        transform = getattr(step, "_trusted_transform", step.transform)
                    else:
                        transform = step.transform
                    outputs[key] = transform(Z)
                Z = outputs[key]
            inputs.append(Z)
        return inputs

    def _members_sharing_no_step(self):
        """The members in groups such that no two groups share a step."""
        groups = {}
        for member, transformer in enumerate(self.transformers_):
            key = _steps_key(transformer.steps[:1]) if transformer else member
            groups.setdefault(key, []).append(member)
        return list(groups.values())

    def _scores_of_members(self, X, members):
        columns = []
        for Z, member in zip(self._member_inputs(X, members), members, strict=True):
            models = self.estimators_[member]
            scores = _member_scores(models[0], Z)
            for model in models[1:]:
                scores += _member_scores(model, Z)
            columns.append(scores / len(models))
        return columns

    def _member_scores_of(self, X):
        groups = self._members_sharing_no_step()
        n_threads = min(effective_n_jobs(self.n_jobs), len(groups))
        if n_threads > 1 and _num_samples(X) >= _CONCURRENT_ROWS:
            # BLAS held to one thread, as in fit: a network's products on
            # two BLAS threads beside the neighbours' two threads made a
            # batch slower than scoring the members one after another.
            with (
                ThreadPoolExecutor(n_threads) as pool,
                _one_blas_thread_if_parallel(n_threads),
            ):
                group_columns = list(
                    pool.map(
                        lambda members: self._scores_of_members(X, members), groups
                    )
                )
        else:
            group_columns = [self._scores_of_members(X, members) for members in groups]
        columns = [None] * len(self.transformers_)
        for members, scores in zip(groups, group_columns, strict=True):
            for member, member_scores in zip(members, scores, strict=True):
                columns[member] = member_scores
        return self._blank_fold_constant(np.hstack(columns))

    def transform(self, X):
        """First-stage features: the members' mean logits of every label.

        As :meth:`sklearn.ensemble.StackingClassifier.transform`, the input of
        the second stage: member-major, ``n_labels`` columns per member.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Samples.

        Returns
        -------
        scores : ndarray of shape (n_samples, n_members * n_labels)
        """
        check_is_fitted(self)
        return self._in_row_blocks(X, self._member_scores_of)

    def predict_proba(self, X):
        """Probability of each label from the second stage.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_labels)
        """
        check_is_fitted(self)
        proba = self._in_row_blocks(X, self._proba_of)
        return self._fix_constant(np.asarray(proba, dtype=np.float64))

    def _proba_of(self, X):
        return self._second_stage_proba(self._member_scores_of(X))

    def _second_stage_proba(self, scores):
        """The second stage's probabilities of first-stage ``scores``.

        ``scores`` are scaled in place.
        """
        if self.final_estimator is None:
            # The stacker's own second stage on its own first-stage scores:
            # the scaler's and the logistic regression's arithmetic in their
            # order, without the input checks (a quarter of a millisecond per
            # call, longer than the arithmetic of a few synopses).
            (_, scaler), (_, logreg) = self.final_estimator_.steps
            scores -= scaler.mean_.astype(scores.dtype)
            scores /= scaler.scale_.astype(scores.dtype)
            logits = logreg._trusted_decision_function(scores)
            return logreg._decode_proba(expit(logits))
        return positive_scores(self.final_estimator_.predict_proba(scores))

    def predict(self, X):
        """Predict label sets.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Samples.

        Returns
        -------
        Y : ndarray of shape (n_samples, n_labels)
            Label indicator matrix: the labels whose probability reaches
            ``thresholds_``, at least ``min_labels`` per sample.
        """
        return apply_thresholds(
            self.predict_proba(X), self.thresholds_, self.min_labels
        )

    def score(self, X, y, sample_weight=None):
        """Micro-averaged F1 of the predicted label sets.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Samples.
        y : array-like of shape (n_samples, n_labels)
            True label indicator matrix.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
        """
        return micro_f1_score(y, self.predict(X), sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        tags.classifier_tags.multi_label = True
        tags.classifier_tags.multi_class = False
        return tags
