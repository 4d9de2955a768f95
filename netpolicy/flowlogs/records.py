"""One record at a time, as parsed JSON (or a CSV row): each format's fields checked and
turned into a :data:`~.batch.Row`. This is the path without pyarrow, and the one that
names the field of a malformed record when the columnar path cannot."""

from __future__ import annotations

import ipaddress
from typing import Any, Callable, Mapping

from ..errors import PolicyError
from ..flow import protocol_number
from .batch import (
    LOGGED_ACTIONS,
    LOGGED_NONE,
    REPORTER_DST,
    REPORTER_NONE,
    REPORTER_SRC,
    Row,
    SideValue,
)
from .hits import HitError, join_hits, parse_hits

__all__ = ["FieldError", "goldmane_row", "whisker_row", "enterprise_row", "generic_row", "ROW_READERS",
           "protocol_value", "label_list", "GOLDMANE_TYPES", "NO_NAMESPACE"]

#: Goldmane's EndpointType enum, as the kinds of :class:`SideValue`.
GOLDMANE_TYPES = {0: None, 1: "wep", 2: "hep", 3: "ns", 4: "net"}
#: Names the logs give the public and private networks (Goldmane's and Whisker's).
_NETWORKS = {"pub": "pub", "pvt": "pvt", "PUBLIC NETWORK": "pub", "PRIVATE NETWORK": "pvt"}
#: Namespaces that mean "not namespaced".
NO_NAMESPACE = frozenset({"", "-", "Global"})
_REPORTERS: Mapping[Any, int] = {0: REPORTER_NONE, 1: REPORTER_SRC, 2: REPORTER_DST, "src": REPORTER_SRC,
                                 "dst": REPORTER_DST, "Src": REPORTER_SRC, "Dst": REPORTER_DST,
                                 "ReporterUnspecified": REPORTER_NONE}
_GOLDMANE_ACTIONS: Mapping[Any, int] = {0: LOGGED_NONE, 1: LOGGED_ACTIONS["allow"], 2: LOGGED_ACTIONS["deny"],
                                        3: LOGGED_ACTIONS["pass"]}


