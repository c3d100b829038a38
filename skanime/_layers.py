"""Layers of the focal MLP: activations, batch normalisation, the embedding.

Plain numpy functions on the network's weight arrays, shared by
:class:`~skanime.FocalMLPClassifier` (training and prediction) and by the
explanations (gradients of the logits with respect to the inputs). As in
``sklearn/neural_network/_base.py``, activations and their derivatives are
tables of functions keyed by name; the derivatives are expressed through the
activation's output, so the backward pass needs no pre-activation copy.
"""

import numpy as np
import scipy.sparse as sp
from scipy.special import expit

#: Added to the batch variance before its square root.
BN_EPSILON = 1e-5
#: Weight of the current minibatch in the running batch-norm statistics.
BN_MOMENTUM = 0.1


def _relu(z):
    return np.maximum(z, 0, out=z)


def _tanh(z):
    return np.tanh(z, out=z)


def _logistic(z):
    return expit(z, out=z)


def _identity(z):
    return z


#: Activation functions, applied in place to the pre-activations.
ACTIVATIONS = {
    "relu": _relu,
    "tanh": _tanh,
    "logistic": _logistic,
    "identity": _identity,
}


def _relu_derivative(a, delta):
    # A multiply by the mask is one pass; boolean-index assignment is ~10x slower.
    np.multiply(delta, a > 0, out=delta)


def _tanh_derivative(a, delta):
    delta *= 1 - a**2


def _logistic_derivative(a, delta):
    delta *= a * (1 - a)


def _identity_derivative(a, delta):
    pass


#: ``DERIVATIVES[name](a, delta)`` multiplies ``delta`` in place by the
#: derivative of the activation, given its output ``a``.
DERIVATIVES = {
    "relu": _relu_derivative,
    "tanh": _tanh_derivative,
    "logistic": _logistic_derivative,
    "identity": _identity_derivative,
}


def activation_and_derivative(name, Z):
    """Output of activation ``name`` on ``Z`` and its derivative, new arrays.

    Parameters
    ----------
    name : {"relu", "tanh", "logistic", "identity"}
        Activation.
    Z : ndarray
        Pre-activations (left unchanged).

    Returns
    -------
    A, dA : ndarray
        ``activation(Z)`` and ``d activation / dZ`` element by element.
    """
    A = ACTIVATIONS[name](np.array(Z, dtype=float))
    dA = np.ones_like(A)
    DERIVATIVES[name](A, dA)
    return A, dA


def inverse_std(var):
    """``1 / sqrt(var + BN_EPSILON)``, the batch-norm scale of a variance."""
    return 1.0 / np.sqrt(var + BN_EPSILON)


def batch_norm_forward(Z, scale, offset, running_mean, running_var, *, training):
    """Normalise the pre-activations ``Z`` in place.

    With ``training``, ``Z`` is normalised by its own minibatch statistics,
    which update ``running_mean`` and ``running_var`` in place (momentum
    :data:`BN_MOMENTUM`, unbiased variance); otherwise by the running ones.

    Returns
    -------
    Z : ndarray
        The same array, ``scale * (Z - mean) / std + offset``.
    cache : tuple or None
        ``(x_hat, inv_std)`` for :func:`batch_norm_backward` when training.
    """
    if training:
        mean = Z.mean(axis=0)
        var = Z.var(axis=0)
        n = Z.shape[0]
        m = BN_MOMENTUM
        running_mean *= 1 - m
        running_mean += m * mean
        running_var *= 1 - m
        running_var += m * var * (n / max(n - 1, 1))
    else:
        mean, var = running_mean, running_var
    inv = inverse_std(var).astype(Z.dtype)
    Z -= mean
    Z *= inv
    cache = (Z.copy(), inv) if training else None
    Z *= scale
    Z += offset
    return Z, cache


