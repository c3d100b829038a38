"""Predict anime genres from synopses, the scikit-learn way."""

from . import datasets, metrics, model_selection
from ._embedding import TfidfWeightedW2VTransformer
from ._focal_mlp import FocalMLPClassifier
from ._linear import MultilabelLogisticRegression, MultilabelMultinomialNB
from ._neighbors import MultilabelKNeighborsClassifier
from ._persistence import (
    ModelFileError,
    ModelVersionWarning,
    UntrustedModelError,
    load_model,
    save_model,
)
from ._pipeline import GenreClassifier, make_genre_pipeline
from ._rare_features import RareFeatureSelector
from ._stacking import MultilabelStackingClassifier
from ._targets import ConstantLabelWarning
from ._text import SynopsisCleaner
from ._tfidf import FastTfidfVectorizer
from ._version import __version__

__all__ = [
    "ConstantLabelWarning",
    "FastTfidfVectorizer",
    "FocalMLPClassifier",
    "GenreClassifier",
    "ModelFileError",
    "ModelVersionWarning",
    "MultilabelKNeighborsClassifier",
    "MultilabelLogisticRegression",
    "MultilabelMultinomialNB",
    "MultilabelStackingClassifier",
    "RareFeatureSelector",
    "SynopsisCleaner",
    "TfidfWeightedW2VTransformer",
    "UntrustedModelError",
    "__version__",
    "datasets",
    "load_model",
    "make_genre_pipeline",
    "metrics",
    "model_selection",
    "save_model",
]
