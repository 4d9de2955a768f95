"""The columns ``netpolicy replay`` reads in CSV, JSON lines and Parquet: ``src`` and
``dst`` (an address, or ``namespace/pod``; an endpoint made from a workload as
``namespace/name[Kind]``), ``protocol`` (a name or number; TCP when absent),
``dst_port``, and optionally ``src_port``, ``icmp_type``, ``icmp_code``::

    src,dst,protocol,dst_port
    shop/frontend,shop/backend,TCP,8080
    10.0.0.7,shop/backend[Deployment],TCP,8080

These name one endpoint or address per side: nothing is aggregated, so every record is
decided exactly."""

from __future__ import annotations

from typing import Any

import numpy as np

from .batch import SideValue
from .records import FieldError, _generic_side

__all__ = ["COLUMNS", "from_table"]

COLUMNS = ("src", "dst", "protocol", "dst_port", "src_port", "icmp_type", "icmp_code")
_PORTED = (6, 17, 132, 136)
_ICMP = (1, 58)


def _sides(array: Any, n: int, problems: Any, field: str) -> tuple[np.ndarray, list[SideValue]]:
    import pyarrow as pa

    from ._columns import codes

    if array is None:
        problems.add(np.arange(n), field, "is missing")
        return np.zeros(n, np.int32), [SideValue()]
    if pa.types.is_integer(array.type):
        array = array.cast(pa.uint64()) if not pa.types.is_unsigned_integer(array.type) else array
    indices, distinct = codes(array)
    values: list[SideValue] = []
    for code, value in enumerate(distinct):
        try:
            values.append(_generic_side(value, field))
        except FieldError as exc:
            problems.add(np.flatnonzero(indices == code), exc.field, exc.message)
            values.append(SideValue())
    return indices, values


def from_table(table: Any, lines: np.ndarray, source: str, row_label: str = "line",
               places: Any = None) -> tuple[Any, list[tuple[str, str, str]], Any]:
    """The batch of a table of the generic columns: (batch of the good records,
    (place, field, message) of the bad ones, the mask of bad records). Unknown columns
    are ignored."""
    from ._columns import Problems, assemble, column, integers, protocols

    n = table.num_rows
    problems = Problems(n)
    cols: dict[str, Any] = {}
    cols["src"] = _sides(column(table, "src"), n, problems, "src")
    cols["dst"] = _sides(column(table, "dst"), n, problems, "dst")
    cols["protocol"] = proto = protocols(column(table, "protocol"), n, problems, "protocol", default=6)
    ported, icmp = np.isin(proto, _PORTED), np.isin(proto, _ICMP)
    for name, low, high, absent in (("dst_port", 1, 65535, 0), ("src_port", 1, 65535, 0),
                                    ("icmp_type", 0, 254, -1), ("icmp_code", 0, 255, -1)):
        values = integers(column(table, name), n, problems, name, low, high, absent)
        given = values != absent
        if name.endswith("port"):
            zero = given & (values == 0)
            values = np.where(zero, 0, values)
            wrong = given & ~ported & ~zero
            problems.add(np.flatnonzero(wrong), name, lambda k: f"protocol {int(proto[k])} has no ports")
        else:
            wrong = given & ~icmp
            problems.add(np.flatnonzero(wrong), name, "needs protocol ICMP or ICMPv6")
        cols[name] = values
    orphan = (cols["icmp_code"] >= 0) & (cols["icmp_type"] < 0)
    problems.add(np.flatnonzero(orphan), "icmp_code", "needs icmp_type")
    where = places if places is not None else (lambda row: f"{source}:{int(lines[row])}")
    found = [(where(row), *problems.found[row]) for row in sorted(problems.found)]
    return assemble(source, lines, problems, cols, row_label), found, problems.bad
