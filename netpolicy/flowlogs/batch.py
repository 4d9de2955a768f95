"""The one shape every importer produces: a batch of flow-log records as columns.

Each side (source, destination) is a column of codes into a list of distinct
:class:`SideValue` (what the record says of that side), so everything done per side
(resolving names, deciding) is done once per distinct value, not per record. The
logged policy traces are coded the same way. Numbers (protocol, port, reporter, logged
action, count) are numpy arrays. ``lines`` says where each record came from.
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

import attrs
import numpy as np

__all__ = [
    "SideValue",
    "LogBatch",
    "RecordError",
    "Coder",
    "Row",
    "from_rows",
    "unique_rows",
    "REPORTER_NONE",
    "REPORTER_SRC",
    "REPORTER_DST",
    "LOGGED_NONE",
    "LOGGED_ALLOW",
    "LOGGED_DENY",
    "LOGGED_PASS",
    "LOGGED_ACTIONS",
    "SIDE_KINDS",
]

REPORTER_NONE, REPORTER_SRC, REPORTER_DST = 0, 1, 2
LOGGED_NONE, LOGGED_ALLOW, LOGGED_DENY, LOGGED_PASS = 0, 1, 2, 3
#: logged action codes by name, as Calico writes them
LOGGED_ACTIONS = {"allow": LOGGED_ALLOW, "deny": LOGGED_DENY, "pass": LOGGED_PASS}

#: What a side is, in Calico Enterprise's words: a workload endpoint (pod), a host
#: endpoint, an address in a network set, or an address of no known endpoint.
SIDE_KINDS = ("wep", "hep", "ns", "net")


@attrs.frozen
class SideValue:
    """What a record says of one side. ``name`` may be aggregated (``frontend-6c9d5b7f8-*``),
    or ``pub``/``pvt`` for a network; ``labels`` are sorted ``key=value`` texts (an
    intersection over the pods aggregated: labels they do not all share are missing);
    ``kind`` is one of :data:`SIDE_KINDS` or None when the record does not say."""

    ip: str | None = None
    name: str | None = None
    namespace: str | None = None
    kind: str | None = None
    labels: tuple[str, ...] | None = None

    @property
    def aggregated(self) -> bool:
        return self.name is not None and self.name.endswith("*")

    def text(self) -> str:
        """How the side is shown: ``ns/name``, the address, ``pub`` ..."""
        if self.name and self.namespace:
            return f"{self.namespace}/{self.name}"
        if self.name:
            return self.name
        return self.ip or "-"


class RecordError(ValueError):
    """A malformed record: where it is (``file:line`` or a Parquet row group and row)
    and which field."""

    def __init__(self, place: str, field: str | None, message: str) -> None:
        self.place = place
        self.field = field
        self.message = message
        where = f"{place}: {field}: " if field else f"{place}: "
        super().__init__(where + message)


class Coder:
    """Codes values in first-seen order: ``code(value)`` is its index in ``values``."""

    __slots__ = ("values", "_index")

    def __init__(self, first: Iterable[Any] = ()) -> None:
        self.values: list[Any] = []
        self._index: dict[Any, int] = {}
        for value in first:
            self.code(value)

    def code(self, value: Any) -> int:
        found = self._index.get(value)
        if found is None:
            found = self._index[value] = len(self.values)
            self.values.append(value)
        return found


@attrs.define
class LogBatch:
    """Records as columns. ``src``/``dst`` code into ``src_values``/``dst_values``;
    ``enforced``/``pending`` code into ``hit_values`` (the logged policy traces, as
    ``;``-joined hit strings, "" for none). Ports and ICMP fields: 0 / -1 for none.
    ``places`` tells where each record came from (``name:line`` or a Parquet row)."""

    source: str
    lines: np.ndarray  # int64: line (or row) of each record
    src: np.ndarray  # int32 codes
    dst: np.ndarray
    src_values: list[SideValue]
    dst_values: list[SideValue]
    protocol: np.ndarray  # uint8
    dst_port: np.ndarray  # int32, 0: none
    src_port: np.ndarray  # int32, 0: none
    icmp_type: np.ndarray  # int16, -1: none
    icmp_code: np.ndarray  # int16, -1: none
    reporter: np.ndarray  # int8
    logged: np.ndarray  # int8 logged action
    enforced: np.ndarray  # int32 codes into hit_values
    pending: np.ndarray
    hit_values: list[str]
    count: np.ndarray  # int64 connections each record stands for
    row_label: str = "line"

    def __len__(self) -> int:
        return len(self.lines)

    def place(self, k: int) -> str:
        return f"{self.source}:{int(self.lines[k])}" if self.row_label == "line" else f"{self.source}: {self.row_label} {int(self.lines[k])}"

    @classmethod
    def empty(cls, source: str, row_label: str = "line") -> "LogBatch":
        return from_rows(source, [], row_label)

    def take(self, keep: np.ndarray) -> "LogBatch":
        """The records where ``keep`` (a boolean mask or indices) selects."""
        return attrs.evolve(
            self, lines=self.lines[keep], src=self.src[keep], dst=self.dst[keep], protocol=self.protocol[keep],
            dst_port=self.dst_port[keep], src_port=self.src_port[keep], icmp_type=self.icmp_type[keep],
            icmp_code=self.icmp_code[keep], reporter=self.reporter[keep], logged=self.logged[keep],
            enforced=self.enforced[keep], pending=self.pending[keep], count=self.count[keep],
        )


#: One record in the form importers without pyarrow build: (line, src, dst, protocol,
#: dst_port, src_port, icmp_type, icmp_code, reporter, logged, enforced, pending, count).
Row = tuple[int, SideValue, SideValue, int, int, int, int, int, int, int, str, str, int]


def from_rows(source: str, rows: Sequence[Row], row_label: str = "line") -> LogBatch:
    """A batch from records already checked, one tuple each (see :data:`Row`)."""
    src, dst, hits = Coder(), Coder(), Coder([""])
    n = len(rows)
    cols = [np.zeros(n, dtype) for dtype in (np.int64, np.int32, np.int32, np.uint8, np.int32, np.int32, np.int16, np.int16,
                                              np.int8, np.int8, np.int32, np.int32, np.int64)]
    for k, row in enumerate(rows):
        cols[0][k] = row[0]
        cols[1][k] = src.code(row[1])
        cols[2][k] = dst.code(row[2])
        for j in range(3, 10):
            cols[j][k] = row[j]  # type: ignore[assignment]
        cols[10][k] = hits.code(row[10])
        cols[11][k] = hits.code(row[11])
        cols[12][k] = row[12]
    return LogBatch(
        source=source, lines=cols[0], src=cols[1], dst=cols[2], src_values=src.values, dst_values=dst.values,
        protocol=cols[3], dst_port=cols[4], src_port=cols[5], icmp_type=cols[6], icmp_code=cols[7], reporter=cols[8],
        logged=cols[9], enforced=cols[10], pending=cols[11], hit_values=hits.values, count=cols[12], row_label=row_label,
    )


def unique_rows(columns: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Rows of equal columns grouped: (the first row of each group, each row's group),
    with one-dimensional sorts only (sorting rows as tuples is far slower)."""
    n = len(columns[0]) if columns else 0
    if not n:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    codes = np.zeros(n, np.int64)
    width = 1
    for column in columns:
        values, inverse = np.unique(column, return_inverse=True)
        if width * len(values) >= 1 << 62:  # start again from the groups so far
            _, codes = np.unique(codes, return_inverse=True)
            width = int(codes.max()) + 1
        codes = codes * len(values) + inverse.reshape(-1)
        width *= len(values)
    _, first, group = np.unique(codes, return_index=True, return_inverse=True)
    return first, group.reshape(-1)
