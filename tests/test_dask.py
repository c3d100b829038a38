"""Hyper-parameter search on a local dask.distributed cluster through joblib."""

import numpy as np
import pytest
from joblib import parallel_backend
from sklearn.model_selection import GridSearchCV

from skanime import make_genre_pipeline
from skanime.model_selection import MultilabelStratifiedKFold

distributed = pytest.importorskip("distributed", reason="needs the 'dask' extra")

SPACE = ["robot", "pilot", "colony", "space", "ship", "laser", "mecha", "galaxy"]
LOVE = ["girl", "boy", "love", "school", "festival", "letter", "confess", "class"]


def _corpus(n_docs=90, seed=0):
    rng = np.random.default_rng(seed)
    docs, Y = [], []
    for i in range(n_docs):
        space, love = i % 3 != 0, i % 2 == 0
        words = list(rng.choice(SPACE, 6)) * space + list(rng.choice(LOVE, 6)) * love
        words += list(rng.choice(["the", "story", "day", "world"], 3))
        docs.append(" ".join(words))
        Y.append([int(space), int(love), int(space and love)])
    return docs, np.array(Y)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_grid_search_runs_on_a_loopback_dask_cluster():
    docs, Y = _corpus()
    search = GridSearchCV(
        make_genre_pipeline(
            stack__network__embed__vector_size=8,
            stack__network__embed__epochs=3,
            stack__network__embed__min_count=1,
            stack__network__clf__hidden_layer_sizes=(8,),
            stack__network__clf__max_iter=15,
            stack__network__clf__early_stopping=False,
            stack__cv=2,
            random_state=0,
        ),
        # The stack chooses its thresholds on its out-of-fold predictions by a
        # rule ("shared": one for all genres) or takes a given value; the
        # network's own clf__threshold is not used.
        {
            "stack__network__clf__gamma": [0.0, 2.0],
            "stack__threshold": ["shared", 0.5],
        },
        scoring="f1_micro",
        cv=MultilabelStratifiedKFold(n_splits=2, shuffle=True, random_state=0),
        n_jobs=2,
    )
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        with parallel_backend("dask"):
            search.fit(docs, Y)
        workers = client.scheduler_info()["workers"]
    assert len(workers) == 2
    assert all(address.startswith("tcp://127.0.0.1:") for address in workers)
    assert len(search.cv_results_["params"]) == 4
    assert set(search.best_params_) == {
        "stack__network__clf__gamma",
        "stack__threshold",
    }
    assert 0.5 < search.best_score_ <= 1.0

    serial = GridSearchCV(
        search.estimator, search.param_grid, scoring="f1_micro", cv=search.cv
    ).fit(docs, Y)
    np.testing.assert_allclose(
        serial.cv_results_["mean_test_score"], search.cv_results_["mean_test_score"]
    )
