"""Parsing and cleaning grow linearly with the input, on hostile shapes too.

The shapes are those of ``benchmarks/pages.py``, which times them at sizes up
to 800 k characters. Here each is run at a mid size and at four times that
size; linear work grows about four times, quadratic work sixteen. Times are
the fastest of three runs with the garbage collector paused, so the bound is
on the growth, not on the speed of the machine.
"""

import gc
import importlib.util
import time
from pathlib import Path

import pytest
from _hostile_pages import line_events, parse

from skanime import SynopsisCleaner
from skanime.datasets import parse_mal_page

_BENCH = Path(__file__).parents[1] / "benchmarks" / "pages.py"
_spec = importlib.util.spec_from_file_location("_pages_benchmark", _BENCH)
pages = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(pages)

SMALL, LARGE = 20_000, 80_000
# Linear growth gives about 4 (less when fixed costs dominate), quadratic 16;
# the margin absorbs the noise of a machine shared with other work.
MAX_GROWTH = 10.0


def _growth(func, make, repeats=5):
    """Fastest time at 4x the size over fastest time at the size.

    Runs alternate between the two sizes, so a burst of load from other
    processes slows both alike, and the fastest of each is kept.
    """
    small, large = make(SMALL), make(LARGE)
    func(small)  # warm caches (compiled patterns, imports)
    best = {SMALL: float("inf"), LARGE: float("inf")}
    gc.collect()
    gc.disable()
    try:
        for _ in range(repeats):
            for size, arg in ((SMALL, small), (LARGE, large)):
                start = time.perf_counter()
                func(arg)
                best[size] = min(best[size], time.perf_counter() - start)
    finally:
        gc.enable()
    return best[LARGE] / max(best[SMALL], 1e-6)


@pytest.mark.parametrize("shape", sorted(pages.PAGE_SHAPES))
def test_page_parsing_work_grows_linearly(shape):
    make = pages.PAGE_SHAPES[shape][1]
    parse(make(1000))  # first calls compile patterns and fill caches
    small, large = line_events(parse, make(5000)), line_events(parse, make(20000))
    growth = large / small
    assert growth < 5.0, (
        f"{shape}: 4x the size ran {growth:.1f}x the Python lines ({small} -> {large})"
    )


@pytest.mark.parametrize("shape", sorted(pages.PAGE_SHAPES))
def test_page_parsing_time_grows_linearly(shape):
    growth = _growth(parse, pages.PAGE_SHAPES[shape][1])
    assert growth < MAX_GROWTH, f"{shape}: 4x the size took {growth:.1f}x the time"


@pytest.mark.parametrize("shape", sorted(pages.SYNOPSIS_SHAPES))
def test_cleaning_grows_linearly(shape):
    cleaner = SynopsisCleaner()
    # A few milliseconds each: more runs keep a busy machine's noise out.
    growth = _growth(
        lambda doc: cleaner.transform([doc]), pages.SYNOPSIS_SHAPES[shape][1], 15
    )
    assert growth < MAX_GROWTH, f"{shape}: 4x the size took {growth:.1f}x the time"


def test_line_breaks_are_read_as_spaces_in_the_synopsis():
    record = parse_mal_page(pages.PAGE_SHAPES["many line breaks"][1](80))
    assert record.synopsis == " ".join(["word"] * 10)
    nested = parse_mal_page(
        '<div itemprop="name"><strong>X</strong></div><p itemprop="description">'
        "a<br>b<i>c<br/>d</i><!-- note -->e</p>"
    )
    assert nested.synopsis == "a bc de"


def test_a_row_with_many_labels_is_read_once():
    record = parse_mal_page(pages.PAGE_SHAPES["many labels in one row"][1](3600))
    assert record.type is None and record.genres == ["Action"]
    record = parse_mal_page(pages.PAGE_SHAPES["many genres in one row"][1](320))
    assert record.genres == ["Action"] + [f"G{i}" for i in range(10)]
