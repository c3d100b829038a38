"""MultilabelKNeighborsClassifier against a brute-force reference."""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import logit
from sklearn.base import clone

from skanime import MultilabelKNeighborsClassifier, _neighbors, load_model, save_model


def _data(n_train=300, n_test=120, n_features=50, n_labels=5, seed=0):
    rng = np.random.RandomState(seed)
    X = sp.random(n_train, n_features, density=0.1, random_state=rng, format="csr")
    Q = sp.random(n_test, n_features, density=0.1, random_state=rng, format="csr")
    Y = (rng.rand(n_train, n_labels) < 0.3).astype(int)
    return X, Y, Q


def _reference(X, Y, Q, k, power, smoothing):
    """Row by row: cosine, the k largest positive similarities, weighted shares."""

    def unit(M):
        M = M.toarray().astype(np.float64)
        norms = np.linalg.norm(M, axis=1, keepdims=True)
        return np.divide(M, norms, out=np.zeros_like(M), where=norms > 0)

    stored = unit(X).astype(np.float32).astype(np.float16).astype(np.float64)
    similarities = unit(Q) @ stored.T
    rates = Y.mean(axis=0)
    proba = np.empty((Q.shape[0], Y.shape[1]))
    for i, row in enumerate(similarities):
        positive = np.flatnonzero(row > 0)
        nearest = positive[np.argsort(-row[positive], kind="stable")[:k]]
        weights = row[nearest] ** power
        proba[i] = weights @ Y[nearest] / weights.sum() if nearest.size else rates
    return (1 - smoothing) * proba + smoothing * rates


@pytest.mark.parametrize(
    "k, power, smoothing", [(7, 2.0, 0.1), (1, 3.0, 0.0), (50, 0.0, 0.3)]
)
def test_probabilities_match_the_brute_force_reference(k, power, smoothing):
    X, Y, Q = _data()
    model = MultilabelKNeighborsClassifier(
        n_neighbors=k, similarity_power=power, smoothing=smoothing
    ).fit(X, Y)
    expected = _reference(X, Y, Q, k, power, smoothing)
    np.testing.assert_allclose(model.predict_proba(Q), expected, atol=1e-5)


def test_a_fractional_neighbour_count_is_a_share_of_the_training_samples():
    X, Y, _ = _data()
    assert MultilabelKNeighborsClassifier(0.02).fit(X, Y).n_neighbors_ == 6
    assert MultilabelKNeighborsClassifier(0.02).fit(X[:100], Y[:100]).n_neighbors_ == 2
    assert MultilabelKNeighborsClassifier(0.001).fit(X[:100], Y[:100]).n_neighbors_ == 1
    assert MultilabelKNeighborsClassifier(500).fit(X, Y).n_neighbors_ == 300


def test_samples_without_a_shared_feature_get_the_training_rates():
    X = sp.csr_matrix(np.array([[1.0, 0, 0], [1.0, 0, 0], [0, 1.0, 0]]))
    Y = np.array([[1, 0], [1, 1], [0, 1]])
    model = MultilabelKNeighborsClassifier(n_neighbors=2, smoothing=0.5).fit(X, Y)
    proba = model.predict_proba(np.array([[0, 0, 1.0], [0, 0, 0]]))
    np.testing.assert_allclose(proba, np.tile(Y.mean(axis=0), (2, 1)))


def test_decision_function_is_the_clipped_logit_of_the_probabilities():
    X, Y, Q = _data()
    model = MultilabelKNeighborsClassifier(n_neighbors=5, smoothing=0.0).fit(X, Y)
    proba = model.predict_proba(Q)
    assert proba.min() >= 0 and proba.max() <= 1
    expected = np.clip(logit(proba), -_neighbors._LOGIT_CLIP, _neighbors._LOGIT_CLIP)
    logits = model.decision_function(Q)
    assert np.isfinite(logits).all()
    np.testing.assert_allclose(logits, expected)
    np.testing.assert_array_equal(model.predict(Q), (proba >= 0.5).astype(int))


def test_large_inputs_are_scored_in_blocks_as_one(monkeypatch):
    X, Y, Q = _data(n_test=250)
    model = MultilabelKNeighborsClassifier(n_neighbors=9).fit(X, Y)
    whole = model.predict_proba(Q)
    monkeypatch.setattr(_neighbors, "_QUERY_ROWS", 16)
    np.testing.assert_array_equal(model.predict_proba(Q), whole)
    threaded = clone(model).set_params(n_jobs=2).fit(X, Y)
    np.testing.assert_array_equal(threaded.predict_proba(Q), whole)


