"""Reading a flow log in batches of at most ``batch_size`` records, whatever its format:
columnar with pyarrow where it is installed (its JSON, CSV and Parquet readers), one
record at a time otherwise or where pyarrow's reader refuses a block (then each record's
problem is found and named).

A malformed record is a :class:`~.batch.RecordError` naming its place (``file:line``;
for Parquet the row group and row) and field. ``on_error="fail"`` raises
:class:`RecordErrors` at the first batch holding one (with every bad record of that
batch); ``"skip"`` leaves them out and hands each to ``skipped``.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
from typing import IO, Any, Callable, Iterator, Sequence

import numpy as np

from .batch import LogBatch, RecordError, Row, from_rows
from .records import ROW_READERS, FieldError

__all__ = ["FORMATS", "DEFAULT_BATCH", "RecordErrors", "read_batches", "has_pyarrow"]

#: The formats read: Calico's (Goldmane NDJSON, Whisker JSON, Enterprise NDJSON) and the
#: generic columns (CSV, JSON lines, Parquet).
FORMATS = ("goldmane", "whisker", "enterprise", "csv", "jsonl", "parquet")
DEFAULT_BATCH = 65536
ON_ERROR = ("fail", "skip")
#: At most this many bad records are listed when failing.
MAX_LISTED = 20


class RecordErrors(ValueError):
    """Malformed records (at most :data:`MAX_LISTED` listed); nothing was decided."""

    def __init__(self, errors: Sequence[RecordError], more: int = 0) -> None:
        self.errors = list(errors)
        self.more = more
        lines = [str(error) for error in self.errors]
        if more:
            lines.append(f"and {more} more malformed records")
        super().__init__("\n".join(lines))


def has_pyarrow() -> bool:
    try:
        import pyarrow.json  # noqa: F401
    except ImportError:
        return False
    return True


class _Errors:
    def __init__(self, on_error: str, skipped: Callable[[RecordError], None] | None) -> None:
        if on_error not in ON_ERROR:
            raise ValueError(f"on_error must be one of {', '.join(ON_ERROR)}, not {on_error!r}")
        self.fail = on_error == "fail"
        self.skipped = skipped

    def report(self, found: Sequence[tuple[str, str | None, str]]) -> None:
        errors = [RecordError(place, field, message) for place, field, message in found]
        if not errors:
            return
        if self.fail:
            raise RecordErrors(errors[:MAX_LISTED], max(0, len(errors) - MAX_LISTED))
        if self.skipped is not None:
            for error in errors:
                self.skipped(error)


def _line_blocks(stream: IO[bytes], size: int) -> Iterator[tuple[list[int], list[bytes]]]:
    """(line numbers, lines) of the non-blank lines, ``size`` lines at a time."""
    number = 0
    first = True
    while True:
        chunk = list(itertools.islice(stream, size))
        if not chunk:
            return
        numbers, lines = [], []
        for line in chunk:
            number += 1
            if first:
                first = False
                if line.startswith(b"\xef\xbb\xbf"):
                    line = line[3:]
            if line.strip():
                numbers.append(number)
                lines.append(line if line.endswith(b"\n") else line + b"\n")
        yield numbers, lines


def _python_rows(fmt: str, numbered: Sequence[tuple[int, Any]], source: str) -> tuple[list[Row], list[tuple[str, str | None, str]]]:
    reader = ROW_READERS[fmt]
    rows: list[Row] = []
    found: list[tuple[str, str | None, str]] = []
    for number, record in numbered:
        place = f"{source}:{number}"
        if isinstance(record, Exception):
            found.append((place, None, str(record)))
            continue
        if not isinstance(record, dict):
            found.append((place, None, "each record must be a JSON object"))
            continue
        try:
            rows.append((number, *reader(record)[1:]))
        except FieldError as exc:
            found.append((place, exc.field, exc.message))
    return rows, found


def _json_records(numbers: Sequence[int], lines: Sequence[bytes]) -> list[tuple[int, Any]]:
    out: list[tuple[int, Any]] = []
    for number, line in zip(numbers, lines):
        try:
            out.append((number, json.loads(line)))
        except ValueError as exc:
            out.append((number, ValueError(f"not JSON: {exc}")))
    return out


def _fast(fmt: str) -> Any:
    """The columnar reader of a JSON-lines format: (schema, from_table), or None."""
    if not has_pyarrow():
        return None
    if fmt == "goldmane":
        from . import goldmane

        return goldmane.arrow_schema(), goldmane.from_table
    if fmt == "enterprise":
        from . import enterprise

        return enterprise.arrow_schema(), enterprise.from_table
    from . import generic

    return None, generic.from_table


def _json_lines(stream: IO[bytes], fmt: str, source: str, size: int, errors: _Errors) -> Iterator[LogBatch]:
    row_format = "generic" if fmt == "jsonl" else fmt
    fast = _fast(fmt)
    found: Sequence[tuple[str, str | None, str]]
    for numbers, lines in _line_blocks(stream, size):
        batch = None
        if fast is not None:
            import pyarrow as pa
            import pyarrow.json as pj

            schema, from_table = fast
            options = pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore") if schema is not None else None
            try:
                table = pj.read_json(io.BytesIO(b"".join(lines)), parse_options=options,
                                     read_options=pj.ReadOptions(use_threads=False, block_size=1 << 26))
            except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
                table = None
            if table is not None and table.num_rows == len(numbers):
                batch, found, _ = from_table(table, np.asarray(numbers, np.int64), source)
                errors.report(found)
        if batch is None:
            rows, found = _python_rows(row_format, _json_records(numbers, lines), source)
            errors.report(found)
            batch = from_rows(source, rows)
        yield batch


def _csv(stream: IO[bytes], source: str, size: int, errors: _Errors) -> Iterator[LogBatch]:
    header = stream.readline()
    if header.startswith(b"\xef\xbb\xbf"):
        header = header[3:]
    names = [name.strip() for name in header.decode("utf-8", "replace").strip().split(",")]
    if not {"src", "dst"} <= set(names):
        raise RecordErrors([RecordError(f"{source}:1", None, "CSV flows need a header line with at least the columns src,dst")])
    offset = 1
    fast = has_pyarrow()
    found: Sequence[tuple[str, str | None, str]]
    for numbers, lines in _line_blocks(stream, size):
        numbers = [number + offset for number in numbers]
        batch = None
        if fast:
            import pyarrow as pa
            import pyarrow.csv as pcsv

            from . import generic

            types = {name: pa.string() for name in ("src", "dst", "protocol")}
            try:
                table = pcsv.read_csv(io.BytesIO(header + b"".join(lines)),
                                      read_options=pcsv.ReadOptions(use_threads=False),
                                      convert_options=pcsv.ConvertOptions(column_types=types, strings_can_be_null=True))
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                table = None
            if table is not None and table.num_rows == len(numbers):
                table = table.rename_columns([name.strip() for name in table.column_names])
                batch, found, _ = generic.from_table(table, np.asarray(numbers, np.int64), source)
                errors.report(found)
        if batch is None:
            text = (header + b"".join(lines)).decode("utf-8", "replace")
            reader = csv.DictReader(io.StringIO(text))
            records = [(number, {(k or "").strip(): (v.strip() if isinstance(v, str) else v) for k, v in row.items()})
                       for number, row in zip(numbers, reader)]
            rows, found = _python_rows("generic", records, source)
            errors.report(found)
            batch = from_rows(source, rows)
        yield batch


def _parquet(stream: IO[bytes], source: str, size: int, errors: _Errors) -> Iterator[LogBatch]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise RecordErrors([RecordError(source, None, "reading Parquet needs pyarrow (pip install pyarrow)")]) from None
    from . import generic

    try:
        parquet = pq.ParquetFile(stream)
    except Exception as exc:  # pyarrow raises its own error types
        raise RecordErrors([RecordError(source, None, f"not a readable Parquet file: {exc}")]) from None
    wanted = [name for name in generic.COLUMNS if name in parquet.schema_arrow.names]
    found: Sequence[tuple[str, str | None, str]]
    for group in range(parquet.num_row_groups):
        start = 0
        for record_batch in parquet.iter_batches(batch_size=size, row_groups=[group], columns=wanted):
            import pyarrow as pa

            table = pa.Table.from_batches([record_batch])
            rows = np.arange(start, start + table.num_rows, dtype=np.int64)
            batch, found, _ = generic.from_table(
                table, rows, source, row_label=f"row group {group} row",
                places=lambda k, g=group, s=start: f"{source}: row group {g} row {s + k}",
            )
            errors.report(found)
            start += table.num_rows
            yield batch


def _whisker(stream: IO[bytes], source: str, size: int, errors: _Errors) -> Iterator[LogBatch]:
    from .goldmane import whisker_documents

    try:
        documents = whisker_documents(stream)
        while True:
            chunk = list(itertools.islice(documents, size))
            if not chunk:
                return
            rows, found = _python_rows("whisker", chunk, source)
            errors.report(found)
            yield from_rows(source, rows)
    except ValueError as exc:
        if isinstance(exc, RecordErrors):
            raise
        raise RecordErrors([RecordError(source, None, f"not a Whisker response: {exc}")]) from None


def read_batches(
    stream: IO[bytes], fmt: str, *, source: str = "<input>", batch_size: int = DEFAULT_BATCH, on_error: str = "fail",
    skipped: Callable[[RecordError], None] | None = None,
) -> Iterator[LogBatch]:
    """The records of ``stream`` (binary) in ``fmt`` (one of :data:`FORMATS`), as
    batches of at most ``batch_size`` records."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    errors = _Errors(on_error, skipped)
    if fmt in ("goldmane", "enterprise", "jsonl"):
        return _json_lines(stream, fmt, source, batch_size, errors)
    if fmt == "csv":
        return _csv(stream, source, batch_size, errors)
    if fmt == "parquet":
        return _parquet(stream, source, batch_size, errors)
    return _whisker(stream, source, batch_size, errors)
