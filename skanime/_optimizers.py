"""Stochastic optimizers of :class:`~skanime.FocalMLPClassifier`.

Objects that own their state (moments and step count) and update the
parameters they are handed in place, as ``AdamOptimizer`` in
``sklearn/neural_network/_stochastic_optimizers.py``: :class:`AdamOptimizer`
for the dense weights, and :class:`RowwiseAdamOptimizer` for an embedding
matrix, of which a minibatch updates only the rows of the features it holds
(lazy Adam, as for sparse embeddings).

Both compute the update with one function, which writes every intermediate
into one scratch array per parameter (or chunk of rows), in the parameters'
dtype, so an update allocates no temporary per operation.
"""

import numpy as np

__all__ = ["AdamOptimizer", "RowwiseAdamOptimizer"]


def _adam_step(grad, m, v, lr, beta_1, beta_2, epsilon, dtype):
    """Update the moments ``m`` and ``v`` in place; return Adam's step.

    The step is ``lr * m / (sqrt(v) + epsilon)`` after the moments took
    ``grad``, computed through one scratch array of ``dtype`` (the step
    itself): no temporary per operation.
    """
    step = np.multiply(grad, 1 - beta_1, dtype=dtype)
    m *= beta_1
    m += step
    np.multiply(grad, 1 - beta_2, out=step)
    step *= grad
    v *= beta_2
    v += step
    np.sqrt(v, out=step)
    step += epsilon
    np.divide(m, step, out=step)
    step *= lr
    return step


class _AdamBase:
    def __init__(self, learning_rate_init, beta_1, beta_2, epsilon):
        self.learning_rate_init = learning_rate_init
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.t = 0

    def _next_step_size(self):
        """Count one more update; its bias-corrected step size."""
        self.t += 1
        b1, b2 = self.beta_1, self.beta_2
        # A Python float keeps the update in the parameters' dtype.
        return float(
            self.learning_rate_init * np.sqrt(1 - b2**self.t) / (1 - b1**self.t)
        )

    def state(self):
        """The optimizer as builtins and arrays, for saving a model."""
        return dict(vars(self))

    @classmethod
    def from_state(cls, state):
        """Rebuild an optimizer from :meth:`state`."""
        optimizer = cls.__new__(cls)
        vars(optimizer).update(state)
        return optimizer


class AdamOptimizer(_AdamBase):
    """Adam on a list of parameter arrays.

    Parameters
    ----------
    params : list of ndarray
        The parameters, used for the shapes and dtypes of the moments.
    learning_rate_init : float, default=1e-3
        Step size.
    beta_1, beta_2 : float, default=0.9, 0.999
        Decay rates of the first and second moment estimates.
    epsilon : float, default=1e-8
        Added to the square root of the second moment.

    Attributes
    ----------
    t : int
        Number of updates made.
    ms, vs : list of ndarray
        First and second moment estimates, one per parameter.

    References
    ----------
    .. [1] D. P. Kingma and J. Ba, "Adam: A Method for Stochastic
       Optimization", ICLR 2015.

    Examples
    --------
    >>> import numpy as np
    >>> from skanime._optimizers import AdamOptimizer
    >>> w = np.array([1.0, -1.0])
    >>> adam = AdamOptimizer([w], learning_rate_init=0.1)
    >>> adam.update_params([w], [np.array([0.5, -2.0])])
    >>> w.round(3).tolist()  # the first step moves each weight by about 0.1
    [0.9, -0.9]
    """

    def __init__(
        self, params, learning_rate_init=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-8
    ):
        super().__init__(learning_rate_init, beta_1, beta_2, epsilon)
        self.ms = [np.zeros_like(p) for p in params]
        self.vs = [np.zeros_like(p) for p in params]

    def update_params(self, params, grads):
        """Update ``params`` in place with one Adam step on ``grads``.

        Parameters
        ----------
        params : list of ndarray
            The parameters, in the order the optimizer was made with.
        grads : list of ndarray
            Their gradients, same shapes.
        """
        lr = self._next_step_size()
        for param, grad, m, v in zip(params, grads, self.ms, self.vs, strict=True):
            param -= _adam_step(
                grad, m, v, lr, self.beta_1, self.beta_2, self.epsilon, param.dtype
            )


class RowwiseAdamOptimizer(_AdamBase):
    """Lazy Adam on the rows of a matrix: each step updates only given rows.

    The moments of a row decay only on the steps that update it, as in lazy
    (sparse) Adam for embeddings. The rows are processed ``chunk_rows`` at a
    time, so that the gathered rows and the scratch arrays stay in cache
    through the dozen passes of the update; the result is the same, element
    by element, as on all the rows at once.

    Parameters
    ----------
    param : ndarray of shape (n_rows, n_columns)
        The matrix, used for the shape and dtype of the moments.
    learning_rate_init, beta_1, beta_2, epsilon : float
        As in :class:`AdamOptimizer`.
    chunk_rows : int, default=256
        Rows updated together.

    Attributes
    ----------
    t : int
        Number of updates made.
    ms, vs : ndarray of shape (n_rows, n_columns)
        First and second moment estimates of every row.

    Examples
    --------
    >>> import numpy as np
    >>> from skanime._optimizers import RowwiseAdamOptimizer
    >>> E = np.zeros((3, 2))
    >>> adam = RowwiseAdamOptimizer(E, learning_rate_init=0.1)
    >>> adam.update_rows(E, np.array([1]), np.array([[1.0, -1.0]]))
    >>> E.round(3).tolist()  # rows 0 and 2 are left alone
    [[0.0, 0.0], [-0.1, 0.1], [0.0, 0.0]]
    """

    def __init__(
        self,
        param,
        learning_rate_init=1e-3,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        chunk_rows=256,
    ):
        super().__init__(learning_rate_init, beta_1, beta_2, epsilon)
        self.chunk_rows = chunk_rows
        self.ms = np.zeros_like(param)
        self.vs = np.zeros_like(param)

    def update_rows(self, param, rows, grad):
        """One Adam step on ``param[rows]``, in place.

        Parameters
        ----------
        param : ndarray of shape (n_rows, n_columns)
            The matrix.
        rows : ndarray of int
            Distinct indices of the rows to update.
        grad : ndarray of shape (len(rows), n_columns)
            Their gradients.
        """
        lr = self._next_step_size()
        size = self.chunk_rows
        for start in range(0, rows.size, size):
            chunk = rows[start : start + size]
            m = self.ms[chunk]
            v = self.vs[chunk]
            step = _adam_step(
                grad[start : start + size],
                m,
                v,
                lr,
                self.beta_1,
                self.beta_2,
                self.epsilon,
                param.dtype,
            )
            self.ms[chunk] = m
            self.vs[chunk] = v
            param[chunk] -= step
