"""Readers: every supported input becomes a stream of pyarrow RecordBatches.

After this module nothing in Vigil looks at pandas, polars or file formats. Files are streamed in
batches, so a file larger than memory is read in bounded memory.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from vigil.errors import InvalidInputError, UnsupportedFormatError

DEFAULT_BATCH_ROWS = 65_536
CSV_BLOCK_BYTES = 8 << 20

PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")
CSV_SUFFIXES = (".csv", ".tsv", ".csv.gz", ".tsv.gz")

PathLike = str | os.PathLike[str]


@dataclass(frozen=True)
class BatchSource:
    """A named stream of record batches with a known schema."""

    name: str
    schema: pa.Schema
    batches: Iterable[pa.RecordBatch]
    total_rows: int | None = None
    """The rows it holds, when known without reading them (tables, Parquet files)."""

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        return iter(self.batches)


def open_source(
    data: Any,
    *,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    column_types: Mapping[str, pa.DataType] | None = None,
) -> BatchSource:
    """Turn any supported input into a `BatchSource`.

    Accepted: pyarrow Table / RecordBatch / RecordBatchReader, pandas and polars DataFrames, a dict
    of NumPy arrays or lists, and paths (str or Path) to Parquet files, Parquet folders or CSV files.
    `column_types` forces the type a CSV column is read as (used when the user's schema says so).
    """
    if batch_rows < 1:
        raise InvalidInputError(f"batch_rows must be at least 1, got {batch_rows}")
    if isinstance(data, str | os.PathLike):
        return _open_path(Path(data), batch_rows, column_types or {})
    if isinstance(data, pa.Table):
        return _from_table("table", data, batch_rows)
    if isinstance(data, pa.RecordBatch):
        return _from_table("record batch", pa.Table.from_batches([data]), batch_rows)
    if isinstance(data, pa.RecordBatchReader):
        return BatchSource("record batch reader", data.schema, data)
    module = type(data).__module__.split(".")[0]
    if module == "pandas" and type(data).__name__ == "DataFrame":
        return _from_table("pandas DataFrame", _pandas_to_table(data), batch_rows)
    if module == "polars" and type(data).__name__ in ("DataFrame", "LazyFrame"):
        frame = data.collect() if type(data).__name__ == "LazyFrame" else data
        return _from_table("polars DataFrame", frame.to_arrow(), batch_rows)
    if isinstance(data, Mapping):
        return _from_table("dict of arrays", _mapping_to_table(data), batch_rows)
    raise UnsupportedFormatError(
        f"cannot profile an object of type {type(data).__module__}.{type(data).__name__}; "
        "pass a pandas or polars DataFrame, a pyarrow Table or RecordBatch, a dict of arrays, "
        "or the path of a Parquet or CSV file"
    )


def read_table(data: Any, *, batch_rows: int = DEFAULT_BATCH_ROWS) -> pa.Table:
    """`data` as one Arrow table: the batches `open_source(data)` gives, gathered.

    A pandas DataFrame of at most `batch_rows` rows (one batch; a serving process's usual call)
    is converted straight to that table, without a source and batches made and gathered again.
    """
    if (
        type(data).__name__ == "DataFrame"
        and type(data).__module__.split(".")[0] == "pandas"
        and 0 < len(data) <= batch_rows
    ):
        table = _pandas_to_table(data)
        # One batch of columns in one chunk each (not an Arrow-backed column of several
        # chunks, as pandas.concat leaves them): what gathering the batches gives back.
        if all(table.column(i).num_chunks == 1 for i in range(table.num_columns)):
            return table
        return pa.Table.from_batches(table.to_batches(max_chunksize=batch_rows), table.schema)
    source = open_source(data, batch_rows=batch_rows)
    return pa.Table.from_batches(list(source), schema=source.schema)


def _from_table(name: str, table: pa.Table, batch_rows: int) -> BatchSource:
    return BatchSource(
        name, table.schema, table.to_batches(max_chunksize=batch_rows), table.num_rows
    )


def _open_path(path: Path, batch_rows: int, column_types: Mapping[str, pa.DataType]) -> BatchSource:
    if not path.exists():
        raise InvalidInputError(f"no such file or folder: {str(path)!r}", path=str(path))
    if path.is_dir():
        return _open_parquet_folder(path, batch_rows)
    lower = path.name.lower()
    if lower.endswith(CSV_SUFFIXES):
        return _open_csv(path, batch_rows, column_types)
    if lower.endswith(PARQUET_SUFFIXES) or _has_parquet_magic(path):
        return _open_parquet(path, batch_rows)
    raise UnsupportedFormatError(
        f"{str(path)!r} is neither a Parquet file (no PAR1 magic bytes) nor a .csv/.tsv file",
        path=str(path),
    )


def _has_parquet_magic(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(4) == b"PAR1"
    except OSError:
        return False


def _open_parquet(path: Path, batch_rows: int) -> BatchSource:
    try:
        # Read column chunks in 1 MB pieces rather than buffering whole row groups: a file written
        # as one big row group would otherwise be held in memory whole.
        parquet = pq.ParquetFile(path, buffer_size=1 << 20, pre_buffer=False)
    except (pa.ArrowInvalid, OSError) as exc:
        raise UnsupportedFormatError(
            f"{str(path)!r} is not a readable Parquet file: {exc}", path=str(path)
        ) from None
    schema = parquet.schema_arrow

    def batches() -> Iterator[pa.RecordBatch]:
        try:
            yield from parquet.iter_batches(batch_size=batch_rows)
        except (pa.ArrowInvalid, OSError) as exc:
            raise UnsupportedFormatError(
                f"{str(path)!r} could not be read to the end: {exc}", path=str(path)
            ) from None

    return BatchSource(str(path), schema, _Replayable(batches), parquet.metadata.num_rows)


def _open_parquet_folder(path: Path, batch_rows: int) -> BatchSource:
    import pyarrow.dataset as pads  # imports pandas when installed: only when a folder is read

    try:
        dataset = pads.dataset(path, format="parquet")
    except (pa.ArrowInvalid, OSError) as exc:
        raise UnsupportedFormatError(
            f"folder {str(path)!r} is not a readable Parquet dataset: {exc}", path=str(path)
        ) from None
    if not dataset.files:
        raise InvalidInputError(f"folder {str(path)!r} holds no Parquet files", path=str(path))

    def batches() -> Iterator[pa.RecordBatch]:
        try:
            yield from dataset.to_batches(batch_size=batch_rows)
        except (pa.ArrowInvalid, OSError) as exc:
            raise UnsupportedFormatError(
                f"folder {str(path)!r} could not be read: {exc}", path=str(path)
            ) from None

    return BatchSource(str(path), dataset.schema, _Replayable(batches))


CSV_DELIMITERS = ",;\t|"
"""The delimiters a CSV file's first lines are sniffed for."""
_SNIFF_BYTES = 64 << 10


def sniff_delimiter(path: Path) -> str:
    """The delimiter of a delimited text file, guessed from its first lines.

    The file's suffix decides when the lines agree with it (or are too short to tell); otherwise
    the delimiter that splits every sniffed line into the same number of fields wins, so a
    `;`-separated export saved as `.csv` is read as its columns, not as one.
    """
    default = "\t" if ".tsv" in path.name.lower() else ","
    try:
        with pa.input_stream(str(path), compression="detect") as stream:
            head = stream.read(_SNIFF_BYTES)
    except (pa.ArrowInvalid, OSError):
        return default  # the reader reports the problem with its own message
    text = head.decode("utf-8", errors="replace")
    lines = [line for line in text.splitlines()[:20] if line.strip()]
    if len(head) == _SNIFF_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut
    if not lines:
        return default
    try:
        sniffed = csv.Sniffer().sniff("\n".join(lines), delimiters=CSV_DELIMITERS).delimiter
    except csv.Error:
        return default
    if sniffed == default:
        return default
    counts = {len(next(csv.reader([line], delimiter=sniffed))) for line in lines}
    default_counts = {len(next(csv.reader([line], delimiter=default))) for line in lines}
    # Prefer the suffix's delimiter unless the sniffed one gives a consistent, wider table.
    if len(counts) == 1 and max(counts) > 1 and max(counts) > max(default_counts):
        return sniffed
    return default


def _open_csv(path: Path, batch_rows: int, column_types: Mapping[str, pa.DataType]) -> BatchSource:
    delimiter = sniff_delimiter(path)
    read_options = pacsv.ReadOptions(block_size=CSV_BLOCK_BYTES)
    parse_options = pacsv.ParseOptions(delimiter=delimiter)
    # Empty fields are missing values, as pandas and most tools read them.
    convert_options = pacsv.ConvertOptions(
        column_types=dict(column_types), check_utf8=False, strings_can_be_null=True
    )

    def open_reader() -> pacsv.CSVStreamingReader:
        try:
            return pacsv.open_csv(
                path,
                read_options=read_options,
                parse_options=parse_options,
                convert_options=convert_options,
            )
        except (pa.ArrowInvalid, OSError, UnicodeDecodeError) as exc:
            raise _csv_error(path, exc) from None

    schema = open_reader().schema

    def batches() -> Iterator[pa.RecordBatch]:
        reader = open_reader()
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                return
            except (pa.ArrowInvalid, OSError, UnicodeDecodeError) as exc:
                raise _csv_error(path, exc) from None
            # The CSV reader's blocks are sized in bytes; re-slice them to the batch size.
            for start in range(0, batch.num_rows, batch_rows):
                yield batch.slice(start, batch_rows)

    return BatchSource(str(path), schema, _Replayable(batches))


def _csv_error(path: Path, exc: Exception) -> InvalidInputError:
    message = str(exc).strip()
    hint = ""
    if "conversion error" in message.lower():
        hint = (
            "; a column's type was inferred from the first rows and later rows do not fit it: "
            "pass a schema naming that column's kind (e.g. schema={'col': 'categorical'})"
        )
    elif "expected" in message.lower() and "columns" in message.lower():
        hint = "; every row must have as many fields as the header"
    return InvalidInputError(
        f"CSV file {str(path)!r} is malformed: {message}{hint}", path=str(path)
    )


class _Replayable:
    """An iterable that restarts its generator on each iteration, so a file can be read twice."""

    def __init__(self, factory: Any) -> None:
        self._factory = factory

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        return iter(self._factory())


def _pandas_to_table(frame: Any) -> pa.Table:
    """pandas -> Arrow column by column, so one awkward object column does not fail the whole frame.

    An object column of mixed Python types (say ints and strings) becomes strings of its values:
    it is then profiled as a categorical column, and nulls stay null.
    """
    names = [str(name) for name in frame.columns.tolist()]
    if len(set(names)) != len(names):
        duplicated = sorted({n for n in names if names.count(n) > 1})
        raise InvalidInputError(f"DataFrame has duplicated column names: {duplicated}")
    # pandas' own accessor of a column's values, without building a Series per column (16 us
    # each, half of a 10-row frame's conversion); a pandas without it takes the Series.
    values_of = getattr(frame, "_get_column_array", None)
    arrays = []
    for index in range(len(names)):
        fast = _values_to_arrow(values_of(index)) if values_of is not None else None
        if fast is not None:
            arrays.append(fast)
            continue
        series = frame.iloc[:, index]
        try:
            arrays.append(_series_to_arrow(series))
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, TypeError):
            arrays.append(_stringify(series.tolist(), is_null=series.isna().tolist()))
    return pa.Table.from_arrays(arrays, names=names)


def _values_to_arrow(values: Any) -> pa.Array | None:
    """A column's values (NumPy or a pandas extension array) as Arrow, for the kinds that convert
    the same way as their Series does in `_series_to_arrow`; None for every other kind."""
    if isinstance(values, np.ndarray):
        kind = values.dtype.kind
        if kind == "f":
            return pa.array(values, from_pandas=True)  # NaN -> null, as pandas means it
        if kind in "biu":
            return pa.array(values)
        return None
    dtype = getattr(values, "dtype", None)
    tz = getattr(dtype, "tz", None)
    unit = getattr(dtype, "unit", None)
    if tz is not None and unit in _TIME_UNITS and hasattr(values, "to_numpy"):
        moments = values.to_numpy(dtype=_TIME_UNITS[unit])
        kind = pa.timestamp(unit, tz=str(tz))
        if moments.flags.c_contiguous and not np.isnat(moments).any():
            # The int64 values as they are (what pa.array makes of them, without its per-value
            # conversion): 1 us instead of 8 on a 10-row column.
            return pa.Array.from_buffers(kind, len(moments), [None, pa.py_buffer(moments)])
        return pa.array(moments, type=kind, from_pandas=True)  # NaT -> null
    if type(values).__name__ in _ARROW_BACKED:
        converted: pa.Array = pa.array(values, from_pandas=True)
        return converted
    return None


_TIME_UNITS = {unit: np.dtype(f"datetime64[{unit}]") for unit in ("s", "ms", "us", "ns")}
_ARROW_BACKED = frozenset(
    {"ArrowStringArray", "ArrowExtensionArray", "ArrowStringArrayNumpySemantics"}
)
"""pandas arrays that hold Arrow data: `__arrow_array__` hands it over as it is."""


def _series_to_arrow(series: Any) -> pa.Array:
    """One pandas column as Arrow; numbers and zoned times go through NumPy, which is several
    times faster than pyarrow's pandas conversion on the small frames a serving process logs."""
    dtype = series.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "biuf":
        return pa.array(series.to_numpy(), from_pandas=True)  # NaN -> null, as pandas means it
    tz = getattr(dtype, "tz", None)
    unit = getattr(dtype, "unit", None)
    if tz is not None and unit in ("s", "ms", "us", "ns"):
        values = series.to_numpy(dtype=f"datetime64[{unit}]")
        return pa.array(values, type=pa.timestamp(unit, tz=str(tz)), from_pandas=True)
    return pa.array(series, from_pandas=True)


def _stringify(values: list[Any], *, is_null: list[bool]) -> pa.Array:
    out = [None if null else _as_text(v) for v, null in zip(values, is_null, strict=True)]
    return pa.array(out, type=pa.string())


def _as_text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="backslashreplace")
    return str(value)


