"""TF-IDF of word n-grams counted in numpy."""

import itertools
import re
import string

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.utils.sparsefuncs_fast import (
    inplace_csr_row_normalize_l1,
    inplace_csr_row_normalize_l2,
)
from sklearn.utils.validation import check_is_fitted

from ._text import TOKEN_PATTERN

try:
    from sklearn.utils._sparse import _align_api_if_sparse
except ImportError:  # scikit-learn < 1.8 returns what it gets: a csr_matrix

    def _align_api_if_sparse(X):
        return X


__all__ = ["FastTfidfVectorizer"]

#: scikit-learn's default ``token_pattern``: runs of two word characters or
#: more.
SKLEARN_TOKEN_PATTERN = r"(?u)\b\w\w+\b"

# Token patterns whose tokens are whole runs of word characters (letters,
# digits, underscore): a run is a token or holds none, whatever surrounds it.
_WORD_RUN_PATTERNS = frozenset({SKLEARN_TOKEN_PATTERN, TOKEN_PATTERN})

# Documents tokenised, looked up and counted together: big enough to amortise
# numpy calls, small enough to bound the tokens held.
_CHUNK_DOCUMENTS = 4096

# bytes.translate table of the word-run route: ASCII characters outside \w
# become spaces, bytes of non-ASCII characters are kept (as parts of
# candidates). NUL is then free to mark where a document ends.
_WORD_RUN_BYTES = bytes(
    byte if chr(byte).isalnum() or byte == ord("_") or byte >= 128 else ord(" ")
    for byte in range(256)
)
_DOCUMENT_BREAK = b" \x00 "

# Codes of the candidates that are not words of the vocabulary's terms: an
# unknown token is a token all the same (it separates n-grams); a dropped
# one is removed before n-grams are formed, as stop words are; a break ends
# a document.
_UNKNOWN = -1
_DROPPED = -2
_BREAK = -3


def _encode(text):
    return text.encode("utf-8", "surrogatepass")


def _decode(candidate):
    return candidate.decode("utf-8", "surrogatepass")


def _word_run_candidates(texts):
    """The candidate tokens of ``texts`` for a word-run token pattern.

    The texts are encoded in UTF-8, every ASCII character outside ``\\w``
    becomes a space, and the result is split at once, a document break
    (``b"\\x00"``) between texts. A candidate made of ASCII characters is a
    whole run of word characters, so a token of the pattern or nothing; a
    candidate with other characters may still hold non-word characters
    (dashes, curly quotes) and gets tokenised again by the caller.
    """
    return _DOCUMENT_BREAK.join(
        [_encode(text).translate(_WORD_RUN_BYTES) for text in texts]
    ).split()


class _IntegerTable:
    """A hash table from non-negative int64 keys to indices, probed in numpy.

    Open addressing with linear probing in a table at most half full: all
    the queries are hashed at once, and each probing step handles the
    queries still unresolved, a small share after the first step.
    Unsorted queries find their key several times faster than with
    ``np.searchsorted`` in a sorted array of the keys.

    Parameters
    ----------
    keys : ndarray of int64
        Distinct non-negative keys.
    values : ndarray of intp
        The value of each key.
    """

    _MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing
    _PROBE_WINDOW = 8

    def __init__(self, keys, values):
        self._bits = max(3, int(2 * keys.size).bit_length())
        self._mask = (1 << self._bits) - 1
        self._keys = np.full(1 << self._bits, -1, dtype=np.int64)
        self._values = np.zeros(1 << self._bits, dtype=np.intp)
        slots = self._slots(keys)
        while keys.size:
            free = self._keys[slots] == -1
            self._keys[slots[free]] = keys[free]  # one of the claimants wins
            won = self._keys[slots] == keys
            self._values[slots[won]] = values[won]
            lost = ~won
            keys, values = keys[lost], values[lost]
            slots = (slots[lost] + 1) & self._mask

    def _slots(self, keys):
        hashed = keys.astype(np.uint64) * self._MULTIPLIER
        return (hashed >> np.uint64(64 - self._bits)).astype(np.intp)

    def get(self, queries):
        """The value of each query, or -1 for the keys not in the table.

        The first slot of every query is probed alone (most queries end
        there); the rest probe ``_PROBE_WINDOW`` slots at a time, so that
        the longest probe sequence of a batch, not the typical one, costs
        few rounds of numpy calls.
        """
        found = np.full(queries.size, -1, dtype=np.intp)
        slots = self._slots(queries)
        stored = self._keys[slots]
        hit = stored == queries
        found[hit] = self._values[slots[hit]]
        pending = np.flatnonzero(~hit & (stored != -1))
        offsets = np.arange(1, self._PROBE_WINDOW + 1)
        while pending.size:
            probes = (slots[pending, None] + offsets) & self._mask
            stored = self._keys[probes]
            hit = stored == queries[pending, None]
            ends = hit | (stored == -1)
            first = ends.argmax(axis=1)
            rows = np.arange(pending.size)
            hit_rows = np.flatnonzero(hit[rows, first])
            found[pending[hit_rows]] = self._values[probes[hit_rows, first[hit_rows]]]
            pending = pending[~ends[rows, first]]
            slots[pending] += self._PROBE_WINDOW
        return found


