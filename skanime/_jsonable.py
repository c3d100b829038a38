"""Values made ready for :func:`json.dumps`, shared by the command and the server."""

import math

import numpy as np


def jsonable(value):
    """``value`` with numpy scalars as Python ones and NaN or infinities as None.

    JSON cannot carry NaN or infinities, so they become ``null``; dictionary
    keys become strings and tuples become lists, recursively.

    Parameters
    ----------
    value : object
        A dict, list, tuple, numpy scalar or plain value, nested freely.

    Returns
    -------
    value : object
        The same structure, made of types :func:`json.dumps` writes as
        standard JSON.

    Examples
    --------
    >>> import numpy as np
    >>> from skanime._jsonable import jsonable
    >>> jsonable({"f1": np.float64(0.5), 1: (np.int64(2), float("nan"))})
    {'f1': 0.5, '1': [2, None]}
    """
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
