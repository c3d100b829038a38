"""Multilabel nearest neighbours on the cosine similarity of sparse features."""

from numbers import Integral, Real

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.utils._param_validation import Interval, RealNotInt
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import check_is_fitted, validate_data

from ._target_encoding import _TargetColumnsMixin

try:  # scipy's kernel of the CSR product, without the pass that counts its entries
    from scipy.sparse._sparsetools import csr_matmat as _csr_matmat
except ImportError:  # pragma: no cover - a scipy that moved it
    _csr_matmat = None

# Query rows compared with the stored samples at a time: the similarities of
# a block are a sparse matrix with up to this many times n_samples entries.
# On MAL-2021's 9,517 synopses (two threads), 256 rows take 0.28 s, 128 rows
# 0.30 s and 1,024 rows 0.36 s.
_QUERY_ROWS = 256
# Entries a block's similarities may be allocated for before they are
# counted (16 MB of values and indices): a larger bound, as on a corpus many
# times MAL-2021's, takes scipy's product, which allocates what it counts.
_MAX_BOUND = 2**21
# Up to this many queries are scored one at a time on the raw arrays of the
# stored samples: scipy's sparse products cost a few tenths of a millisecond
# per call whatever their size, longer than the arithmetic of a few queries.
_FEW_QUERIES = 4
# Logits of the smoothed probabilities are clipped there, so that a
# probability of exactly 0 or 1 (smoothing=0) stays finite.
_LOGIT_CLIP = 12.0


def _unit_rows(X):
    """``X`` as CSR float32 with rows of unit Euclidean norm (zero rows kept)."""
    X = sparse.csr_matrix(X, dtype=np.float32, copy=True)
    X.sum_duplicates()
    # Squares and per-entry scales without a copy of the structure or a
    # float64 array per entry: on a large training set each is as large as X.
    squares = sparse.csr_matrix((X.data * X.data, X.indices, X.indptr), shape=X.shape)
    norms = np.sqrt(np.asarray(squares.sum(axis=1), dtype=np.float64).ravel())
    del squares
    scale = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    X.data *= np.repeat(scale.astype(np.float32), np.diff(X.indptr))
    return X


def _similarities(queries, samples_t):
    """``queries @ samples_t`` for float32 CSR matrices with int32 indices.

    scipy's product first counts the entries of the result (a pass as long
    as a third of the product), then computes them. Here the arrays are
    allocated for the number of terms multiplied instead, a bound as cheap
    as one gather, and the kernel runs once: the same entries in the same
    order, with the same floats. Above ``_MAX_BOUND`` entries, and for
    other dtypes, scipy's product.
    """
    n_queries, n_samples = queries.shape[0], samples_t.shape[1]
    bound = int(np.diff(samples_t.indptr)[queries.indices].sum(dtype=np.int64))
    if (
        _csr_matmat is None
        or bound > _MAX_BOUND
        or any(
            M.dtype != np.float32
            or M.indices.dtype != np.int32
            or M.indptr.dtype != np.int32
            for M in (queries, samples_t)
        )
    ):
        return (queries @ samples_t).tocsr()
    indptr = np.empty(n_queries + 1, dtype=np.int32)
    indices = np.empty(bound, dtype=np.int32)
    data = np.empty(bound, dtype=np.float32)
    _csr_matmat(
        n_queries,
        n_samples,
        queries.indptr,
        queries.indices,
        queries.data,
        samples_t.indptr,
        samples_t.indices,
        samples_t.data,
        indptr,
        indices,
        data,
    )
    nnz = indptr[-1]
    return sparse.csr_matrix(
        (data[:nnz], indices[:nnz], indptr), shape=(n_queries, n_samples)
    )


