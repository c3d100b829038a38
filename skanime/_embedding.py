"""Sentence vectors as the TF-IDF-weighted mean of word vectors."""

import logging
import os
import warnings
from collections.abc import Mapping
from numbers import Integral, Real

import numpy as np
from gensim.models import KeyedVectors, Word2Vec
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, InvalidParameterError, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._dtypes import FLOAT_DTYPES, resolve_float_dtype
from ._text import TOKEN_PATTERN, check_documents
from ._tfidf import FastTfidfVectorizer, _weigh_counts

logger = logging.getLogger("skanime")


class TfidfWeightedW2VTransformer(
    ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator
):
    """Embed documents as the TF-IDF-weighted mean of their word vectors.

    Each document ``d`` becomes
    ``sum_w tfidf(w, d) * v(w) / sum_w tfidf(w, d)`` over the words ``w`` of
    ``d`` that have a vector ``v(w)``. The TF-IDF weights come from
    scikit-learn's :class:`~sklearn.feature_extraction.text.TfidfVectorizer`
    restricted to the embedding vocabulary, and the mean is computed for all
    documents at once as one sparse matrix product.

    The word vectors are either trained with gensim's word2vec on the
    documents passed to :meth:`fit` (the default), or given.

    Documents without any known word get a zero vector: they are counted in
    ``n_empty_documents_`` during fit, and :meth:`transform` warns with their
    count. No NaN is ever returned.

    Parameters
    ----------
    vectors : None, str, path-like, gensim KeyedVectors or mapping, default=None
        Word vectors. ``None`` trains word2vec on the documents passed to
        :meth:`fit` with the ``sg`` ... ``workers`` parameters below. A path
        names a word2vec text or binary file (gzip allowed) or a GloVe text
        file. A mapping takes words to equal-length vectors.
    sg : {0, 1}, default=0
        Training algorithm when ``vectors=None``: 0 for CBOW, 1 for skip-gram.
    vector_size : int, default=100
        Dimension of trained vectors.
    window : int, default=5
        Context window of word2vec training.
    min_count : int, default=2
        Ignore words rarer than this in word2vec training.
    epochs : int, default=10
        Passes of word2vec training over the documents.
    negative : int, default=5
        Negative samples per positive in word2vec training.
    sample : float, default=1e-3
        Subsampling threshold of frequent words in word2vec training.
    workers : int, default=1
        Worker threads of word2vec training. Only ``workers=1`` gives the same
        vectors from run to run for a fixed ``random_state``.
    lowercase : bool, default=True
        Lowercase documents before tokenising.
    token_pattern : str, default=r"(?u)\\b[^\\W\\d_][^\\W\\d_]+\\b"
        Regular expression of a token (by default words of two or more
        letters).
    stop_words : {"english"}, list or None, default=None
        Words to drop before weighting.
    min_df : float or int, default=1
        Drop words in fewer documents than this (a count, or a share when
        a float).
    max_df : float or int, default=1.0
        Drop words in more documents than this.
    use_idf : bool, default=True
        Weight terms by inverse document frequency.
    smooth_idf : bool, default=True
        Add one to document frequencies, as if one extra document held every
        word.
    sublinear_tf : bool, default=False
        Use ``1 + log(tf)`` instead of raw term counts.
    norm : {"l2"} or None, default=None
        Scale each output vector to unit Euclidean length.
    dtype : {"float32", "float64"}, default="float32"
        Type of the output.
    output : {"mean", "weights"}, default="mean"
        What :meth:`transform` returns: ``"mean"``, the weighted mean word
        vector of each document; ``"weights"``, the row-normalised TF-IDF
        weights over the embedding vocabulary (:meth:`transform_weights`), for
        a model whose first layer is the word vectors ``vectors_`` and learns
        them (``FocalMLPClassifier(embedding_init=...)``).

    random_state : int, RandomState instance or None, default=None
        Seed of word2vec training.

    Attributes
    ----------
    vocabulary_ : dict
        Maps each weighted word to its row in ``vectors_``.
    idf_ : ndarray of shape (n_words,)
        Inverse document frequency of each weighted word.
    vectors_ : ndarray of shape (n_words, n_dimensions) or None
        Word vectors of the weighted words, in ``vocabulary_`` order; None
        after :meth:`discard_vectors`.
    wv_ : gensim.models.KeyedVectors or None
        All the word vectors available (trained or given); None after
        :meth:`discard_vectors`.
    n_empty_documents_ : int
        Number of training documents without a known word.
    n_oov_terms_ : int
        Number of terms the TF-IDF step found in the training documents that
        have no vector.

    See Also
    --------
    sklearn.feature_extraction.text.TfidfVectorizer : The weighting scheme.
    skanime.FocalMLPClassifier : A classifier for these vectors.

    References
    ----------
    .. [1] T. Mikolov, K. Chen, G. Corrado and J. Dean, "Efficient Estimation
       of Word Representations in Vector Space", ICLR workshop 2013.

    Examples
    --------
    >>> from skanime import TfidfWeightedW2VTransformer
    >>> docs = ["a giant robot fights in space",
    ...         "a girl falls in love at school",
    ...         "robot pilots defend the space colony"]
    >>> vectors = {"robot": [1.0, 0.0], "space": [0.0, 1.0],
    ...            "love": [-1.0, 0.0], "school": [0.0, -1.0]}
    >>> transformer = TfidfWeightedW2VTransformer(vectors=vectors)
    >>> X = transformer.fit_transform(docs)
    >>> X.shape
    (3, 2)
    >>> X[1]
    array([-0.5, -0.5], dtype=float32)
    >>> transformer.get_feature_names_out()
    array(['tfidfweightedw2vtransformer0', 'tfidfweightedw2vtransformer1'],
          dtype=object)
    """

    _parameter_constraints: dict = {
        "vectors": [None, str, os.PathLike, KeyedVectors, Mapping],
        "sg": [Interval(Integral, 0, 1, closed="both")],
        "vector_size": [Interval(Integral, 1, None, closed="left")],
        "window": [Interval(Integral, 1, None, closed="left")],
        "min_count": [Interval(Integral, 1, None, closed="left")],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "negative": [Interval(Integral, 0, None, closed="left")],
        "sample": [Interval(Real, 0, None, closed="left")],
        "workers": [Interval(Integral, 1, None, closed="left")],
        "lowercase": ["boolean"],
        "token_pattern": [str],
        "stop_words": [StrOptions({"english"}), list, None],
        "min_df": [
            Interval(Real, 0, 1, closed="both"),
            Interval(Integral, 1, None, closed="left"),
        ],
        "max_df": [
            Interval(Real, 0, 1, closed="both"),
            Interval(Integral, 1, None, closed="left"),
        ],
        "use_idf": ["boolean"],
        "smooth_idf": ["boolean"],
        "sublinear_tf": ["boolean"],
        "norm": [StrOptions({"l2"}), None],
        "dtype": [StrOptions(set(FLOAT_DTYPES)), type],
        "output": [StrOptions({"mean", "weights"})],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        vectors=None,
        *,
        sg=0,
        vector_size=100,
        window=5,
        min_count=2,
        epochs=10,
        negative=5,
        sample=1e-3,
        workers=1,
        lowercase=True,
        token_pattern=TOKEN_PATTERN,
        stop_words=None,
        min_df=1,
        max_df=1.0,
        use_idf=True,
        smooth_idf=True,
        sublinear_tf=False,
        norm=None,
        dtype="float32",
        output="mean",
        random_state=None,
    ):
        self.vectors = vectors
        self.sg = sg
        self.vector_size = vector_size
        self.window = window
        self.min_count = min_count
        self.epochs = epochs
        self.negative = negative
        self.sample = sample
        self.workers = workers
        self.lowercase = lowercase
        self.token_pattern = token_pattern
        self.stop_words = stop_words
        self.min_df = min_df
        self.max_df = max_df
        self.use_idf = use_idf
        self.smooth_idf = smooth_idf
        self.sublinear_tf = sublinear_tf
        self.norm = norm
        self.dtype = dtype
        self.output = output
        self.random_state = random_state

    def _make_vectorizer(self, vocabulary=None):
        return FastTfidfVectorizer(
            lowercase=self.lowercase,
            token_pattern=self.token_pattern,
            stop_words=self.stop_words,
            min_df=1 if vocabulary is not None else self.min_df,
            max_df=1.0 if vocabulary is not None else self.max_df,
            use_idf=self.use_idf,
            smooth_idf=self.smooth_idf,
            sublinear_tf=self.sublinear_tf,
            norm=None,
            vocabulary=vocabulary,
            dtype=self._dtype,
        )

    def _word_vectors(self, documents, analyzer):
        if self.vectors is None:
            sentences = _Sentences(documents, analyzer)
            if not sentences:
                raise ValueError(
                    "Cannot train word2vec: the documents passed to fit contain no "
                    "token matching token_pattern. Pass real text or given vectors."
                )
            seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
            model = Word2Vec(
                sentences=sentences,
                vector_size=self.vector_size,
                window=self.window,
                min_count=self.min_count,
                sg=int(self.sg),
                negative=self.negative,
                sample=self.sample,
                epochs=self.epochs,
                workers=self.workers,
                seed=int(seed),
            )
            if len(model.wv) == 0:
                raise ValueError(
                    f"word2vec learned no word: no token occurs at least "
                    f"min_count={self.min_count} times in the training documents. "
                    "Lower min_count or pass more documents."
                )
            return model.wv
        from .datasets import load_word_vectors

        return load_word_vectors(self.vectors)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, raw_documents, y=None):
        """Learn the word vectors (unless given) and the IDF weights.

        Parameters
        ----------
        raw_documents : iterable of str
            Training documents: a list, numpy array or pandas Series of str.
        y : None
            Ignored.

        Returns
        -------
        self : TfidfWeightedW2VTransformer
            The fitted transformer.
        """
        self._fit(raw_documents)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, raw_documents, y=None):
        """Fit to ``raw_documents`` and return their vectors.

        Parameters
        ----------
        raw_documents : iterable of str
            Training documents.
        y : None
            Ignored.

        Returns
        -------
        X : ndarray of shape (n_documents, n_dimensions)
            Document vectors.
        """
        weights = self._normalise_rows(self._fit(raw_documents))
        return weights if self.output == "weights" else self._embed(weights)

    def _check_vectors_path(self):
        vectors = self.vectors
        if isinstance(vectors, (str, os.PathLike)) and not os.path.isfile(vectors):
            state = "a folder" if os.path.isdir(vectors) else "no such file"
            raise InvalidParameterError(
                f"The 'vectors' parameter of {type(self).__name__} must be None, "
                "the path of a word-vector file (word2vec text or binary, optionally "
                ".gz, or GloVe text), a gensim KeyedVectors or a mapping of words to "
                f"vectors. Got {os.fspath(vectors)!r} instead ({state})."
            )

    def _fit(self, raw_documents):
        self._check_vectors_path()
        documents = check_documents(raw_documents, type(self).__name__)
        if not documents:
            raise ValueError(
                f"{type(self).__name__}.fit got an empty list of documents."
            )
        self._dtype = resolve_float_dtype(self)
        analyzer = self._make_vectorizer().build_analyzer()
        self.wv_ = self._word_vectors(documents, analyzer)

        counter = self._make_vectorizer()
        try:
            counter.fit(documents)
        except ValueError as exc:
            raise ValueError(
                f"{type(self).__name__} found no usable term in the training documents "
                f"({exc}). Check min_df, max_df, stop_words and token_pattern."
            ) from None
        terms = counter.get_feature_names_out()
        known = np.fromiter(
            (t in self.wv_.key_to_index for t in terms), bool, len(terms)
        )
        self.n_oov_terms_ = int((~known).sum())
        kept_terms = terms[known]
        if kept_terms.size == 0:
            raise ValueError(
                f"None of the {len(terms)} terms of the training documents has a word "
                "vector. Check that the vectors match the text's language and casing "
                "(lowercase=True lowercases the text, not the vectors)."
            )
        self.vocabulary_ = {term: i for i, term in enumerate(kept_terms)}
        if self.use_idf:
            self.idf_ = counter.idf_[known].astype(self._dtype)
        else:
            self.idf_ = np.ones(kept_terms.size, dtype=self._dtype)
        self._vectorizer = self._restricted_vectorizer()
        self.vectors_ = np.ascontiguousarray(
            self.wv_.vectors[[self.wv_.key_to_index[t] for t in kept_terms]],
            dtype=self._dtype,
        )
        n_weights, n_dims = self.vectors_.shape
        self._n_features_out = n_weights if self.output == "weights" else n_dims
        weights = self._tfidf_weights(documents)
        self.n_empty_documents_ = int((weights.getnnz(axis=1) == 0).sum())
        logger.info(
            "%s: %d of %d terms have vectors; %d of %d documents have no known word.",
            type(self).__name__,
            kept_terms.size,
            len(terms),
            self.n_empty_documents_,
            len(documents),
        )
        return weights

    def discard_vectors(self):
        """Free the word vectors, which ``output="weights"`` does not need.

        With ``output="weights"`` the vectors are the starting point of a
        model that learns its own copy (``FocalMLPClassifier(embedding_init=
        ...)``); once that model is fitted, :meth:`transform` only needs the
        vocabulary and the IDF weights. :class:`MultilabelStackingClassifier`
        calls this after fitting such members, so that model files hold one
        copy of each embedding.

        Returns
        -------
        self : TfidfWeightedW2VTransformer
        """
        check_is_fitted(self)
        if self.output != "weights":
            raise ValueError(
                "discard_vectors applies to output='weights' only: with "
                f"output={self.output!r}, transform needs the word vectors."
            )
        self.wv_ = None
        self.vectors_ = None
        return self

    def transform_weights(self, raw_documents):
        """Row-normalised TF-IDF weights over the embedding vocabulary.

        ``transform(X)`` equals ``transform_weights(X) @ vectors_`` before
        ``norm``. Rows of documents without a known word are all zero.

        Parameters
        ----------
        raw_documents : iterable of str
            Documents.

        Returns
        -------
        weights : sparse matrix of shape (n_documents, n_words)
            CSR matrix whose non-empty rows sum to one.
        """
        check_is_fitted(self)
        documents = check_documents(raw_documents, type(self).__name__)
        return self._normalise_rows(self._tfidf_weights(documents))

    def _tfidf_weights(self, documents):
        """TF-IDF weights of ``documents``, equal to ``_vectorizer.transform``.

        Counted and weighted as :class:`FastTfidfVectorizer` does, without its
        output conversion; the vectorizer has ``norm=None``: ``norm`` applies
        to the mean vectors, not to the weights.
        """
        vectorizer = self._vectorizer  # the fitted settings, as in fit
        return _weigh_counts(vectorizer._tfidf, vectorizer._count_terms(documents))

    def _normalise_rows(self, weights):
        totals = np.asarray(weights.sum(axis=1)).ravel()
        empty = totals == 0
        if empty.any():
            warnings.warn(
                f"{int(empty.sum())} of {weights.shape[0]} documents have no word with "
                "a vector; they get a zero vector.",
                UserWarning,
                stacklevel=4,
            )
        totals[empty] = 1
        # In place: the weights are this transformer's own fresh matrix, and a
        # product with a diagonal matrix costs more than the scaling itself
        # on a few rows.
        scale = (1.0 / totals).astype(weights.dtype)
        weights.data *= np.repeat(scale, np.diff(weights.indptr))
        return weights

    def _embed(self, weights):
        X = np.asarray(weights @ self.vectors_, dtype=self._dtype)
        if self.norm == "l2":
            lengths = np.linalg.norm(X, axis=1, keepdims=True)
            lengths[lengths == 0] = 1
            X /= lengths
        return X

    def transform(self, raw_documents):
        """Embed documents.

        Parameters
        ----------
        raw_documents : iterable of str
            Documents: a list, numpy array or pandas Series of str.

        Returns
        -------
        X : ndarray of shape (n_documents, n_dimensions)
            TF-IDF-weighted mean word vector of each document (zero for a
            document without a known word).
        """
        weights = self.transform_weights(raw_documents)
        return weights if self.output == "weights" else self._embed(weights)

    def _restricted_vectorizer(self):
        """A ``TfidfVectorizer`` over ``vocabulary_`` weighted by ``idf_``."""
        vectorizer = self._make_vectorizer(vocabulary=self.vocabulary_)
        vectorizer.fit(list(self.vocabulary_)[:1])  # builds the analyser only
        if self.use_idf:
            vectorizer.idf_ = self.idf_
        return vectorizer

    # Word-to-index dictionaries are stored as arrays of words: model files
    # (pickle or skops) then hold a few arrays instead of one entry per word.
    def __getstate__(self):
        state = super().__getstate__()
        if "vocabulary_" not in state:
            return state
        state = dict(state)
        state.pop("_vectorizer", None)
        state["vocabulary_"] = _words_array(state["vocabulary_"])
        wv = state.pop("wv_")
        if wv is None:  # discard_vectors
            state["wv_"] = None
            return state
        state["_wv_words"] = np.array(wv.index_to_key, dtype=str)
        state["_wv_vectors"] = wv.vectors
        # vectors_ are rows of wv_: stored as their row numbers, not twice.
        rows = np.array(
            [wv.key_to_index.get(word, -1) for word in state["vocabulary_"]],
            dtype=np.int64,
        )
        vectors = state.get("vectors_")
        if (
            vectors is not None
            and (rows >= 0).all()
            and np.array_equal(wv.vectors[rows].astype(vectors.dtype), vectors)
        ):
            state["_vectors_dtype"] = vectors.dtype.str
            state["_vectors_rows"] = rows
            del state["vectors_"]
        return state

    def __setstate__(self, state):
        state = dict(state)
        if "_wv_words" in state:
            words = state.pop("_wv_words").tolist()
            vectors = state.pop("_wv_vectors")
            wv = KeyedVectors(vector_size=vectors.shape[1], dtype=vectors.dtype)
            wv.add_vectors(words, vectors)
            state["wv_"] = wv
            if "_vectors_rows" in state:
                state["vectors_"] = np.ascontiguousarray(
                    vectors[state.pop("_vectors_rows")],
                    dtype=np.dtype(state.pop("_vectors_dtype")),
                )
        vocabulary = state.get("vocabulary_")
        if isinstance(vocabulary, np.ndarray):
            state["vocabulary_"] = {
                word: i for i, word in enumerate(vocabulary.tolist())
            }
        super().__setstate__(state)
        if hasattr(self, "vocabulary_") and not hasattr(self, "_vectorizer"):
            self._vectorizer = self._restricted_vectorizer()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        return tags


class _Sentences:
    """The documents' tokens, as word2vec iterates them: one list per document.

    gensim reads the corpus once to count the words and once per epoch. The
    tokens are held in one flat list, each distinct word as one shared str,
    and each document's list is cut from it when gensim asks: a list of
    lists would hold a list and a str per token, and leave the allocator's
    memory in pieces that later arrays of the fit cannot reuse.
    """

    def __init__(self, documents, analyzer):
        shared = {}.setdefault
        tokens, ends = [], []
        for doc in documents:
            words = analyzer(doc)
            tokens.extend(map(shared, words, words))
            ends.append(len(tokens))
        self._tokens = tokens
        self._ends = ends

    def __bool__(self):
        return bool(self._tokens)

    def __iter__(self):
        start = 0
        for end in self._ends:
            yield self._tokens[start:end]
            start = end


def _words_array(vocabulary):
    """The keys of a word-to-index mapping as an array, in index order."""
    words = np.empty(len(vocabulary), dtype=object)
    for word, index in vocabulary.items():
        words[index] = word
    return np.array(words.tolist(), dtype=str)
