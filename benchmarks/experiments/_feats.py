"""Cached word vectors and TF-IDF bags of the fixed exploration split."""

import pickle
from pathlib import Path

import _common as c
import numpy as np
import scipy.sparse as sp
from gensim.models import Word2Vec
from sklearn.feature_extraction.text import TfidfVectorizer

from skanime import SynopsisCleaner

TOKEN = r"(?u)\b[^\W\d_][^\W\d_]+\b"
W2V = {
    "sg1_200": dict(sg=1, vector_size=200, window=5, min_count=2, epochs=10),
    "sg1_100": dict(sg=1, vector_size=100, window=5, min_count=2, epochs=10),
    "sg1_300": dict(sg=1, vector_size=300, window=5, min_count=2, epochs=10),
    "sg0_200": dict(sg=0, vector_size=200, window=5, min_count=2, epochs=10),
    "sg0_300_e20": dict(sg=0, vector_size=300, window=5, min_count=2, epochs=20),
    "sg1_200_e20": dict(sg=1, vector_size=200, window=5, min_count=2, epochs=20),
    "sg1_200_w10": dict(sg=1, vector_size=200, window=10, min_count=2, epochs=10),
    "sg1_200_e5": dict(sg=1, vector_size=200, window=5, min_count=2, epochs=5),
    "sg1_300_e5": dict(sg=1, vector_size=300, window=5, min_count=2, epochs=5),
}


def data():
    X, Y, names = c.load()
    tr, te = c.split(Y)
    path = Path("/tmp/skanime_clean.pkl")
    if path.exists():
        clean = pickle.loads(path.read_bytes())
    else:
        clean = SynopsisCleaner(stop_words=None).transform(X)
        path.write_bytes(pickle.dumps(clean))
    return clean, Y, tr, te


def word_vectors(clean, tr, name="sg1_200"):
    path = Path(f"/tmp/skanime_wv_{name}.pkl")
    if path.exists():
        return pickle.loads(path.read_bytes())
    analyzer = TfidfVectorizer(
        token_pattern=TOKEN, stop_words="english"
    ).build_analyzer()
    sentences = [analyzer(d) for d in clean[tr]]
    with c.Timer() as t:
        model = Word2Vec(
            sentences, workers=1, seed=0, negative=5, sample=1e-3, **W2V[name]
        )
    out = (model.wv, t.seconds)
    path.write_bytes(pickle.dumps(out))
    return out


def bags(
    clean,
    tr,
    te,
    wv,
    ngram=(1, 1),
    min_df=1,
    keep_oov=False,
    bigram_init="mean",
    stop_words="english",
    norm="sum",
):
    """Row-normalised TF-IDF bags and the matching initial embedding matrix."""
    vec = TfidfVectorizer(
        token_pattern=TOKEN,
        stop_words=stop_words,
        sublinear_tf=True,
        ngram_range=ngram,
        min_df=min_df,
        norm=None,
        dtype=np.float32,
    )
    A = vec.fit_transform(clean[tr])
    terms = vec.get_feature_names_out()
    d = wv.vector_size
    E = np.zeros((len(terms), d), dtype=np.float32)
    keep = np.zeros(len(terms), bool)
    for i, t in enumerate(terms):
        words = t.split()
        if len(words) == 1:
            if t in wv.key_to_index:
                E[i] = wv[t]
                keep[i] = True
            elif keep_oov:
                keep[i] = True
        else:
            known = [w for w in words if w in wv.key_to_index]
            keep[i] = True
            if known and bigram_init == "mean":
                E[i] = np.mean([wv[w] for w in known], axis=0)
    cols = np.flatnonzero(keep)
    B = vec.transform(clean[te])
    out = []
    for M in (A, B):
        M = M[:, cols].tocsr()
        if norm == "sum":
            s = np.asarray(M.sum(axis=1)).ravel()
        else:
            s = np.sqrt(np.asarray(M.multiply(M).sum(axis=1)).ravel())
        s[s == 0] = 1
        out.append(sp.diags(1 / s).astype(np.float32) @ M)
    return out[0].tocsr(), out[1].tocsr(), E[cols], terms[cols]
