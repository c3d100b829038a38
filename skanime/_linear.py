"""Multilabel linear models stored as one coefficient matrix."""

import warnings
from numbers import Integral, Real

import numpy as np
from scipy import optimize, sparse
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ._target_encoding import _TargetColumnsMixin
from ._targets import constant_label_rates

# Labels whose word counts naive Bayes computes, or whose coefficients are
# rounded, at a time.
_LABEL_ROWS = 4


def _coef_to_predict_with(coef):
    """Coefficients held compactly (float16), in the type prediction multiplies.

    Sparse products have no float16 kernel; the float32 copy holds the same
    values, in Fortran order (see ``_with_precision``).
    """
    if coef.dtype == np.float16:
        return np.asfortranarray(coef, dtype=np.float32)
    return coef


class _LinearScoresMixin(_TargetColumnsMixin):
    """Targets and prediction of a model whose logits are ``X @ coef_.T + b``.

    ``coef_`` has one row per output column: a label of a label indicator
    target, the positive class of a binary target, or a class of a
    multiclass target (one-vs-rest).
    """

    def _validate_fit_data(self, X, y, *, non_negative=False):
        """Check ``X`` and ``y`` for ``fit``; return ``X`` and ``y`` as columns.

        ``y`` comes back as an int8 indicator matrix (see
        :meth:`_encode_targets`); ``non_negative`` rejects negative features.
        """
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse="csr",
            dtype=(np.float64, np.float32),
            multi_output=True,
        )
        if non_negative and (X.data if sparse.issparse(X) else X).min(initial=0.0) < 0:
            name = type(self).__name__
            raise ValueError(
                f"Negative values in data passed to {name}.fit: {name} needs "
                "non-negative features (word counts or TF-IDF weights)."
            )
        return X, self._encode_targets(y, dtype=np.int8)

    def _array_dtype(self):
        """Type of ``coef_`` in memory: float16 coefficients are kept in float32."""
        return np.dtype(np.float32 if self.dtype == "float16" else self.dtype)

    def _compact_dtype(self):
        """Type that holds the values of ``coef_`` exactly in the least space."""
        return np.dtype(self.dtype)

    def _with_precision(self, coef):
        """``coef`` in Fortran order, rounded to the precision of ``dtype``."""
        # Fortran order makes coef_.T C-contiguous: a sparse row times it is
        # then one pass over the row's non-zeros, without copying coef_.
        coef = np.asfortranarray(coef, dtype=self._array_dtype())
        if self.dtype == "float16":
            # Sparse products have no float16 kernel: float32 values that
            # float16 holds exactly, which a model file stores in half the
            # space and loads back unchanged. Rounded in place, a few labels
            # at a time, so that no copy of the whole matrix is made.
            for start in range(0, coef.shape[0], _LABEL_ROWS):
                rows = slice(start, start + _LABEL_ROWS)
                coef[rows] = coef[rows].astype(np.float16)
        return coef

    def _set_coefficients(self, coef, intercept, constant):
        """Store ``coef_``, ``intercept_`` and ``constant_labels_``."""
        self.coef_ = self._with_precision(coef)
        self.intercept_ = intercept.astype(self._array_dtype())
        self.constant_labels_ = np.flatnonzero(constant)

    def __getstate__(self):
        state = super().__getstate__()
        if getattr(self, "dtype", None) == "float16" and "coef_" in state:
            state = {**state, "coef_": state["coef_"].astype(self._compact_dtype())}
        return state

    def __setstate__(self, state):
        if state.get("coef_") is not None:
            state = {**state, "coef_": _coef_to_predict_with(state["coef_"])}
        super().__setstate__(state)

    def _checked_logits(self, X):
        check_is_fitted(self)
        X = validate_data(
            self, X, accept_sparse="csr", dtype=(np.float64, np.float32), reset=False
        )
        return self._trusted_decision_function(X)

    def decision_function(self, X):
        """Logit of each label (or class).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data.

        Returns
        -------
        logits : ndarray of shape (n_samples, n_labels) or (n_samples,)
            One column per label, or per class of a multiclass target; 1-D
            (the logit of ``classes_[1]``) for a binary target.
        """
        logits = self._checked_logits(X)
        return logits.ravel() if self._target_kind == "binary" else logits

    def _trusted_decision_function(self, X):
        """``decision_function`` without input checks, for a trusted caller.

        Always 2-D: one column per row of ``coef_``.
        """
        logits = X.astype(self.coef_.dtype, copy=False) @ self.coef_.T
        if sparse.issparse(logits):
            logits = logits.toarray()
        return np.asarray(logits) + self.intercept_

    def predict_proba(self, X):
        """Probability of each label (or class).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_labels) or (n_samples, n_classes)
            Independent label probabilities for a label indicator target;
            class probabilities (rows summing to one) for 1-D targets, the
            one-vs-rest probabilities normalised for a multiclass target.
        """
        return self._decode_proba(expit(self._checked_logits(X)))

    def predict(self, X):
        """Labels whose probability is at least 0.5 (or the likeliest class).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data.

        Returns
        -------
        y_pred : ndarray of shape (n_samples, n_labels) or (n_samples,)
            Label indicator matrix for a label indicator target; class labels
            for 1-D targets.
        """
        # A probability of at least 0.5 is a logit of at least 0.
        return self._decode_predictions(self._checked_logits(X), lambda _: 0.0)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.classifier_tags.multi_label = True
        return tags


