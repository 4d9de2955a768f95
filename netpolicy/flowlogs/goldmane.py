"""Calico OSS flow logs: Goldmane's ``Flow`` as newline-delimited JSON, and the Whisker
API's JSON form of the same flows.

Goldmane's emitter writes one ``Flow`` per line, as Go's JSON encoder writes the
generated protobuf types: the flow's identifying fields under ``Key``, enums as numbers,
zero values omitted::

    {"Key": {"source_name": "frontend-6c9d5b7f8-*", "source_namespace": "shop",
             "source_type": 1, "dest_name": "backend-5d8f7c9b4-*", "dest_namespace": "shop",
             "dest_type": 1, "dest_port": 8080, "proto": "tcp", "reporter": 2, "action": 1,
             "policies": {"enforced_policies": [{"kind": 1, "namespace": "shop",
               "name": "backend", "tier": "default", "action": 1}]}},
     "start_time": 1735689600, "end_time": 1735689615,
     "source_labels": ["app=frontend"], "dest_labels": ["app=backend"],
     "num_connections_started": 3}

Endpoint types: 1 WorkloadEndpoint, 2 HostEndpoint, 3 NetworkSet, 4 Network (named
``pub`` or ``pvt``); reporter 1 source, 2 destination; actions 1 Allow, 2 Deny, 3 Pass;
policy kinds 1 Calico NetworkPolicy, 2 GlobalNetworkPolicy, 3-5 the staged kinds,
6 Kubernetes NetworkPolicy, 7/8 the admin and baseline tiers' cluster policies,
9 Profile, 10 end of tier (with its ``trigger``). Labels are the intersection over the
pods the flow aggregates.

The Whisker API returns the same flows with enums by name (``"Allow"``, ``"Dst"``,
``"NetworkPolicy"``), labels as one ``" | "``-joined text, networks named
``PUBLIC NETWORK``/``PRIVATE NETWORK``, no endpoint types, and the traces under
``policies.enforced``/``policies.pending``. Its list response (``{"items": [...]}``),
a JSON array of flows, the event stream (``data: {...}`` lines) and one flow per line
are all read.
"""

from __future__ import annotations

import json
from typing import IO, Any, Iterator

import numpy as np

from .batch import LOGGED_ACTIONS, LOGGED_NONE, REPORTER_DST, REPORTER_NONE, REPORTER_SRC
from .hits import HitError, hit_from_goldmane
from .records import GOLDMANE_TYPES

__all__ = ["arrow_schema", "from_table", "whisker_documents"]

_NETWORK_NAMES = {"pub": "pub", "pvt": "pvt"}


def arrow_schema() -> Any:
    """The part of a Goldmane ``Flow`` that is read, for pyarrow's JSON reader."""
    import pyarrow as pa

    base = [("kind", pa.int64()), ("namespace", pa.string()), ("name", pa.string()), ("tier", pa.string()),
            ("action", pa.int64()), ("policy_index", pa.int64()), ("rule_index", pa.int64())]
    hit = pa.struct(base + [("trigger", pa.struct(base))])
    key = pa.struct([
        ("source_name", pa.string()), ("source_namespace", pa.string()), ("source_type", pa.int64()),
        ("dest_name", pa.string()), ("dest_namespace", pa.string()), ("dest_type", pa.int64()),
        ("dest_port", pa.int64()), ("proto", pa.string()), ("reporter", pa.int64()), ("action", pa.int64()),
        ("policies", pa.struct([("enforced_policies", pa.list_(hit)), ("pending_policies", pa.list_(hit))])),
    ])
    return pa.schema([("Key", key), ("source_labels", pa.list_(pa.string())), ("dest_labels", pa.list_(pa.string())),
                      ("num_connections_started", pa.int64())])


def _kind(value: Any) -> str | None:
    if value is None:
        return None
    kind = GOLDMANE_TYPES.get(int(value), "?")
    if kind == "?":
        raise KeyError(value)
    return kind


