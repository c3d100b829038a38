"""Long fuzzing runs of skanime's parsers, loaders and text pipeline.

One command regenerates ``benchmarks/results/fuzz.md``::

    python benchmarks/fuzz.py                 # about 60 s per target
    python benchmarks/fuzz.py --seconds 5     # smoke run

The test suite runs the same properties for a few seconds
(``tests/test_failure_modes.py``); this script runs them for minutes, with a
new hypothesis seed for every batch, and records what it ran, for how long
and every failure it found (the shrunk input and the exception).

Targets
-------
parse_mal_page
    Saved MAL pages from ``tests/data/pages`` with slices cut out, markup
    spliced in, tails cut off and bytes appended; random text and bytes.
    Property: an ``AnimeRecord`` with a non-empty stripped name, or a
    ``ParseError`` with one of its five reasons. Nothing else.
load_anime
    The CSV and JSONL fixtures of ``tests/data`` with bytes deleted, inserted
    or replaced, generated JSONL records and CSV rows, random text. Property:
    a ``DataFormatError`` naming the file, or a Bunch in which every record
    of the file is either kept or listed in ``dropped`` (no silent loss),
    with unique ids and at least one genre per kept row.
build_dataset
    Folders of fuzzed pages. Property: ``n_inputs == n_written +
    n_rejected``, and the two CSV files hold exactly those rows.
pipeline
    A small fitted genre pipeline on arbitrary text (emoji, CJK, control
    characters, HTML). Property: one row of finite probabilities in [0, 1]
    per synopsis, and ``predict`` keeps ``min_labels``.

The linear-time section times the cleaner and the fitted pipeline on
synopses of 125 kB to 1 MB, plain and pathological (long runs of brackets,
unclosed comments and tags, credit-like prefixes), and fits the growth
exponent of time against length; 1.0 is linear.
"""

import argparse
import csv
import io
import json
import logging
import math
import platform
import random
import sys
import tempfile
import time
import traceback
import warnings
from datetime import datetime, timezone
from pathlib import Path

import hypothesis
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import HypothesisException

import skanime
from skanime import SynopsisCleaner, make_genre_pipeline
from skanime._io import atomic_write
from skanime.datasets import (
    AnimeRecord,
    DataFormatError,
    ParseError,
    build_dataset,
    load_anime,
    parse_mal_page,
)

REPO = Path(__file__).resolve().parents[1]
TEST_DATA = REPO / "tests" / "data"
RESULTS = REPO / "benchmarks" / "results"
PARSE_REASONS = {
    "truncated page",
    "unparsable markup",
    "manga page",
    "no name",
    "no synopsis element",
}

PAGES = sorted(p.read_text(encoding="utf-8") for p in (TEST_DATA / "pages").glob("*"))
TABLES = sorted(
    p.read_bytes()
    for p in TEST_DATA.iterdir()
    if p.suffix in (".csv", ".jsonl") and p.is_file()
)
MARKUP = [
    "<html>",
    "</html>",
    "<body>",
    '<div itemprop="name">',
    "<strong>",
    "</strong>",
    '<h1 class="title-name">',
    '<p itemprop="description">',
    "</p>",
    '<span class="dark_text">Genres:</span>',
    '<span class="dark_text">Themes:</span>',
    '<span class="dark_text">Demographic:</span>',
    '<span class="dark_text">Type:</span>',
    '<span class="information type"><a>',
    '<span itemprop="genre">',
    '<a href="/anime/genre/1">',
    '<link rel="canonical" href="https://myanimelist.net/anime/7/x">',
    '<meta property="og:url" content="https://myanimelist.net/manga/3/x">',
    "</div>",
    "</span>",
    "</a>",
    "<br>",
    "<!--",
    "-->",
    "<![CDATA[",
    "&amp;",
    "&#xffffff;",
    "\x00",
    "\ufeff",
    "東京",
    "👻",
]


