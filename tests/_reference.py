"""Plain implementations of skanime's optimised routines.

Each function here is the textbook form of a routine skanime computes a
faster way: the tests (``test_speed_paths.py``) check that both give the same
result, and ``benchmarks/speed.py`` times one against the other. Nothing here
is used by the package itself.
"""

import math
from collections import Counter

import numpy as np
import scipy.sparse as sp
from scipy.special import expit, log_expit
from sklearn.feature_extraction.text import TfidfVectorizer


def per_document_loop(transformer, documents):
    """A fitted TfidfWeightedW2VTransformer's output, one document at a time.

    Tokenise, keep the words with a vector, weigh each by its TF-IDF and
    average the vectors, one word at a time: what ``transformer.transform``
    computes with one sparse matrix product.
    """
    analyze = TfidfVectorizer(
        lowercase=transformer.lowercase,
        token_pattern=transformer.token_pattern,
        stop_words=transformer.stop_words,
    ).build_analyzer()
    index, idf, vectors = (
        transformer.vocabulary_,
        transformer.idf_,
        transformer.vectors_,
    )
    out = np.zeros((len(documents), vectors.shape[1]))
    for i, doc in enumerate(documents):
        counts = Counter(token for token in analyze(doc) if token in index)
        total = 0.0
        for token, count in counts.items():
            tf = 1.0 + math.log(count) if transformer.sublinear_tf else count
            weight = tf * (idf[index[token]] if transformer.use_idf else 1.0)
            out[i] += weight * vectors[index[token]]
            total += weight
        if total:
            out[i] /= total
    if transformer.norm == "l2":
        lengths = np.linalg.norm(out, axis=1, keepdims=True)
        out /= np.where(lengths == 0, 1, lengths)
    return out


def focal_loss_and_gradient(y, z, gamma, focal_alpha=None):
    """The focal loss and its gradient through scipy's logistic functions."""
    y = np.asarray(y, dtype=z.dtype)
    sign = 2 * y - 1
    u = sign * z
    log_pt = log_expit(u)
    if gamma == 0:
        terms, grad_u = -log_pt, -expit(-u)
    else:
        modulator = np.exp(gamma * log_expit(-u))
        terms = -modulator * log_pt
        grad_u = modulator * (gamma * expit(u) * log_pt - expit(-u))
    if focal_alpha is not None:
        weights = np.where(y > 0.5, focal_alpha, 1 - focal_alpha).astype(z.dtype)
        terms, grad_u = terms * weights, grad_u * weights
    return float(terms.sum(dtype=np.float64) / len(z)), grad_u * sign / len(z)


def _step_size(optimizer):
    b1, b2, t = optimizer.beta_1, optimizer.beta_2, optimizer.t
    return optimizer.learning_rate_init * np.sqrt(1 - b2**t) / (1 - b1**t)


def adam_update_params(optimizer, params, grads):
    """``AdamOptimizer.update_params`` as first written: temporaries, float64 step.

    Updates the moments of ``optimizer`` (an ``AdamOptimizer``) and
    ``params`` in place.
    """
    optimizer.t += 1
    b1, b2 = optimizer.beta_1, optimizer.beta_2
    lr = _step_size(optimizer)
    moments = zip(params, grads, optimizer.ms, optimizer.vs, strict=True)
    for param, grad, m, v in moments:
        m *= b1
        m += (1 - b1) * grad
        v *= b2
        v += (1 - b2) * grad * grad
        param -= (lr * m / (np.sqrt(v) + optimizer.epsilon)).astype(param.dtype)


def rowwise_adam_update_rows(optimizer, param, rows, grad):
    """``RowwiseAdamOptimizer.update_rows`` on all the rows at once."""
    optimizer.t += 1
    b1, b2 = optimizer.beta_1, optimizer.beta_2
    lr = float(_step_size(optimizer))
    m = optimizer.ms[rows]
    v = optimizer.vs[rows]
    m *= b1
    m += (1 - b1) * grad
    v *= b2
    v += (1 - b2) * grad * grad
    optimizer.ms[rows] = m
    optimizer.vs[rows] = v
    param[rows] -= (lr * m / (np.sqrt(v) + optimizer.epsilon)).astype(
        param.dtype, copy=False
    )


def embedding_row_gradients(X, grad_inputs):
    """Rows of ``X`` with a nonzero entry and the rows of ``X.T @ grad_inputs``."""
    product = np.asarray(X.T @ grad_inputs)
    used = np.asarray((abs(X) if sp.issparse(X) else np.abs(X)).sum(axis=0)).ravel()
    rows = np.flatnonzero(used > 0)
    return rows, product[rows]


def relu_derivative(a, delta):
    """The ReLU derivative by boolean-mask assignment."""
    delta[a <= 0] = 0