def _mapping_to_table(data: Mapping[Any, Any]) -> pa.Table:
    if not data:
        return pa.Table.from_arrays([], names=[])
    arrays: dict[str, pa.Array] = {}
    length: int | None = None
    for name, values in data.items():
        array = _to_arrow_array(str(name), values)
        if length is not None and len(array) != length:
            raise InvalidInputError(
                f"columns have different lengths: {str(name)!r} has {len(array)} values, "
                f"earlier columns have {length}",
                column=str(name),
            )
        length = len(array)
        arrays[str(name)] = array
    # Table.from_arrays, not pa.table(dict): the latter imports pandas to check for a DataFrame.
    return pa.Table.from_arrays(list(arrays.values()), names=list(arrays))


def _to_arrow_array(name: str, values: Any) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks()
    if isinstance(values, pa.Array):
        return values
    if isinstance(values, np.ndarray) and values.ndim == 2:
        # A 2-D array is one embedding per row.
        flat = pa.array(np.ascontiguousarray(values).reshape(-1))
        return pa.FixedSizeListArray.from_arrays(flat, values.shape[1])
    if isinstance(values, np.ndarray) and values.ndim > 2:
        raise InvalidInputError(
            f"column {name!r} is a {values.ndim}-D array; give 1-D values or a 2-D array of "
            "embeddings (one row per record)",
            column=name,
        )
    # NaN stays NaN in float arrays (it is counted apart from nulls); in object arrays, as in
    # pandas, NaN means missing.
    from_pandas = isinstance(values, np.ndarray) and values.dtype == object
    try:
        return pa.array(values, from_pandas=from_pandas)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, TypeError):
        as_list = list(values)
        return _stringify(as_list, is_null=[v is None or v != v for v in as_list])
