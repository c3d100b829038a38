"""Cheap settings of the default model, for tests that train it end to end.

A 16-dimensional embedding trained for 5 epochs and a 16-unit network run for
20 iterations: seconds on the CLI fixture instead of minutes. Shared by the
command-line tests (as ``--param`` options) and the serving tests (as
``make_genre_pipeline`` keyword arguments).
"""

import json

#: ``make_genre_pipeline`` keyword arguments of the small model.
SMALL_PARAMS = {
    "stack__network__embed__vector_size": 16,
    "stack__network__embed__epochs": 5,
    "stack__network__clf__hidden_layer_sizes": [16],
    "stack__network__clf__max_iter": 20,
}

#: The same settings as ``skanime`` command-line options.
SMALL_ARGS = [
    part
    for name, value in SMALL_PARAMS.items()
    for part in ("--param", f"{name}={json.dumps(value)}")
]
