import gzip
import shutil

import numpy as np
import pytest
from gensim.models import KeyedVectors
from sklearn.utils._param_validation import InvalidParameterError

from skanime.datasets import load_word_vectors

WORDS = ["space", "robot", "sword", "school"]


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_word2vec_text(datapath):
    kv = load_word_vectors(datapath("tiny_w2v.txt"))
    assert kv.index_to_key == WORDS
    assert kv.vector_size == 3
    np.testing.assert_allclose(kv["sword"], [-0.2, 0.5, 0.1], rtol=1e-6)


def test_word2vec_text_bad_line(datapath):
    with pytest.raises(
        ValueError,
        match=r"tiny_w2v_bad\.txt, line 4: expected a word and 3 numbers separated "
        r"by single spaces, found 2 numbers",
    ):
        load_word_vectors(datapath("tiny_w2v_bad.txt"))


def test_glove_text_is_detected(datapath):
    kv = load_word_vectors(datapath("tiny_glove.txt"))
    assert kv.index_to_key == ["space", "robot", "sword"]
    assert kv.vector_size == 4
    np.testing.assert_allclose(kv["robot"], [0.3, 0.1, 0.0, 0.2], rtol=1e-6)


def test_glove_bad_line(tmp_path):
    path = _write(tmp_path / "glove.txt", "a 1 2 3\nb 1 2 3\nc 1 2\n")
    with pytest.raises(ValueError, match=r"glove\.txt, line 3: expected a word and 3"):
        load_word_vectors(path)


@pytest.mark.parametrize("binary", [None, True])
def test_word2vec_binary(datapath, tmp_path, binary):
    reference = load_word_vectors(datapath("tiny_w2v.txt"))
    path = tmp_path / "vectors.bin"
    reference.save_word2vec_format(str(path), binary=True)
    kv = load_word_vectors(path, binary=binary)
    assert kv.index_to_key == WORDS
    np.testing.assert_array_equal(kv.vectors, reference.vectors)


@pytest.mark.parametrize("name", ["vectors.txt.gz", "vectors.data"])
def test_gzip_text(datapath, tmp_path, name):
    path = tmp_path / name
    with open(datapath("tiny_w2v.txt"), "rb") as src, gzip.open(path, "wb") as dst:
        shutil.copyfileobj(src, dst)
    kv = load_word_vectors(path)
    assert kv.index_to_key == WORDS


def test_gzip_bad_line(datapath, tmp_path):
    path = tmp_path / "bad.txt.gz"
    path.write_bytes(gzip.compress(datapath("tiny_w2v_bad.txt").read_bytes()))
    with pytest.raises(ValueError, match=r"bad\.txt\.gz, line 4: expected a word"):
        load_word_vectors(path)


def test_token_that_is_not_a_number(tmp_path):
    path = _write(tmp_path / "v.txt", "3 2\na 1 2\nb 1 x\nc 1 2\n")
    with pytest.raises(ValueError, match=r"v\.txt, line 3: 'x' is not a number"):
        load_word_vectors(path)


def test_header_count_too_large(tmp_path):
    path = _write(tmp_path / "v.txt", "5 2\na 1 2\nb 1 3\n")
    with pytest.raises(
        ValueError,
        match=r"line 3: the file ends after 2 vectors but its header "
        r"declares 5; it may be truncated",
    ):
        load_word_vectors(path)


def test_header_count_too_small(tmp_path):
    path = _write(tmp_path / "v.txt", "1 2\na 1 2\nb 1 3\n\n")
    with pytest.raises(ValueError, match=r"line 3: the header declares 1 vectors"):
        load_word_vectors(path)


def test_duplicate_word(tmp_path):
    path = _write(tmp_path / "v.txt", "3 2\na 1 2\nb 1 3\na 0 0\n")
    with pytest.raises(
        ValueError, match=r"line 4: the word 'a' already has a vector on line 2"
    ):
        load_word_vectors(path)


def test_empty_line_inside(tmp_path):
    path = _write(tmp_path / "v.txt", "3 2\na 1 2\n\nb 1 3\n")
    with pytest.raises(ValueError, match=r"line 3: empty line"):
        load_word_vectors(path)


def test_limit_reads_only_the_first_words(datapath):
    kv = load_word_vectors(datapath("tiny_w2v.txt"), limit=2)
    assert kv.index_to_key == ["space", "robot"]
    # The bad line 4 lies beyond the limit, so it is neither read nor checked.
    kv = load_word_vectors(datapath("tiny_w2v_bad.txt"), limit=2)
    assert kv.index_to_key == ["space", "robot"]


def test_binary_true_needs_a_header(datapath):
    with pytest.raises(ValueError, match=r"line 1: binary word2vec files start with"):
        load_word_vectors(datapath("tiny_glove.txt"), binary=True)


def test_text_file_read_as_binary(tmp_path):
    path = _write(tmp_path / "v.txt", "2 2\n" + "x" * 5 + "\n")
    with pytest.raises(ValueError, match=r"v\.txt: cannot be read as binary word2vec"):
        load_word_vectors(path, binary=True)


def test_keyed_vectors_pass_through(datapath):
    kv = load_word_vectors(datapath("tiny_w2v.txt"))
    assert load_word_vectors(kv) is kv
    small = load_word_vectors(kv, limit=3)
    assert small.index_to_key == WORDS[:3]
    np.testing.assert_array_equal(small.vectors, kv.vectors[:3])


def test_mapping():
    kv = load_word_vectors({"mecha": [1.0, 0.0], "idol": np.array([0.0, 1.0])})
    assert isinstance(kv, KeyedVectors)
    assert kv.index_to_key == ["mecha", "idol"]
    np.testing.assert_array_equal(kv["idol"], [0.0, 1.0])
    assert load_word_vectors({"a": [1], "b": [2]}, limit=1).index_to_key == ["a"]


def test_mapping_errors():
    with pytest.raises(ValueError, match="'idol' has 3 numbers but the first"):
        load_word_vectors({"mecha": [1.0, 0.0], "idol": [0.0, 1.0, 2.0]})
    with pytest.raises(ValueError, match="mapping is empty"):
        load_word_vectors({})
    with pytest.raises(TypeError, match="keys must be str; got int"):
        load_word_vectors({1: [1.0]})
    with pytest.raises(ValueError, match=r"'a' has shape \(1, 2\)"):
        load_word_vectors({"a": [[1.0, 2.0]]})


def test_missing_file_and_bad_params(tmp_path):
    with pytest.raises(FileNotFoundError, match="No word-vector file"):
        load_word_vectors(tmp_path / "nope.txt")
    with pytest.raises(InvalidParameterError, match="limit"):
        load_word_vectors({"a": [1.0]}, limit=0)
    with pytest.raises(InvalidParameterError, match="source"):
        load_word_vectors(3.5)


@pytest.mark.real_data
def test_real_ptb_vectors(ptb_vectors_path):
    kv = load_word_vectors(ptb_vectors_path)
    assert len(kv.index_to_key) == 10000
    assert kv.vector_size == 100
    assert "the" in kv and "anime" not in kv
