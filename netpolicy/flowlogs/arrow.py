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
    rows = np.arange(first_row, first_row + table.num_rows, dtype=np.int64)
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
