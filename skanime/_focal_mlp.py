"""Multi-layer perceptron with sigmoid outputs trained on the focal loss.

:class:`FocalMLPClassifier` owns its parameters, the constant labels, the
thresholds and the training loop (epochs, minibatches). The encoding of ``y``
is in :mod:`skanime._target_encoding`, early stopping in
:mod:`skanime._early_stopping`; its weights, passes and optimizers are in
:mod:`skanime._network`, built from :mod:`skanime._layers` and
:mod:`skanime._optimizers`.
"""

import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import (
    Interval,
    InvalidParameterError,
    StrOptions,
)
from sklearn.utils.validation import check_is_fitted, validate_data

from ._dtypes import FLOAT_DTYPES, resolve_float_dtype
from ._early_stopping import _EarlyStoppingMixin
from ._layers import ACTIVATIONS
from ._losses import focal_alpha_values
from ._network import _FocalMLPNetwork
from ._target_encoding import _EncodedTargetsMixin
from ._targets import constant_label_rates, warn_constant_labels
from ._thresholds import check_thresholds


class FocalMLPClassifier(
    _EncodedTargetsMixin,
    ClassifierMixin,
    _EarlyStoppingMixin,
    _FocalMLPNetwork,
    BaseEstimator,
):
    """Multi-layer perceptron trained on the sigmoid focal loss.

    Every output unit is a sigmoid, so the model predicts label sets
    (multi-label classification, the main use) as well as plain binary or
    multiclass targets. Training minimises the focal loss
    ``FL(p_t) = -a_t (1 - p_t) ** gamma * log(p_t)`` summed over labels and
    averaged over samples, plus an L2 penalty, with minibatch Adam. The
    focal term down-weights labels the model already gets right, which helps
    rare genres in a strongly imbalanced label set. ``gamma=0`` with
    ``focal_alpha=None`` is the binary cross-entropy.

    Parameters
    ----------
    hidden_layer_sizes : array-like of int or int, default=(256,)
        Width of each hidden layer. At least one layer is required.
    activation : {"relu", "tanh", "logistic", "identity"}, default="relu"
        Activation of the hidden layers.
    gamma : float, default=2.0
        Focusing parameter of the focal loss, ``>= 0``.
    focal_alpha : float, "balanced", array-like of shape (n_labels,) or None, \
            default=None
        Weight ``a_t`` of the positive entries of each label; negatives get
        ``1 - focal_alpha``. ``"balanced"`` uses one minus the label's base
        rate, so rare labels weigh their positives more. ``None`` weighs all
        entries by one.
    alpha : float, default=1e-4
        Strength of the L2 penalty on the weights, as in
        :class:`~sklearn.neural_network.MLPClassifier`.
    dropout : float, default=0.0
        Fraction of each hidden layer's units dropped during training.
    batch_norm : bool, default=False
        Normalise each hidden layer's pre-activations over the minibatch
        (with running statistics at prediction time).
    learning_rate_init : float, default=1e-3
        Step size of Adam.
    batch_size : int or "auto", default="auto"
        Minibatch size; ``"auto"`` is ``min(200, n_samples)``.
    max_iter : int, default=200
        Maximum number of epochs (passes over the training data).
    tol : float, default=1e-4
        Minimum improvement of the training loss (or of the validation score
        with ``early_stopping``) that counts as progress.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data, stop when its
        score stops improving and keep the weights of the best epoch. The
        score is the micro-averaged average precision for label sets and the
        accuracy otherwise.
    validation_fraction : float, default=0.1
        Share of the training data held out for ``early_stopping``.
    n_iter_no_change : int, default=10
        Epochs without progress allowed before training stops.
    beta_1, beta_2, epsilon : float, default=0.9, 0.999, 1e-8
        Adam's moment decay rates and numerical floor.
    shuffle : bool, default=True
        Shuffle the training data before each epoch.
    threshold : float or array-like of shape (n_labels,), default=0.5
        Probability from which a label is predicted (label sets and binary
        targets; multiclass predictions take the most probable class).
    min_labels : int, default=0
        Predict at least this many labels per sample, taking the most
        probable ones when fewer pass ``threshold``.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling, dropout and the validation
        split. An int makes training reproducible.
    verbose : bool, default=False
        Print the loss after each epoch.
    warm_start : bool, default=False
        Continue from the previous solution when calling ``fit`` again.
    dtype : {"float32", "float64"}, default="float32"
        Floating point type of the weights and computations.
    embedding_init : array-like of shape (n_features, n_dims) or None, \
            default=None
        Initial weights of a linear, bias-free first layer (an embedding)
        that is trained with the rest of the network: ``X @ embedding`` is the
        input of the first hidden layer. With ``X`` the row-normalised TF-IDF
        weights of :meth:`TfidfWeightedW2VTransformer.transform_weights` and
        ``embedding_init`` its ``vectors_``, the network starts from the
        TF-IDF-weighted mean word vectors and fine-tunes the vector of every
        word on the focal loss, as fastText does [3]_. The rows are shifted
        by the training mean of ``X @ embedding_init`` and the columns divided
        by its standard deviation, so that the network starts as if fed
        standardised ``X @ embedding_init`` when the rows of ``X`` sum to one
        (weighted means, as ``transform_weights`` gives). ``None`` feeds
        ``X`` to the first hidden layer. ``"vectors"`` marks a member of
        :class:`MultilabelStackingClassifier` that takes the ``vectors_`` of
        the ``TfidfWeightedW2VTransformer(output="weights")`` before it; the
        stacker fills them in.
    embedding_learning_rate : float or None, default=None
        Step size of Adam for the embedding; ``None`` uses
        ``learning_rate_init``. A minibatch updates only the rows of the
        features it contains (lazy Adam, as for sparse embeddings), and the
        L2 penalty ``alpha`` does not apply to the embedding.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels, or ``arange(n_labels)`` for label indicator targets.
    coefs_ : list of ndarray
        Weight matrix of each layer, the output layer last.
    intercepts_ : list of ndarray
        Bias vector of each layer.
    bn_scales_, bn_offsets_, bn_running_means_, bn_running_vars_ : list of ndarray
        Batch normalisation parameters and running statistics of each hidden
        layer (empty lists without ``batch_norm``).
    loss_ : float
        Training loss after the last epoch.
    loss_curve_ : list of float
        Training loss after each epoch.
    validation_scores_ : list of float or None
        Validation score after each epoch with ``early_stopping``.
    best_validation_score_ : float or None
        Best validation score with ``early_stopping``.
    n_iter_ : int
        Number of epochs run.
    t_ : int
        Number of minibatch updates made.
    constant_labels_ : ndarray of int
        Indices of labels with no positive or no negative training sample;
        their probability is fixed at the smoothed base rate.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when ``X`` has string column names.
    n_outputs_ : int
        Number of output units.
    embedding_ : ndarray of shape (n_features, n_dims) or None
        The trained embedding (shifted and rescaled as described under
        ``embedding_init``); None without ``embedding_init``.

    See Also
    --------
    sklearn.neural_network.MLPClassifier : The same network with the
        cross-entropy loss.
    skanime.TfidfWeightedW2VTransformer : Sentence vectors to feed it.

    References
    ----------
    .. [1] T.-Y. Lin, P. Goyal, R. Girshick, K. He and P. Dollar, "Focal Loss
       for Dense Object Detection", ICCV 2017. The output biases start at the
       label base rates, as that paper recommends.
    .. [2] D. P. Kingma and J. Ba, "Adam: A Method for Stochastic
       Optimization", ICLR 2015.
    .. [3] A. Joulin, E. Grave, P. Bojanowski and T. Mikolov, "Bag of Tricks
       for Efficient Text Classification", EACL 2017.

    Examples
    --------
    >>> from sklearn.datasets import make_multilabel_classification
    >>> from skanime import FocalMLPClassifier
    >>> X, Y = make_multilabel_classification(n_samples=200, n_classes=4,
    ...                                       random_state=0)
    >>> clf = FocalMLPClassifier(hidden_layer_sizes=(32,), max_iter=100,
    ...                          random_state=0).fit(X, Y)
    >>> clf.predict_proba(X[:2]).shape
    (2, 4)
    >>> clf.predict(X[:2]).shape
    (2, 4)
    >>> bool(clf.score(X, Y) > 0.3)
    True
    """

    _parameter_constraints: dict = {
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "gamma": [Interval(Real, 0, None, closed="left")],
        "focal_alpha": [
            None,
            Interval(Real, 0, 1, closed="both"),
            StrOptions({"balanced"}),
            "array-like",
        ],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "batch_norm": ["boolean"],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [
            StrOptions({"auto"}),
            Interval(Integral, 1, None, closed="left"),
        ],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "shuffle": ["boolean"],
        "threshold": [Interval(Real, 0, 1, closed="both"), "array-like"],
        "min_labels": [Interval(Integral, 0, None, closed="left")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "dtype": [StrOptions(set(FLOAT_DTYPES)), type],
        "embedding_init": [None, StrOptions({"vectors"}), "array-like"],
        "embedding_learning_rate": [None, Interval(Real, 0, None, closed="neither")],
    }

    def __init__(
        self,
        hidden_layer_sizes=(256,),
        *,
        activation="relu",
        gamma=2.0,
        focal_alpha=None,
        alpha=1e-4,
        dropout=0.0,
        batch_norm=False,
        learning_rate_init=1e-3,
        batch_size="auto",
        max_iter=200,
        tol=1e-4,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        shuffle=True,
        threshold=0.5,
        min_labels=0,
        random_state=None,
        verbose=False,
        warm_start=False,
        dtype="float32",
        embedding_init=None,
        embedding_learning_rate=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.gamma = gamma
        self.focal_alpha = focal_alpha
        self.alpha = alpha
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.learning_rate_init = learning_rate_init
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.tol = tol
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.shuffle = shuffle
        self.threshold = threshold
        self.min_labels = min_labels
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.dtype = dtype
        self.embedding_init = embedding_init
        self.embedding_learning_rate = embedding_learning_rate

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, *, groups=None, X_val=None, y_val=None):
        """Fit the network to ``X`` and ``y``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training features.
        y : array-like of shape (n_samples, n_labels) or (n_samples,)
            Label indicator matrix, or 1-D class labels.
        groups : array-like of shape (n_samples,), default=None
            Group of each sample (for example the franchise of each anime).
            With ``early_stopping`` and no ``X_val``, the validation data is
            held out by whole groups (one fold of a
            :class:`~skanime.model_selection.MultilabelStratifiedGroupKFold`
            with ``round(1 / validation_fraction)`` folds), so that no group
            has samples on both sides and the validation score is not
            inflated by near-duplicates of training samples. Ignored without
            ``early_stopping``. Through a :class:`~sklearn.pipeline.Pipeline`
            or a search, route it with ``set_fit_request(groups=True)``.
        X_val : {array-like, sparse matrix} of shape (n_val_samples, \
                n_features), default=None
            Validation features for ``early_stopping``, used instead of
            holding out ``validation_fraction`` of ``X``, as in
            :class:`~sklearn.ensemble.HistGradientBoostingClassifier`.
        y_val : array-like of shape (n_val_samples, n_labels) or \
                (n_val_samples,), default=None
            Validation targets, required with ``X_val``.

        Returns
        -------
        self : FocalMLPClassifier
            The fitted estimator.
        """
        self._check_validation_request(groups, X_val, y_val)
        incremental = self.warm_start and hasattr(self, "coefs_")
        self._partial_fit_classes = None
        return self._fit(
            X,
            y,
            incremental=incremental,
            single_epoch=False,
            validation=None if X_val is None else (X_val, y_val),
            groups=groups if self.early_stopping else None,
        )

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None):
        """Run one epoch of minibatch updates on ``X`` and ``y``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training features.
        y : array-like of shape (n_samples, n_labels) or (n_samples,)
            Label indicator matrix, or 1-D class labels.
        classes : array-like of shape (n_classes,), default=None
            All class labels, required on the first call with 1-D ``y`` so
            that later batches may lack some classes. Ignored for label
            indicator targets.

        Returns
        -------
        self : FocalMLPClassifier
            The updated estimator.
        """
        first_call = not hasattr(self, "coefs_")
        if first_call and classes is None and np.ndim(y) == 1:
            raise ValueError(
                "classes must be passed on the first call to partial_fit with "
                "1-D targets, so that all classes are known in advance."
            )
        self._partial_fit_classes = classes
        return self._fit(X, y, incremental=not first_call, single_epoch=True)

    def _fit(self, X, y, *, incremental, single_epoch, validation=None, groups=None):
        self._dtype = resolve_float_dtype(self)
        hidden_sizes = self._resolved_hidden_sizes()
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            dtype=self._dtype,
            multi_output=True,
            reset=not incremental,
        )
        if sp.issparse(X):
            X = X.tocsr()
        Y = self._encode_targets(y, incremental)
        n_samples, n_labels = Y.shape

        if not incremental:
            self.n_outputs_ = n_labels
            self._rng = np.random.default_rng(
                check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
            )
            embedding = self._checked_embedding_init(X.shape[1])
            n_inputs = X.shape[1] if embedding is None else embedding.shape[1]
            self._initialize(n_inputs, hidden_sizes, Y)
            self._initialize_embedding(X, embedding)
        else:
            self._release_constant_labels(Y)
        self._focal_alpha_values = focal_alpha_values(
            self.focal_alpha, Y, self._dtype, type(self).__name__
        )
        if self._target_kind != "multiclass":
            self._checked_threshold(n_labels)  # fail before training, not after

        X_val = Y_val = None
        if self.early_stopping and not single_epoch:
            X, X_val, Y, Y_val = self._validation_data(X, Y, validation, groups)
            n_samples = X.shape[0]
        batch_size = (
            min(200, n_samples) if self.batch_size == "auto" else self.batch_size
        )
        batch_size = min(batch_size, n_samples)

        n_epochs = 1 if single_epoch else self.max_iter
        for _ in range(n_epochs):
            order = (
                self._rng.permutation(n_samples)
                if self.shuffle
                else np.arange(n_samples)
            )
            epoch_loss = 0.0
            for start in range(0, n_samples, batch_size):
                idx = order[start : start + batch_size]
                batch_loss = self._train_batch(X[idx], Y[idx])
                epoch_loss += batch_loss * len(idx)
            self.n_iter_ += 1
            self.loss_ = epoch_loss / n_samples
            if not np.isfinite(self.loss_):
                raise ValueError(
                    "Training diverged: the loss became non-finite at epoch "
                    f"{self.n_iter_}. Scale the features (e.g. StandardScaler) or "
                    "lower learning_rate_init."
                )
            self.loss_curve_.append(self.loss_)
            if self.verbose:
                print(f"Iteration {self.n_iter_}, loss = {self.loss_:.8f}")
            if single_epoch:
                break
            if self._should_stop(X_val, Y_val):
                break
        else:
            if not single_epoch:
                warnings.warn(
                    f"{type(self).__name__} reached max_iter={self.max_iter} epochs "
                    "before the loss stopped improving; increase max_iter or tol.",
                    ConvergenceWarning,
                )
        self._restore_best_epoch()
        return self

    # ---------------------------------------------------- targets and network
    def _initialize(self, n_features, hidden_sizes, Y):
        self._initialize_weights(n_features, hidden_sizes, Y.shape[1])
        dtype = self._dtype
        prior, constant = constant_label_rates(Y)
        self.intercepts_[-1] = np.log(prior / (1 - prior)).astype(dtype)
        self.constant_labels_ = np.flatnonzero(constant)
        if self._target_kind == "multilabel" and self.constant_labels_.size:
            # stacklevel 5: the caller of fit or partial_fit.
            warn_constant_labels(self.constant_labels_.tolist(), stacklevel=5)
        self.coefs_[-1][:, self.constant_labels_] = 0
        # The value each constant column holds.
        self._constant_label_values = (Y[0, self.constant_labels_] > 0).astype(dtype)

        self.n_iter_ = 0
        self.loss_curve_ = []
        self._reset_early_stopping()

    def _release_constant_labels(self, Y):
        """Train the constant labels that ``Y`` of a later call varies."""
        if not self.constant_labels_.size:
            return
        values = Y[:, self.constant_labels_]
        varies = np.any(values != self._constant_label_values, axis=0)
        self.constant_labels_ = self.constant_labels_[~varies]
        self._constant_label_values = self._constant_label_values[~varies]

    # ------------------------------------------------------------ predict
    def _validate_for_predict(self, X):
        check_is_fitted(self)
        X = validate_data(
            self, X, accept_sparse=["csr", "csc"], dtype=self._dtype, reset=False
        )
        return X.tocsr() if sp.issparse(X) else X

    def decision_function(self, X):
        """Logits of each label (the inputs of the sigmoids).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        logits : ndarray of shape (n_samples, n_labels) or (n_samples,)
            One column per label or class; 1-D for binary targets.
        """
        X = self._validate_for_predict(X)
        logits = self._forward(X, training=False)
        return logits.ravel() if self._target_kind == "binary" else logits

    def _trusted_decision_function(self, X):
        """``decision_function`` without input checks, for a trusted caller.

        :class:`MultilabelStackingClassifier` feeds its members the output of
        their own fitted transformers; checking it again on every call costs
        more than the network's forward pass on one synopsis.
        """
        if sp.issparse(X):
            X = X.astype(self._dtype, copy=False).tocsr()
        else:
            X = np.asarray(X, dtype=self._dtype)
        return self._forward(X, training=False)

    def predict_proba(self, X):
        """Probability of each label.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_labels)
            Independent label probabilities for label indicator targets; class
            probabilities (rows summing to one) for 1-D targets.
        """
        X = self._validate_for_predict(X)
        return self._decode_proba(expit(self._forward(X, training=False)))

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_labels)
            Logarithm of the probabilities.
        """
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X):
        """Predict label sets (or classes).

        Label indicator targets use ``threshold`` and ``min_labels``; binary
        targets use ``threshold`` on the positive class; multiclass targets
        take the most probable class.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples, n_labels) or (n_samples,)
            Label indicator matrix, or class labels.
        """
        return self._decode_predictions(
            self.predict_proba(X), self._checked_threshold, self.min_labels
        )

    def _checked_threshold(self, n_labels):
        try:
            return check_thresholds(self.threshold, n_labels)
        except ValueError as error:
            raise InvalidParameterError(
                f"The 'threshold' parameter of {type(self).__name__} must be a float "
                f"in [0, 1] or an array-like of them: {error}"
            ) from None

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        tags.input_tags.sparse = True
        return tags