class FieldError(ValueError):
    """What is wrong with one field of a record."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _get(record: Mapping[str, Any], *path: str) -> Any:
    value: Any = record
    for step in path:
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise FieldError(".".join(path[: path.index(step)]), f"must be an object, not {type(value).__name__}")
        value = value.get(step)
    return value


def _text(record: Mapping[str, Any], *path: str) -> str | None:
    value = _get(record, *path)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise FieldError(".".join(path), f"must be text, not {value!r}")
    return value


def _integer(value: Any, field: str, low: int, high: int) -> int:
    if value is None or value == "":
        return 0 if low <= 0 <= high else low - 1
    if isinstance(value, bool):
        raise FieldError(field, f"must be an integer, not {value!r}")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value.strip())
    if not isinstance(value, int):
        raise FieldError(field, f"must be an integer, not {value!r}")
    if not low <= value <= high:
        raise FieldError(field, f"{value} is outside {low}-{high}")
    return value


def protocol_value(value: Any, field: str) -> int:
    """A protocol by name (any case: ``tcp``) or number."""
    if value is None or value == "":
        raise FieldError(field, "is missing")
    try:
        return protocol_number(value.strip() if isinstance(value, str) else value)
    except PolicyError as exc:
        raise FieldError(field, str(exc)) from None


def label_list(value: Any, field: str, separator: str | None = None) -> tuple[str, ...] | None:
    """Labels as sorted ``key=value`` texts from a list of them, a ``{"labels": [...]}``
    object, a map or (``separator``) one joined text; None when absent."""
    if value is None:
        return None
    if isinstance(value, Mapping) and set(value) <= {"labels"}:
        return label_list(value.get("labels"), field)
    if isinstance(value, Mapping):
        return tuple(sorted(f"{k}={v}" for k, v in value.items()))
    if isinstance(value, str):
        if separator is None:
            raise FieldError(field, f"must be a list of 'key=value', not {value!r}")
        items = [part.strip() for part in value.split(separator)] if value.strip() else []
        value = items
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise FieldError(field, "must be a list of 'key=value' texts")
    for item in value:
        if "=" not in item:
            raise FieldError(field, f"label {item!r} is not 'key=value'")
    return tuple(sorted(value))


def _hits(value: Any, field: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, list):
        raise FieldError(field, "must be a list of policy hits")
    try:
        return join_hits(parse_hits(value))
    except HitError as exc:
        raise FieldError(field, str(exc)) from None


def _namespace(value: str | None) -> str | None:
    return None if value is None or value in NO_NAMESPACE else value


def _goldmane_side(record: Mapping[str, Any], prefix: str) -> SideValue:
    raw_type = _get(record, "Key", f"{prefix}_type")
    kind = GOLDMANE_TYPES.get(raw_type if raw_type is not None else 0, "?")
    if kind == "?":
        raise FieldError(f"Key.{prefix}_type", f"unknown endpoint type {raw_type!r}")
    name = _text(record, "Key", f"{prefix}_name")
    if kind == "net" and name is not None:
        name = _NETWORKS.get(name, name)
    labels = label_list(_get(record, f"{'source' if prefix == 'source' else 'dest'}_labels"), f"{prefix}_labels")
    return SideValue(name=name, namespace=_namespace(_text(record, "Key", f"{prefix}_namespace")), kind=kind, labels=labels)


def goldmane_row(record: Mapping[str, Any]) -> Row:
    """A Goldmane ``Flow`` (as its JSON emitter writes it: ``Key`` holding the flow's
    fields, enums as numbers, zero values omitted)."""
    if not isinstance(record.get("Key"), Mapping):
        raise FieldError("Key", "is missing" if record.get("Key") is None else "must be an object")
    src, dst = _goldmane_side(record, "source"), _goldmane_side(record, "dest")
    protocol = protocol_value(_get(record, "Key", "proto"), "Key.proto")
    port = _integer(_get(record, "Key", "dest_port"), "Key.dest_port", 0, 65535)
    reporter = _REPORTERS.get(_get(record, "Key", "reporter") or 0)
    if reporter is None:
        raise FieldError("Key.reporter", f"unknown reporter {_get(record, 'Key', 'reporter')!r}")
    action = _GOLDMANE_ACTIONS.get(_get(record, "Key", "action") or 0)
    if action is None:
        raise FieldError("Key.action", f"unknown action {_get(record, 'Key', 'action')!r}")
    enforced = _hits(_get(record, "Key", "policies", "enforced_policies"), "Key.policies.enforced_policies")
    pending = _hits(_get(record, "Key", "policies", "pending_policies"), "Key.policies.pending_policies")
    count = _integer(record.get("num_connections_started"), "num_connections_started", 0, 2**62)
    return (0, src, dst, protocol, _ported(protocol, port), 0, -1, -1, reporter, action, enforced, pending, count)


def _ported(protocol: int, port: int) -> int:
    return port if protocol in (6, 17, 132, 136) else 0


def _whisker_side(record: Mapping[str, Any], prefix: str) -> SideValue:
    name = _text(record, f"{prefix}_name")
    namespace = _namespace(_text(record, f"{prefix}_namespace"))
    kind = None
    if name in _NETWORKS:
        name, kind = _NETWORKS[name], "net"
    elif namespace is not None:
        kind = None  # a pod, or a namespaced network set: resolved by name
    labels = label_list(record.get(f"{prefix}_labels"), f"{prefix}_labels", separator="|")
    return SideValue(name=name, namespace=namespace, kind=kind, labels=labels)


def whisker_row(record: Mapping[str, Any]) -> Row:
    """A flow as the Whisker API returns it (enums by name, labels one ``|``-joined text,
    networks named ``PUBLIC NETWORK``/``PRIVATE NETWORK``, no endpoint types)."""
    src, dst = _whisker_side(record, "source"), _whisker_side(record, "dest")
    protocol = protocol_value(record.get("protocol"), "protocol")
    port = _integer(record.get("dest_port"), "dest_port", 0, 65535)
    reporter = _REPORTERS.get(record.get("reporter") or 0)
    if reporter is None:
        raise FieldError("reporter", f"unknown reporter {record.get('reporter')!r}")
    raw_action = record.get("action")
    action = LOGGED_ACTIONS.get(str(raw_action).lower(), -1) if raw_action not in (None, "", "ActionUnspecified") else LOGGED_NONE
    if action < 0:
        raise FieldError("action", f"unknown action {raw_action!r}")
    enforced = _hits(_get(record, "policies", "enforced"), "policies.enforced")
    pending = _hits(_get(record, "policies", "pending"), "policies.pending")
    return (0, src, dst, protocol, _ported(protocol, port), 0, -1, -1, reporter, action, enforced, pending, 1)


_ENTERPRISE_KINDS = frozenset({"wep", "hep", "ns", "net"})


def _enterprise_side(record: Mapping[str, Any], prefix: str) -> SideValue:
    kind = _text(record, f"{prefix}_type")
    if kind is not None and kind not in _ENTERPRISE_KINDS:
        raise FieldError(f"{prefix}_type", f"unknown endpoint type {kind!r}; one of wep, hep, ns, net")
    name = _text(record, f"{prefix}_name")
    if name == "-":
        name = None
    if name is None:
        name = _text(record, f"{prefix}_name_aggr")
        if name == "-":
            name = None
    ip = _text(record, f"{prefix}_ip")
    labels = label_list(record.get(f"{prefix}_labels"), f"{prefix}_labels")
    return SideValue(ip=ip, name=name, namespace=_namespace(_text(record, f"{prefix}_namespace")), kind=kind, labels=labels)


def enterprise_row(record: Mapping[str, Any]) -> Row:
    """A Calico Enterprise flow log (``source_ip``, ``source_name``/``source_name_aggr``,
    ``source_type``, ``dest_*``, ``proto``, ``reporter``, ``action``, ``policies``)."""
    src, dst = _enterprise_side(record, "source"), _enterprise_side(record, "dest")
    protocol = protocol_value(record.get("proto"), "proto")
    port = _integer(record.get("dest_port"), "dest_port", 0, 65535)
    sport = _integer(record.get("source_port"), "source_port", 0, 65535)
    raw = record.get("reporter")
    reporter = _REPORTERS.get(raw) if raw not in (None, "") else REPORTER_NONE
    if reporter is None:
        raise FieldError("reporter", f"unknown reporter {raw!r}; src or dst")
    raw_action = _text(record, "action")
    action = LOGGED_ACTIONS.get(raw_action.lower(), -1) if raw_action else LOGGED_NONE
    if action < 0:
        raise FieldError("action", f"unknown action {raw_action!r}; allow or deny")
    policies = _get(record, "policies")
    enforced_field = ("enforced_policies" if isinstance(policies, Mapping) and policies.get("enforced_policies") is not None
                      else "all_policies")
    enforced = _hits(_get(record, "policies", enforced_field), f"policies.{enforced_field}")
    pending = _hits(_get(record, "policies", "pending_policies"), "policies.pending_policies")
    count = _integer(record.get("num_flows"), "num_flows", 0, 2**62) or 1
    ported = protocol in (6, 17, 132, 136)
    return (0, src, dst, protocol, port if ported else 0, sport if ported else 0, -1, -1, reporter, action, enforced, pending, count)


def _generic_side(value: Any, field: str) -> SideValue:
    if value is None or value == "":
        raise FieldError(field, "is missing")
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return SideValue(ip=str(ipaddress.ip_address(value)))
        except ValueError:
            raise FieldError(field, f"address {value} is out of range") from None
    if not isinstance(value, str):
        raise FieldError(field, f"must be an address or 'namespace/name', not {value!r}")
    text = value.strip()
    if "/" in text:
        namespace, _, name = text.partition("/")
        if not namespace or not name or "/" in name:
            raise FieldError(field, f"{value!r} is not of the form 'namespace/name'")
        return SideValue(name=name, namespace=namespace, kind="wep")
    try:
        return SideValue(ip=str(ipaddress.ip_address(text)))
    except ValueError:
        raise FieldError(field, f"{value!r} is neither 'namespace/pod' nor an IP address") from None


def generic_row(record: Mapping[str, Any]) -> Row:
    """The columns ``replay`` reads: ``src``, ``dst`` (address or ``namespace/pod``),
    ``protocol`` (TCP when absent), ``dst_port``, ``src_port``, ``icmp_type``, ``icmp_code``."""
    src, dst = _generic_side(record.get("src"), "src"), _generic_side(record.get("dst"), "dst")
    raw = record.get("protocol")
    protocol = 6 if raw is None or raw == "" else protocol_value(raw, "protocol")
    port = _integer(record.get("dst_port"), "dst_port", 1, 65535)
    sport = _integer(record.get("src_port"), "src_port", 1, 65535)
    itype = _integer(record.get("icmp_type"), "icmp_type", 0, 254) if record.get("icmp_type") not in (None, "") else -1
    icode = _integer(record.get("icmp_code"), "icmp_code", 0, 255) if record.get("icmp_code") not in (None, "") else -1
    ported, icmp = protocol in (6, 17, 132, 136), protocol in (1, 58)
    for name, given in (("dst_port", port), ("src_port", sport)):
        if given and not ported:
            raise FieldError(name, f"protocol {protocol} has no ports")
    for name, given in (("icmp_type", itype), ("icmp_code", icode)):
        if given >= 0 and not icmp:
            raise FieldError(name, "needs protocol ICMP or ICMPv6")
    if icode >= 0 and itype < 0:
        raise FieldError("icmp_code", "needs icmp_type")
    return (0, src, dst, protocol, port, sport, itype, icode, REPORTER_NONE, LOGGED_NONE, "", "", 1)


#: The record reader of each format.
ROW_READERS: Mapping[str, Callable[[Mapping[str, Any]], Row]] = {
    "goldmane": goldmane_row,
    "whisker": whisker_row,
    "enterprise": enterprise_row,
    "generic": generic_row,
}