def _hit_texts(lists: Any, problems: Any, field: str) -> Any:
    """Per record, its hits (Goldmane PolicyHit objects) as ``\\x1f``-joined hit strings."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from ._columns import codes

    if lists is None:
        return None
    values = lists.values
    names = ["kind", "namespace", "name", "tier", "action", "policy_index", "rule_index"]
    parts = [pc.fill_null(pc.cast(pc.struct_field(values, name), pa.string()), "") for name in names]
    trigger = pc.struct_field(values, "trigger")
    parts += [pc.fill_null(pc.cast(pc.struct_field(trigger, name), pa.string()), "") for name in ("kind", "namespace", "name")]
    indices, distinct = codes(pc.binary_join_element_wise(*parts, "\x1e"))
    offsets = lists.offsets.to_numpy()
    texts: list[str] = []
    for code, joined in enumerate(distinct):
        raw = joined.split("\x1e")
        data: dict[str, Any] = {k: v for k, v in zip(names, raw) if v != ""}
        for key in ("kind", "action", "policy_index", "rule_index"):
            if key in data:
                data[key] = int(data[key])
        if any(raw[7:]):
            data["trigger"] = {k: (int(v) if k == "kind" else v) for k, v in zip(("kind", "namespace", "name"), raw[7:]) if v}
        try:
            texts.append(hit_from_goldmane(data).text())
        except (HitError, ValueError) as exc:
            texts.append("")
            at = np.flatnonzero(indices == code)
            problems.add(np.searchsorted(offsets, at, side="right") - 1, field, str(exc))
    per_value = pa.array(texts, pa.string()).take(pa.array(indices)) if len(values) else pa.array([], pa.string())
    rebuilt = pa.ListArray.from_arrays(lists.offsets, per_value, mask=lists.is_null())
    return pc.binary_join(rebuilt, "\x1f")


def from_table(table: Any, lines: np.ndarray, source: str) -> tuple[Any, list[tuple[str, str, str]], Any]:
    """The batch of a table pyarrow read with :func:`arrow_schema`: (batch of the good
    records, (place, field, message) of the bad ones, the mask of bad records)."""
    from ._columns import Problems, assemble, column, hit_codes, integers, mapped, protocols, side_codes

    n = table.num_rows
    problems = Problems(n)
    cols: dict[str, Any] = {}
    for side, prefix, labels in (("src", "source", "source_labels"), ("dst", "dest", "dest_labels")):
        name_column = column(table, "Key", f"{prefix}_name")
        cols[side] = side_codes(
            n, problems, f"Key.{prefix}", name=name_column, namespace=column(table, "Key", f"{prefix}_namespace"),
            kind=column(table, "Key", f"{prefix}_type"), labels=column(table, labels), kinds=_kind,
        )
    cols["protocol"] = protocols(column(table, "Key", "proto"), n, problems, "Key.proto")
    port = integers(column(table, "Key", "dest_port"), n, problems, "Key.dest_port", 0, 65535, 0)
    cols["dst_port"] = np.where(np.isin(cols["protocol"], (6, 17, 132, 136)), port, 0)
    cols["reporter"] = mapped(column(table, "Key", "reporter"), n, problems, "Key.reporter",
                              {None: REPORTER_NONE, 0: REPORTER_NONE, 1: REPORTER_SRC, 2: REPORTER_DST}, "reporter")
    cols["logged"] = mapped(column(table, "Key", "action"), n, problems, "Key.action",
                            {None: LOGGED_NONE, 0: LOGGED_NONE, 1: LOGGED_ACTIONS["allow"], 2: LOGGED_ACTIONS["deny"],
                             3: LOGGED_ACTIONS["pass"]}, "action")
    hits: list[str] = [""]
    for trace in ("enforced", "pending"):
        field = f"Key.policies.{trace}_policies"
        texts = _hit_texts(column(table, "Key", "policies", f"{trace}_policies"), problems, field)
        cols[trace] = hit_codes(texts, n, problems, field, hits)
    cols["hits"] = hits
    cols["count"] = integers(column(table, "num_connections_started"), n, problems, "num_connections_started", 0, 2**62, 0)
    place = [f"{source}:{int(line)}" for line in lines[sorted(problems.found)]] if problems.found else []
    found = [(where, *problems.found[row]) for where, row in zip(place, sorted(problems.found))]
    return assemble(source, lines, problems, cols), found, problems.bad


def whisker_documents(stream: IO[bytes]) -> Iterator[tuple[int, Any]]:
    """(line or item number, flow object) of a Whisker response: a list response
    (``{"items": [...]}``), a JSON array, an event stream or one flow per line. A line
    that is not JSON yields its text, for the caller to report."""
    head = stream.read(1 << 16)
    stripped = head.lstrip()
    whole = stripped.startswith(b"[")
    if not whole and stripped.startswith(b"{"):
        first = stripped.split(b"\n", 1)[0].strip()
        try:
            whole = not isinstance(json.loads(first), dict) or "items" in json.loads(first)
        except ValueError:
            whole = True  # a document over several lines
    if whole:
        document = json.loads((head + stream.read()).decode("utf-8-sig"))
        items = document.get("items") if isinstance(document, dict) else document
        if not isinstance(items, list):
            raise ValueError("a Whisker response is a list of flows or an object with 'items'")
        for number, item in enumerate(items or [], start=1):
            yield number, item
        return
    number = 0
    buffered = head + stream.read(0)
    rest = iter(lambda: stream.readline(), b"")
    pending = buffered.split(b"\n")
    tail = pending.pop()
    for raw in _lines(pending, tail, rest):
        number += 1
        text = raw.strip()
        if not text or text.startswith(b":") or text.startswith(b"event:") or text.startswith(b"id:"):
            continue
        if text.startswith(b"data:"):
            text = text[5:].strip()
        try:
            yield number, json.loads(text)
        except ValueError as exc:
            yield number, ValueError(f"not JSON: {exc}")


def _lines(first: list[bytes], tail: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    yield from first
    for line in rest:
        if tail:
            line, tail = tail + line, b""
        yield line
    if tail:
        yield tail