class MultilabelLogisticRegression(_LinearScoresMixin, ClassifierMixin, BaseEstimator):
    """One binary logistic regression per label, predicted in one product.

    The same model as ``OneVsRestClassifier(LogisticRegression(C=C))`` on a
    label indicator matrix, with the coefficients of all labels kept in one
    ``(n_labels, n_features)`` matrix, so that ``predict_proba`` is a single
    matrix product instead of one estimator call per label. A label whose
    training column is constant gets its smoothed base rate
    ``(positives + 0.5) / (n_samples + 1)`` as a fixed probability.

    ``y`` may also be 1-D class labels: a binary target is one logistic
    regression for ``classes_[1]``, a multiclass target one per class
    (one-vs-rest), with ``predict_proba`` normalised over the classes and
    ``predict`` the likeliest class, as
    :class:`~sklearn.multiclass.OneVsRestClassifier` does.

    Parameters
    ----------
    C : float, default=1.0
        Inverse of the L2 penalty strength, as in
        :class:`~sklearn.linear_model.LogisticRegression`: the objective of a
        label is ``C * sum(log_loss) + ||w||^2 / 2``. The intercept is not
        penalised by ``"lbfgs"`` (``"liblinear"`` penalises it, as
        scikit-learn does).

    solver : {"liblinear", "lbfgs"}, default="liblinear"
        ``"liblinear"`` fits each label with scikit-learn's liblinear solver
        (fast on sparse, high-dimensional input such as TF-IDF n-grams).
        ``"lbfgs"`` fits all labels at once by L-BFGS on the summed objective
        (fast on small dense input such as the scores of other models).

    max_iter : int, default=100
        Maximum number of iterations of the solver.

    tol : float, default=1e-4
        Tolerance of the stopping criterion.

    own_label_C : float or None, default=None
        For input that is the scores of several models for the same labels
        (``n_features = n_models * n_labels``, model-major, as
        :class:`MultilabelStackingClassifier` gives its second stage), the
        inverse penalty of the coefficients linking label ``j`` to the
        models' own scores of ``j``; ``C`` then applies to the other labels'
        scores only. ``None`` uses ``C`` for all. Needs ``solver="lbfgs"``.

    dtype : {"float16", "float32", "float64"}, default="float32"
        Precision of ``coef_``; ``float32`` halves the model size.
        ``float16`` rounds the coefficients to half precision, keeps them in
        float32 arrays for the products and stores them in half the space
        again in model files (a loaded model predicts exactly as the fitted
        one).

    Attributes
    ----------
    coef_ : ndarray of shape (n_labels, n_features)
        Coefficients, one row per label (per class for a multiclass target,
        one row for a binary target); zero for constant labels.

    intercept_ : ndarray of shape (n_labels,)
        Intercepts; the logit of the fixed probability for constant labels.

    constant_labels_ : ndarray of int
        Indices of the labels whose training column was constant.

    classes_ : ndarray of shape (n_labels,) or (n_classes,)
        ``arange(n_labels)`` for a label indicator target, the class labels
        for a 1-D target.

    n_features_in_ : int
        Number of features seen during ``fit``.

    n_iter_ : ndarray of shape (n_labels,) or (1,)
        Iterations run per label (``"liblinear"``) or for all (``"lbfgs"``).

    See Also
    --------
    sklearn.multiclass.OneVsRestClassifier : The general one-vs-rest wrapper.

    Examples
    --------
    >>> import numpy as np
    >>> from skanime import MultilabelLogisticRegression
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
    >>> Y = np.array([[0, 1], [1, 0], [1, 1], [0, 0]])
    >>> model = MultilabelLogisticRegression(C=10.0).fit(X, Y)
    >>> model.predict(X)
    array([[0, 1],
           [1, 0],
           [1, 1],
           [0, 0]])
    >>> model.coef_.shape
    (2, 2)

    A 1-D target gives class labels and class probabilities:

    >>> binary = MultilabelLogisticRegression(C=10.0).fit(X, ["a", "b", "b", "a"])
    >>> binary.classes_.tolist(), binary.predict_proba(X).shape
    (['a', 'b'], (4, 2))
    """

    _parameter_constraints: dict = {
        "C": [Interval(Real, 0, None, closed="neither")],
        "solver": [StrOptions({"liblinear", "lbfgs"})],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="neither")],
        "own_label_C": [None, Interval(Real, 0, None, closed="neither")],
        "dtype": [StrOptions({"float16", "float32", "float64"})],
    }

    def __init__(
        self,
        C=1.0,
        *,
        solver="liblinear",
        max_iter=100,
        tol=1e-4,
        own_label_C=None,
        dtype="float32",
    ):
        self.C = C
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.own_label_C = own_label_C
        self.dtype = dtype

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Fit one logistic regression per label.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : {array-like, sparse matrix} of shape (n_samples, n_labels) or \
                (n_samples,)
            Label indicator matrix of 0 and 1, or 1-D class labels (binary
            or multiclass).

        Returns
        -------
        self : MultilabelLogisticRegression
            The fitted model.
        """
        X, Y = self._validate_fit_data(X, y)
        n_labels = Y.shape[1]
        if self.own_label_C is not None:
            if self.solver != "lbfgs":
                raise ValueError(
                    "own_label_C needs solver='lbfgs'; liblinear fits each label "
                    f"alone with one penalty. Got solver={self.solver!r}."
                )
            if X.shape[1] % n_labels:
                raise ValueError(
                    "own_label_C needs the scores of several models for the same "
                    f"labels, n_features a multiple of n_labels={n_labels}; got "
                    f"n_features={X.shape[1]}."
                )
        rates, constant = constant_label_rates(Y)
        intercept = np.log(rates / (1.0 - rates))
        varying = np.flatnonzero(~constant)
        if self.solver == "liblinear":
            # Rows go straight into the stored type and order: on a large
            # vocabulary a float64 copy would be the biggest array of the fit.
            # float16 coefficients are rounded through float32, as
            # _with_precision rounds, and held in float16 until the end.
            coef = np.zeros(
                (n_labels, X.shape[1]), dtype=self._compact_dtype(), order="F"
            )
            n_iter = np.zeros(n_labels, dtype=int)
            for j in varying:
                model = LogisticRegression(
                    C=self.C, solver="liblinear", max_iter=self.max_iter, tol=self.tol
                ).fit(X, Y[:, j])
                coef[j] = model.coef_[0].astype(self._array_dtype())
                intercept[j] = model.intercept_[0]
                n_iter[j] = model.n_iter_[0]
        else:
            coef = np.zeros((n_labels, X.shape[1]))
            penalty = self._penalties(X.shape[1], n_labels)[:, varying]
            coef[varying], intercept[varying], n_iter = self._fit_lbfgs(
                X, Y[:, varying], intercept[varying], penalty
            )
        self._set_coefficients(coef, intercept, constant)
        self.n_iter_ = np.atleast_1d(n_iter)
        return self

    def _penalties(self, n_features, n_labels):
        """Inverse C of each coefficient, shape (n_features, n_labels)."""
        penalty = np.full((n_features, n_labels), 1.0 / self.C)
        if self.own_label_C is not None:
            labels = np.arange(n_labels)
            for start in range(0, n_features, n_labels):
                penalty[start + labels, labels] = 1.0 / self.own_label_C
        return penalty

    def _fit_lbfgs(self, X, Y, intercept0, penalty):
        n_features, n_labels = X.shape[1], Y.shape[1]
        if n_labels == 0:
            return np.zeros((0, n_features)), np.zeros(0), 0
        Y = Y.astype(np.float64)
        n_samples = X.shape[0]
        # The objective is divided by n_samples, so that tol does not depend
        # on the number of samples.
        penalty = penalty / n_samples

        def objective(w):
            # In place: on many samples each (n_samples, n_labels) temporary
            # of the plain expressions is a large array.
            W = w[: n_features * n_labels].reshape(n_features, n_labels)
            logits = X @ W
            logits += w[n_features * n_labels :]
            exp_neg = np.abs(logits)
            np.negative(exp_neg, out=exp_neg)
            np.exp(exp_neg, out=exp_neg)
            work = np.maximum(logits, 0.0)
            work += np.log1p(exp_neg)
            work -= Y * logits
            loss = work.sum()
            residual = work
            residual[...] = exp_neg
            residual[logits >= 0] = 1.0
            del logits
            exp_neg += 1.0
            residual /= exp_neg
            del exp_neg
            residual -= Y
            residual /= n_samples
            grad_W = X.T @ residual + penalty * W
            loss = loss / n_samples + 0.5 * np.einsum("ij,ij,ij->", penalty, W, W)
            return loss, np.concatenate([np.ravel(grad_W), residual.sum(axis=0)])

        w0 = np.concatenate([np.zeros(n_features * n_labels), intercept0])
        result = optimize.minimize(
            objective,
            w0,
            jac=True,
            method="L-BFGS-B",
            options={"maxiter": self.max_iter, "gtol": self.tol},
        )
        if not result.success and result.nit >= self.max_iter:
            warnings.warn(
                f"{type(self).__name__}: L-BFGS reached max_iter={self.max_iter} "
                "before converging; raise max_iter or tol.",
                ConvergenceWarning,
                stacklevel=3,
            )
        W = result.x[: n_features * n_labels].reshape(n_features, n_labels)
        return W.T, result.x[n_features * n_labels :], result.nit


class MultilabelMultinomialNB(_LinearScoresMixin, ClassifierMixin, BaseEstimator):
    """One binary multinomial naive Bayes per label, predicted in one product.

    The same model as ``OneVsRestClassifier(MultinomialNB(alpha=alpha))``:
    for each label, the documents with the label and those without are two
    classes with smoothed word distributions. Its log-odds are linear in
    ``X``, so all labels are fitted with two sparse products and predicted
    with one: ``coef_[j]`` is the difference of the two classes' log word
    probabilities and ``intercept_[j]`` that of their log priors. A label
    whose training column is constant gets its smoothed base rate as a fixed
    probability.

    ``y`` may also be 1-D class labels: a binary target is one naive Bayes
    for ``classes_[1]`` (the same model as ``MultinomialNB``), a multiclass
    target one per class (one-vs-rest), with ``predict_proba`` normalised
    over the classes and ``predict`` the likeliest class.

    Parameters
    ----------
    alpha : float, default=1.0
        Additive (Laplace/Lidstone) smoothing of the word counts.

    dtype : {"float16", "float32", "float64"}, default="float32"
        Precision of ``coef_``; ``float16`` as for
        :class:`MultilabelLogisticRegression`.

    Attributes
    ----------
    coef_ : ndarray of shape (n_labels, n_features)
        Log word-probability ratios, one row per label (per class for a
        multiclass target, one row for a binary target); zero for constant
        labels.

    intercept_ : ndarray of shape (n_labels,)
        Log prior ratios (the logit of the fixed probability for constant
        labels).

    constant_labels_ : ndarray of int
        Indices of the labels whose training column was constant.

    classes_ : ndarray of shape (n_labels,) or (n_classes,)
        ``arange(n_labels)`` for a label indicator target, the class labels
        for a 1-D target.

    n_features_in_ : int
        Number of features seen during ``fit``.

    See Also
    --------
    sklearn.naive_bayes.MultinomialNB : The single-label model.
    MultilabelLogisticRegression : The discriminative counterpart.

    Examples
    --------
    >>> import numpy as np
    >>> from skanime import MultilabelMultinomialNB
    >>> X = np.array([[3, 0, 1], [2, 0, 0], [0, 4, 1], [0, 3, 0]])
    >>> Y = np.array([[1, 0], [1, 0], [0, 1], [0, 1]])
    >>> MultilabelMultinomialNB(alpha=0.5).fit(X, Y).predict([[1, 0, 0], [0, 1, 0]])
    array([[1, 0],
           [0, 1]])
    """

    _parameter_constraints: dict = {
        "alpha": [Interval(Real, 0, None, closed="neither")],
        "dtype": [StrOptions({"float16", "float32", "float64"})],
    }

    def __init__(self, alpha=1.0, *, dtype="float32"):
        self.alpha = alpha
        self.dtype = dtype

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Count the words of each label's two classes.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Non-negative features: word counts or TF-IDF weights.
        y : {array-like, sparse matrix} of shape (n_samples, n_labels) or \
                (n_samples,)
            Label indicator matrix of 0 and 1, or 1-D class labels (binary
            or multiclass).

        Returns
        -------
        self : MultilabelMultinomialNB
            The fitted model.
        """
        X, Y = self._validate_fit_data(X, y, non_negative=True)
        rates, constant = constant_label_rates(Y)
        labels_t = sparse.csr_matrix(Y.T, dtype=np.float64)
        totals = np.asarray(X.sum(axis=0), dtype=np.float64).ravel()
        coef = np.empty(
            labels_t.shape[0:1] + totals.shape, dtype=self._array_dtype(), order="F"
        )
        # A few labels at a time: the float64 counts of all labels at once,
        # and their logarithms, would be the largest arrays of a fit on a
        # large vocabulary.
        for start in range(0, coef.shape[0], _LABEL_ROWS):
            positive = labels_t[start : start + _LABEL_ROWS] @ X
            positive = positive.toarray() if sparse.issparse(positive) else positive
            smoothed_pos = positive + self.alpha
            smoothed_neg = np.maximum(totals - positive, 0.0) + self.alpha
            block = np.log(smoothed_pos)
            block -= np.log(smoothed_pos.sum(axis=1, keepdims=True))
            block -= np.log(smoothed_neg) - np.log(
                smoothed_neg.sum(axis=1, keepdims=True)
            )
            coef[start : start + _LABEL_ROWS] = block
        n_positive = Y.sum(axis=0)
        with np.errstate(divide="ignore"):
            intercept = np.log(n_positive) - np.log(X.shape[0] - n_positive)
        coef[constant] = 0.0
        intercept[constant] = np.log(rates[constant] / (1.0 - rates[constant]))
        self._set_coefficients(coef, intercept, constant)
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = True
        # As for scikit-learn's MultinomialNB: a model of word counts, which
        # need not separate the dense blobs of the common checks well.
        tags.classifier_tags.poor_score = True
        return tags
