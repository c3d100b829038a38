"""The float dtypes skanime estimators store their weights and outputs in."""

import numpy as np
from sklearn.utils._param_validation import InvalidParameterError

FLOAT_DTYPES = {"float32": np.float32, "float64": np.float64}


def resolve_float_dtype(estimator):
    """``estimator.dtype`` as ``numpy.float32`` or ``numpy.float64``.

    Parameters
    ----------
    estimator : estimator instance
        Has a ``dtype`` parameter: ``"float32"``, ``"float64"``,
        ``numpy.float32`` or ``numpy.float64``.

    Returns
    -------
    dtype : type

    Raises
    ------
    InvalidParameterError
        For any other ``dtype``, naming the estimator.

    Examples
    --------
    >>> from skanime import FocalMLPClassifier
    >>> from skanime._dtypes import resolve_float_dtype
    >>> resolve_float_dtype(FocalMLPClassifier(dtype="float64"))
    <class 'numpy.float64'>
    """
    dtype = estimator.dtype
    if isinstance(dtype, str):
        dtype = FLOAT_DTYPES.get(dtype)
    if dtype not in (np.float32, np.float64):
        raise InvalidParameterError(
            f"The 'dtype' parameter of {type(estimator).__name__} must be "
            "'float32', 'float64', numpy.float32 or numpy.float64. "
            f"Got {estimator.dtype!r} instead."
        )
    return dtype