class _TermCounter:
    """Counts of a vocabulary's word n-grams in documents, looked up in numpy.

    Each word that occurs in a term gets an integer code; the tokens of a
    chunk of documents become an array of codes, and an n-gram of codes is
    looked up as one integer key in a hash table of the terms' keys. Stop
    words (and the candidates that are not tokens) are dropped before
    n-grams are formed; tokens that are words of no term stay, so that they
    separate n-grams as in scikit-learn's ``_word_ngrams``.

    The default token patterns (:data:`_WORD_RUN_PATTERNS`) take a faster
    route: see :func:`_word_run_candidates`. Other patterns tokenise each
    document with ``findall``.

    Parameters
    ----------
    vectorizer : CountVectorizer or TfidfVectorizer
        A vectorizer with ``analyzer="word"``, no callable preprocessor or
        tokenizer, and ``vocabulary_`` set.
    """

    def __init__(self, vectorizer):
        self.preprocess = vectorizer.build_preprocessor()
        self.findall = vectorizer.build_tokenizer()
        stop_words = vectorizer.get_stop_words()
        vectorizer._check_stop_words_consistency(
            stop_words, self.preprocess, self.findall
        )
        vocabulary = vectorizer.vocabulary_
        self.n_features = len(vocabulary)
        self.min_n, self.max_n = vectorizer.ngram_range
        self.word_runs = vectorizer.token_pattern in _WORD_RUN_PATTERNS
        self.is_token = re.compile(vectorizer.token_pattern).fullmatch
        if self.max_n == 1:
            # The codes are the term indices.
            codes = vocabulary
            self.unigram_terms = None
            self.ngram_tables = {}
        else:
            codes = self._set_ngram_tables(vocabulary)
        dropped = dict.fromkeys(stop_words or (), _DROPPED)
        if self.word_runs:
            # A word that is not a token: ASCII, it may be a candidate, which
            # gives no token; otherwise a candidate equal to it must be
            # tokenised again. Single characters are frequent candidates:
            # listing them saves checking each occurrence.
            singles = string.ascii_letters + string.digits + "_"
            for word in itertools.chain(codes, singles):
                if not self.is_token(word):
                    dropped[word] = _DROPPED if word.isascii() else None
        if dropped:
            codes = {**codes, **dropped}
            codes = {word: code for word, code in codes.items() if code is not None}
        if self.word_runs:
            codes = {_encode(word): code for word, code in codes.items()}
            codes[b"\x00"] = _BREAK
        self.codes = codes

    def _set_ngram_tables(self, vocabulary):
        # Tokens never hold a space here (count() checks the unknown ones),
        # so a term with k spaces can only be the (k + 1)-gram of its parts.
        # One split of all the terms, not a list per term: fewer objects for
        # the garbage collector to walk.
        indices = np.fromiter(vocabulary.values(), np.intp, len(vocabulary))
        lengths = 1 + np.fromiter(
            map(str.count, vocabulary, itertools.repeat(" ")), np.intp, indices.size
        )
        words = " ".join(vocabulary).split(" ")
        codes = {word: code for code, word in enumerate(dict.fromkeys(words))}
        word_codes = np.fromiter(map(codes.__getitem__, words), np.intp, len(words))
        first_words = np.cumsum(lengths) - lengths
        wanted = (lengths >= self.min_n) & (lengths <= self.max_n)
        indices, lengths = indices[wanted], lengths[wanted]
        first_words = first_words[wanted]
        self.n_words = n_words = max(len(codes), 1)
        if n_words**self.max_n >= 2**63:
            raise OverflowError("n-gram keys do not fit in int64")
        self.unigram_terms = np.full(n_words, -1, dtype=np.intp)
        unigrams = lengths == 1
        self.unigram_terms[word_codes[first_words[unigrams]]] = indices[unigrams]
        self.ngram_tables = {}
        for n in range(max(self.min_n, 2), self.max_n + 1):
            of_length = lengths == n
            if of_length.any():
                keys = np.zeros(int(of_length.sum()), dtype=np.int64)
                for offset in range(n):
                    keys *= n_words
                    keys += word_codes[first_words[of_length] + offset]
                self.ngram_tables[n] = _IntegerTable(keys, indices[of_length])
        return codes

    def count(self, documents, dtype):
        """CSR matrix of term counts, or None if a token holds a space.

        Parameters
        ----------
        documents : list of str
            Decoded documents.
        dtype : dtype
            Type of the counts.

        Returns
        -------
        counts : csr_matrix of shape (n_documents, n_features) or None
            Counts with sorted indices and no explicit zeros.
        """
        # Counted chunk by chunk: the occurrences of a large batch (two
        # indices each) take several times the memory of its counts.
        chunks = []
        for start in range(0, len(documents), _CHUNK_DOCUMENTS):
            chunk = documents[start : start + _CHUNK_DOCUMENTS]
            found = self._count_chunk(chunk)
            if found is None:
                return None
            chunks.append(_count_matrix(*found, (len(chunk), self.n_features), dtype))
        if not chunks:
            return sp.csr_matrix((0, self.n_features), dtype=dtype)
        if len(chunks) == 1:
            return chunks[0]
        counts = sp.vstack(chunks, format="csr")
        counts.has_canonical_format = True
        return counts

    def _count_chunk(self, documents):
        """Document and term of each term occurrence in ``documents``."""
        found = self._token_codes(documents)
        if found is None:
            return None
        codes, rows = found
        if self.max_n == 1:
            known = codes >= 0
            return rows[known], codes[known]

        kept = codes >= _UNKNOWN
        codes, rows = codes[kept], rows[kept]
        found_rows, found_terms = [], []
        is_word = codes >= 0
        if self.min_n == 1:
            words = np.flatnonzero(is_word)
            terms = self.unigram_terms[codes[words]]
            hit = terms >= 0
            found_rows.append(rows[words[hit]])
            found_terms.append(terms[hit])
        for n, table in self.ngram_tables.items():
            n_starts = codes.size - n + 1
            if n_starts <= 0:
                continue
            # An n-gram lies in one document and is made of known words.
            valid = rows[n - 1 :] == rows[:n_starts]
            for offset in range(n):
                valid &= is_word[offset : offset + n_starts]
            starts = np.flatnonzero(valid)
            ngram_keys = codes[starts].astype(np.int64)
            for offset in range(1, n):
                ngram_keys *= self.n_words
                ngram_keys += codes[starts + offset]
            terms = table.get(ngram_keys)
            hit = terms >= 0
            found_rows.append(rows[starts[hit]])
            found_terms.append(terms[hit])
        if not found_rows:
            return rows[:0], codes[:0]
        return np.concatenate(found_rows), np.concatenate(found_terms)

    def _token_codes(self, documents):
        """Codes of the tokens of ``documents`` and the document of each.

        Unknown tokens keep the code ``_UNKNOWN``; dropped ones may remain,
        with the code ``_DROPPED``. None when a token holds a space and
        n-grams are wanted.
        """
        lookup = self.codes.get
        texts = [self.preprocess(doc) for doc in documents]
        if not self.word_runs:
            token_lists = [self.findall(text) for text in texts]
            lengths = np.fromiter(map(len, token_lists), np.intp, len(token_lists))
            tokens = list(itertools.chain.from_iterable(token_lists))
            codes = np.fromiter(
                map(lookup, tokens, itertools.repeat(_UNKNOWN)), np.intp, len(tokens)
            )
            rows = np.repeat(np.arange(len(token_lists)), lengths)
            if self.max_n > 1:
                unknown = np.flatnonzero(codes == _UNKNOWN).tolist()
                if any(" " in tokens[i] for i in unknown):
                    return None
            return codes, rows

        tokens = _word_run_candidates(texts)
        codes = np.fromiter(
            map(lookup, tokens, itertools.repeat(_UNKNOWN)), np.intp, len(tokens)
        )
        unknown = np.flatnonzero(codes == _UNKNOWN)
        if unknown.size:
            codes = self._resolve_unknown(tokens, codes, unknown)
        rows = np.cumsum(codes == _BREAK)
        return codes, rows

    def _resolve_unknown(self, tokens, codes, unknown):
        """Codes of the word-run candidates outside ``codes``."""
        candidates = [tokens[i] for i in unknown.tolist()]
        is_ascii = np.fromiter(map(bytes.isascii, candidates), bool, len(candidates))
        if self.max_n > 1:
            # An ASCII candidate is a run of word characters: a token (that
            # separates n-grams) or nothing.
            ascii_unknown = unknown[is_ascii]
            non_tokens = np.fromiter(
                (
                    self.is_token(candidates[i].decode("ascii")) is None
                    for i in np.flatnonzero(is_ascii).tolist()
                ),
                bool,
                ascii_unknown.size,
            )
            codes[ascii_unknown[non_tokens]] = _DROPPED
        if is_ascii.all():
            return codes
        # Other candidates become the tokens the pattern finds in them.
        lookup = self.codes.get
        replaced = unknown[~is_ascii]
        pieces = [
            [
                lookup(_encode(token), _UNKNOWN)
                for token in self.findall(_decode(candidates[i]))
            ]
            for i in np.flatnonzero(~is_ascii).tolist()
        ]
        n_pieces = np.fromiter(map(len, pieces), np.intp, len(pieces))
        repeats = np.ones(codes.size, dtype=np.intp)
        repeats[replaced] = n_pieces
        spliced = np.repeat(codes, repeats)
        first_slots = np.cumsum(repeats) - repeats
        piece_offsets = np.arange(n_pieces.sum()) - np.repeat(
            np.cumsum(n_pieces) - n_pieces, n_pieces
        )
        slots = np.repeat(first_slots[replaced], n_pieces) + piece_offsets
        spliced[slots] = np.fromiter(
            itertools.chain.from_iterable(pieces), np.intp, slots.size
        )
        return spliced


