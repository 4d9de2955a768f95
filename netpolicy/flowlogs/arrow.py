"""Flows in as Arrow, verdict columns out: the function any engine that moves Arrow
tables or record batches around (Dask, Ray, Spark's Arrow UDFs, a plain loop) can call
on each piece.

:func:`decide_table` takes the generic columns (``src``, ``dst``, ``protocol``,
``dst_port``...) or a Calico log parsed by pyarrow (``goldmane``, ``enterprise``) and
returns, row for row, ``verdict``, ``allowed``, ``decided_by``, ``certainty`` and
``reason``. Each process keeps one :class:`~.decide.Decider` per policy set, so a flow
seen in an earlier piece is not decided again.
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np

from ..policyset import PolicySet
from .batch import RecordError
from .decide import Decider
from .reading import RecordErrors

__all__ = ["RESULT_COLUMNS", "decide_table", "decider_for"]

#: The columns :func:`decide_table` returns.
RESULT_COLUMNS = ("verdict", "allowed", "decided_by", "certainty", "reason")

_DECIDERS: "weakref.WeakKeyDictionary[PolicySet, Decider]" = weakref.WeakKeyDictionary()


def decider_for(policy_set: PolicySet) -> Decider:
    """This process's Decider of ``policy_set`` (its outcomes kept between calls)."""
    found = _DECIDERS.get(policy_set)
    if found is None:
        found = _DECIDERS[policy_set] = Decider(policy_set)
    return found


def _table(data: Any) -> Any:
    import pyarrow as pa

    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    if isinstance(data, pa.Table):
        return data
    raise TypeError(f"decide_table takes a pyarrow Table or RecordBatch, not {type(data).__name__}")


def decide_table(policy_set: PolicySet, data: Any, input_format: str = "generic", *, source: str = "<table>",
                 first_row: int = 0, on_error: str = "fail") -> Any:
    """The verdict columns (a pyarrow Table, :data:`RESULT_COLUMNS`) of the flows in
    ``data`` (a pyarrow Table or RecordBatch). A malformed row raises
    :class:`~.reading.RecordErrors` naming ``source`` and its row (counted from
    ``first_row``); with ``on_error="skip"`` its result columns are null."""
    import pyarrow as pa

    from . import enterprise, generic, goldmane

    readers = {"generic": generic.from_table, "goldmane": goldmane.from_table, "enterprise": enterprise.from_table}
    if input_format not in readers:
        raise ValueError(f"input_format must be one of {', '.join(readers)}, not {input_format!r}")
    table = _table(data)
    if input_format == "generic":
        fast = _ipv4_table(policy_set, table)
        if fast is not None:
            return fast
    rows = np.arange(first_row, first_row + table.num_rows, dtype=np.int64)
    if input_format == "generic":
        batch, found, bad = generic.from_table(table, rows, source, row_label="row",
                                               places=lambda k: f"{source}: row {int(rows[k])}")
    else:
        batch, found, bad = readers[input_format](table, rows, source)
    if found and on_error != "skip":
        errors = [RecordError(place, field, message) for place, field, message in found]
        raise RecordErrors(errors[:20], max(0, len(errors) - 20))
    decider = decider_for(policy_set)
    where = decider.decide(batch)
    outcomes = decider.outcomes
    distinct, inverse = np.unique(where, return_inverse=True) if len(where) else (np.zeros(0, np.int64), where)
    picked = [outcomes[k] for k in distinct.tolist()]
    columns = {
        "verdict": [o.action for o in picked],
        "allowed": [o.action == "Allow" if o.action is not None else None for o in picked],
        "decided_by": [o.label for o in picked],
        "certainty": [o.certainty for o in picked],
        "reason": ["; ".join(o.reasons) for o in picked],
    }
    types = {"allowed": pa.bool_()}
    good = pa.array(np.asarray(inverse, np.int64).reshape(-1))
    result = {name: pa.array(values, types.get(name, pa.string())).take(good) for name, values in columns.items()}
    if bad is not None and bool(np.any(bad)):  # skipped rows: null results, in place
        positions = np.full(table.num_rows, -1, np.int64)
        positions[~bad] = np.arange(int((~bad).sum()))
        index = pa.array(positions, mask=positions < 0)
        result = {name: column.take(index) for name, column in result.items()}
    return pa.table(result)