def _top_similarities(similarities, k):
    """Each row's ``k`` largest positive similarities, as a CSR matrix.

    A row's entries keep their order, so that sums over a row's neighbours
    add them as scipy's product listed them.
    """
    similarities = similarities.tocsr()
    if (similarities.data <= 0).any():
        similarities.data[similarities.data <= 0] = 0
        similarities.eliminate_zeros()
    indptr, data, indices = similarities.indptr, similarities.data, similarities.indices
    lengths = np.diff(indptr)
    kept_per_row = np.minimum(lengths, k)
    kept_indptr = np.zeros(lengths.size + 1, dtype=indptr.dtype)
    np.cumsum(kept_per_row, out=kept_indptr[1:])
    # The kept entries' positions in ``data``: a row of at most k entries
    # keeps them all; a longer one its k largest, selected row by row on the
    # non-zeros only (a dense partition of the whole block would sort mostly
    # zeros, and numpy's selection is slow on ties).
    positions = np.arange(kept_indptr[-1], dtype=np.intp)
    positions += np.repeat(indptr[:-1] - kept_indptr[:-1], kept_per_row)
    starts, kept_starts = indptr.tolist(), kept_indptr.tolist()
    for row in np.flatnonzero(lengths > k).tolist():
        start, stop = starts[row], starts[row + 1]
        n_dropped = stop - start - k
        kept = np.argpartition(data[start:stop], n_dropped)[n_dropped:]
        positions[kept_starts[row] : kept_starts[row + 1]] = kept + start
    # Rows hold increasing, disjoint ranges of positions: one sort restores
    # every row's order.
    positions.sort()
    return sparse.csr_matrix(
        (data[positions], indices[positions], kept_indptr), shape=similarities.shape
    )


