"""Sphinx configuration of the skanime documentation.

Build with::

    SKANIME_DATA_HOME=../shared/data python -m sphinx -W -b html docs docs/_build/html

The gallery examples run during the build and read the MAL data from
``$SKANIME_DATA_HOME``; ``SKANIME_EXAMPLE_SUBSET=600`` makes them faster.
"""

import os
import re
import sys
from pathlib import Path

# The examples train small networks on small matrices, for which BLAS threads
# cost more than they save (and compete with each other when several builds
# or test runs share the machine). This must run before numpy is imported.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")
os.environ.setdefault("MPLBACKEND", "Agg")

sys.path.insert(0, str(Path(__file__).parent / "sphinxext"))

from sphinx.errors import PycodeError
from sphinx.pycode import ModuleAnalyzer

import skanime

# -- Project -----------------------------------------------------------------

project = "skanime"
author = "skanime developers"
copyright = "skanime developers"
release = skanime.__version__
version = ".".join(release.split(".")[:2])

# -- General -----------------------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "md_include",
    "cli_help",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
root_doc = "index"
default_role = "literal"

# -- autodoc, autosummary, numpydoc -------------------------------------------

autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": True}
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

# -- HTML --------------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_title = f"skanime {release}"
html_show_sourcelink = False
html_theme_options = {
    "navigation_depth": 2,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": [],
}
html_sidebars = {
    page: []
    for page in ("index", "getting_started", "user_guide", "benchmarks", "reliability")
}

# -- sphinx-gallery ----------------------------------------------------------

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "doc_module": ("skanime",),
    "backreferences_dir": "gen_modules/backreferences",
    "filename_pattern": "/plot_",
    "within_subsection_order": "gallery_order.ExampleOrder",
    "download_all_examples": False,
    "min_reported_time": 1,
    "remove_config_comments": True,
}

# -- Benchmark results -------------------------------------------------------

md_include_dir = "gen_modules/includes"
md_include_files = [
    ("../benchmarks/results/quality.md", "python benchmarks/quality.py", "Quality"),
    ("../benchmarks/results/speed.md", "python benchmarks/speed.py", "Speed"),
    (
        "../benchmarks/results/fuzz.md",
        "python benchmarks/fuzz.py",
        "Fuzzing and linear-time checks",
    ),
]


# -- Command-line help -------------------------------------------------------

cli_help_dir = "gen_modules/cli"
cli_help_commands = ["demo", "train", "evaluate", "predict", "explain", "build-dataset"]

# -- Members inherited from scikit-learn ---------------------------------------

# Methods the estimators inherit from scikit-learn keep their documentation
# when it stands alone; the metadata-routing and set_output helpers refer to
# pages of the scikit-learn user guide, and are described there.
_INHERITED_KEPT = {"fit_transform", "fit_predict", "get_params", "set_params"}


def _skip_foreign_members(app, what, name, obj, skip, options):
    module = getattr(obj, "__module__", None) or ""
    if what == "class" and module.startswith("sklearn.") and not name.startswith("_"):
        return name not in _INHERITED_KEPT
    return None


# A fitted attribute named in a shape, as in "ndarray of shape
# (n_features_in_,)", would otherwise be read as a reStructuredText link.
_SHAPE_ATTRIBUTE = re.compile(r"(?<![`\\\w])([A-Za-z]\w*?)_(?=[,)])")


def _escape_shape_attributes(app, what, name, obj, options, lines):
    for i, line in enumerate(lines):
        if "shape (" in line and not line.lstrip().startswith((">>>", "...")):
            lines[i] = _SHAPE_ATTRIBUTE.sub(r"\1\\_", line)


# Constants and scorers are re-exported from private modules, where their
# ``#:`` comments live; without this their pages would show the docstring of
# their type (``str``, ``tuple``).


_SCORER_DOCS = {
    "precision_at_1_scorer": (
        "Scorer of :func:`~skanime.metrics.precision_at_k` with ``k=1``: the "
        "share of samples whose most probable label is a true label."
    ),
    "precision_at_3_scorer": (
        "Scorer of :func:`~skanime.metrics.precision_at_k` with ``k=3``: the "
        "share of true labels among the three most probable labels of each "
        "sample."
    ),
    "lrap_scorer": (
        "Scorer of the label ranking average precision "
        "(:func:`~sklearn.metrics.label_ranking_average_precision_score`), "
        "also accepting estimators whose ``predict_proba`` returns one "
        "``(n_samples, 2)`` array per label."
    ),
}
_SCORER_USE = (
    "It ranks the labels by ``predict_proba`` (or ``decision_function``), so it "
    "does not depend on the decision threshold. Pass it as ``scoring`` to "
    ":class:`~sklearn.model_selection.GridSearchCV` or "
    ":func:`~sklearn.model_selection.cross_validate`, or get it by name with "
    ":func:`~skanime.metrics.get_scorer`."
)


def _reexported_data_doc(name, obj):
    package, attr = name.rsplit(".", 1)
    for modname in sorted(sys.modules):
        if modname != package and not modname.startswith(package + "."):
            continue
        if getattr(sys.modules[modname], attr, None) is not obj:
            continue
        try:
            comments = ModuleAnalyzer.for_module(modname).find_attr_docs()
        except PycodeError:
            continue
        if ("", attr) in comments:
            return list(comments["", attr])
    if attr in _SCORER_DOCS:
        return [_SCORER_DOCS[attr], "", _SCORER_USE, ""]
    return None


def _document_reexported_data(app, what, name, obj, options, lines):
    if what != "data":
        return
    doc = _reexported_data_doc(name, obj)
    if doc is not None:
        lines[:] = doc


def setup(app):
    app.connect("autodoc-skip-member", _skip_foreign_members)
    app.connect("autodoc-process-docstring", _document_reexported_data)
    app.connect("autodoc-process-docstring", _escape_shape_attributes)
