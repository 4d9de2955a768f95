"""Columnar helpers over pyarrow: nested fields, dictionary codes, and the checks that
turn a parsed table into a :class:`~.batch.LogBatch` while naming each bad record's
field. Only imported where pyarrow is installed."""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .batch import LogBatch, SideValue
from .hits import HitError, join_hits, parse_hits
from .records import NO_NAMESPACE, FieldError, label_list, protocol_value

__all__ = ["Problems", "column", "codes", "side_codes", "protocols", "integers", "hit_codes", "mapped", "assemble"]

_SEP = "\x1f"


class Problems:
    """Bad records found in a table: (row, field, message), the first per row kept."""

    def __init__(self, n: int) -> None:
        self.bad = np.zeros(n, np.bool_)
        self.found: dict[int, tuple[str, str]] = {}

    def add(self, rows: Any, field: str, message: str | Callable[[int], str]) -> None:
        for row in np.asarray(rows, np.int64).tolist():
            if row not in self.found:
                self.found[row] = (field, message(row) if callable(message) else message)
                self.bad[row] = True


def column(table: pa.Table, *path: str) -> pa.Array | None:
    """The (combined) column at ``path`` through nested structs; None when absent."""
    if path[0] not in table.column_names:
        return None
    array: Any = table.column(path[0]).combine_chunks()
    for step in path[1:]:
        if not pa.types.is_struct(array.type) or array.type.get_field_index(step) < 0:
            return None
        array = pc.struct_field(array, step)
    return array


def codes(array: pa.Array) -> tuple[np.ndarray, list[Any]]:
    """Dictionary codes (int32) and the distinct values; null is a value (None)."""
    encoded = pc.dictionary_encode(array, null_encoding="encode")
    indices = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int32, copy=False)
    return indices, encoded.dictionary.to_pylist()


def _as_text(array: pa.Array | None, n: int) -> pa.Array:
    if array is None:
        return pa.nulls(n, pa.string())
    if not pa.types.is_string(array.type) and not pa.types.is_large_string(array.type):
        array = pc.cast(array, pa.string())
    return array


def _labels_text(array: pa.Array | None, n: int) -> pa.Array:
    if array is None:
        return pa.nulls(n, pa.string())
    if pa.types.is_struct(array.type):
        array = pc.struct_field(array, "labels") if array.type.get_field_index("labels") >= 0 else pa.nulls(n, pa.list_(pa.string()))
    if pa.types.is_list(array.type):
        return pc.binary_join(array, _SEP)
    return _as_text(array, n)


def side_codes(
    n: int, problems: Problems, field: str, *, ip: pa.Array | None = None, name: pa.Array | None = None,
    namespace: pa.Array | None = None, kind: pa.Array | None = None, labels: pa.Array | None = None,
    kinds: Callable[[Any], str | None] = lambda v: v, names: Callable[[str | None], str | None] = lambda v: v,
) -> tuple[np.ndarray, list[SideValue]]:
    """Codes of the side values made of these columns, one SideValue per distinct
    combination; ``kinds``/``names`` map the raw type and name (KeyError/ValueError for
    a bad one)."""
    parts = [pc.fill_null(_as_text(a, n), "\x00") for a in (ip, name, namespace, kind)]
    parts.append(pc.fill_null(_labels_text(labels, n), "\x00"))
    joined = pc.binary_join_element_wise(*parts, "\x1e")
    indices, distinct = codes(joined)
    values: list[SideValue] = []
    for code, text in enumerate(distinct):
        raw = [None if part == "\x00" else part for part in text.split("\x1e")]
        try:
            label_items = None if raw[4] is None else label_list([p for p in raw[4].split(_SEP) if p], f"{field}_labels")
            kind = kinds(raw[3])
            namespace_text = None if raw[2] is None or raw[2] in NO_NAMESPACE else raw[2]
            values.append(SideValue(ip=raw[0] or None, name=names(raw[1] or None) if raw[1] else None,
                                    namespace=namespace_text, kind=kind, labels=label_items))
        except FieldError as exc:
            problems.add(np.flatnonzero(indices == code), exc.field, exc.message)
            values.append(SideValue())
        except (KeyError, ValueError):
            problems.add(np.flatnonzero(indices == code), f"{field}_type", f"unknown endpoint type {raw[3]!r}")
            values.append(SideValue())
    return indices, values


def protocols(array: pa.Array | None, n: int, problems: Problems, field: str, default: int | None = None) -> np.ndarray:
    """Protocol numbers (uint8) from names or numbers, looked up once per distinct value."""
    out = np.zeros(n, np.uint8)
    if array is None:
        if default is None:
            problems.add(np.arange(n), field, "is missing")
        else:
            out[:] = default
        return out
    indices, distinct = codes(array)
    numbers = np.zeros(max(len(distinct), 1), np.uint8)
    for code, value in enumerate(distinct):
        try:
            numbers[code] = default if (value is None or value == "") and default is not None else protocol_value(value, field)
        except FieldError as exc:
            problems.add(np.flatnonzero(indices == code), exc.field, exc.message)
    return numbers[indices] if n else out


