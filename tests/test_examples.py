"""Run gallery examples on a small subset of the real data."""

import runpy
from pathlib import Path

import numpy as np
import pytest

from skanime.model_selection import apply_thresholds

matplotlib = pytest.importorskip("matplotlib")
threadpoolctl = pytest.importorskip("threadpoolctl")

EXAMPLES_DIR = Path(__file__).parents[1] / "examples"


@pytest.fixture
def run_example(mal_jsonl_path, monkeypatch):
    """Run an example on 600 anime and return its global variables."""
    monkeypatch.setenv("SKANIME_DATA_HOME", str(mal_jsonl_path.parent))
    monkeypatch.setenv("SKANIME_EXAMPLE_SUBSET", "600")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def _run(name):
        path = EXAMPLES_DIR / name
        if not path.is_file():
            pytest.skip(f"{path} not found")
        # Small matrices: BLAS threads only add overhead.
        with threadpoolctl.threadpool_limits(limits=1):
            try:
                return runpy.run_path(str(path), run_name="__main__")
            finally:
                plt.close("all")

    return _run


@pytest.mark.real_data
def test_grid_search_gamma_threshold_example(run_example, capsys):
    namespace = run_example("plot_grid_search_gamma_threshold.py")
    search = namespace["search"]
    grid = namespace["param_grid"]

    assert set(search.best_params_) == {"clf__gamma", "clf__threshold"}
    assert search.best_params_["clf__gamma"] in grid["clf__gamma"]
    assert search.best_params_["clf__threshold"] in grid["clf__threshold"]
    n_candidates = len(grid["clf__gamma"]) * len(grid["clf__threshold"])
    assert len(search.cv_results_["params"]) == n_candidates
    assert search.n_splits_ == 3
    scores = search.cv_results_["mean_test_score"]
    assert np.all((scores >= 0) & (scores <= 1))
    assert search.best_score_ == pytest.approx(scores.max())
    # The model learnt something: better than predicting no genre at all.
    assert search.best_score_ > 0.1

    out = capsys.readouterr().out
    assert f"Best parameters: {search.best_params_}" in out
    assert "Test micro-F1:" in out
    # The figure is the heatmap of the cv table.
    heatmap = namespace["scores"]
    assert heatmap.shape == (len(grid["clf__gamma"]), len(grid["clf__threshold"]))


@pytest.mark.real_data
def test_threshold_curve_example(run_example):
    namespace = run_example("plot_threshold_curve.py")
    tuner = namespace["tuner"]
    curve = tuner.cv_results_
    n_genres = namespace["Y_train"].shape[1]

    assert curve["scores"].shape == curve["thresholds"].shape
    assert curve["label_scores"].shape == (len(curve["thresholds"]), n_genres)
    assert tuner.thresholds_.shape == (n_genres,)
    assert (
        namespace["shared_threshold"] == curve["thresholds"][np.argmax(curve["scores"])]
    )
    # The default stack chose thresholds of its own inside its fit, and
    # predicts with them; the tuner's replace them.
    stack = tuner.estimator_.named_steps["stack"]
    own = namespace["own_thresholds"]
    assert own is stack.thresholds_ and own.shape == (n_genres,)
    rules = namespace["rules"]
    assert len(rules) == 3
    assert all(Y_pred.shape == namespace["Y_test"].shape for Y_pred in rules.values())
    proba = namespace["proba"]
    np.testing.assert_array_equal(
        rules["stack's own (shrunk)"], apply_thresholds(proba, own, min_labels=1)
    )
    np.testing.assert_array_equal(
        rules["per genre"], apply_thresholds(proba, tuner.thresholds_, min_labels=1)
    )


@pytest.mark.real_data
def test_per_genre_f1_example(run_example):
    namespace = run_example("plot_per_genre_f1.py")
    report = namespace["report"]
    genres = namespace["genres"]

    assert list(report.per_label.index) == list(genres)
    assert namespace["Y_pred"].shape == namespace["Y_score"].shape
    assert namespace["Y_pred"].shape[1] == len(genres)
    # Every anime gets at least one genre (the stack's min_labels=1).
    assert namespace["Y_pred"].sum(axis=1).min() >= 1
    assert 0.1 < report.summary["f1_micro"] <= 1