def batch_norm_backward(delta, cache, scale):
    """Gradients through a training-mode batch normalisation.

    Parameters
    ----------
    delta : ndarray of shape (n_samples, width)
        Gradient of the loss with respect to the layer's normalised output.
    cache : tuple
        ``(x_hat, inv_std)`` from :func:`batch_norm_forward`.
    scale : ndarray of shape (width,)
        The layer's batch-norm scale.

    Returns
    -------
    delta : ndarray of shape (n_samples, width)
        Gradient with respect to the pre-activations.
    scale_grad, offset_grad : ndarray of shape (width,)
        Gradients of the scale and offset.
    """
    x_hat, inv = cache
    scale_grad = (delta * x_hat).sum(axis=0)
    offset_grad = delta.sum(axis=0)
    d_xhat = delta * scale
    delta = inv * (d_xhat - d_xhat.mean(axis=0) - x_hat * (d_xhat * x_hat).mean(axis=0))
    return delta, scale_grad, offset_grad


def dropout_mask(rng, shape, dtype, rate):
    """Inverted-dropout mask: 0 with probability ``rate``, else ``1 / (1 - rate)``."""
    keep = 1.0 - rate
    mask = (rng.random(shape, dtype=dtype) < keep).astype(dtype)
    mask /= keep
    return mask


def embedding_row_gradients(X, grad_inputs):
    """Rows of the embedding that ``X`` uses and their gradients.

    The embedding layer computes ``X @ embedding``; given the gradient of the
    loss with respect to that product, the gradient of the embedding is
    ``X.T @ grad_inputs``, nonzero only on the rows of the features present
    in ``X``.

    Returns
    -------
    rows : ndarray of int
        Sorted indices of the embedding rows with a nonzero input.
    grad : ndarray of shape (len(rows), n_dims)
        Their gradients.
    """
    if sp.issparse(X):
        X = X.tocsr()
        rows, columns = np.unique(X.indices, return_inverse=True)
        compact = sp.csr_matrix(
            (X.data, columns.ravel(), X.indptr), shape=(X.shape[0], rows.size)
        )
        return rows, np.asarray(compact.T @ grad_inputs)
    rows = np.flatnonzero(np.any(X != 0, axis=0))
    return rows, np.asarray(X[:, rows].T @ grad_inputs)


def standardized_embedding(X, embedding, dtype):
    """``embedding`` shifted and scaled so that ``X @ result`` is standardised.

    The rows are shifted by the mean of ``X @ embedding`` and the columns
    divided by its standard deviation; when the rows of ``X`` sum to one
    (weighted means), ``X @ result`` has zero mean and unit variance.
    """
    inputs = np.asarray(X @ embedding, dtype=np.float64)
    mean = inputs.mean(axis=0)
    scale = inputs.std(axis=0)
    scale[scale < 1e-12] = 1.0
    return ((embedding - mean) / scale).astype(dtype)


def mlp_forward(
    X,
    coefs,
    intercepts,
    activation,
    *,
    batch_norm=None,
    training=False,
    dropout=0.0,
    rng=None,
    cache=None,
):
    """Logits of a multi-layer perceptron with linear outputs.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Inputs of the first layer.
    coefs, intercepts : list of ndarray
        Weights and biases of each layer, the output layer last.
    activation : str
        Key of :data:`ACTIVATIONS` for the hidden layers.
    batch_norm : tuple of lists or None, default=None
        ``(scales, offsets, running_means, running_vars)``, one array of each
        per hidden layer, normalising the hidden pre-activations.
    training : bool, default=False
        Use minibatch statistics (updating the running ones) and dropout.
    dropout : float, default=0.0
        Fraction of hidden units dropped when training.
    rng : numpy.random.Generator, default=None
        Draws the dropout masks.
    cache : list or None, default=None
        Receives ``(output, activated, bn_cache, mask)`` per hidden layer,
        what :func:`mlp_backward` needs.

    Returns
    -------
    logits : ndarray of shape (n_samples, n_outputs)
    """
    function = ACTIVATIONS[activation]
    A = X
    for i in range(len(coefs) - 1):
        Z = A @ coefs[i]
        Z += intercepts[i]
        bn = None
        if batch_norm is not None:
            scales, offsets, means, variances = batch_norm
            Z, bn = batch_norm_forward(
                Z, scales[i], offsets[i], means[i], variances[i], training=training
            )
        A = function(Z)
        activated, mask = A, None
        if training and dropout > 0:
            mask = dropout_mask(rng, A.shape, A.dtype, dropout)
            A = A * mask
        if cache is not None:
            cache.append((A, activated, bn, mask))
    logits = A @ coefs[-1]
    logits += intercepts[-1]
    return logits