def _count_matrix(rows, columns, shape, dtype):
    """CSR matrix of the number of times each ``(row, column)`` pair occurs.

    Sorted indices, no explicit zeros. One sort of the pairs as integer
    keys: faster than scipy's COO conversion and ``sum_duplicates``, by a
    fixed cost of a few tenths of a millisecond on one short document and
    by about a third on thousands.
    """
    n_rows, n_columns = shape
    keys, counts = np.unique(
        rows.astype(np.int64) * n_columns + columns, return_counts=True
    )
    key_rows = keys // n_columns
    index_dtype = np.int32 if max(keys.size, n_columns) < 2**31 else np.int64
    indptr = np.zeros(n_rows + 1, dtype=index_dtype)
    np.cumsum(np.bincount(key_rows, minlength=n_rows), out=indptr[1:])
    matrix = sp.csr_matrix(
        (
            counts.astype(dtype),
            (keys - key_rows * n_columns).astype(index_dtype),
            indptr,
        ),
        shape=shape,
    )
    matrix.has_canonical_format = True
    return matrix


def _weigh_counts(tfidf, counts):
    """``TfidfTransformer.transform(counts, copy=False)`` without the checks.

    The same operations in the same order, hence the same floats; the input
    checks (a few tenths of a millisecond, as long as the counting of one
    short document) are left out for counts built here, which are a CSR
    matrix of the fitted width with sorted indices and finite values.
    """
    if counts.dtype not in (np.float32, np.float64):
        counts = counts.astype(np.float64)
    if tfidf.sublinear_tf:
        np.log(counts.data, counts.data)
        counts.data += 1.0
    if hasattr(tfidf, "idf_"):
        counts.data *= tfidf.idf_[counts.indices]
    if tfidf.norm == "l2":
        inplace_csr_row_normalize_l2(counts)
    elif tfidf.norm == "l1":
        inplace_csr_row_normalize_l1(counts)
    return counts


