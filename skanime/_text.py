"""Text cleaning for MyAnimeList synopses.

The module-level helpers (:func:`strip_credits`, :func:`strip_html`,
:func:`normalize_whitespace` and the compiled patterns they use) are shared
by the dataset loaders and by :class:`SynopsisCleaner`, the scikit-learn
transformer that turns raw synopses into the cleaned, space-separated words
the feature extractors expect.

Every pattern here runs in time linear in the length of the text: quantifiers
that could scan far are bounded, and none of them nests repetitions.
"""

import html
import numbers
import re
from collections.abc import ItemsView, KeysView, Set

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS
from sklearn.utils._param_validation import HasMethods, StrOptions

__all__ = [
    "BRACKETED_CREDIT_PATTERN",
    "CREDIT_LINE_PATTERN",
    "HTML_TAG_PATTERN",
    "NON_LETTER_PATTERN",
    "TOKEN_PATTERN",
    "SynopsisCleaner",
    "normalize_whitespace",
    "strip_credits",
    "strip_html",
]

#: A credit in brackets that ends its line, as MAL appends them:
#: "[Written by MAL Rewrite]", "(Source: ANN)", "(Sources: ANN, AniDB)",
#: "[Source: Crunchyroll]", "(source :jfkl.org)", "(Sourced: Crunchyroll)".
#: Requiring the end of a line keeps narrative parentheses such as
#: "(the source of his power)" in the middle of a sentence.
BRACKETED_CREDIT_PATTERN = re.compile(
    r"[\[(][ \t]*(?:written[ \t]+by|sources?d?)\b[^\[\]()\n]{0,300}[\])]"
    r"(?=[ \t]*(?:\n|\Z))",
    re.IGNORECASE,
)

#: A whole line that starts with "Source:" (a credit without brackets).
CREDIT_LINE_PATTERN = re.compile(
    # The bracket and the spaces after it form one optional group: two
    # adjacent "[ \t]*" would split a long run of spaces in quadratically
    # many ways before failing.
    r"^[ \t]*(?:[\[(][ \t]*)?sources?[ \t]*:[^\n]{0,300}$",
    re.IGNORECASE | re.MULTILINE,
)

#: Tags of the HTML elements found in scraped synopses, plus comments.
#: Only known element names are removed, so a title written in angle
#: brackets, as in "<Infinite Dendrogram>", is kept as text.
HTML_TAG_PATTERN = re.compile(
    r"<!--[^<>]{0,10000}-->"
    r"|</?(?:a|abbr|b|big|blockquote|body|br|center|cite|code|dd|del|div|dl|dt"
    r"|em|font|h[1-6]|head|hr|html|i|img|ins|li|ol|p|pre|q|s|small|span"
    r"|strike|strong|sub|sup|table|tbody|td|th|thead|tr|tt|u|ul|wbr)\b"
    r"(?:[ \t\r\n][^<>]{0,1000})?/?>",
    re.IGNORECASE,
)

#: Runs of characters that are not letters. Letters are Unicode letters
#: (the characters for which ``str.isalpha`` is true, as in the seed
#: recipe), so accented Latin, kana and CJK ideographs are kept; digits,
#: punctuation, symbols, emoji and the underscore are not.
NON_LETTER_PATTERN = re.compile(r"[\W\d_]+")

#: The words of a text: runs of two letters or more between word boundaries
#: (no digit or underscore). The default ``token_pattern`` of
#: :class:`~skanime.TfidfWeightedW2VTransformer`, and the words that
#: explanations by occlusion remove one at a time.
TOKEN_PATTERN = r"(?u)\b[^\W\d_][^\W\d_]+\b"

_WHITESPACE_PATTERN = re.compile(r"\s+")

