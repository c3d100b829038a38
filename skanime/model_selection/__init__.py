"""Cross-validation and decision-threshold tuning for multilabel targets."""

from ._split import MultilabelStratifiedKFold, MultilabelStratifiedShuffleSplit
from ._threshold import MultiLabelThresholdTuner, apply_thresholds

__all__ = [
    "MultiLabelThresholdTuner",
    "MultilabelStratifiedKFold",
    "MultilabelStratifiedShuffleSplit",
    "apply_thresholds",
]
