"""Calico Enterprise flow logs: one JSON document per line, as Calico Enterprise writes
them to its log files and to Elasticsearch::

    {"start_time": 1735689600, "end_time": 1735689900,
     "source_ip": null, "source_name": "-", "source_name_aggr": "frontend-6c9d5b7f8-*",
     "source_namespace": "shop", "source_port": null, "source_type": "wep",
     "source_labels": {"labels": ["app=frontend"]},
     "dest_ip": null, "dest_name": "-", "dest_name_aggr": "backend-5d8f7c9b4-*",
     "dest_namespace": "shop", "dest_port": 8080, "dest_type": "wep",
     "dest_labels": {"labels": ["app=backend"]},
     "proto": "tcp", "action": "allow", "reporter": "dst",
     "policies": {"all_policies": ["0|default|shop/default.backend|allow|0"],
                  "enforced_policies": ["0|default|shop/default.backend|allow|0"],
                  "pending_policies": ["0|default|shop/default.backend|allow|0"]},
     "num_flows": 3}

A side's name is ``source_name`` unless that is ``-`` (aggregated away), then
``source_name_aggr`` (``frontend-6c9d5b7f8-*``, or ``pub``/``pvt`` for networks); a
namespace of ``-`` means none; an address of null means aggregated away. Types: ``wep``
(pod), ``hep`` (host endpoint), ``ns`` (network set), ``net`` (other addresses). The
enforced trace is ``enforced_policies`` (``all_policies`` in releases without it), the
trace with staged policies ``pending_policies``; see :mod:`.hits` for the hit strings.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .batch import LOGGED_ACTIONS, LOGGED_NONE, REPORTER_DST, REPORTER_NONE, REPORTER_SRC

__all__ = ["arrow_schema", "from_table"]

_KINDS = {"wep": "wep", "hep": "hep", "ns": "ns", "net": "net"}


def arrow_schema() -> Any:
    """The fields of an Enterprise flow log that are read, for pyarrow's JSON reader."""
    import pyarrow as pa

    labels = pa.struct([("labels", pa.list_(pa.string()))])
    sides = []
    for prefix in ("source", "dest"):
        sides += [(f"{prefix}_ip", pa.string()), (f"{prefix}_name", pa.string()), (f"{prefix}_name_aggr", pa.string()),
                  (f"{prefix}_namespace", pa.string()), (f"{prefix}_type", pa.string()), (f"{prefix}_port", pa.int64()),
                  (f"{prefix}_labels", labels)]
    policies = pa.struct([(name, pa.list_(pa.string())) for name in ("all_policies", "enforced_policies", "pending_policies")])
    return pa.schema(sides + [("proto", pa.string()), ("action", pa.string()), ("reporter", pa.string()),
                              ("policies", policies), ("num_flows", pa.int64())])


def _kind(value: Any) -> str | None:
    if value is None:
        return None
    return _KINDS[value]


def _name(name: Any, aggregated: Any) -> Any:
    """``source_name`` unless null or ``-``, then ``source_name_aggr`` unless so."""
    import pyarrow as pa
    import pyarrow.compute as pc

    def usable(array: Any) -> Any:
        return pc.fill_null(pc.not_equal(array, "-"), False)

    chosen = aggregated if name is None else name if aggregated is None else pc.if_else(usable(name), name, aggregated)
    return None if chosen is None else pc.if_else(usable(chosen), chosen, pa.scalar(None, pa.string()))


def from_table(table: Any, lines: np.ndarray, source: str) -> tuple[Any, list[tuple[str, str, str]], Any]:
    """The batch of a table pyarrow read with :func:`arrow_schema`: (batch of the good
    records, (place, field, message) of the bad ones, the mask of bad records)."""
    import pyarrow.compute as pc

    from ._columns import Problems, assemble, column, hit_codes, integers, mapped, protocols, side_codes, string_lists

    n = table.num_rows
    problems = Problems(n)
    cols: dict[str, Any] = {}
    for side, prefix in (("src", "source"), ("dst", "dest")):
        name = _name(column(table, f"{prefix}_name"), column(table, f"{prefix}_name_aggr"))
        cols[side] = side_codes(
            n, problems, prefix, ip=column(table, f"{prefix}_ip"), name=name, namespace=column(table, f"{prefix}_namespace"),
            kind=column(table, f"{prefix}_type"), labels=column(table, f"{prefix}_labels"), kinds=_kind,
        )
    cols["protocol"] = protocols(column(table, "proto"), n, problems, "proto")
    ported = np.isin(cols["protocol"], (6, 17, 132, 136))
    cols["dst_port"] = np.where(ported, integers(column(table, "dest_port"), n, problems, "dest_port", 0, 65535, 0), 0)
    cols["src_port"] = np.where(ported, integers(column(table, "source_port"), n, problems, "source_port", 0, 65535, 0), 0)
    cols["reporter"] = mapped(column(table, "reporter"), n, problems, "reporter",
                              {None: REPORTER_NONE, "": REPORTER_NONE, "src": REPORTER_SRC, "dst": REPORTER_DST}, "reporter")
    cols["logged"] = mapped(column(table, "action"), n, problems, "action",
                            {None: LOGGED_NONE, "": LOGGED_NONE, **LOGGED_ACTIONS}, "action")
    hits: list[str] = [""]
    enforced = column(table, "policies", "enforced_policies")
    everything = column(table, "policies", "all_policies")
    if enforced is None or everything is None:
        enforced = enforced if enforced is not None else everything
    else:  # releases before enforced_policies wrote all_policies only
        enforced = pc.coalesce(enforced, everything)
    cols["enforced"] = hit_codes(string_lists(enforced), n, problems, "policies.enforced_policies", hits)
    cols["pending"] = hit_codes(string_lists(column(table, "policies", "pending_policies")), n, problems,
                                "policies.pending_policies", hits)
    cols["hits"] = hits
    count = integers(column(table, "num_flows"), n, problems, "num_flows", 0, 2**62, 0)
    cols["count"] = np.where(count > 0, count, 1)
    found = [(f"{source}:{int(lines[row])}", *problems.found[row]) for row in sorted(problems.found)]
    return assemble(source, lines, problems, cols), found, problems.bad