# The words NON_LETTER_PATTERN.sub(" ", text).split() gives, found directly:
# runs of letters (whitespace is never a letter). ASCII text, most synopses,
# takes str.translate, which maps every ASCII non-letter to a space.
_LETTER_RUN_PATTERN = re.compile(r"[^\W\d_]+")
_ASCII_NON_LETTERS = str.maketrans(
    {chr(code): " " for code in range(128) if not chr(code).isalpha()}
)


def _letter_words(text):
    """Split ``text`` into its runs of letters."""
    if text.isascii():
        return text.translate(_ASCII_NON_LETTERS).split()
    return _LETTER_RUN_PATTERN.findall(text)


def strip_credits(text):
    """Remove MAL credit lines such as "[Written by MAL Rewrite]".

    Removes bracketed credits that end a line ("[Written by ...]",
    "(Source: ...)", "(Sources: ...)", "[Source: ...]") and whole lines that
    start with "Source:". Case is ignored. Other text, including its line
    breaks, is left as it was, except that trailing whitespace is stripped.

    Parameters
    ----------
    text : str
        A synopsis.

    Returns
    -------
    text : str
        The synopsis without its credits.

    See Also
    --------
    SynopsisCleaner : Applies this with ``remove_credits=True``.

    Examples
    --------
    >>> from skanime._text import strip_credits
    >>> strip_credits("A bounty hunter drifts.\\n\\n[Written by MAL Rewrite]")
    'A bounty hunter drifts.'
    >>> strip_credits("Two rivals meet. (Source: ANN)")
    'Two rivals meet.'
    >>> strip_credits("He found (the source of his power) at last.")
    'He found (the source of his power) at last.'
    """
    text = BRACKETED_CREDIT_PATTERN.sub("", text)
    text = CREDIT_LINE_PATTERN.sub("", text)
    return text.rstrip()


def strip_html(text):
    """Replace HTML tags by spaces and decode HTML entities.

    Parameters
    ----------
    text : str
        Text that may hold tags such as ``<br>`` or ``<i>`` and entities
        such as ``&amp;``.

    Returns
    -------
    text : str
        The text with known HTML tags and comments replaced by a space and
        entities decoded (``&amp;`` becomes ``&``).

    Examples
    --------
    >>> from skanime._text import strip_html
    >>> strip_html("S &amp; M<br/>in <i>Tokyo</i>")
    'S & M in  Tokyo '
    >>> strip_html("<Infinite Dendrogram> is a game")
    '<Infinite Dendrogram> is a game'
    """
    return html.unescape(HTML_TAG_PATTERN.sub(" ", text))


def normalize_whitespace(text):
    """Collapse runs of whitespace into one space and strip both ends.

    Parameters
    ----------
    text : str
        Any text.

    Returns
    -------
    text : str
        The text on one line.

    Examples
    --------
    >>> from skanime._text import normalize_whitespace
    >>> normalize_whitespace("  In the year 2071,\\n\\n  humanity  ")
    'In the year 2071, humanity'
    """
    return _WHITESPACE_PATTERN.sub(" ", text).strip()