def _ipv4(column: Any) -> np.ndarray | None:
    """An IPv4 address column (dotted text or integers) as uint32; None for anything else."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if column is None or column.null_count:
        return None
    if pa.types.is_integer(column.type):
        values = column.to_numpy(zero_copy_only=False)
        if len(values) and (int(values.min()) < 0 or int(values.max()) >= 1 << 32):
            return None
        return np.asarray(values, np.uint32)
    if not pa.types.is_string(column.type) and not pa.types.is_large_string(column.type):
        return None
    parts = pc.split_pattern(column, ".")
    if len(column) and (pc.min(pc.list_value_length(parts)).as_py() != 4 or pc.max(pc.list_value_length(parts)).as_py() != 4):
        return None
    flat = pc.list_flatten(parts)
    lengths = pc.utf8_length(flat)
    if len(flat) and (pc.min(lengths).as_py() < 1 or pc.max(lengths).as_py() > 3
                      or pc.any(pc.and_(pc.greater(lengths, 1), pc.starts_with(flat, "0"))).as_py()):
        return None  # empty parts and leading zeros: not addresses
    try:
        octets = flat.cast(pa.uint8()).to_numpy().astype(np.uint32).reshape(-1, 4)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    return np.asarray((octets[:, 0] << 24) | (octets[:, 1] << 16) | (octets[:, 2] << 8) | octets[:, 3], np.uint32)


def _protocol_numbers(column: Any) -> Any:
    """Protocol names as numbers, each distinct name looked up once; None for a bad one."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from ..errors import PolicyError
    from ..flow import protocol_number

    encoded = pc.dictionary_encode(column)
    try:
        numbers = [protocol_number(value) for value in encoded.dictionary.to_pylist()]
    except (PolicyError, TypeError):
        return None
    return pa.array(numbers, pa.uint8()).take(encoded.indices)


def _ipv4_table(policy_set: PolicySet, table: Any) -> Any:
    """The verdicts of a table of IPv4 flows straight on the tables (every one exact),
    or None when the table holds anything else (names, IPv6, nulls, bad values)."""
    import pyarrow as pa

    from ..errors import PolicyError
    from .decide import label_of

    names = set(table.column_names)
    if not {"src", "dst"} <= names or names & {"src_port", "icmp_type", "icmp_code"}:
        return None
    src, dst = _ipv4(table.column("src").combine_chunks()), _ipv4(table.column("dst").combine_chunks())
    if src is None or dst is None:
        return None
    columns: dict[str, Any] = {"src": src, "dst": dst}
    for name in ("protocol", "dst_port"):
        if name in names:
            column = table.column(name).combine_chunks()
            if column.null_count:
                return None
            if name == "protocol" and not pa.types.is_integer(column.type):
                column = _protocol_numbers(column)
                if column is None:
                    return None
            columns[name] = column.to_numpy(zero_copy_only=False)
    try:
        result = policy_set.evaluate_many(columns)
    except (PolicyError, TypeError, ValueError):
        return None
    action, egress, ingress = result.action, result.egress_decision, result.ingress_decision
    combined = (action.astype(np.int64) << 62) | ((egress.astype(np.int64) + 2) << 31) | (ingress.astype(np.int64) + 2)
    _, first, inverse = np.unique(combined, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    labels: list[str] = []
    verdicts: list[str] = []
    referred: list[int] = []
    for g, (code, e, i) in enumerate(zip(action[first].tolist(), egress[first].tolist(), ingress[first].tolist())):
        if e == -1 or i == -1:  # decided by the reference: each such flow below
            referred.append(g)
            e = i = -2
        word = "Allow" if code == 1 else "Deny"
        labels.append(label_of(word, result.decision(e), result.decision(i)))
        verdicts.append(word)
    if referred:
        inverse = inverse.copy()
        for k in np.flatnonzero(np.isin(inverse, referred)).tolist():
            verdict = result.verdict(k)
            inverse[k] = len(labels)
            labels.append(label_of(verdict.action.value, verdict.egress, verdict.ingress))
            verdicts.append(verdict.action.value)
    index = pa.array(inverse)
    n = table.num_rows
    return pa.table({
        "verdict": pa.array(verdicts, pa.string()).take(index), "allowed": pa.array(result.allowed, pa.bool_()),
        "decided_by": pa.array(labels, pa.string()).take(index),
        "certainty": pa.array(["exact"], pa.string()).take(pa.array(np.zeros(n, np.int32))),
        "reason": pa.array([""], pa.string()).take(pa.array(np.zeros(n, np.int32))),
    })
