"""The profile of an embedding column: fixed-length float vectors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from vigil.errors import InvalidInputError, SchemaConflictError, SerializationError
from vigil.profile import state as st
from vigil.profile.columns.common import count_nulls, quantile_dict
from vigil.profile.sketches import FloatArray, Moments, QuantileSketch, VectorMoments
from vigil.schema import ColumnKind

MAX_EMBEDDING_DIM = 1 << 20
"""Dimensions of an embedding column read from bytes (8 MiB of means at most)."""


@dataclass(frozen=True, slots=True)
class EmbeddingColumn:
    """Fixed-length float vectors: per-dimension moments and the distribution of their norms."""

    count: int
    null_count: int
    dim: int
    moments: VectorMoments
    norms: QuantileSketch
    norm_moments: Moments
    kind: ClassVar[ColumnKind] = ColumnKind.EMBEDDING

    @classmethod
    def of(cls, array: pa.Array) -> EmbeddingColumn:
        values = array.drop_null() if array.null_count else array
        matrix = _embedding_matrix(values)
        finite_rows = matrix[np.isfinite(matrix).all(axis=1)]
        norms = np.linalg.norm(finite_rows, axis=1)
        return cls(
            count=len(array),
            null_count=count_nulls(array),
            dim=int(matrix.shape[1]),
            moments=VectorMoments.of(finite_rows),
            norms=QuantileSketch.of(norms, "float32"),
            norm_moments=Moments.of(norms),
        )

    def merge(self, other: EmbeddingColumn) -> EmbeddingColumn:
        if self.dim != other.dim and self.moments.count and other.moments.count:
            raise SchemaConflictError(
                f"cannot merge embeddings of dimension {self.dim} and {other.dim}"
            )
        dim = self.dim if self.moments.count else other.dim
        return EmbeddingColumn(
            count=self.count + other.count,
            null_count=self.null_count + other.null_count,
            dim=dim,
            moments=self.moments.merge(other.moments),
            norms=self.norms.merge(other.norms),
            norm_moments=self.norm_moments.merge(other.norm_moments),
        )

    @classmethod
    def merge_all(cls, columns: Sequence[EmbeddingColumn]) -> EmbeddingColumn:
        """`merge` folded over `columns` (at least one), each block merged in one pass."""
        dim, seen = columns[0].dim, columns[0].moments.count
        for column in columns[1:]:
            if dim != column.dim and seen and column.moments.count:
                raise SchemaConflictError(
                    f"cannot merge embeddings of dimension {dim} and {column.dim}"
                )
            dim = dim if seen else column.dim
            seen += column.moments.count
        return EmbeddingColumn(
            count=sum(c.count for c in columns),
            null_count=sum(c.null_count for c in columns),
            dim=dim,
            moments=VectorMoments.merge_all([c.moments for c in columns]),
            norms=QuantileSketch.merge_all([c.norms for c in columns]),
            norm_moments=Moments.merge_all([c.norm_moments for c in columns]),
        )

    @property
    def mean(self) -> FloatArray:
        return self.moments.mean

    def to_state(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "null_count": self.null_count,
            "dim": self.dim,
            "n": self.moments.count,
            "mean": self.moments.mean.astype("<f8").tobytes(),
            "m2": self.moments.m2.astype("<f8").tobytes(),
            "kll": self.norms.to_bytes(),
            "norm_moments": [self.norm_moments.count, self.norm_moments.mean, self.norm_moments.m2],
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> EmbeddingColumn:
        dim = st.count(state, "dim", at_most=MAX_EMBEDDING_DIM)
        raw_mean, raw_m2 = st.get(state, "mean"), st.get(state, "m2")
        if type(raw_mean) is not bytes or type(raw_m2) is not bytes:
            raise SerializationError("corrupt embedding moments in profile bytes: not bytes")
        if len(raw_mean) != 8 * dim or len(raw_m2) != 8 * dim:
            raise SerializationError(
                f"corrupt embedding moments in profile bytes: {len(raw_mean)} and "
                f"{len(raw_m2)} bytes for dimension {dim} (8 bytes per value)"
            )
        mean = np.frombuffer(raw_mean, dtype="<f8").astype(np.float64)
        m2 = np.frombuffer(raw_m2, dtype="<f8").astype(np.float64)
        column = cls(
            count=st.count(state, "count"),
            null_count=st.count(state, "null_count"),
            dim=dim,
            moments=VectorMoments(st.count(state, "n"), mean, m2),
            norms=QuantileSketch.from_bytes(st.get(state, "kll"), "float32"),
            norm_moments=Moments(*st.triple(state, "norm_moments")),
        )
        parts = {"null_count": column.null_count, "n": column.moments.count}
        parts |= {"norm count": column.norm_moments.count, "norm sketch count": column.norms.n}
        for name, value in parts.items():
            st.no_more_than(value, name, column.count, "count")
        return column

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "count": self.count,
            "null_count": self.null_count,
            "dim": self.dim,
            "norm": {
                "mean": self.norm_moments.mean if self.norm_moments.count else None,
                "quantiles": quantile_dict(self.norms.quantile)
                if not self.norms.is_empty
                else None,
            },
        }


def _embedding_matrix(values: pa.Array) -> FloatArray:
    if pa.types.is_fixed_size_list(values.type):
        dim = values.type.list_size
        flat = pc.cast(values.flatten(), pa.float64()).to_numpy(zero_copy_only=False)
        return flat.reshape(-1, dim) if dim else np.zeros((len(values), 0))
    lengths = pc.list_value_length(values).to_numpy(zero_copy_only=False)
    if lengths.size and (lengths != lengths[0]).any():
        raise InvalidInputError(
            f"embedding rows have different lengths ({int(lengths.min())} to {int(lengths.max())}); "
            "every vector in an embedding column must have the same dimension"
        )
    dim = int(lengths[0]) if lengths.size else 0
    flat = pc.cast(values.flatten(), pa.float64()).to_numpy(zero_copy_only=False)
    return flat.reshape(-1, dim) if dim else np.zeros((len(values), 0))