def mlp_backward(
    X, delta, cache, coefs, activation, *, bn_scales=(), alpha=0.0, input_grad=False
):
    """Gradients of the loss through the network of :func:`mlp_forward`.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        The inputs given to :func:`mlp_forward`.
    delta : ndarray of shape (n_samples, n_outputs)
        Gradient of the loss with respect to the logits.
    cache : list
        Filled by :func:`mlp_forward` with ``training=True``.
    coefs : list of ndarray
        Weights of each layer.
    activation : str
        Key of :data:`DERIVATIVES`.
    bn_scales : list of ndarray, default=()
        Batch-norm scales of the hidden layers, empty without batch norm.
    alpha : float, default=0.0
        L2 penalty ``0.5 * alpha * sum(W ** 2) / n_samples`` to differentiate.
    input_grad : bool, default=False
        Also compute the gradient with respect to ``X``.

    Returns
    -------
    grads : list of ndarray
        Gradients of the weights, the biases, the batch-norm scales and the
        batch-norm offsets, in this order (the order of the parameters).
    input_grad : ndarray of shape (n_samples, n_features) or None
        Gradient with respect to ``X``, with ``input_grad``.
    """
    n_layers = len(coefs)
    n = X.shape[0]
    coef_grads = [None] * n_layers
    intercept_grads = [None] * n_layers
    scale_grads = [None] * len(bn_scales)
    offset_grads = [None] * len(bn_scales)
    derivative = DERIVATIVES[activation]
    for i in range(n_layers - 1, -1, -1):
        A_prev = X if i == 0 else cache[i - 1][0]
        coef_grads[i] = np.asarray(A_prev.T @ delta)
        if alpha:
            coef_grads[i] += (alpha / n) * coefs[i]
        intercept_grads[i] = delta.sum(axis=0)
        if i == 0:
            break
        delta = delta @ coefs[i].T
        _, activated, bn, mask = cache[i - 1]
        if mask is not None:
            delta *= mask
        derivative(activated, delta)
        if bn is not None:
            delta, scale_grads[i - 1], offset_grads[i - 1] = batch_norm_backward(
                delta, bn, bn_scales[i - 1]
            )
    grads = [*coef_grads, *intercept_grads, *scale_grads, *offset_grads]
    return grads, (delta @ coefs[0].T if input_grad else None)


def mlp_logits_and_input_gradients(parts, Z, outputs):
    """Logits of an MLP and their gradients with respect to its inputs.

    Parameters
    ----------
    parts : tuple
        ``(coefs, intercepts, batch_norm, activation)`` from the fitted
        network; ``batch_norm`` holds ``(mean, inv_std, scale, offset)`` per
        hidden layer, or is empty.
    Z : ndarray of shape (n_samples, n_features)
        Network inputs.
    outputs : array-like of int
        Output units to differentiate.

    Returns
    -------
    logits : ndarray of shape (n_samples, n_outputs_total)
        All output logits.
    gradients : ndarray of shape (n_samples, n_features, len(outputs))
        ``gradients[i, f, j] = d logits[i, outputs[j]] / d Z[i, f]``.
    """
    coefs, intercepts, batch_norm, activation = parts
    A = np.asarray(Z, dtype=float)
    derivatives = []
    for i in range(len(coefs) - 1):
        H = A @ coefs[i] + intercepts[i]
        factor = 1.0
        if batch_norm:
            mean, inv_std, scale, offset = batch_norm[i]
            H = (H - mean) * inv_std * scale + offset
            factor = inv_std * scale
        A, dA = activation_and_derivative(activation, H)
        derivatives.append(dA * factor)
    logits = A @ coefs[-1] + intercepts[-1]
    outputs = np.asarray(outputs, dtype=int)
    last = coefs[-1][:, outputs]
    G = np.broadcast_to(last, (A.shape[0], *last.shape))
    for i in range(len(coefs) - 2, -1, -1):
        G = np.einsum("ij,njm->nim", coefs[i], derivatives[i][:, :, None] * G)
    return logits, np.array(G)