def check_documents(X, caller, *, allow_empty=False):
    """Return ``X`` as a list of str, or raise an error naming the bad entry.

    Refused: a single str or bytes, a dict, a DataFrame, a 2-D array, an
    unordered collection (a set: the outputs would come back in an arbitrary
    order), no documents at all (unless ``allow_empty``), and any document
    that is not a str.
    """
    if isinstance(X, Set) and not isinstance(X, (KeysView, ItemsView)):
        raise ValueError(
            f"{caller} expects an ordered sequence of raw text documents; got a "
            f"{type(X).__name__}, whose order is arbitrary, so the results could "
            "not be matched to the documents. Pass a list, e.g. sorted(documents)."
        )
    if isinstance(X, (str, bytes)):
        raise ValueError(
            f"{caller} expects an iterable of raw text documents (a list, a 1-D "
            f"numpy array or a pandas Series of str); got a single "
            f"{type(X).__name__}. Wrap one document in a list: [text]."
        )
    if isinstance(X, dict):
        raise ValueError(
            f"{caller} expects an iterable of raw text documents; got a dict. "
            "Pass its values, e.g. list(mapping.values())."
        )
    labels = None
    if hasattr(X, "iloc") and hasattr(X, "columns"):
        raise ValueError(
            f"{caller} expects 1-D text input; got a DataFrame with columns "
            f"{list(X.columns)}. Select the text column, e.g. frame['synopsis']."
        )
    if hasattr(X, "iloc"):
        labels = X.index
        X = X.tolist()
    elif isinstance(X, np.ndarray):
        if X.ndim != 1:
            raise ValueError(
                f"{caller} expects 1-D text input; got an array of shape "
                f"{X.shape}. Pass a 1-D array, e.g. X.ravel() for one column."
            )
        X = X.tolist()
    else:
        try:
            X = list(X)
        except TypeError:
            raise ValueError(
                f"{caller} expects an iterable of raw text documents; got "
                f"{type(X).__name__}, which is not iterable."
            ) from None
    if not X and not allow_empty:
        raise ValueError(
            f"{caller} got no documents (an empty input); pass at least one "
            'synopsis, e.g. ["A boy pilots a giant robot."].'
        )
    for i, doc in enumerate(X):
        if isinstance(doc, str):
            continue
        where = f"document {i}"
        if labels is not None:
            label = labels[i]
            if isinstance(label, np.generic):
                label = label.item()  # 12, not np.int64(12)
            where += f" (index label {label!r})"
        if isinstance(doc, bytes):
            hint = "Decode bytes first, e.g. [d.decode('utf-8') for d in X]."
        elif doc is None or (isinstance(doc, numbers.Real) and doc != doc):
            hint = (
                "Drop or fill missing synopses first, e.g. "
                "frame.dropna(subset=['synopsis'])."
            )
        else:
            hint = "Convert every document to str first."
        raise TypeError(
            f"{caller} expects every document to be a str; {where} is "
            f"{type(doc).__name__} ({doc!r:.60}). {hint}"
        )
    return X


