"""The network inside :class:`~skanime.FocalMLPClassifier`.

:class:`_FocalMLPNetwork` owns the fitted weights (``coefs_``,
``intercepts_``, the batch-norm arrays and ``embedding_``), the forward and
backward passes of a minibatch (through :mod:`skanime._layers`), the
optimizer objects that update the weights (:mod:`skanime._optimizers`) and
the snapshots of the weights that early stopping restores. It reads the
network's settings from the estimator's parameters (``activation``,
``batch_norm``, ``dropout``, ``alpha``, the learning rates, Adam's
``beta_1``, ``beta_2`` and ``epsilon``, ``embedding_init``); the estimator
owns the parameters, the targets and the training loop.
"""

from numbers import Integral

import numpy as np
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.validation import check_is_fitted

from ._layers import (
    embedding_row_gradients,
    mlp_backward,
    mlp_forward,
    standardized_embedding,
)
from ._losses import focal_loss_and_gradient
from ._optimizers import AdamOptimizer, RowwiseAdamOptimizer


class _FocalMLPNetwork:
    """Weights, passes and optimizer state of a focal-loss MLP (a base class)."""

    def _resolved_hidden_sizes(self):
        """``hidden_layer_sizes`` as a list of positive ints, or raise."""
        sizes = self.hidden_layer_sizes
        sizes = [sizes] if isinstance(sizes, Integral) else list(sizes)
        if not sizes or not all(isinstance(s, Integral) and s >= 1 for s in sizes):
            raise InvalidParameterError(
                f"The 'hidden_layer_sizes' parameter of {type(self).__name__} must be "
                "a positive int or a non-empty sequence of positive ints. "
                f"Got {self.hidden_layer_sizes!r} instead."
            )
        return [int(s) for s in sizes]

    def _initialize_weights(self, n_features, hidden_sizes, n_outputs):
        """Glorot-uniform weights, batch-norm arrays and a new optimizer."""
        dtype = self._dtype
        rng = self._rng
        sizes = [n_features, *hidden_sizes, n_outputs]
        self.coefs_, self.intercepts_ = [], []
        factor = 2.0 if self.activation == "logistic" else 6.0
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
            bound = np.sqrt(factor / (fan_in + fan_out))
            self.coefs_.append(
                rng.uniform(-bound, bound, (fan_in, fan_out)).astype(dtype)
            )
            self.intercepts_.append(rng.uniform(-bound, bound, fan_out).astype(dtype))

        self.bn_scales_, self.bn_offsets_ = [], []
        self.bn_running_means_, self.bn_running_vars_ = [], []
        if self.batch_norm:
            for width in hidden_sizes:
                self.bn_scales_.append(np.ones(width, dtype=dtype))
                self.bn_offsets_.append(np.zeros(width, dtype=dtype))
                self.bn_running_means_.append(np.zeros(width, dtype=dtype))
                self.bn_running_vars_.append(np.ones(width, dtype=dtype))

        self.t_ = 0
        self._optimizer = self._new_optimizer()
        self._embedding_optimizer = None

    def _new_optimizer(self):
        return AdamOptimizer(
            self._params_flat(),
            self.learning_rate_init,
            self.beta_1,
            self.beta_2,
            self.epsilon,
        )

    def _checked_embedding_init(self, n_features):
        if self.embedding_init is None:
            return None
        if isinstance(self.embedding_init, str):
            raise ValueError(
                "embedding_init='vectors' is filled in by "
                "MultilabelStackingClassifier from the "
                "TfidfWeightedW2VTransformer(output='weights') before the network; "
                "fitted on its own, a network needs the word vectors themselves: "
                "embedding_init=transformer.vectors_."
            )
        embedding = np.asarray(self.embedding_init, dtype=self._dtype)
        if embedding.ndim != 2 or embedding.shape[0] != n_features:
            raise ValueError(
                "embedding_init must have one row per feature of X, shape "
                f"({n_features}, n_dims); got shape {embedding.shape}. Pass the "
                "vectors_ of the transformer whose transform_weights gives X."
            )
        if embedding.shape[1] == 0 or not np.isfinite(embedding).all():
            raise ValueError(
                "embedding_init must hold at least one column of finite values."
            )
        return embedding

    def _initialize_embedding(self, X, embedding):
        """Set ``embedding_`` so that the network starts on standardised inputs."""
        self.embedding_ = None
        if embedding is not None:
            self.embedding_ = standardized_embedding(X, embedding, self._dtype)
            self._embedding_optimizer = self._new_embedding_optimizer()

    def _new_embedding_optimizer(self):
        rate = self.embedding_learning_rate
        optimizer = RowwiseAdamOptimizer(
            self.embedding_,
            self.learning_rate_init if rate is None else rate,
            self.beta_1,
            self.beta_2,
            self.epsilon,
        )
        return optimizer

    def discard_optimizer_state(self):
        """Free the optimizer's moments, which only continued training needs.

        The moments of Adam take as much memory as the weights they update
        (twice over); a model that is done training can drop them before it
        is saved. A later ``partial_fit`` or warm-started ``fit`` starts them
        again from zero.

        Returns
        -------
        self : FocalMLPClassifier
            The estimator.
        """
        check_is_fitted(self)
        self._optimizer = None
        self._embedding_optimizer = None
        return self

    def _params_flat(self):
        return [*self.coefs_, *self.intercepts_, *self.bn_scales_, *self.bn_offsets_]

    def _state_flat(self):
        # The batch-norm running statistics belong to the weights they were
        # collected with, so a snapshot of the best epoch holds both.
        stats = [*self.bn_running_means_, *self.bn_running_vars_]
        embedding = getattr(self, "embedding_", None)
        extra = [] if embedding is None else [embedding]
        return [*self._params_flat(), *stats, *extra]

    def _set_params_flat(self, values):
        for target, value in zip(self._state_flat(), values, strict=True):
            target[...] = value

    def _forward(self, X, training, cache=None, embed=True):
        """Logits of ``X``; with ``training``, batch statistics and dropout."""
        embedding = getattr(self, "embedding_", None)
        if embed and embedding is not None:
            X = np.asarray(X @ embedding)
        batch_norm = None
        if self.batch_norm:
            batch_norm = (
                self.bn_scales_,
                self.bn_offsets_,
                self.bn_running_means_,
                self.bn_running_vars_,
            )
        logits = mlp_forward(
            X,
            self.coefs_,
            self.intercepts_,
            self.activation,
            batch_norm=batch_norm,
            training=training,
            dropout=self.dropout,
            rng=getattr(self, "_rng", None),
            cache=cache,
        )
        if not training and not np.isfinite(logits).all():
            bad = int((~np.isfinite(logits)).any(axis=1).sum())
            raise ValueError(
                f"{type(self).__name__} computed non-finite outputs for {bad} of "
                f"{logits.shape[0]} samples: their features are too large for "
                f"{np.dtype(logits.dtype).name} arithmetic (largest absolute value "
                f"{float(abs(X).max()):.3g}). Scale the features, e.g. with "
                "StandardScaler, or use dtype='float64'."
            )
        return logits

    def _train_batch(self, X, Y):
        """Loss of one minibatch, after one optimizer step on its gradients."""
        cache = []
        features = X
        embedding = getattr(self, "embedding_", None)
        if embedding is not None:
            X = np.asarray(features @ embedding)
        logits = self._forward(X, training=True, cache=cache, embed=False)
        loss, delta = focal_loss_and_gradient(
            Y, logits, gamma=self.gamma, focal_alpha=self._focal_alpha_values
        )
        if self.constant_labels_.size:
            delta[:, self.constant_labels_] = 0
        n = X.shape[0]
        if self.alpha:
            loss += (
                0.5 * self.alpha * sum(float(np.vdot(W, W)) for W in self.coefs_) / n
            )

        grads, grad_inputs = mlp_backward(
            X,
            delta,
            cache,
            self.coefs_,
            self.activation,
            bn_scales=self.bn_scales_,
            alpha=self.alpha,
            input_grad=embedding is not None,
        )
        self._adam_step(grads)
        if embedding is not None:
            self._embedding_step(features, grad_inputs)
        return loss

    def _adam_step(self, grads):
        """One step of the dense weights' optimizer."""
        if self._optimizer is None:  # moments discarded after training
            self._optimizer = self._new_optimizer()
            self._optimizer.t = self.t_
        self._optimizer.update_params(self._params_flat(), grads)
        self.t_ = self._optimizer.t

    def _embedding_step(self, X, grad_inputs):
        """One lazy Adam step on the embedding rows of the features in ``X``."""
        if self._embedding_optimizer is None:  # moments discarded after training
            self._embedding_optimizer = self._new_embedding_optimizer()
            self._embedding_optimizer.t = self.t_ - 1
        rows, grad = embedding_row_gradients(X, grad_inputs)
        self._embedding_optimizer.update_rows(self.embedding_, rows, grad)

    def __getstate__(self):
        # Optimizers are saved as their plain state, so that a model file
        # holds only arrays, builtins and estimators.
        state = dict(super().__getstate__())
        for name in ("_optimizer", "_embedding_optimizer"):
            if state.get(name) is not None:
                state[name] = state[name].state()
        return state

    def __setstate__(self, state):
        state = dict(state)
        kinds = {
            "_optimizer": AdamOptimizer,
            "_embedding_optimizer": RowwiseAdamOptimizer,
        }
        for name, kind in kinds.items():
            if isinstance(state.get(name), dict):
                state[name] = kind.from_state(state[name])
        super().__setstate__(state)
