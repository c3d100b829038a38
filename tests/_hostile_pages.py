"""Routines the hostile-input tests and ``benchmarks/pages.py`` both run.

``tests/test_reliability_bounds.py`` checks that parsing and cleaning grow
linearly on the hostile shapes of ``benchmarks/pages.py``, which times them at
growing sizes; both call a page the same way and count the same work. Nothing
here is used by the package itself.
"""

import sys

from skanime.datasets import ParseError, parse_mal_page


def parse(page):
    """Parse a MAL page, a refused page (``ParseError``) counting as parsed."""
    try:
        parse_mal_page(page)
    except ParseError:
        pass


def line_events(func, arg):
    """Python lines executed by ``func(arg)``: a count no machine load changes."""
    count = 0

    def tracer(frame, event, _):
        nonlocal count
        if event == "line":
            count += 1
        return tracer

    sys.settrace(tracer)
    try:
        func(arg)
    finally:
        sys.settrace(None)
    return count
