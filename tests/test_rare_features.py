"""RareFeatureSelector: the document-frequency cut of already computed features."""

import numpy as np
import pytest
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from skanime import RareFeatureSelector

DOCS = [
    "robot pilot battle",
    "robot pilot colony",
    "robot school love",
    "school love letter",
    "robot ghost night",
]


def test_keeps_the_features_of_few_samples_and_renormalises_rows():
    vectorizer = TfidfVectorizer()
    X = vectorizer.fit_transform(DOCS)
    selector = RareFeatureSelector(max_df=0.4).fit(X)
    df = np.asarray((X > 0).sum(axis=0)).ravel()
    np.testing.assert_array_equal(selector.document_frequency_, df)
    np.testing.assert_array_equal(selector.get_support(), df <= 2)
    kept = selector.transform(X)
    assert sparse.isspmatrix_csr(kept) and kept.shape == (5, int((df <= 2).sum()))
    names = selector.get_feature_names_out(vectorizer.get_feature_names_out())
    assert "robot" not in names and "pilot" in names
    # The same as a vectorizer that cuts its own vocabulary at 2 documents.
    direct = TfidfVectorizer(max_df=2).fit(DOCS)
    assert list(names) == list(direct.get_feature_names_out())
    np.testing.assert_allclose(kept.toarray(), direct.transform(DOCS).toarray())


def test_a_count_and_a_share_of_the_samples():
    X = TfidfVectorizer().fit_transform(DOCS)
    by_count = RareFeatureSelector(max_df=2).fit(X)
    by_share = RareFeatureSelector(max_df=0.4).fit(X)
    np.testing.assert_array_equal(by_count.get_support(), by_share.get_support())
    assert RareFeatureSelector(max_df=1.0).fit(X).get_support().all()


@pytest.mark.parametrize("norm", ["l2", "l1", None])
def test_sparse_and_dense_input_give_the_same_rows(norm):
    X = TfidfVectorizer().fit_transform(DOCS).astype(np.float32)
    selector = RareFeatureSelector(max_df=2, norm=norm).fit(X)
    from_sparse = selector.transform(X)
    assert from_sparse.dtype == np.float32
    from_dense = selector.transform(X.toarray())
    np.testing.assert_allclose(from_sparse.toarray(), from_dense, rtol=1e-6)
    np.testing.assert_array_equal(
        selector._trusted_transform(X).toarray(), from_sparse.toarray()
    )
    if norm is not None:
        lengths = np.linalg.norm(from_dense, ord=2 if norm == "l2" else 1, axis=1)
        np.testing.assert_allclose(lengths[lengths > 0], 1.0, rtol=1e-6)


def test_rows_without_a_kept_feature_stay_zero():
    X = TfidfVectorizer().fit_transform(DOCS)
    selector = RareFeatureSelector(max_df=1).fit(X)
    kept = selector.transform(TfidfVectorizer().fit(DOCS).transform(["robot"]))
    assert kept.nnz == 0 and np.isfinite(kept.toarray()).all()


def test_explicit_zeros_are_not_counted():
    X = sparse.csr_matrix(np.array([[1.0, 2.0], [3.0, 0.0], [4.0, 0.0]]))
    X.data[X.data == 2.0] = 0.0  # an explicit zero in column 1
    selector = RareFeatureSelector(max_df=1).fit(X)
    np.testing.assert_array_equal(selector.document_frequency_, [3, 0])


def test_a_small_training_set_keeps_its_rarest_features():
    X = np.array([[1.0, 1.0, 0.0], [1.0, 1.0, 1.0], [1.0, 0.0, 1.0]])
    selector = RareFeatureSelector(max_df=0.05).fit(X)
    np.testing.assert_array_equal(selector.get_support(), [False, True, True])


def test_transform_checks_the_number_of_features():
    selector = RareFeatureSelector(max_df=2).fit(np.eye(3))
    with pytest.raises(ValueError, match="3 features"):
        selector.transform(np.eye(4))