# ---------------------------------------------------------------- strategies
@st.composite
def damaged_pages(draw):
    page = draw(st.sampled_from(PAGES))
    for _ in range(draw(st.integers(0, 3))):
        start = draw(st.integers(0, len(page)))
        stop = draw(st.integers(start, min(len(page), start + 600)))
        splice = draw(
            st.lists(st.sampled_from(MARKUP) | st.text(max_size=12), max_size=5)
        )
        page = page[:start] + "".join(splice) + page[stop:]
    if draw(st.booleans()):
        page = page[: draw(st.integers(0, len(page)))]
    if draw(st.booleans()):
        return page.encode("utf-8", "surrogatepass") + draw(st.binary(max_size=16))
    return page


html_inputs = st.one_of(
    damaged_pages(),
    st.lists(st.sampled_from(MARKUP) | st.text(max_size=15), max_size=40).map("".join),
    st.binary(max_size=400),
)


@st.composite
def mutated_tables(draw):
    data = bytearray(draw(st.sampled_from(TABLES)))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        op = draw(st.sampled_from(["delete", "insert", "replace", "truncate"]))
        chunk = draw(
            st.sampled_from([b'"', b",", b"\n", b"\r", b"{", b"}", b"[", b"]", b"\x00"])
            | st.binary(max_size=4)
        )
        if op == "delete":
            del data[at : at + draw(st.integers(1, 40))]
        elif op == "insert":
            data[at:at] = chunk
        elif op == "replace":
            data[at : at + len(chunk)] = chunk
        else:
            del data[at:]
    return bytes(data)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 10**20)
    | st.floats()
    | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["id", "name"]), inner, max_size=2)
    ),
    max_leaves=8,
)
json_records = st.dictionaries(
    st.sampled_from(
        ["id", "mal_id", "title", "synopsis", "genres", "themes", "media_type"]
    ),
    json_values,
    max_size=7,
)
csv_cells = st.text(max_size=15) | st.sampled_from(
    ['"', '""', ",", "\n", "\r\n", "Action, Drama", "['A', 'B']", "[", "7", "-1",
     "Unknown", " ", "\x00"]
)  # fmt: skip
csv_headers = st.sampled_from(
    [
        "MAL_ID,Name,Type,Genre,Synopsis",
        "MAL_ID,Name,Score,Genres,sypnopsis",
        "mal_id,title,genres,themes,demographics,synopsis",
    ]
)
table_inputs = st.one_of(
    mutated_tables(),
    st.lists(json_records, min_size=1, max_size=8).map(
        lambda rs: "\n".join(json.dumps(r) for r in rs).encode()
    ),
    st.tuples(csv_headers, st.lists(st.lists(csv_cells, max_size=7), max_size=8)).map(
        lambda t: (t[0] + "\n" + "\n".join(",".join(r) for r in t[1])).encode(
            "utf-8", "surrogatepass"
        )
    ),
    st.binary(max_size=300),
)
synopses = st.one_of(
    st.text(max_size=300),
    st.lists(
        st.sampled_from(MARKUP + ["robot", "space", "love", "school", " ", "\n"])
        | st.text(max_size=8),
        max_size=60,
    ).map("".join),
)


# ---------------------------------------------------------------- properties
def check_parse(html):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            record = parse_mal_page(html)
        except ParseError as exc:
            assert exc.reason in PARSE_REASONS, exc.reason
            return
    assert isinstance(record, AnimeRecord)
    assert record.name and record.name == record.name.strip()
    for labels in (record.genres, record.themes, record.demographics):
        assert labels is None or all(isinstance(n, str) and n for n in labels)


def _records_in(data):
    """Records of a file as load_anime's formats define them."""
    if data[:2] == b"\x1f\x8b":
        return None
    text = data.decode("utf-8-sig")
    if text.lstrip()[:1] == "{":
        return sum(1 for line in text.splitlines() if line.strip())
    rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    return sum(1 for row in rows[1:] if row)