def integers(array: pa.Array | None, n: int, problems: Problems, field: str, low: int, high: int, absent: int) -> np.ndarray:
    """An integer column (int64), ``absent`` where null; rows outside ``low``-``high``
    (or not integers) are problems."""
    if array is None:
        return np.full(n, absent, np.int64)
    if pa.types.is_string(array.type) or pa.types.is_large_string(array.type):
        indices, distinct = codes(array)
        table = np.full(max(len(distinct), 1), absent, np.int64)
        for code, value in enumerate(distinct):
            if value is None or value.strip() == "":
                continue
            if value.strip().lstrip("-").isdigit():
                table[code] = int(value)
            else:
                problems.add(np.flatnonzero(indices == code), field, f"must be an integer, not {value!r}")
        values = table[indices] if n else np.zeros(0, np.int64)
        given = values != absent
    elif pa.types.is_integer(array.type) or pa.types.is_floating(array.type):
        raw = array.to_numpy(zero_copy_only=False)
        given = ~np.asarray(array.is_null().to_numpy(zero_copy_only=False), np.bool_)
        filled = np.where(given, np.nan_to_num(raw.astype(np.float64), nan=absent), absent)
        whole = filled == np.floor(filled)
        if not whole.all():
            problems.add(np.flatnonzero(~whole), field, lambda k: f"must be an integer, not {filled[k]}")
        values = filled.astype(np.int64)
    else:
        problems.add(np.arange(n), field, f"must be integers, not {array.type}")
        return np.full(n, absent, np.int64)
    bad = given & ((values < low) | (values > high))
    if bad.any():
        problems.add(np.flatnonzero(bad), field, lambda k: f"{values[k]} is outside {low}-{high}")
        values = np.where(bad, absent, values)
    return values


def mapped(array: pa.Array | None, n: int, problems: Problems, field: str, table: dict[Any, int], what: str) -> np.ndarray:
    """A small enum column (int8) through ``table`` (raw value -> code); null is ``table[None]``."""
    out = np.full(n, table.get(None, 0), np.int8)
    if array is None:
        return out
    indices, distinct = codes(array)
    lookup = np.zeros(max(len(distinct), 1), np.int8)
    for code, value in enumerate(distinct):
        key = value.lower() if isinstance(value, str) and value.lower() in table else value
        found = table.get(key)
        if found is None:
            problems.add(np.flatnonzero(indices == code), field, f"unknown {what} {value!r}")
        else:
            lookup[code] = found
    return lookup[indices] if n else out


def hit_codes(texts: pa.Array | None, n: int, problems: Problems, field: str, hits: list[str]) -> np.ndarray:
    """Codes into ``hits`` (extended here) of each record's trace, given as ``;``-joined
    hit strings or objects rendered so; each distinct trace is read once."""
    out = np.zeros(n, np.int32)
    if texts is None:
        return out
    indices, distinct = codes(texts)
    index = {text: k for k, text in enumerate(hits)}
    lookup = np.zeros(max(len(distinct), 1), np.int32)
    for code, text in enumerate(distinct):
        if not text:
            continue
        try:
            canonical = join_hits(parse_hits([part for part in text.split(_SEP) if part]))
        except HitError as exc:
            problems.add(np.flatnonzero(indices == code), field, str(exc))
            continue
        found = index.get(canonical)
        if found is None:
            found = index[canonical] = len(hits)
            hits.append(canonical)
        lookup[code] = found
    return lookup[indices] if n else out


def string_lists(array: pa.Array | None) -> pa.Array | None:
    """A list<string> column as one ``\\x1f``-joined text per record."""
    if array is None:
        return None
    return pc.binary_join(array, _SEP)


def assemble(source: str, lines: np.ndarray, problems: Problems, columns: dict[str, Any], row_label: str = "line") -> LogBatch:
    """The batch of the good records (see :class:`Problems`)."""
    n = len(lines)
    zeros32, none16 = np.zeros(n, np.int32), np.full(n, -1, np.int16)
    batch = LogBatch(
        source=source, lines=np.asarray(lines, np.int64), src=columns["src"][0], dst=columns["dst"][0],
        src_values=columns["src"][1], dst_values=columns["dst"][1], protocol=columns["protocol"],
        dst_port=columns.get("dst_port", zeros32).astype(np.int32), src_port=columns.get("src_port", zeros32).astype(np.int32),
        icmp_type=columns.get("icmp_type", none16).astype(np.int16), icmp_code=columns.get("icmp_code", none16).astype(np.int16),
        reporter=columns.get("reporter", np.zeros(n, np.int8)), logged=columns.get("logged", np.zeros(n, np.int8)),
        enforced=columns.get("enforced", zeros32), pending=columns.get("pending", zeros32),
        hit_values=columns.get("hits", [""]), count=columns.get("count", np.ones(n, np.int64)).astype(np.int64),
        row_label=row_label,
    )
    return batch.take(~problems.bad) if problems.bad.any() else batch


def first_problems(problems: Problems, place: Callable[[int], str]) -> list[tuple[str, str, str]]:
    """(place, field, message) of each bad record, in record order."""
    return [(place(row), *problems.found[row]) for row in sorted(problems.found)]


def sequence_rows(rows: Sequence[int]) -> np.ndarray:
    return np.asarray(rows, np.int64)
