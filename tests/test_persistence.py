import csv
import os
import pickle
import warnings
import zipfile

import numpy as np
import pytest
import sklearn
import skops.io as sio
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skanime
from skanime import GenreClassifier, make_genre_pipeline
from skanime._persistence import (
    ModelFileError,
    ModelVersionWarning,
    UntrustedModelError,
    load_model,
    save_model,
    trusted_types,
)
from skanime.model_selection import MultilabelStratifiedKFold, MultiLabelThresholdTuner

SMALL = dict(
    stack__network__embed__vector_size=16,
    stack__network__embed__epochs=5,
    stack__network__clf__hidden_layer_sizes=(16,),
    stack__network__clf__max_iter=20,
    random_state=0,
)


def _corpus(datapath):
    with open(datapath("cli", "anime_small.csv"), encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    return [r["Synopsis"] for r in rows], [r["Genre"].split(", ") for r in rows]


@pytest.fixture(scope="module")
def corpus(datapath):
    return _corpus(datapath)


@pytest.fixture(scope="module")
def fitted(corpus):
    X, y = corpus
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return GenreClassifier(pipeline=make_genre_pipeline(**SMALL)).fit(X, y)


@pytest.fixture(scope="module")
def model_file(fitted, tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "model.skops"
    save_model(fitted, path)
    return path


class Shouter(TransformerMixin, BaseEstimator):
    """A user-defined step: not on skanime's trusted list."""

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return [x.upper() for x in X]


def test_round_trip_gives_equal_predictions(fitted, model_file, corpus):
    X, _ = corpus
    loaded = load_model(model_file)
    assert isinstance(loaded, GenreClassifier)
    assert loaded.classes_.tolist() == fitted.classes_.tolist()
    np.testing.assert_array_equal(
        loaded.predict_proba(X).to_numpy(), fitted.predict_proba(X).to_numpy()
    )
    assert loaded.predict(X) == fitted.predict(X)


def test_default_model_types_are_all_trusted(model_file):
    found = set(sio.get_untrusted_types(file=model_file))
    assert found <= set(trusted_types())
    assert "skanime._pipeline.GenreClassifier" in found
    assert not any(name.startswith("gensim.") for name in found)


def test_saving_a_default_model_warns_nothing(fitted, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        save_model(fitted, tmp_path / "m.skops")
    assert (tmp_path / "m.skops").stat().st_size > 0


def test_save_replaces_the_file_and_leaves_no_temporary(fitted, tmp_path):
    path = tmp_path / "model.skops"
    path.write_bytes(b"old content")
    save_model(fitted, path)
    assert os.listdir(tmp_path) == ["model.skops"]
    assert zipfile.is_zipfile(path)


def test_save_into_a_missing_folder_fails_without_writing(fitted, tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        save_model(fitted, tmp_path / "nope" / "model.skops")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("where", [0.3, 0.5, 0.7, 0.9])
def test_flipped_bytes_are_refused(model_file, tmp_path, where):
    data = bytearray(model_file.read_bytes())
    i = int(len(data) * where)
    data[i : i + 8] = bytes(b ^ 0xFF for b in data[i : i + 8])
    bad = tmp_path / "bad.skops"
    bad.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="Cannot load .*bad.skops"):
        load_model(bad)


@pytest.mark.parametrize("start", [4, 8, 14, 18, 22])
def test_flipped_member_headers_are_refused(model_file, tmp_path, start):
    # zipfile itself reads the directory's copy of a member's checksum,
    # sizes and method, and skips the member's own header.
    data = model_file.read_bytes()
    with zipfile.ZipFile(model_file) as archive:
        offsets = [member.header_offset for member in archive.infolist()]
    for offset in offsets[:: max(1, len(offsets) // 6)]:
        bad_data = bytearray(data)
        i = offset + start
        bad_data[i : i + 8] = bytes(b ^ 0xFF for b in bad_data[i : i + 8])
        bad = tmp_path / "bad.skops"
        bad.write_bytes(bytes(bad_data))
        with pytest.raises(ModelFileError, match="damaged"):
            load_model(bad)


@pytest.mark.parametrize("keep", [0.0, 0.5, 0.99])
def test_truncated_files_are_refused(model_file, tmp_path, keep):
    data = model_file.read_bytes()
    bad = tmp_path / "short.skops"
    bad.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(ModelFileError, match="(damaged|truncated|empty)"):
        load_model(bad)


def test_pickle_files_are_refused_with_the_reason(fitted, tmp_path):
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps({"model": "anything"}))
    with pytest.raises(ModelFileError, match="pickle") as info:
        load_model(path)
    assert "arbitrary code" in str(info.value)


def test_other_zip_archives_are_refused(tmp_path):
    path = tmp_path / "other.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "not a model")
    with pytest.raises(ModelFileError, match="not a skops model file"):
        load_model(path)


def test_skops_files_not_written_by_skanime_are_refused(tmp_path):
    path = tmp_path / "scaler.skops"
    sio.dump(StandardScaler().fit([[0.0], [1.0]]), path)
    with pytest.raises(ModelFileError, match="not written by skanime.save_model"):
        load_model(path)


def test_newer_format_versions_are_refused(tmp_path):
    path = tmp_path / "future.skops"
    sio.dump({"format": "skanime-model", "format_version": 99, "model": 1}, path)
    with pytest.raises(ModelFileError, match="format version 99"):
        load_model(path)


def test_untrusted_types_are_refused_by_name(corpus, tmp_path):
    X, y = corpus
    pipe = make_pipeline(
        Shouter(),
        TfidfVectorizer(lowercase=False),
        OneVsRestClassifier(LogisticRegression()),
    )
    model = GenreClassifier(pipeline=pipe).fit(X, y)
    path = tmp_path / "custom.skops"
    with pytest.warns(UserWarning, match="Shouter"):
        save_model(model, path)
    with pytest.raises(UntrustedModelError, match="Shouter") as info:
        load_model(path)
    (name,) = info.value.untrusted_types
    assert name.endswith(".Shouter")
    loaded = load_model(path, trusted=[name])
    assert loaded.predict(X[:5]) == model.predict(X[:5])


def test_trusting_everything_is_not_supported(model_file):
    with pytest.raises(TypeError, match="list of fully qualified type names"):
        load_model(model_file, trusted=True)
    with pytest.raises(TypeError, match="list of fully qualified type names"):
        load_model(model_file, trusted="skanime.Anything")


def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "missing.skops")


@pytest.mark.parametrize(
    "module, name", [(skanime._persistence, "skanime"), (sklearn, "scikit-learn")]
)
def test_version_change_warns(fitted, tmp_path, monkeypatch, module, name):
    path = tmp_path / "old.skops"
    with monkeypatch.context() as patch:
        patch.setattr(module, "__version__", "0.0.1")
        save_model(fitted, path)
    with pytest.warns(ModelVersionWarning, match=f"{name} 0.0.1") as record:
        loaded = load_model(path)
    assert isinstance(loaded, GenreClassifier)
    warning = record[0].message
    assert warning.saved_versions[name] == "0.0.1"
    assert warning.current_versions[name] == module.__version__


def test_same_versions_do_not_warn(model_file):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert isinstance(load_model(model_file), GenreClassifier)


def test_threshold_tuner_and_splitter_are_trusted(corpus, tmp_path):
    X, y = corpus
    tuner = MultiLabelThresholdTuner(
        make_genre_pipeline(**SMALL),
        cv=MultilabelStratifiedKFold(2, shuffle=True, random_state=0),
        thresholds=9,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = GenreClassifier(pipeline=tuner).fit(X, y)
    path = tmp_path / "tuned.skops"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        save_model(model, path)
    found = sio.get_untrusted_types(file=path)
    assert "skanime.model_selection._split.MultilabelStratifiedKFold" in found
    loaded = load_model(path)
    np.testing.assert_array_equal(
        loaded.pipeline_.thresholds_, model.pipeline_.thresholds_
    )
    assert loaded.predict(X) == model.predict(X)


# ------------------------------------------------- the trusted list, from code
def _package_estimator_types():
    """Every estimator and splitter class defined in skanime's modules."""
    import importlib
    import inspect
    import pkgutil

    from sklearn.model_selection import BaseCrossValidator, BaseShuffleSplit

    bases = (BaseEstimator, BaseCrossValidator, BaseShuffleSplit)
    found = set()
    for info in pkgutil.walk_packages(skanime.__path__, "skanime."):
        if info.name.rsplit(".", 1)[-1] == "__main__":
            continue
        module = importlib.import_module(info.name)
        for obj in vars(module).values():
            if (
                inspect.isclass(obj)
                and issubclass(obj, bases)
                and obj.__module__ == info.name
            ):
                found.add(f"{obj.__module__}.{obj.__qualname__}")
    return found


def test_trusted_list_is_exactly_the_package_estimators():
    from skanime._persistence import EXTRA_TRUSTED_TYPES, SKANIME_TRUSTED_TYPES

    package = _package_estimator_types()
    assert "skanime._pipeline.GenreClassifier" in package
    missing = package - set(SKANIME_TRUSTED_TYPES)
    assert not missing, f"add these estimators to SKANIME_TRUSTED_TYPES: {missing}"
    extra = set(SKANIME_TRUSTED_TYPES) - package
    assert not extra, f"SKANIME_TRUSTED_TYPES names non-estimators: {extra}"
    assert set(trusted_types()) == package | set(EXTRA_TRUSTED_TYPES)


def test_every_type_held_by_fitted_package_models_is_trusted(model_file, tmp_path):
    """The default model and its parts hold only skops-default or listed types."""
    from skanime._persistence import EXTRA_TRUSTED_TYPES

    found = set(sio.get_untrusted_types(file=model_file))
    outside_skanime = {name for name in found if not name.startswith("skanime.")}
    assert outside_skanime <= set(EXTRA_TRUSTED_TYPES)
    assert {name for name in found if name.startswith("skanime.")} <= set(
        _package_estimator_types()
    )
    # Nothing listed beyond the package's own classes is unused.
    assert set(EXTRA_TRUSTED_TYPES) <= found


def test_persistence_does_not_import_the_package_itself():
    import ast
    from pathlib import Path

    for path in Path(skanime.__file__).parent.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            elif isinstance(node, ast.ImportFrom) and node.module is None:
                names = ["." * node.level]
            assert "skanime" not in names, f"{path} imports the package skanime"
            if path.name != "__init__.py" and path.parent.name == "skanime":
                assert names != ["."], f"{path} imports the package itself"


# -------------------------------------------------------- bounds and protocol
def _rewrite_archive(src, dst, change):
    """Copy the zip ``src`` to ``dst``, letting ``change(name, data)`` edit it."""
    with (
        zipfile.ZipFile(src) as zin,
        zipfile.ZipFile(dst, "w", compression=zipfile.ZIP_DEFLATED) as zout,
    ):
        for name in zin.namelist():
            data = change(name, zin.read(name))
            if data is not None:
                zout.writestr(name, data)
        extra = change(None, None)
        for name, data in extra or ():
            zout.writestr(name, data)


def test_a_padded_model_file_is_refused_before_decompressing(
    model_file, tmp_path, monkeypatch
):
    from skanime import _persistence

    # Keep the test small: no allowance beyond 100 times the file size.
    monkeypatch.setattr(_persistence, "_RATIO_FREE_BYTES", 0)
    padded = tmp_path / "padded.skops"
    size = os.path.getsize(model_file)
    pad = b"\0" * (200 * size)
    _rewrite_archive(
        model_file,
        padded,
        lambda name, data: [("padding.npy", pad)] if name is None else data,
    )
    assert os.path.getsize(padded) < size + 1_000_000
    with pytest.raises(ModelFileError, match=r"expand to .* allowed"):
        load_model(padded)


def test_a_model_file_over_the_size_limit_is_refused_unread(model_file):
    size = os.path.getsize(model_file)
    with pytest.raises(ModelFileError, match="more than the"):
        load_model(model_file, max_file_bytes=size - 1)
    with pytest.raises(ModelFileError, match="members expand to"):
        load_model(model_file, max_uncompressed_bytes=1000)


def test_too_many_members_are_refused(model_file, tmp_path, monkeypatch):
    from skanime import _persistence

    monkeypatch.setattr(_persistence, "MAX_MODEL_MEMBERS", 3)
    with pytest.raises(ModelFileError, match="archive members"):
        load_model(model_file)


def test_a_newer_skops_protocol_is_named_not_called_damaged(model_file, tmp_path):
    import json

    newer = tmp_path / "newer.skops"

    def bump(name, data):
        if name == "schema.json":
            schema = json.loads(data)
            schema["protocol"] = 99
            schema["_skops_version"] = "9.0"
            return json.dumps(schema)
        return data

    _rewrite_archive(model_file, newer, bump)
    with pytest.raises(ModelFileError, match="protocol 99") as info:
        load_model(newer)
    message = str(info.value)
    assert "damaged" not in message and "Upgrade skops" in message
