"""Sigmoid focal loss and its gradient, computed from logits."""

import numpy as np
from sklearn.utils._param_validation import InvalidParameterError


def focal_alpha_values(focal_alpha, Y, dtype, estimator_name):
    """The positive-entry weights of the loss from a ``focal_alpha`` parameter.

    Parameters
    ----------
    focal_alpha : None, "balanced", float or array-like of shape (n_labels,)
        The parameter: no weighting, one minus each label's positive rate in
        ``Y``, one weight for all labels, or one weight per label, in [0, 1].
    Y : ndarray of shape (n_samples, n_labels)
        Encoded training targets.
    dtype : type
        Float type of the weights.
    estimator_name : str
        Named in the error message.

    Returns
    -------
    weights : None, 0-d ndarray or ndarray of shape (n_labels,)
        The ``focal_alpha`` argument of :func:`focal_loss_and_gradient`.

    Examples
    --------
    >>> import numpy as np
    >>> from skanime._losses import focal_alpha_values
    >>> Y = np.array([[1.0, 0.0], [0.0, 0.0], [1.0, 0.0], [1.0, 1.0]])
    >>> focal_alpha_values("balanced", Y, np.float64, "FocalMLPClassifier")
    array([0.25, 0.75])
    """
    if focal_alpha is None:
        return None
    if isinstance(focal_alpha, str):  # "balanced"
        return (1.0 - Y.mean(axis=0)).astype(dtype)
    values = np.asarray(focal_alpha, dtype=dtype)
    if values.ndim == 0:
        return values
    if values.shape != (Y.shape[1],) or not np.all((values >= 0) & (values <= 1)):
        raise InvalidParameterError(
            f"The 'focal_alpha' parameter of {estimator_name} must be None, "
            "'balanced', a float in [0, 1] or an array-like of them: "
            f"focal_alpha as an array must have one value in [0, 1] per label, "
            f"shape ({Y.shape[1]},); got shape {values.shape} and values "
            f"{values.tolist()!r:.80}."
        )
    return values


def _alpha_weights(y, focal_alpha):
    """Per-entry weight a_t: ``focal_alpha`` for positives, ``1 - focal_alpha``
    for negatives; ``None`` weighs every entry by one."""
    if focal_alpha is None:
        return None
    focal_alpha = np.asarray(focal_alpha, dtype=y.dtype)
    return np.where(y > 0.5, focal_alpha, 1 - focal_alpha)


def sigmoid_focal_loss(y_true, logits, *, gamma=2.0, focal_alpha=None):
    """Sigmoid focal loss summed over labels and averaged over samples.

    ``FL(p_t) = -a_t (1 - p_t) ** gamma * log(p_t)`` where ``p_t`` is the
    predicted probability of the true value of each label (Lin et al., 2017).
    It is computed from the logits in log space (``log p_t = min(u, 0) -
    log1p(exp(-|u|))`` with ``u = (2 y - 1) z``) so that it stays finite
    for any logit and any ``gamma >= 0``; ``gamma=0`` and ``focal_alpha=None``
    give the binary cross-entropy.

    Parameters
    ----------
    y_true : ndarray of shape (n_samples, n_labels)
        Label indicator matrix of zeros and ones.
    logits : ndarray of shape (n_samples, n_labels)
        Raw scores before the sigmoid.
    gamma : float, default=2.0
        Focusing parameter; larger values down-weight well-classified entries.
    focal_alpha : float, ndarray of shape (n_labels,) or None, default=None
        Weight of the positive entries; negatives get ``1 - focal_alpha``.

    Returns
    -------
    loss : float
        Mean over samples of the per-sample sum of the label losses.

    References
    ----------
    .. [1] T.-Y. Lin, P. Goyal, R. Girshick, K. He and P. Dollar, "Focal Loss
       for Dense Object Detection", ICCV 2017.

    Examples
    --------
    >>> import numpy as np
    >>> from skanime._losses import sigmoid_focal_loss
    >>> y = np.array([[1.0, 0.0]])
    >>> z = np.array([[2.0, -1.0]])
    >>> bce = sigmoid_focal_loss(y, z, gamma=0.0)
    >>> round(float(bce), 4)
    0.4402
    >>> bool(sigmoid_focal_loss(y, z, gamma=2.0) < bce)
    True
    """
    loss, _ = focal_loss_and_gradient(
        y_true, logits, gamma=gamma, focal_alpha=focal_alpha
    )
    return loss


def focal_loss_and_gradient(y_true, logits, *, gamma=2.0, focal_alpha=None):
    """Focal loss and its gradient with respect to the logits.

    Same conventions as :func:`sigmoid_focal_loss`; the gradient already
    includes the ``1 / n_samples`` factor of the mean.

    Returns
    -------
    loss : float
    gradient : ndarray of shape (n_samples, n_labels)
    """
    logits = np.asarray(logits)
    if logits.dtype.kind != "f":
        # Integer logits would truncate focal_alpha and y to integers.
        logits = logits.astype(np.float64)
    y = np.asarray(y_true, dtype=logits.dtype)
    n_samples = logits.shape[0]
    # With s = 2y - 1 and u = s * z, p_t = sigmoid(u) and 1 - p_t = sigmoid(-u).
    sign = 2 * y - 1
    u = sign * logits
    # Both log-probabilities share softplus(-|u|) = log1p(exp(-|u|)):
    # log p_t = min(u, 0) - softplus(-|u|) and
    # log(1 - p_t) = min(-u, 0) - softplus(-|u|), finite for any finite u.
    # numpy's exp and log1p are much faster than scipy's logistic functions.
    softplus = np.abs(u)
    np.negative(softplus, out=softplus)
    np.exp(softplus, out=softplus)
    np.log1p(softplus, out=softplus)
    log_pt = np.minimum(u, 0)
    log_pt -= softplus
    log_one_minus_pt = np.maximum(u, 0)
    np.negative(log_one_minus_pt, out=log_one_minus_pt)
    log_one_minus_pt -= softplus
    one_minus_pt = np.exp(log_one_minus_pt, out=softplus)
    if gamma == 0:
        loss_terms = np.negative(log_pt)
        grad_u = np.negative(one_minus_pt)
    else:
        # (1 - p_t) ** gamma, no 0 ** 0
        modulator = np.exp(np.multiply(log_one_minus_pt, gamma, out=log_one_minus_pt))
        loss_terms = np.multiply(modulator, log_pt)
        np.negative(loss_terms, out=loss_terms)
        # d/du [-(1-p)^g log p] = g (1-p)^g p log p - (1-p)^(g+1)
        grad_u = np.exp(log_pt)
        grad_u *= gamma
        grad_u *= log_pt
        grad_u -= one_minus_pt
        grad_u *= modulator
    weights = _alpha_weights(y, focal_alpha)
    if weights is not None:
        loss_terms *= weights
        grad_u *= weights
    loss = float(loss_terms.sum(dtype=np.float64) / n_samples)
    grad = grad_u * sign
    grad /= n_samples
    return loss, grad