class FastTfidfVectorizer(TfidfVectorizer):
    """scikit-learn's ``TfidfVectorizer`` with word counting done in numpy.

    The same estimator as
    :class:`~sklearn.feature_extraction.text.TfidfVectorizer`, with the same
    parameters and the same :meth:`fit`, whose :meth:`transform` returns the
    same matrix (values equal up to float rounding, same sparsity pattern,
    sorted indices, same dtype) several times faster on batches of documents.
    Documents are still preprocessed and tokenised one by one, but the
    tokens of a few thousand documents are looked up, paired into n-grams
    and counted together in numpy, instead of one n-gram string at a time in
    Python.

    The fast route serves ``analyzer="word"`` without a callable
    ``preprocessor`` or ``tokenizer`` and with ``input="content"``: any
    ``token_pattern``, ``ngram_range``, ``lowercase``, ``strip_accents``,
    ``stop_words``, ``binary``, ``use_idf``, ``smooth_idf``,
    ``sublinear_tf``, ``norm`` and ``dtype``. Other settings, and n-grams of
    a token pattern whose tokens hold a space, fall back to
    ``TfidfVectorizer.transform``.

    Parameters
    ----------
    input : {"filename", "file", "content"}, default="content"
        What the documents are; see ``TfidfVectorizer``.
    encoding : str, default="utf-8"
        Encoding of bytes documents.
    decode_error : {"strict", "ignore", "replace"}, default="strict"
        What to do with bytes that are not valid in ``encoding``.
    strip_accents : {"ascii", "unicode"} or callable, default=None
        Remove accents during preprocessing.
    lowercase : bool, default=True
        Lowercase documents before tokenising.
    preprocessor : callable, default=None
        Replaces preprocessing (and disables the fast route).
    tokenizer : callable, default=None
        Replaces tokenising (and disables the fast route).
    analyzer : {"word", "char", "char_wb"} or callable, default="word"
        Features of words or of character n-grams; only ``"word"`` takes the
        fast route.
    stop_words : {"english"}, list, default=None
        Words removed before n-grams are formed.
    token_pattern : str, default=r"(?u)\\b\\w\\w+\\b"
        Regular expression of a token.
    ngram_range : tuple (min_n, max_n), default=(1, 1)
        Lengths of the word n-grams.
    max_df : float or int, default=1.0
        Ignore terms in more documents than this (a share or a count).
    min_df : float or int, default=1
        Ignore terms in fewer documents than this (a share or a count).
    max_features : int, default=None
        Keep only the most frequent terms.
    vocabulary : mapping or iterable, default=None
        Terms given instead of learned.
    binary : bool, default=False
        Count each term at most once per document.
    dtype : dtype, default=np.float64
        Type of the returned matrix.
    norm : {"l1", "l2"} or None, default="l2"
        Scale each row to unit norm.
    use_idf : bool, default=True
        Weight terms by inverse document frequency.
    smooth_idf : bool, default=True
        Add one to document frequencies.
    sublinear_tf : bool, default=False
        Use ``1 + log(tf)`` instead of raw counts.

    Attributes
    ----------
    vocabulary_ : dict
        Maps each term to its column.
    fixed_vocabulary_ : bool
        Whether the vocabulary was given.
    idf_ : ndarray of shape (n_features,)
        Inverse document frequency of each term (when ``use_idf=True``).

    See Also
    --------
    sklearn.feature_extraction.text.TfidfVectorizer : The estimator this one
        speeds up.
    TfidfWeightedW2VTransformer : Uses the same counting for its weights.

    Examples
    --------
    >>> from sklearn.feature_extraction.text import TfidfVectorizer
    >>> from skanime import FastTfidfVectorizer
    >>> docs = ["A giant robot fights in space.",
    ...         "The robot pilots defend the space colony.",
    ...         "A girl falls in love at school; the robot is a pilot."]
    >>> settings = dict(ngram_range=(1, 2), stop_words="english",
    ...                 sublinear_tf=True)
    >>> fast = FastTfidfVectorizer(**settings).fit(docs)
    >>> plain = TfidfVectorizer(**settings).fit(docs)
    >>> X, expected = fast.transform(docs), plain.transform(docs)
    >>> X.shape
    (3, 24)
    >>> bool((X.indices == expected.indices).all()
    ...      and (X.indptr == expected.indptr).all()
    ...      and abs(X - expected).max() < 1e-12)
    True
    >>> [str(term) for term in fast.get_feature_names_out()[:4]]
    ['colony', 'defend', 'defend space', 'falls']

    Stop words ("the", "in") are removed before words are paired, so "robot
    fights" and "fights space" are pairs:

    >>> [str(term) for term in fast.get_feature_names_out() if "fights" in term]
    ['fights', 'fights space', 'robot fights']
    """

    def transform(self, raw_documents):
        """Transform documents to a TF-IDF-weighted document-term matrix.

        Parameters
        ----------
        raw_documents : iterable
            Documents: str (or bytes) with ``input="content"``.

        Returns
        -------
        X : sparse matrix of shape (n_samples, n_features)
            The matrix ``TfidfVectorizer.transform`` returns.
        """
        check_is_fitted(self, msg="The TF-IDF vectorizer is not fitted")
        if not self._counts_in_numpy():
            return super().transform(raw_documents)
        if isinstance(raw_documents, str):
            raise ValueError(
                "Iterable over raw text documents expected, string object received."
            )
        self._check_vocabulary()
        counts = self._count_terms(raw_documents)
        if self.binary:
            counts.data.fill(1)
        if counts.shape[0] == 0:  # refused by scikit-learn's input checks
            return self._tfidf.transform(counts, copy=False)
        return _align_api_if_sparse(_weigh_counts(self._tfidf, counts))

    def _counts_in_numpy(self):
        return (
            self.analyzer == "word"
            and self.preprocessor is None
            and self.tokenizer is None
            and self.input == "content"
        )

    def _count_terms(self, raw_documents):
        """Term counts of ``raw_documents``, as ``_count_vocab`` gives them."""
        documents = [
            doc if isinstance(doc, str) else self.decode(doc) for doc in raw_documents
        ]
        counter = self._term_counter() if self._counts_in_numpy() else None
        counts = None if counter is None else counter.count(documents, self.dtype)
        if counts is None:
            return self._count_vocab(documents, fixed_vocab=True)[1]
        return counts

    def _term_counter(self):
        """The cached ``_TermCounter`` of the current settings, or None."""
        stop_words = self.stop_words
        settings = (
            self.token_pattern,
            self.lowercase,
            self.strip_accents,
            tuple(self.ngram_range),
            stop_words
            if stop_words is None or isinstance(stop_words, str)
            else tuple(stop_words),
        )
        cached = getattr(self, "_term_counter_cache", None)
        if (
            cached is not None
            and cached[0] is self.vocabulary_
            and cached[1] == settings
        ):
            return cached[2]
        try:
            counter = _TermCounter(self)
        except OverflowError:
            counter = None
        self._term_counter_cache = (self.vocabulary_, settings, counter)
        return counter

    def __getstate__(self):
        state = super().__getstate__()
        if "_term_counter_cache" in state:
            state = dict(state)
            del state["_term_counter_cache"]
        return state