@pytest.mark.parametrize("kernel", ["scipy's kernel", "no kernel", "over the bound"])
def test_similarities_are_the_sparse_product_entry_for_entry(monkeypatch, kernel):
    # Empty rows and columns, a query without terms and one term shared by
    # every stored sample: the same CSR arrays as scipy's product.
    X, _, Q = _data(n_test=40)
    X = sp.vstack([X, sp.csr_matrix((3, X.shape[1]))], format="lil")
    X[:, 7] = 1.0
    samples_t = _neighbors._unit_rows(X).T.tocsr()
    queries = _neighbors._unit_rows(sp.vstack([Q, sp.csr_matrix((1, Q.shape[1]))]))
    calls = []
    if kernel == "no kernel":
        monkeypatch.setattr(_neighbors, "_csr_matmat", None)
    elif kernel == "over the bound":
        monkeypatch.setattr(_neighbors, "_MAX_BOUND", 10)
        monkeypatch.setattr(_neighbors, "_csr_matmat", lambda *args: calls.append(1))
    else:
        assert _neighbors._csr_matmat is not None
        kernel_of_scipy = _neighbors._csr_matmat
        monkeypatch.setattr(
            _neighbors,
            "_csr_matmat",
            lambda *args: calls.append(1) or kernel_of_scipy(*args),
        )
    similarities = _neighbors._similarities(queries, samples_t)
    assert len(calls) == (kernel == "scipy's kernel")
    expected = (queries @ samples_t).tocsr()
    assert similarities.dtype == np.float32
    np.testing.assert_array_equal(similarities.indptr, expected.indptr)
    np.testing.assert_array_equal(similarities.indices, expected.indices)
    np.testing.assert_array_equal(similarities.data, expected.data)
    # float64 features take scipy's product.
    wide = _neighbors._similarities(queries.astype(np.float64), samples_t)
    np.testing.assert_allclose(wide.toarray(), expected.toarray(), rtol=1e-6)


@pytest.mark.parametrize("k", [1, 4, 30])
def test_top_similarities_keep_each_rows_largest_positive_entries_in_order(k):
    # Rows longer and shorter than k, an empty row, negative entries and
    # unsorted indices (scipy's product does not sort them).
    rng = np.random.RandomState(0)
    dense = np.where(rng.rand(12, 40) < 0.4, rng.rand(12, 40) - 0.2, 0.0)
    dense[3] = 0.0
    dense[5, :] = np.where(dense[5] != 0, -1.0, 0.0)
    similarities = sp.csr_matrix(dense.astype(np.float32))
    for row in range(similarities.shape[0]):
        start, stop = similarities.indptr[row], similarities.indptr[row + 1]
        shuffled = start + rng.permutation(stop - start)
        similarities.indices[start:stop] = similarities.indices[shuffled]
        similarities.data[start:stop] = similarities.data[shuffled]
    similarities.has_sorted_indices = False
    kept = _neighbors._top_similarities(similarities.copy(), k)
    for row in range(similarities.shape[0]):
        start, stop = similarities.indptr[row], similarities.indptr[row + 1]
        values = similarities.data[start:stop]
        positive = np.flatnonzero(values > 0)
        largest = np.sort(positive[np.argsort(-values[positive])[:k]])
        kept_row = slice(kept.indptr[row], kept.indptr[row + 1])
        np.testing.assert_array_equal(
            kept.indices[kept_row], similarities.indices[start:stop][largest]
        )
        np.testing.assert_array_equal(kept.data[kept_row], values[largest])
    assert kept.indptr[4] == kept.indptr[3] and kept.indptr[6] == kept.indptr[5]


@pytest.mark.parametrize("power", [3.0, 1.0, 0.0])
def test_a_few_queries_score_exactly_as_a_block(power):
    # A few queries take a path of their own; it must give the block's
    # neighbours and floats, ties at the k-th similarity (repeated training
    # rows), unsorted and repeated query entries and empty queries included.
    X, Y, Q = _data(n_test=60)
    X = sp.vstack([X, X[:40], X[:40]], format="csr")
    Y = np.vstack([Y, 1 - Y[:40], Y[:40]])
    Q = sp.vstack([Q, X[:20], sp.csr_matrix((1, Q.shape[1]))], format="csr")
    Q.indices[Q.indptr[1] : Q.indptr[2]] = Q.indices[Q.indptr[1] : Q.indptr[2]][::-1]
    Q.data[Q.indptr[1] : Q.indptr[2]] = Q.data[Q.indptr[1] : Q.indptr[2]][::-1]
    Q.has_sorted_indices = False
    model = MultilabelKNeighborsClassifier(n_neighbors=7, similarity_power=power)
    model.fit(X, Y)
    whole = model.predict_proba(Q)
    assert Q.shape[0] > _neighbors._FEW_QUERIES
    one_by_one = np.vstack(
        [model.predict_proba(Q[i : i + 1]) for i in range(Q.shape[0])]
    )
    np.testing.assert_array_equal(one_by_one, whole)
    np.testing.assert_array_equal(model.predict_proba(Q[:3]), whole[:3])
    np.testing.assert_allclose(whole[-1], Y.mean(axis=0))


