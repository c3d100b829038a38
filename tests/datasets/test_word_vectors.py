import gzip
import shutil

import numpy as np
import pytest
from gensim.models import KeyedVectors
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.utils._param_validation import InvalidParameterError

from skanime.cli import main
from skanime.datasets import _word_vectors, load_word_vectors

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
    with pytest.raises(
        ValueError,
        match=r"v\.txt: the file ends inside vector 1 of the 2 its header declares "
        r"\(2 dimensions, 8 bytes each\); it may be truncated, or be a text file "
        r"\(pass binary=False\)",
    ):
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


# ----------------------------------------------------------- hostile files
# Each file below is small, but claims or holds more than a loader should
# read. The limits are the module's MAX_* constants, the file size
# MAX_VECTOR_FILE_BYTES among them.


def _binary_file(path, header, entries):
    """A binary word2vec file: ``header`` line, then word, space, float32s."""
    body = b"".join(
        word.encode() + b" " + np.asarray(vector, dtype=np.float32).tobytes()
        for word, vector in entries
    )
    path.write_bytes(header.encode() + b"\n" + body)
    return path


@pytest.mark.parametrize("binary", [None, True, False])
def test_a_header_declaring_a_billion_words_is_refused_before_allocating(
    tmp_path, binary
):
    # gensim allocates the vectors and a list of 10^9 words from this header.
    path = _binary_file(tmp_path / "v.bin", "1000000000 300", [("a", [0.5] * 300)])
    with pytest.raises(
        ValueError,
        match=r"v\.bin, line 1: the header declares 1,000,000,000 words, more than "
        r"the 4,000,000 a word-vector file may hold; refusing to read it\. Keep at "
        r"most 4,000,000 words \(load_word_vectors\(path, limit=n\) reads only "
        r"the first n\), or fix the count on line 1\.$",
    ):
        load_word_vectors(path, binary=binary)


def test_a_huge_header_count_is_read_up_to_limit(tmp_path):
    path = _binary_file(tmp_path / "v.bin", "1000000000 3", [("a", [1, 2, 3])])
    kv = load_word_vectors(path, limit=1)
    assert kv.index_to_key == ["a"]
    np.testing.assert_array_equal(kv["a"], [1, 2, 3])


@pytest.mark.parametrize("binary", [None, True])
def test_a_header_declaring_a_million_dimensions_is_refused(tmp_path, binary):
    path = _write(tmp_path / "v.txt", "2 1000000\na 1\n")
    with pytest.raises(
        ValueError,
        match=r"v\.txt, line 1: the header declares vectors of 1,000,000 "
        r"dimensions, more than the 10,000 a word-vector file may have",
    ):
        load_word_vectors(path, binary=binary)


def test_a_header_declaring_zero_dimensions_is_refused(tmp_path):
    path = _write(tmp_path / "v.txt", "3 0\na\nb\nc\n")
    with pytest.raises(
        ValueError, match=r"line 1: the header declares vectors of 0 dimensions"
    ):
        load_word_vectors(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", r"v\.txt: the file holds no word vectors"),
        ("\n", r"v\.txt, line 1: empty line"),
        ("0 5\n", r"v\.txt, line 1: the header declares 0 words"),
    ],
    ids=["empty", "blank-line", "zero-words"],
)
def test_a_file_without_vectors_is_refused(tmp_path, text, message):
    path = _write(tmp_path / "v.txt", text)
    with pytest.raises(ValueError, match=message):
        load_word_vectors(path)
    with pytest.raises(ValueError, match=r"v\.txt"):
        load_word_vectors(path, binary=True)


def test_a_glove_vector_with_too_many_numbers_is_refused(tmp_path):
    path = _write(tmp_path / "glove.txt", "w" + " 0" * 10_001 + "\n")
    with pytest.raises(
        ValueError,
        match=r"glove\.txt, line 1: the line holds a vector of 10,001 numbers, "
        r"more than the 10,000 dimensions",
    ):
        load_word_vectors(path)
    path = _write(tmp_path / "ok.txt", "w" + " 0" * 10_000 + "\n")
    assert load_word_vectors(path).vector_size == 10_000


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("2 3\na 1 2 3\n" + "b" * (2 << 20) + "\nc 1 2 3\n", 3),
        ("w" + " 0" * (1 << 20) + "\n", 1),  # a GloVe line of a million numbers
        ("x" * (3 << 20), 1),  # no line break at all
    ],
    ids=["word2vec", "glove", "no-newline"],
)
def test_a_line_over_one_mib_is_refused_with_its_number(tmp_path, text, line):
    path = _write(tmp_path / "v.txt", text)
    with pytest.raises(
        ValueError,
        match=rf"v\.txt, line {line}: the line is longer than 1 MiB, the longest "
        r"a word-vector file may have",
    ):
        load_word_vectors(path)


