"""Predict anime genres from synopses, the scikit-learn way."""

from . import datasets, metrics, model_selection
from ._embedding import TfidfWeightedW2VTransformer
from ._focal_mlp import FocalMLPClassifier
from ._pipeline import GenreClassifier, make_genre_pipeline
from ._text import SynopsisCleaner

__version__ = "0.1.0.dev0"

__all__ = [
    "FocalMLPClassifier",
    "GenreClassifier",
    "SynopsisCleaner",
    "TfidfWeightedW2VTransformer",
    "__version__",
    "datasets",
    "make_genre_pipeline",
    "metrics",
    "model_selection",
]
