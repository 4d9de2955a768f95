"""``netpolicy replay`` of a CSV or Parquet file, batch by batch with pyarrow: each batch
read as columns, every distinct value (side, protocol, port) checked and rendered once,
the flows decided with ``evaluate_many`` on columns, and each output line put together
from the rendered pieces. Memory is bounded by the batch, not by the file.

It answers only where the record-by-record path (:mod:`._replay`) would give the same
output without complaint: a file whose every record reads and decides cleanly. At the
first thing it does not handle exactly as that path does (a malformed or undecidable
record, quotes or carriage returns in a CSV, ICMPv6, a non-seekable input, an empty
file) it gives up before writing anything, and the caller runs the record-by-record
path, whose results and messages (``file:line``) stay the reference."""

from __future__ import annotations

import codecs
import collections
import csv
import io
import json
import os
import shutil
import tempfile
from typing import IO, Any, Callable, Iterator

import numpy as np

from ..errors import PolicyError
from ..flow import Flow
from ..flowlogs.batch import unique_rows
from ..policyset import PolicySet
from ._batch import Outcome
from ._common import side_text
from ._formats import cell
from ._replay import _COLUMNS, _INTS, _guess_format, _int, _record
from ._terminal import progress
from ._verdict import deciding_label

__all__ = ["replay_streaming", "BLOCK_BYTES", "BATCH_ROWS"]

#: Bytes of CSV and rows of Parquet read and decided at a time.
BLOCK_BYTES = 1 << 23
BATCH_ROWS = 1 << 18
_ANY = "0.0.0.0"  # a side for checking the other fields alone
_NOT_POLICED = -2
_FIELDS = ("protocol",) + _INTS
_KNOWN = 1 << 20  # distinct values remembered across batches


class _GiveUp(Exception):
    """The record-by-record path must answer."""


def replay_streaming(policy_set: PolicySet, stream: IO[bytes], name: str, input_format: str, output: str,
                     decisions: bool, out: IO[str]) -> dict[str, Any] | None:
    """Replays a CSV or Parquet file to ``out`` (``csv`` or ``jsonl``) and returns the
    summary ``Replay.summary`` gives; None, with nothing written and ``stream`` back
    where it was, when the record-by-record path must answer."""
    if output not in ("csv", "jsonl"):
        return None
    try:
        import pyarrow  # noqa: F401
        import pyarrow.csv  # noqa: F401
        import pyarrow.parquet  # noqa: F401
        seekable = stream.seekable()
    except (ImportError, AttributeError, ValueError):
        return None
    if not seekable:
        return None
    start = stream.tell()
    head = stream.read(64)
    stream.seek(start)
    fmt = _guess_format(name, head) if input_format == "auto" else input_format
    if fmt not in ("csv", "parquet"):
        return None
    with tempfile.TemporaryFile("w+b") as spool:
        try:
            total = _total(stream, fmt, start)  # rows of Parquet, bytes of CSV
            tables = _csv_tables(stream) if fmt == "csv" else _parquet_tables(stream)
            with progress(total, "replaying") as advance:
                summary = _Run(policy_set, output, decisions, spool, strip=fmt == "csv").run(tables, advance)
        except _GiveUp:
            stream.seek(start)
            return None
        spool.seek(0)
        binary = getattr(out, "buffer", None)
        if binary is not None:  # the bytes as they are (UTF-8, as the text stream writes them)
            out.flush()
            shutil.copyfileobj(spool, binary)
            binary.flush()
        else:
            decoder = codecs.getincrementaldecoder("utf-8")()
            for chunk in iter(lambda: spool.read(1 << 20), b""):
                out.write(decoder.decode(chunk))
            out.write(decoder.decode(b"", final=True))
    return summary


def _total(stream: IO[bytes], fmt: str, start: int) -> int:
    try:
        if fmt == "csv":
            return max(0, os.fstat(stream.fileno()).st_size - start)
        import pyarrow.parquet as pq

        rows = int(pq.ParquetFile(stream).metadata.num_rows)
        stream.seek(start)
        return rows
    except Exception:  # no size known (the other path names a bad file): no progress bar
        stream.seek(start)
        return 0