def test_dense_and_sparse_features_give_the_same_model():
    X, Y, Q = _data()
    sparse_model = MultilabelKNeighborsClassifier(n_neighbors=5).fit(X, Y)
    dense_model = MultilabelKNeighborsClassifier(n_neighbors=5).fit(X.toarray(), Y)
    np.testing.assert_allclose(
        dense_model.predict_proba(Q.toarray()), sparse_model.predict_proba(Q)
    )


def test_unsorted_and_duplicate_entries_give_the_same_model():
    # Features with unsorted column indices (as a column selection leaves
    # them), and with the entries of every other row split in two halves.
    X, Y, Q = _data()
    data, indices, indptr = [], [], [0]
    for i in range(X.shape[0]):
        row = X[i]
        if i % 2:
            data += [row.data[::-1]]
            indices += [row.indices[::-1]]
        else:
            data += [np.repeat(row.data / 2, 2)]
            indices += [np.repeat(row.indices, 2)]
        indptr.append(indptr[-1] + data[-1].size)
    features = sp.csr_matrix(
        (np.concatenate(data), np.concatenate(indices), indptr), shape=X.shape
    )
    assert features.nnz > X.nnz and not features.has_canonical_format
    expected = MultilabelKNeighborsClassifier(n_neighbors=5).fit(X, Y)
    model = MultilabelKNeighborsClassifier(n_neighbors=5).fit(features, Y)
    np.testing.assert_allclose(
        model.predict_proba(Q), expected.predict_proba(Q), atol=1e-6
    )
    np.testing.assert_allclose(
        model.predict_proba(features), expected.predict_proba(X), atol=1e-6
    )


def test_one_dimensional_targets_give_class_probabilities():
    X, Y, Q = _data()
    classes = np.array(["a", "b", "c"])[Y[:, :3].argmax(axis=1)]
    multiclass = MultilabelKNeighborsClassifier(n_neighbors=5).fit(X, classes)
    proba = multiclass.predict_proba(Q)
    assert proba.shape == (Q.shape[0], 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert set(multiclass.predict(Q)) <= set(classes)
    binary = MultilabelKNeighborsClassifier(n_neighbors=5).fit(X, Y[:, 0])
    assert binary.predict_proba(Q).shape == (Q.shape[0], 2)
    assert binary.decision_function(Q).shape == (Q.shape[0],)


def test_saved_models_predict_exactly_as_the_fitted_one(tmp_path):
    X, Y, Q = _data()
    model = MultilabelKNeighborsClassifier(n_neighbors=5).fit(X, Y)
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(again.predict_proba(Q), model.predict_proba(Q))
    save_model(model, tmp_path / "knn.skops")
    loaded = load_model(tmp_path / "knn.skops")
    np.testing.assert_array_equal(loaded.predict_proba(Q), model.predict_proba(Q))


def test_stored_samples_take_half_precision_space():
    X, Y, _ = _data(n_train=2000, n_features=500)
    model = MultilabelKNeighborsClassifier().fit(X, Y)
    state = model.__getstate__()
    data, indices, _, _ = state["_samples_t_parts"]
    assert data.dtype == np.float16 and indices.dtype == np.uint16
    assert len(pickle.dumps(model)) < 5.5 * model._samples_t.nnz


def test_features_must_match_the_fitted_number():
    X, Y, _ = _data()
    model = MultilabelKNeighborsClassifier().fit(X, Y)
    with pytest.raises(ValueError, match="50 features"):
        model.predict_proba(sp.random(3, 40, density=0.2, format="csr"))


def test_more_samples_than_uint16_indices_round_trip_exactly():
    rng = np.random.RandomState(0)
    n = (1 << 16) + 100
    X = sp.random(n, 6, density=0.3, random_state=rng, format="csr")
    Y = (rng.rand(n, 2) < 0.4).astype(int)
    model = MultilabelKNeighborsClassifier(n_neighbors=10).fit(X, Y)
    data, indices, _, _ = model.__getstate__()["_samples_t_parts"]
    assert indices.dtype == np.int32
    queries = X[:20]
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(
        again.predict_proba(queries), model.predict_proba(queries)
    )
