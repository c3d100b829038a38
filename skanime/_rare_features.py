"""Keep the features that few training samples have, e.g. rare TF-IDF terms."""

from numbers import Integral

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, _fit_context
from sklearn.feature_selection import SelectorMixin
from sklearn.preprocessing import normalize
from sklearn.utils._param_validation import Interval, RealNotInt, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data


class RareFeatureSelector(SelectorMixin, BaseEstimator):
    """Keep the features non-zero in at most ``max_df`` of the training samples.

    The document-frequency cut of a TF-IDF vectorizer (its ``max_df``),
    applied to features that are already computed, with each row
    re-normalised over the features kept. Behind a TF-IDF step shared by
    several members of a :class:`MultilabelStackingClassifier`, it gives one
    member the rare terms of the same tokenisation: the text is tokenised
    once for both.

    Parameters
    ----------
    max_df : float or int, default=0.05
        A feature is kept when it is non-zero in at most this share of the
        training samples (float in (0, 1]) or this number of them (int).
        When no feature is that rare (a small training set), the features
        non-zero in the fewest training samples are kept, so that the
        output has features.

    norm : {"l2", "l1"} or None, default="l2"
        Norm each output row is scaled to (rows with no feature kept stay
        zero); None keeps the input's values.

    Attributes
    ----------
    document_frequency_ : ndarray of shape (n_features_in_,)
        Number of training samples in which each feature is non-zero.

    n_features_in_ : int
        Number of features seen during ``fit``.

    See Also
    --------
    FastTfidfVectorizer : TF-IDF whose own ``max_df`` cuts the vocabulary.
    sklearn.feature_selection.VarianceThreshold : Cut by variance instead.

    Examples
    --------
    >>> import numpy as np
    >>> from skanime import RareFeatureSelector
    >>> X = np.array([[3.0, 4.0, 0.0], [1.0, 0.0, 0.0], [1.0, 0.0, 2.0]])
    >>> selector = RareFeatureSelector(max_df=2).fit(X)
    >>> selector.get_support()
    array([False,  True,  True])
    >>> selector.transform(X)
    array([[1., 0.],
           [0., 0.],
           [0., 1.]])
    """

    _parameter_constraints: dict = {
        "max_df": [
            Interval(RealNotInt, 0, 1, closed="right"),
            Interval(Integral, 1, None, closed="left"),
        ],
        "norm": [StrOptions({"l2", "l1"}), None],
    }

    def __init__(self, max_df=0.05, *, norm="l2"):
        self.max_df = max_df
        self.norm = norm

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Count the training samples in which each feature is non-zero.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training features.
        y : None
            Ignored.

        Returns
        -------
        self : RareFeatureSelector
            The fitted selector.
        """
        X = validate_data(self, X, accept_sparse=("csr", "csc"))
        if sparse.issparse(X):
            X = sparse.csc_matrix(X)
            X.eliminate_zeros()
            counts = np.diff(X.indptr)
        else:
            counts = np.count_nonzero(X, axis=0)
        self.document_frequency_ = counts.astype(np.int64)
        if isinstance(self.max_df, Integral):
            limit = self.max_df
        else:
            limit = self.max_df * X.shape[0]
        limit = max(limit, self.document_frequency_.min())
        kept = self.document_frequency_ <= limit
        # Column of each input feature in the output, -1 for those dropped.
        self._columns = np.where(kept, np.cumsum(kept) - 1, -1).astype(np.intp)
        self._support = kept
        self._n_kept = int(kept.sum())
        return self

    def _get_support_mask(self):
        check_is_fitted(self)
        return self._support

    def transform(self, X):
        """The kept features, each row re-normalised.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Features, in the columns ``fit`` saw.

        Returns
        -------
        X_kept : {ndarray, sparse matrix} of shape (n_samples, n_kept)
            The kept columns (sparse input gives CSR).
        """
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse="csr", reset=False)
        if not sparse.issparse(X):
            kept = np.asarray(X[:, self._support], dtype=np.float64)
            return kept if self.norm is None else normalize(kept, norm=self.norm)
        return self._trusted_transform(X)

    def _trusted_transform(self, X):
        """``transform`` of a CSR matrix without input checks, for a trusted caller."""
        columns = self._columns[X.indices]
        kept = columns >= 0
        rows = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))[kept]
        data = X.data[kept]
        if not np.issubdtype(data.dtype, np.floating):
            data = data.astype(np.float64)
        if self.norm is not None:
            if self.norm == "l2":
                norms = np.sqrt(np.bincount(rows, data * data, X.shape[0]))
            else:
                norms = np.bincount(rows, np.abs(data), X.shape[0])
            norms[norms == 0] = 1.0
            data = (data / norms[rows]).astype(data.dtype, copy=False)
        indptr = np.zeros(X.shape[0] + 1, dtype=X.indptr.dtype)
        np.cumsum(np.bincount(rows, minlength=X.shape[0]), out=indptr[1:])
        return sparse.csr_matrix(
            (data, columns[kept], indptr), shape=(X.shape[0], self._n_kept)
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.input_tags.allow_nan = False
        return tags