def _csv_tables(stream: IO[bytes]) -> Iterator[tuple[Any, int]]:
    import pyarrow as pa
    import pyarrow.csv as pcsv

    header = stream.readline()
    if header.startswith(b"\xef\xbb\xbf"):
        header = header[3:]
    if not header.endswith(b"\n") or b"\r" in header:
        raise _GiveUp
    try:
        names = [n.strip() for n in next(csv.reader([header.decode("utf-8").rstrip("\n")]))]
    except (UnicodeDecodeError, csv.Error, StopIteration):
        raise _GiveUp from None
    if not {"src", "dst"} <= set(names) or len(set(names)) != len(names) or any("," in n or '"' in n for n in names):
        raise _GiveUp
    header = ",".join(names).encode() + b"\n"
    types = {n: pa.string() for n in names}
    rest = b""
    while True:
        chunk = stream.read(BLOCK_BYTES)
        block = rest + chunk
        if not chunk:
            rest = b""
        else:
            cut = block.rfind(b"\n") + 1
            block, rest = block[:cut], block[cut:]
        if block.strip(b"\n"):
            if b'"' in block or b"\r" in block:
                raise _GiveUp
            try:
                table = pcsv.read_csv(io.BytesIO(header + block), read_options=pcsv.ReadOptions(use_threads=False),
                                      convert_options=pcsv.ConvertOptions(column_types=types))
            except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
                raise _GiveUp from None
            yield table.select([c for c in _COLUMNS if c in names]), len(block)
        if not chunk:
            return


