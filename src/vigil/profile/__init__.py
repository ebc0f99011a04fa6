"""Dataset profiles: mergeable per-column statistics built from DataSketches and exact moments."""

from vigil.profile.build import profile
from vigil.profile.columns import (
    BooleanColumn,
    DatetimeColumn,
    EmbeddingColumn,
    Histogram,
    NumericColumn,
    StringColumn,
    UnknownColumn,
)
from vigil.profile.parts import Window
from vigil.profile.profile import DatasetProfile

__all__ = [
    "BooleanColumn",
    "DatasetProfile",
    "DatetimeColumn",
    "EmbeddingColumn",
    "Histogram",
    "NumericColumn",
    "StringColumn",
    "UnknownColumn",
    "Window",
    "profile",
]