def check_load(data, folder):
    path = folder / "anime.data"
    path.write_bytes(data)
    try:
        bunch = load_anime(path)
    except DataFormatError as exc:
        assert str(exc).startswith(str(path)), str(exc)
        return
    expected = _records_in(data)
    assert expected is None or len(bunch.frame) + len(bunch.dropped) == expected
    assert bunch.frame["mal_id"].is_unique
    assert bunch.target.shape == (len(bunch.frame), len(bunch.target_names))
    assert bunch.target.sum(axis=1).min() >= 1


def check_build(pages, folder):
    source = folder / "pages"
    source.mkdir()
    for i, page in enumerate(pages):
        data = (
            page if isinstance(page, bytes) else page.encode("utf-8", "surrogatepass")
        )
        (source / f"{i:03d}.html").write_bytes(data)
    report = build_dataset(source, folder / "anime.csv")
    with open(folder / "anime.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    with open(report.rejects_csv, newline="", encoding="utf-8") as f:
        rejects = list(csv.DictReader(f))
    assert report.n_inputs == len(pages)
    assert report.n_written + report.n_rejected == report.n_inputs
    assert (len(rows), len(rejects)) == (report.n_written, report.n_rejected)
    assert len({r["source"] for r in rejects}) == len(rejects)
    if rows:
        assert load_anime(folder / "anime.csv").frame.shape[0] == len(rows)


def small_pipeline():
    rng = np.random.default_rng(0)
    space = ["robot", "pilot", "colony", "space", "ship", "laser", "mecha"]
    love = ["girl", "boy", "love", "school", "festival", "letter", "class"]
    docs, Y = [], []
    for _ in range(120):
        a, b = rng.random() < 0.5, rng.random() < 0.5
        words = list(rng.choice(space, 6)) * a + list(rng.choice(love, 6)) * b
        words += ["the", "story"]
        docs.append(" ".join(words))
        Y.append([int(a), int(b), int(a and b)])
    pipeline = make_genre_pipeline(
        embed__vector_size=16,
        embed__epochs=5,
        embed__min_count=1,
        clf__hidden_layer_sizes=(16,),
        clf__max_iter=30,
        clf__early_stopping=False,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pipeline.fit(docs, np.array(Y))


def check_pipeline(model, docs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # documents without known words
        proba = model.predict_proba(docs)
        predicted = model.predict(docs)
    assert proba.shape == (len(docs), 3)
    assert np.isfinite(proba).all() and proba.min() >= 0 and proba.max() <= 1
    assert (predicted.sum(axis=1) >= model["clf"].min_labels).all()


# ---------------------------------------------------------------- runner
def run_target(name, strategy, check, seconds, seed, batch):
    """Run ``check`` on examples of ``strategy`` for ``seconds``.

    Each batch is a hypothesis run with its own seed; a failing batch is
    shrunk by hypothesis and recorded, and the search goes on.
    """
    count = 0
    findings = []
    batches = 0
    started = time.perf_counter()
    rng = random.Random(seed)

    def counted(value):
        nonlocal count
        count += 1
        check(value)

    while time.perf_counter() - started < seconds:
        batches += 1
        test = settings(
            max_examples=batch,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
            print_blob=False,
        )(given(strategy)(counted))
        test = hypothesis.seed(rng.getrandbits(64))(test)
        try:
            test()
        except (Exception, HypothesisException) as exc:
            text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            if text not in {f["error"] for f in findings}:
                findings.append({"error": text[:500], "batch": batches})
    elapsed = time.perf_counter() - started
    print(f"{name}: {count} examples in {elapsed:.0f} s, {len(findings)} findings")
    return {
        "name": name,
        "examples": count,
        "batches": batches,
        "seconds": elapsed,
        "findings": findings,
    }


def _best_time(func, repeats):
    """The fastest of ``repeats`` runs: the least disturbed by other programs."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


LINEAR_INPUTS = {
    "synopsis with tags, entities, emoji, CJK": (
        "<p>The <b>robot</b> pilot &amp; 👻 東京 guard the colony.</p><br/>"
        "(Source: ANN)\n"
    ),
    "'(' repeated": "(",
    "'<' repeated": "<",
    "'(Source ' repeated": "(Source ",
    "'[Written by ' repeated": "[Written by ",
    "'<!--' repeated": "<!--",
    "'<br ' repeated": "<br ",
    "'\\nSource: ' repeated": "\nSource: ",
}
SIZES = [125_000, 250_000, 500_000, 1_000_000]

# Failures earlier runs of this script found, and what became of them.
PAST_FINDINGS = [
    (
        "build_dataset",
        "A page holding `<![DATA[` (a damaged `<![CDATA[`) made Python's "
        "`html.parser` raise bs4's `ParserRejectedMarkup` out of "
        "`parse_mal_page`, which stopped `build_dataset` half-way. Fixed: it "
        'is a `ParseError` with reason "unparsable markup" and the page goes '
        "to the rejects file "
        "(`tests/test_failure_modes.py::"
        "test_markup_the_html_parser_rejects_is_a_parse_error_and_a_reject`).",
    ),
]


def measure_linearity(model, repeats):
    cleaner = SynopsisCleaner(stop_words=None)
    rows = []
    for label, unit in LINEAR_INPUTS.items():
        docs = [unit * math.ceil(size / len(unit)) for size in SIZES]
        clean = [_best_time(lambda d=d: cleaner.transform([d]), repeats) for d in docs]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            whole = [
                _best_time(lambda d=d: model.predict_proba([d]), repeats) for d in docs
            ]
        rows.append(
            {
                "input": label,
                "clean_s": clean,
                "pipeline_s": whole,
                "clean_exponent": _exponent(clean),
                "pipeline_exponent": _exponent(whole),
            }
        )
        print(f"linear time, {label}: exponent {rows[-1]['pipeline_exponent']:.2f}")
    return rows


def _exponent(times):
    slope, _ = np.polyfit(np.log(SIZES), np.log(np.maximum(times, 1e-7)), 1)
    return float(slope)


# ---------------------------------------------------------------- report
def write_markdown(path, results):
    lines = [
        "# Fuzzing and linear-time checks",
        "",
        f"Generated by `{results['command']}` on {results['date']} "
        f"({results['machine']}; Python {results['python']}, hypothesis "
        f"{hypothesis.__version__}, skanime {skanime.__version__}). Whole run: "
        f"{results['elapsed_s'] / 60:.1f} minutes.",
        "",
        "Each target runs hypothesis batches with fresh seeds until its time "
        "budget is spent; a failing batch is shrunk and its error recorded. The "
        "properties are those of `tests/test_failure_modes.py`, which runs them "
        "for a few seconds in the test suite.",
        "",
        "## Fuzzing",
        "",
        "| target | what is generated | examples | batches | time | findings |",
        "|---|---|---:|---:|---:|---:|",
    ]
    described = {
        "parse_mal_page": "damaged saved pages, markup soup, random bytes",
        "load_anime": "mutated CSV/JSONL fixtures, generated records, random bytes",
        "build_dataset": "folders of 1-6 damaged pages",
        "pipeline": "arbitrary text, HTML, emoji and CJK through a fitted pipeline",
    }
    for target in results["targets"]:
        lines.append(
            f"| `{target['name']}` | {described[target['name']]} | "
            f"{target['examples']} | {target['batches']} | "
            f"{target['seconds']:.0f} s | {len(target['findings'])} |"
        )
    lines += ["", "### Findings", ""]
    found = [(t["name"], f) for t in results["targets"] for f in t["findings"]]
    if not found:
        lines.append(
            "None: every generated input gave a result satisfying the property "
            "or the documented error (`ParseError`, `DataFormatError`)."
        )
    for name, finding in found:
        lines += [f"- `{name}`, batch {finding['batch']}:", "", "  ```",
                  *("  " + line for line in finding["error"].splitlines()),
                  "  ```"]  # fmt: skip
    lines += ["", "### Found by earlier runs", ""]
    lines += [f"- `{target}`: {text}" for target, text in PAST_FINDINGS]
    lines += [
        "",
        "## Time against synopsis length",
        "",
        "Fastest of "
        f"{results['repeats']} runs for one synopsis of each length, cleaned by "
        "`SynopsisCleaner` alone and through the whole fitted pipeline "
        "(`predict_proba`). The exponent is the slope of log(time) against "
        "log(length) over "
        + ", ".join(f"{s / 1000:g} k" for s in SIZES)
        + " characters; 1.0 is linear, 2.0 quadratic.",
        "",
        "| input | clean 125 k | clean 1 M | exponent | pipeline 125 k "
        "| pipeline 1 M | exponent |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in results["linearity"]:
        c, p = row["clean_s"], row["pipeline_s"]
        lines.append(
            f"| {row['input']} | {c[0] * 1e3:.1f} ms | {c[-1] * 1e3:.1f} ms | "
            f"{row['clean_exponent']:.2f} | {p[0] * 1e3:.1f} ms | "
            f"{p[-1] * 1e3:.1f} ms | {row['pipeline_exponent']:.2f} |"
        )
    worst = max(
        max(r["clean_exponent"], r["pipeline_exponent"]) for r in results["linearity"]
    )
    lines += [
        "",
        f"Largest exponent: {worst:.2f}. "
        + (
            "Every input scales linearly: all exponents are below 1.3, where a "
            "quadratic step would give 2."
            if worst < 1.3
            else "Some input grows faster than linearly: see the table."
        ),
        "",
    ]
    with atomic_write(path) as f:
        f.write("\n".join(lines))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seconds", type=float, default=60.0, help="time budget of each target"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the batch seeds")
    parser.add_argument("--repeats", type=int, default=5, help="timing repeats")
    parser.add_argument(
        "--output", type=Path, default=RESULTS / "fuzz.md", help="report to write"
    )
    args = parser.parse_args(argv)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    # Expected, counted drops and bs4's notices about undecodable bytes.
    logging.getLogger("skanime").setLevel(logging.ERROR)
    logging.getLogger("bs4").setLevel(logging.ERROR)
    started = time.perf_counter()
    model = small_pipeline()

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        counter = iter(range(10**9))

        def fresh_folder():
            folder = tmp / str(next(counter))
            folder.mkdir()
            return folder

        targets = [
            run_target("parse_mal_page", html_inputs, check_parse, args.seconds,
                       args.seed, batch=500),
            run_target("load_anime", table_inputs,
                       lambda data: check_load(data, fresh_folder()),
                       args.seconds, args.seed + 1, batch=300),
            run_target("build_dataset", st.lists(html_inputs, min_size=1, max_size=6),
                       lambda pages: check_build(pages, fresh_folder()),
                       args.seconds, args.seed + 2, batch=50),
            run_target("pipeline", st.lists(synopses, min_size=1, max_size=8),
                       lambda docs: check_pipeline(model, docs),
                       args.seconds, args.seed + 3, batch=200),
        ]  # fmt: skip
    linearity = measure_linearity(model, args.repeats)
    command = "python benchmarks/fuzz.py" + (
        f" --seconds {args.seconds:g}" if args.seconds != 60 else ""
    )
    results = {
        "command": command,
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.system()} {platform.machine()}",
        "python": platform.python_version(),
        "targets": targets,
        "linearity": linearity,
        "repeats": args.repeats,
        "elapsed_s": time.perf_counter() - started,
    }
    write_markdown(args.output, results)
    print(f"wrote {args.output}")
    return 1 if any(t["findings"] for t in targets) else 0


if __name__ == "__main__":
    sys.exit(main())