def _parquet_tables(stream: IO[bytes]) -> Iterator[tuple[Any, int]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(stream)
        wanted = [c for c in _COLUMNS if c in parquet.schema_arrow.names]
        for batch in parquet.iter_batches(batch_size=BATCH_ROWS, columns=wanted):
            yield pa.Table.from_batches([batch]), batch.num_rows
    except Exception:  # pyarrow raises its own error types: the other path names them
        raise _GiveUp from None


def _groups(columns: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """``unique_rows`` of small non-negative integer columns without sorting: (the first
    row of each group, each row's group)."""
    n = len(columns[0])
    key = np.zeros(n, np.int64)
    size = 1
    for column in columns:
        low, high = (int(column.min()), int(column.max())) if n else (0, 0)
        if size * (high - low + 1) > 4 * n + 1024 and high - low < 1 << 24:  # the values present, numbered
            present = np.zeros(high - low + 1, np.bool_)
            present[column - low] = True
            column = (np.cumsum(present) - 1)[column - low]
            low, high = 0, int(present.sum()) - 1
        if low != 0:
            column = column - low
            high -= low
        if size * (high + 1) > 4 * n + 1024:
            return unique_rows(columns)
        key = key * (high + 1) + column
        size *= high + 1
    seen = np.zeros(size, np.bool_)
    seen[key] = True
    ids = np.cumsum(seen) - 1
    group = ids[key]
    first = np.full(int(seen.sum()), n, np.int64)
    np.minimum.at(first, group, np.arange(n))
    return first, group


def _csv_cell(text: str) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow([text])
    return buffer.getvalue()[:-1]


class _Run:
    """The batches of one file: output lines to ``spool``, counts for the summary."""

    def __init__(self, ps: PolicySet, output: str, decisions: bool, spool: IO[bytes], strip: bool) -> None:
        self.ps, self.output, self.decisions, self.spool, self.strip = ps, output, decisions, spool, strip
        self.flows = self.allowed = 0
        self.by: dict[str, collections.Counter[str]] = {"Allow": collections.Counter(), "Deny": collections.Counter()}
        self.head = ["src", "dst", "protocol", "dst_port", "action", "allowed"] + (["decided_by"] if decisions else [])
        self.known_sides: dict[tuple[str, Any], tuple[str, str]] = {}  # (column, value): side()
        self.known_fields: dict[tuple[Any, ...], Flow] = {}

    def run(self, tables: Iterator[tuple[Any, int]], advance: Callable[[int], None] | None) -> dict[str, Any]:
        if self.output == "csv":
            self.spool.write((",".join(self.head) + "\n").encode())
        for table, done in tables:
            if table.num_rows:
                self.batch(table)
            if advance is not None:
                advance(done)
        if not self.flows:
            raise _GiveUp  # the other path's empty output leaves decided_by out
        data: dict[str, Any] = {"flows": self.flows, "allowed": self.allowed, "denied": self.flows - self.allowed}
        if self.decisions:
            data["by_decision"] = {
                action: [{"decided_by": label, "flows": count} for label, count in counter.most_common()]
                for action, counter in self.by.items()
            }
        return data

    def codes(self, table: Any, name: str) -> tuple[np.ndarray, list[Any]]:
        """Each record's index into the column's distinct values (None for null)."""
        n = table.num_rows
        if name not in table.column_names:
            return np.zeros(n, np.int64), [None]
        encoded = table.column(name).combine_chunks().dictionary_encode(null_encoding="encode")
        values = encoded.dictionary.to_pylist()
        if self.strip:
            values = [v.strip() if isinstance(v, str) else v for v in values]
        return encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64), values

    def side(self, value: Any, name: str) -> tuple[str, str]:
        """(the text given to the engine, the rendered output piece) of one side value."""
        key = (name, value)
        found = self.known_sides.get(key) if isinstance(value, str) else None
        if found is None:
            found = self.new_side(value, name)
            if isinstance(value, str) and len(self.known_sides) < _KNOWN:
                self.known_sides[key] = found
        return found

    def new_side(self, value: Any, name: str) -> tuple[str, str]:
        if value is None or value == "":
            raise _GiveUp  # missing src or dst
        text = str(value)
        try:
            shown = side_text(Flow(src=text, dst=_ANY).src)
        except (PolicyError, ValueError, TypeError):
            raise _GiveUp from None
        if self.output == "csv":
            return text, _csv_cell(cell(shown)) + ","
        return text, ('{"src": ' if name == "src" else '"dst": ') + json.dumps(shown) + ", "

    def fields(self, raw: dict[str, Any]) -> Flow:
        """A flow between any two addresses with these fields (checked as the other path checks them)."""
        key = tuple((type(raw[c]), raw[c]) for c in _FIELDS)
        flow = self.known_fields.get(key)
        if flow is None:
            flow = self.new_fields(raw)
            if len(self.known_fields) < _KNOWN:
                self.known_fields[key] = flow
        return flow

    def new_fields(self, raw: dict[str, Any]) -> Flow:
        protocol = raw["protocol"]
        if protocol is None or protocol == "":
            protocol = "TCP"
        try:
            numbers = {c: _int(raw[c], c) for c in _INTS}
            flow = Flow(src=_ANY, dst=_ANY, protocol=protocol, **numbers)
        except (PolicyError, ValueError, TypeError):
            raise _GiveUp from None
        if flow.protocol == 58:  # ICMPv6: the sides' family is checked on the Flows only
            raise _GiveUp
        return flow

    def batch(self, table: Any) -> None:
        n = table.num_rows
        sides = {}
        for name in ("src", "dst"):
            index, values = self.codes(table, name)
            rendered = [self.side(v, name) for v in values]
            sides[name] = (index, np.array([t for t, _ in rendered] + [None], dtype=object)[:-1], [p for _, p in rendered])
        coded = [self.codes(table, name) for name in _FIELDS]
        first, group = _groups([index for index, _ in coded])
        flows = [self.fields({name: values[int(index[k])] for name, (index, values) in zip(_FIELDS, coded)})
                 for k in first.tolist()]
        columns = {
            "src": sides["src"][1][sides["src"][0]], "dst": sides["dst"][1][sides["dst"][0]],
            "protocol": np.array([f.protocol for f in flows], np.uint8)[group],
            "dst_port": np.array([f.dst_port or 0 for f in flows], np.int64)[group],
            "src_port": np.array([f.src_port or 0 for f in flows], np.int64)[group],
            "icmp_type": np.array([-1 if f.icmp_type is None else f.icmp_type for f in flows], np.int64)[group],
            "icmp_code": np.array([-1 if f.icmp_code is None else f.icmp_code for f in flows], np.int64)[group],
        }
        try:
            result = self.ps.evaluate_many(columns)
        except (PolicyError, ValueError, TypeError):
            raise _GiveUp from None
        allowed, labels, label = self.outcomes(result, n)
        self.count(allowed, labels, label)
        self.write(sides, flows, group, allowed, labels, label)

    def outcomes(self, result: Any, n: int) -> tuple[np.ndarray, list[str], np.ndarray]:
        """Each flow's allowed, and its label's index into the labels (-1 without decisions)."""
        allowed = np.asarray(result.allowed, np.bool_).copy()
        if not self.decisions:
            return allowed, [], np.full(n, -1, np.int64)
        egress = np.asarray(result.egress_decision, np.int64)
        ingress = np.asarray(result.ingress_decision, np.int64)
        by_reference = ((egress < 0) & (egress != _NOT_POLICED)) | ((ingress < 0) & (ingress != _NOT_POLICED))
        labels: list[str] = []
        known: dict[str, int] = {}
        label = np.zeros(n, np.int64)
        tables = np.flatnonzero(~by_reference)
        if len(tables):
            keys = [allowed[tables].astype(np.int64), egress[tables] + 2, ingress[tables] + 2]  # ids from -2
            first, group = _groups(keys)
            codes = []
            for k in tables[first].tolist():
                outcome = Outcome(bool(allowed[k]), result.decision(int(egress[k])), result.decision(int(ingress[k])))
                codes.append(known.setdefault(deciding_label(outcome), len(known)))
            label[tables] = np.asarray(codes, np.int64)[group]
        for k in np.flatnonzero(by_reference).tolist():  # decided by the reference evaluator
            outcome = Outcome.of(result.verdict(k))
            allowed[k] = outcome.allowed
            label[k] = known.setdefault(deciding_label(outcome), len(known))
        labels = list(known)
        return allowed, labels, label

    def count(self, allowed: np.ndarray, labels: list[str], label: np.ndarray) -> None:
        self.flows += len(allowed)
        self.allowed += int(np.count_nonzero(allowed))
        if not self.decisions:
            return
        first, group = _groups([allowed.astype(np.int64), label])
        counts = np.bincount(group, minlength=len(first))
        for g in np.argsort(first, kind="stable").tolist():  # labels in the order they first come
            k = int(first[g])
            self.by["Allow" if allowed[k] else "Deny"][labels[int(label[k])]] += int(counts[g])

    def write(self, sides: dict[str, Any], flows: list[Flow], group: np.ndarray, allowed: np.ndarray,
              labels: list[str], label: np.ndarray) -> None:
        import pyarrow as pa
        import pyarrow.compute as pc

        first, tail = _groups([group, allowed.astype(np.int64), label])
        ends = []
        for k in first.tolist():
            record = _record(flows[int(group[k])], bool(allowed[k]), labels[int(label[k])] if self.decisions else None)
            if self.output == "csv":
                buffer = io.StringIO()
                csv.writer(buffer, lineterminator="\n").writerow([cell(record.get(c)) for c in self.head[2:]])
                ends.append(buffer.getvalue())
            else:
                rest = {key: value for key, value in record.items() if key not in ("src", "dst")}
                ends.append(json.dumps(rest)[1:] + "\n")
        pieces = [pc.take(pa.array(sides["src"][2], pa.string()), pa.array(sides["src"][0])),
                  pc.take(pa.array(sides["dst"][2], pa.string()), pa.array(sides["dst"][0])),
                  pc.take(pa.array(ends, pa.string()), pa.array(tail))]
        lines = pc.binary_join_element_wise(*pieces, "")
        offsets = np.frombuffer(lines.buffers()[1], np.int32)
        data = lines.buffers()[2]
        self.spool.write(memoryview(data)[offsets[lines.offset]:offsets[lines.offset + len(lines)]])