def test_a_glove_file_with_too_many_words_is_refused_at_that_line(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(_word_vectors, "MAX_VOCABULARY", 3)
    path = _write(tmp_path / "glove.txt", "a 1\nb 2\nc 3\nd 4\n")
    with pytest.raises(
        ValueError,
        match=r"glove\.txt, line 4: the file holds more than 3 vectors, the most",
    ):
        load_word_vectors(path)
    assert load_word_vectors(path, limit=3).index_to_key == ["a", "b", "c"]


def test_a_file_over_the_size_limit_is_refused_unread(tmp_path, monkeypatch):
    monkeypatch.setattr(_word_vectors, "MAX_VECTOR_FILE_BYTES", 1000)
    path = _write(tmp_path / "v.txt", "".join(f"w{i} 0.5 0.5\n" for i in range(200)))
    with pytest.raises(
        ValueError,
        match=r"v\.txt: the file holds more than 1,000 bytes, the most a "
        r"word-vector file may hold; refusing to read it\. Keep fewer words",
    ):
        load_word_vectors(path)


@pytest.mark.parametrize("name", ["v.txt.gz", "v.data"])
def test_a_gzip_bomb_is_refused_without_decompressing_it_all(
    tmp_path, monkeypatch, name
):
    monkeypatch.setattr(_word_vectors, "MAX_VECTOR_FILE_BYTES", 1 << 20)
    path = tmp_path / name
    path.write_bytes(gzip.compress(b"a 1\nb " + b"0" * (8 << 20) + b"\n"))
    assert path.stat().st_size < 100_000
    with pytest.raises(
        ValueError, match=r"the file decompresses to more than 1 MiB, the most"
    ):
        load_word_vectors(path)


def test_a_truncated_gzip_file_is_named_as_such(datapath, tmp_path):
    path = tmp_path / "v.txt.gz"
    data = gzip.compress(datapath("tiny_w2v.txt").read_bytes())
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(
        ValueError,
        match=r"v\.txt\.gz: the file is gzip-compressed but cannot be "
        r"decompressed .*; it is probably truncated",
    ):
        load_word_vectors(path)


def test_a_binary_word_without_its_space_is_refused_quickly(tmp_path):
    # gensim would search an ever-growing buffer for the space: quadratic
    # time in the file's size (3 s for 30 MiB, 12 s for 60 MiB).
    path = tmp_path / "v.bin"
    path.write_bytes(b"1 2\n" + b"a" * (3 << 20))
    with pytest.raises(
        ValueError,
        match=r"v\.bin: vector 1 \(byte 4\): no word ends within 1 MiB, the "
        r"longest word a word-vector file may have",
    ):
        load_word_vectors(path)


def test_a_binary_file_shorter_than_its_header_is_refused(tmp_path):
    path = _binary_file(tmp_path / "v.bin", "3 2", [("a", [1, 2]), ("b", [3, 4])])
    with pytest.raises(
        ValueError,
        match=r"v\.bin: the file ends inside vector 3 of the 3 its header "
        r"declares \(2 dimensions, 8 bytes each\)",
    ):
        load_word_vectors(path)
    assert load_word_vectors(path, limit=2).index_to_key == ["a", "b"]


def test_a_binary_word_that_is_not_utf8_is_refused(tmp_path):
    path = tmp_path / "v.bin"
    vector = np.zeros(2, dtype=np.float32).tobytes()
    path.write_bytes(b"2 2\na " + vector + b"\n\xff\xfe " + vector)
    with pytest.raises(
        ValueError, match=r"v\.bin: vector 2 \(byte 14\): the word is not valid UTF-8"
    ):
        load_word_vectors(path)


def test_the_cli_gives_one_line_for_a_hostile_vectors_file(datapath, tmp_path, capsys):
    vectors = _binary_file(tmp_path / "v.bin", "1000000000 3", [("a", [1, 2, 3])])
    model = tmp_path / "model.skops"
    code = main(
        [
            "train",
            str(datapath("cli", "anime_small.csv")),
            "-o",
            str(model),
            "-q",
            "--param",
            f"stack__network__embed__vectors={vectors}",
        ]
    )
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert err.startswith("skanime: error: training failed on ")
    assert "v.bin, line 1: the header declares 1,000,000,000 words" in err
    assert not model.exists()


_HEADERS = st.sampled_from(
    [b"", b"2 3\n", b"1 1\n", b"0 5\n", b"3 2\n", b"99999999999 2\n", b"2 99999\n"]
)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    header=_HEADERS,
    body=st.binary(max_size=300),
    binary=st.sampled_from([None, True, False]),
    gzipped=st.booleans(),
)
def test_arbitrary_bytes_load_or_give_a_value_error(
    tmp_path_factory, header, body, binary, gzipped
):
    data = header + body
    path = tmp_path_factory.mktemp("fuzz") / "v.bin"
    path.write_bytes(gzip.compress(data) if gzipped else data)
    try:
        kv = load_word_vectors(path, binary=binary)
    except ValueError as exc:
        message = str(exc)
        assert message.startswith(str(path))
        assert "\n" not in message
    else:
        assert kv.vectors.shape == (len(kv.index_to_key), kv.vector_size)
        assert 1 <= kv.vector_size <= _word_vectors.MAX_VECTOR_SIZE


@pytest.mark.real_data
def test_real_ptb_vectors(ptb_vectors_path):
    kv = load_word_vectors(ptb_vectors_path)
    assert len(kv.index_to_key) == 10000
    assert kv.vector_size == 100
    assert "the" in kv and "anime" not in kv