class MultilabelKNeighborsClassifier(
    _TargetColumnsMixin, ClassifierMixin, BaseEstimator
):
    """Labels of the most similar training samples, weighted by similarity.

    A sample's probability of a label is the share of that label among its
    ``n_neighbors`` most similar training samples (cosine similarity of the
    features, e.g. TF-IDF rows), each neighbour weighted by its similarity
    to the power ``similarity_power``, moved a fraction ``smoothing`` of
    the way to the label's training rate. Similarities are sparse products,
    so a sample is compared only with the training samples it shares a
    feature with; a sample that shares none gets the training rates.

    ``y`` may also be 1-D class labels: a binary target has one output (the
    share of ``classes_[1]``), a multiclass target one per class, with
    ``predict_proba`` normalised over the classes.

    Parameters
    ----------
    n_neighbors : int or float, default=0.02
        Neighbours per sample: a count (int), or a share of the training
        samples (float in (0, 1), at least one neighbour), which keeps
        neighbourhoods alike between models fitted on training sets of
        different sizes.

    similarity_power : float, default=3.0
        Power of the similarity that weights a neighbour; 0 weights all
        ``n_neighbors`` alike.

    smoothing : float, default=0.1
        Fraction of the way from a label's neighbour share to its training
        rate; keeps probabilities off 0 and 1 where the neighbours agree.

    n_jobs : int or None, default=None
        Threads comparing blocks of 256 queries with the training samples
        at prediction (the sparse products run without the GIL); ``None``
        means one unless in a :func:`joblib.parallel_backend` context, -1
        all processors. Predictions do not depend on it.

    Attributes
    ----------
    n_neighbors_ : int
        Neighbours per sample, from ``n_neighbors`` and the number of
        training samples.

    label_rates_ : ndarray of shape (n_outputs,)
        Training rate of each output column.

    classes_ : ndarray of shape (n_labels,) or (n_classes,)
        ``arange(n_labels)`` for a label indicator target, the class labels
        for a 1-D target.

    n_features_in_ : int
        Number of features seen during ``fit``.

    See Also
    --------
    sklearn.neighbors.KNeighborsClassifier : Dense neighbours with any metric.

    Notes
    -----
    The training samples are kept, unit-normalised, with their features
    rounded to float16 precision (so that a model file stores them in half
    the space and predicts exactly as the fitted model).

    Examples
    --------
    >>> import numpy as np
    >>> from skanime import MultilabelKNeighborsClassifier
    >>> X = np.array([[1.0, 0.0, 1.0], [1.0, 0.1, 0.8], [0.0, 1.0, 0.0],
    ...               [0.1, 1.0, 0.0]])
    >>> Y = np.array([[1, 0], [1, 1], [0, 1], [0, 1]])
    >>> model = MultilabelKNeighborsClassifier(n_neighbors=2, smoothing=0.0)
    >>> model.fit(X, Y).predict([[1.0, 0.0, 0.9], [0.0, 1.0, 0.1]])
    array([[1, 0],
           [0, 1]])
    >>> model.predict_proba([[0.0, 1.0, 0.1]]).round(2)
    array([[0., 1.]])
    """

    _parameter_constraints: dict = {
        "n_neighbors": [
            Interval(Integral, 1, None, closed="left"),
            Interval(RealNotInt, 0, 1, closed="neither"),
        ],
        "similarity_power": [Interval(Real, 0, None, closed="left")],
        "smoothing": [Interval(Real, 0, 1, closed="left")],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self, n_neighbors=0.02, *, similarity_power=3.0, smoothing=0.1, n_jobs=None
    ):
        self.n_neighbors = n_neighbors
        self.similarity_power = similarity_power
        self.smoothing = smoothing
        self.n_jobs = n_jobs

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Store the unit-normalised training samples and their labels.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training features (e.g. TF-IDF rows).
        y : {array-like, sparse matrix} of shape (n_samples, n_labels) or \
                (n_samples,)
            Label indicator matrix of 0 and 1, or 1-D class labels (binary
            or multiclass).

        Returns
        -------
        self : MultilabelKNeighborsClassifier
            The fitted model.
        """
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse="csr",
            dtype=(np.float64, np.float32),
            multi_output=True,
        )
        Y = self._encode_targets(y, dtype=np.uint8)
        n_samples = X.shape[0]
        if isinstance(self.n_neighbors, Integral):
            k = int(self.n_neighbors)
        else:
            k = max(1, int(round(self.n_neighbors * n_samples)))
        self.n_neighbors_ = min(k, n_samples)
        samples = _unit_rows(X)
        # float16-representable values: a model file stores them in half the
        # space and the loaded model predicts exactly as this one.
        samples.data[...] = samples.data.astype(np.float16)
        # Features by samples: a block of queries times it is the block's
        # similarities to every training sample, one sparse product.
        self._samples_t = samples.T.tocsr()
        self._labels = np.ascontiguousarray(Y)
        self.label_rates_ = Y.mean(axis=0, dtype=np.float64)
        return self

    def _shares(self, X):
        """Similarity-weighted label shares of the neighbours, smoothed."""
        proba = np.empty((X.shape[0], self._labels.shape[1]))
        starts = range(0, X.shape[0], _QUERY_ROWS)
        if X.shape[0] <= _FEW_QUERIES and sparse.issparse(X):
            for row in range(X.shape[0]):
                self._shares_of_query(X, row, proba[row])
        elif len(starts) > 1:
            labels = self._labels.astype(np.float32)
            Parallel(n_jobs=self.n_jobs, prefer="threads")(
                delayed(self._shares_of_block)(X, start, labels, proba)
                for start in starts
            )
        else:
            self._shares_of_block(X, 0, self._labels.astype(np.float32), proba)
        # float32 rounding can put a share a hair above 1.
        np.clip(proba, 0.0, 1.0, out=proba)
        proba *= 1.0 - self.smoothing
        proba += self.smoothing * self.label_rates_
        return proba

    def _shares_of_block(self, X, start, labels, proba):
        """Unsmoothed shares of the block of queries from row ``start``, in place."""
        queries = _unit_rows(X[start : start + _QUERY_ROWS])
        weights = _top_similarities(
            _similarities(queries, self._samples_t), self.n_neighbors_
        )
        if self.similarity_power != 1:
            weights.data **= np.float32(self.similarity_power)
        total = np.asarray(weights.sum(axis=1), dtype=np.float64)
        shared = np.asarray(weights @ labels, dtype=np.float64)
        block = proba[start : start + queries.shape[0]]
        np.divide(shared, total, out=block, where=total > 0)
        block[total.ravel() <= 0] = self.label_rates_

    def _shares_of_query(self, X, row, shares):
        """Unsmoothed shares of the query in row ``row`` of ``X``, in place.

        :meth:`_shares_of_block` on this one query, on the raw arrays, with
        the same float32 operations in the same order, hence the same
        neighbours and bit-identical shares. Scipy's sparse product adds
        each stored sample's terms in feature order and lists the samples
        in the reverse order of their first term; the sums over neighbours
        follow that order.
        """
        start, stop = X.indptr[row], X.indptr[row + 1]
        features = X.indices[start:stop]
        values = X.data[start:stop].astype(np.float32)
        if features.size and not (np.diff(features) > 0).all():
            # Unsorted or repeated features: sorted, a repeat summed.
            order = np.argsort(features, kind="stable")
            features, firsts = np.unique(features[order], return_index=True)
            values = np.add.reduceat(values[order], firsts)
        samples_t = self._samples_t
        firsts = samples_t.indptr[features]
        lengths = samples_t.indptr[features + 1] - firsts
        entries = np.repeat(firsts - (np.cumsum(lengths) - lengths), lengths)
        entries += np.arange(entries.size)
        if not entries.size:
            shares[:] = self.label_rates_
            return
        # Row sums as scipy's CSR ``sum(axis=1)`` adds them (not np.sum's order).
        norm = np.sqrt(np.float64(np.add.reduceat(values * values, [0])[0]))
        scale = np.divide(1.0, norm, out=np.zeros(()), where=norm > 0)
        values *= scale.astype(np.float32)
        samples = samples_t.indices[entries]
        similarities = np.zeros(samples_t.shape[1], dtype=np.float32)
        np.add.at(
            similarities, samples, np.repeat(values, lengths) * samples_t.data[entries]
        )
        first_entry = np.empty(samples_t.shape[1], dtype=np.intp)
        first_entry[samples[::-1]] = np.arange(samples.size - 1, -1, -1)

        def in_product_order(candidates):
            return candidates[np.argsort(-first_entry[candidates])]

        candidates = np.flatnonzero(similarities > 0)
        n_dropped = candidates.size - self.n_neighbors_
        if n_dropped > 0:
            weights = similarities[candidates]
            nearest = np.argpartition(weights, n_dropped)
            if weights[nearest[:n_dropped]].max() < weights[nearest[n_dropped:]].min():
                candidates = candidates[nearest[n_dropped:]]
            else:
                # A tie at the boundary: the block's choice depends on order.
                candidates = in_product_order(candidates)
                keep = np.ones(candidates.size, dtype=bool)
                keep[
                    np.argpartition(similarities[candidates], n_dropped)[:n_dropped]
                ] = False
                candidates = candidates[keep]
        candidates = in_product_order(candidates)
        weights = similarities[candidates]
        if self.similarity_power != 1:
            weights **= np.float32(self.similarity_power)
        total = np.float64(np.add.reduceat(weights, [0])[0]) if weights.size else 0.0
        if total > 0:
            shared = np.cumsum(
                weights[:, None] * self._labels[candidates], axis=0, dtype=np.float32
            )[-1]
            np.divide(shared.astype(np.float64), total, out=shares)
        else:
            shares[:] = self.label_rates_

    def _checked_features(self, X):
        check_is_fitted(self)
        return validate_data(
            self, X, accept_sparse="csr", dtype=(np.float64, np.float32), reset=False
        )

    def predict_proba(self, X):
        """Probability of each label (or class).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_labels) or (n_samples, n_classes)
            Smoothed neighbour shares of each label for a label indicator
            target; class probabilities (rows summing to one) for 1-D
            targets.
        """
        return self._decode_proba(self._shares(self._checked_features(X)))

    def decision_function(self, X):
        """Logit of each label's probability (or of each class's share).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        logits : ndarray of shape (n_samples, n_labels) or (n_samples,)
            One column per label, or per class of a multiclass target; 1-D
            (the logit of ``classes_[1]``) for a binary target.
        """
        logits = self._trusted_decision_function(self._checked_features(X))
        return logits.ravel() if self._target_kind == "binary" else logits

    def _trusted_decision_function(self, X):
        """``decision_function`` without input checks, for a trusted caller.

        Always 2-D: one column per output.
        """
        proba = self._shares(X)
        with np.errstate(divide="ignore"):
            logits = np.log(proba) - np.log1p(-proba)
        return np.clip(logits, -_LOGIT_CLIP, _LOGIT_CLIP)

    def predict(self, X):
        """Labels whose probability is at least 0.5 (or the likeliest class).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples, n_labels) or (n_samples,)
            Label indicator matrix for a label indicator target; class labels
            for 1-D targets.
        """
        proba = self.predict_proba(X)
        return self._decode_predictions(proba, lambda n: np.full(n, 0.5))

    def __getstate__(self):
        state = dict(super().__getstate__())
        samples_t = state.pop("_samples_t", None)
        if samples_t is None:
            return state
        index_type = np.uint16 if samples_t.shape[1] <= 1 << 16 else np.int32
        state["_samples_t_parts"] = (
            samples_t.data.astype(np.float16),
            samples_t.indices.astype(index_type),
            samples_t.indptr,
            samples_t.shape,
        )
        return state

    def __setstate__(self, state):
        state = dict(state)
        parts = state.pop("_samples_t_parts", None)
        if parts is not None:
            data, indices, indptr, shape = parts
            state["_samples_t"] = sparse.csr_matrix(
                (data.astype(np.float32), indices.astype(np.int32), indptr),
                shape=tuple(shape),
            )
        super().__setstate__(state)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.multi_output = True
        return tags