class SynopsisCleaner(TransformerMixin, BaseEstimator, auto_wrap_output_keys=None):
    """Clean raw synopses into space-separated words.

    Applies, in this order and each when enabled: removal of HTML tags and
    entities, removal of MAL credit lines ("[Written by MAL Rewrite]",
    "(Source: ANN)", ...), lowercasing, replacement of every non-letter by a
    space, removal of stop words and removal of the words outside a
    vocabulary. The words that remain are joined by single spaces. This is
    the seed recipe's text cleaning (lowercase, letters only, no stop words,
    only words known to the word vectors) as a stateless transformer.

    The cleaner never drops a document: the output has one string per input
    document, possibly empty.

    Parameters
    ----------
    remove_credits : bool, default=True
        Remove MAL credit lines, see :func:`~skanime._text.strip_credits`.

    strip_html : bool, default=True
        Replace HTML tags by spaces and decode entities (``&amp;`` to ``&``).
        Only tags of known HTML elements are removed, so "<Infinite
        Dendrogram>" stays text.

    lowercase : bool, default=True
        Convert to lowercase before the other word-level steps.

    alphabetic_only : bool, default=True
        Replace every run of non-letters (digits, punctuation, symbols,
        emoji) by a space. Letters are Unicode letters, as ``str.isalpha``
        in the seed recipe: accented Latin, kana and CJK ideographs are kept.
        Restrict to a word-vector vocabulary with ``vocabulary`` to keep only
        English words. When False, words are split on whitespace only, so
        punctuation stays attached to them.

    stop_words : {"english"}, list, tuple, set or None, default="english"
        Words to remove. "english" uses scikit-learn's
        :data:`~sklearn.feature_extraction.text.ENGLISH_STOP_WORDS`. Words
        are compared after lowercasing (when ``lowercase=True``), so a
        custom list should be lowercase.

    vocabulary : array-like of str, set, dict, KeyedVectors or None, \
            default=None
        When given, keep only the words it contains: the seed recipe's
        "remove words missing from the PTB vectors" step. A gensim
        ``KeyedVectors`` is looked up through its ``key_to_index``.

    See Also
    --------
    skanime._text.strip_credits : The credit remover.
    sklearn.feature_extraction.text.TfidfVectorizer : Takes the output.

    Notes
    -----
    The transformer learns nothing: :meth:`fit` only validates its parameters
    and input, and :meth:`transform` may be called without fitting. Every
    step runs in time linear in the length of each document.

    Examples
    --------
    >>> from skanime import SynopsisCleaner
    >>> docs = ["In the year 2071, <i>humanity</i> colonized the Moon!\\n"
    ...         "[Written by MAL Rewrite]"]
    >>> SynopsisCleaner().fit_transform(docs)
    array(['year humanity colonized moon'], dtype=object)
    >>> SynopsisCleaner(vocabulary=["year", "moon"]).transform(docs)
    array(['year moon'], dtype=object)
    """

    _parameter_constraints: dict = {
        "remove_credits": ["boolean"],
        "strip_html": ["boolean"],
        "lowercase": ["boolean"],
        "alphabetic_only": ["boolean"],
        "stop_words": [StrOptions({"english"}), list, tuple, set, frozenset, None],
        "vocabulary": [
            None,
            "array-like",
            set,
            frozenset,
            dict,
            HasMethods(["get_index", "has_index_for"]),
        ],
    }

    def __init__(
        self,
        *,
        remove_credits=True,
        strip_html=True,
        lowercase=True,
        alphabetic_only=True,
        stop_words="english",
        vocabulary=None,
    ):
        self.remove_credits = remove_credits
        self.strip_html = strip_html
        self.lowercase = lowercase
        self.alphabetic_only = alphabetic_only
        self.stop_words = stop_words
        self.vocabulary = vocabulary

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Validate the parameters and the documents; nothing is learned.

        Parameters
        ----------
        X : list, 1-D ndarray or pandas Series of str
            Raw synopses.

        y : None
            Ignored.

        Returns
        -------
        self : SynopsisCleaner
            This transformer.
        """
        check_documents(X, type(self).__name__, allow_empty=True)
        return self

    def transform(self, X):
        """Clean each document.

        Parameters
        ----------
        X : list, 1-D ndarray or pandas Series of str
            Raw synopses.

        Returns
        -------
        X_clean : ndarray of str, dtype=object, shape (n_documents,)
            The cleaned documents, in input order, one per input document.
        """
        self._validate_params()
        docs = check_documents(X, type(self).__name__, allow_empty=True)
        stop_words = self._stop_word_set()
        vocabulary = self._vocabulary_lookup()
        out = np.empty(len(docs), dtype=object)
        for i, doc in enumerate(docs):
            if self.strip_html:
                doc = strip_html(doc)
            if self.remove_credits:
                doc = strip_credits(doc)
            if self.lowercase:
                doc = doc.lower()
            words = _letter_words(doc) if self.alphabetic_only else doc.split()
            if stop_words:
                words = [w for w in words if w not in stop_words]
            if vocabulary is not None:
                words = [w for w in words if w in vocabulary]
            out[i] = " ".join(words)
        return out

    def _stop_word_set(self):
        if self.stop_words is None:
            return frozenset()
        if isinstance(self.stop_words, str):
            return ENGLISH_STOP_WORDS
        return frozenset(self.stop_words)

    def _vocabulary_lookup(self):
        vocabulary = self.vocabulary
        if vocabulary is None or isinstance(vocabulary, (set, frozenset, dict)):
            return vocabulary
        key_to_index = getattr(vocabulary, "key_to_index", None)
        if isinstance(key_to_index, dict):
            return key_to_index
        return frozenset(np.asarray(vocabulary, dtype=object).ravel().tolist())

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        tags.requires_fit = False
        tags.transformer_tags.preserves_dtype = []
        return tags
