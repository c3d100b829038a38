"""Multilabel evaluation: report, precision@k and ranking scorers."""

from ._report import MultilabelReport, multilabel_report, precision_at_k
from ._scorers import (
    get_scorer,
    lrap_scorer,
    precision_at_1_scorer,
    precision_at_3_scorer,
)

__all__ = [
    "MultilabelReport",
    "get_scorer",
    "lrap_scorer",
    "multilabel_report",
    "precision_at_1_scorer",
    "precision_at_3_scorer",
    "precision_at_k",
]
