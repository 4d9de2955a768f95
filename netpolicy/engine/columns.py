"""Flows in, the matcher's arrays out: :class:`Flow` objects, a mapping of columns or a
pyarrow Table become IPv4 sides as uint32, the flows' table keys, every other side
(IPv6, names) resolved as the reference evaluator does, and a way back to each Flow.
Every value is checked; a bad one raises with the flow's index."""

from __future__ import annotations

import ipaddress
from typing import Any, Callable, Iterable, Mapping, Protocol

import numpy as np

from ..compile import KEY_BITS, flow_key, source_key
from .._matcher import Matcher
from ..errors import PolicyError
from ..flow import Flow, protocol_number
from ..model import Endpoint
from ._text import all_v4, some_v4
from .single import Address, endpoint_address, named, settle
from .threads import run_spans

__all__ = ["COLUMNS"]

COLUMNS = ("src", "dst", "protocol", "dst_port", "src_port", "icmp_type", "icmp_code")
_PORTED = (6, 17, 132, 136)  # protocols with ports
_SUB_MASK = (1 << KEY_BITS) - 1  # the port / ICMP part of a key
_ICMP = (1, 58)
_V4_LIMIT = 1 << 32


class _Resolves(Protocol):
    """What preparing columns asks of the engine."""

    @property
    def matcher(self) -> Matcher: ...

    def sides(self, flow: Flow) -> tuple[Address, Address] | None: ...

    def endpoint(self, name: str) -> Endpoint: ...


class _Columns:
    """Parsed input: IPv4 sides as uint32, the table key, and a way back to each Flow."""

    def __init__(self) -> None:
        self.src4 = np.zeros(0, np.uint32)
        self.dst4 = np.zeros(0, np.uint32)
        self.key = np.zeros(0, np.uint32)
        self.skey: np.ndarray | None = np.zeros(0, np.uint32)  # None: no source ports
        self.v4 = np.zeros(0, np.bool_)
        self.other: dict[int, tuple[Any, Any]] = {}
        self.flow: Callable[[int], Flow] = lambda k: Flow("0.0.0.0", "0.0.0.0")

    def source_key(self, k: int) -> int:
        """Flow ``k``'s source key (see the compile stage's ``source_key``)."""
        if self.skey is None:
            return int(self.key[k]) & ~_SUB_MASK
        return int(self.skey[k])


def _columns(engine: _Resolves, flows: Any, workers: int = 1) -> _Columns:
    """``flows`` as columns; ``workers`` threads build the keys of a mapping's flows."""
    if hasattr(flows, "column_names") and hasattr(flows, "column"):  # a pyarrow Table
        flows = {name: flows.column(name).to_numpy(zero_copy_only=False) for name in flows.column_names}
    if isinstance(flows, Mapping):
        return _from_mapping(engine, flows, workers)
    if isinstance(flows, (str, bytes)) or not isinstance(flows, Iterable):
        raise TypeError("evaluate_many takes an iterable of Flow, a mapping of columns or a pyarrow Table")
    return _from_flows(engine, list(flows))


def _from_flows(engine: _Resolves, flows: list[Any]) -> _Columns:
    n = len(flows)
    cols = _Columns()
    src4 = np.zeros(n, np.uint32)
    dst4 = np.zeros(n, np.uint32)
    key = np.zeros(n, np.uint32)
    skey = np.zeros(n, np.uint32)
    v4 = np.zeros(n, np.bool_)
    for k, flow in enumerate(flows):
        if not isinstance(flow, Flow):
            raise TypeError(f"flow {k} is a {type(flow).__name__}, not a Flow")
        key[k] = flow_key(flow.protocol, flow.dst_port, flow.icmp_type, flow.icmp_code)
        skey[k] = source_key(flow.protocol, flow.src_port)
        sides = engine.sides(flow)
        if sides is not None and sides[0][0] == 4:
            src4[k], dst4[k], v4[k] = sides[0][1], sides[1][1], True
        else:
            cols.other[k] = sides if sides is not None else (None, None)
    cols.src4, cols.dst4, cols.key, cols.skey, cols.v4 = src4, dst4, key, skey, v4
    cols.flow = flows.__getitem__
    return cols


def _as_array(name: str, values: Any, n: int | None) -> np.ndarray:
    arr = np.asarray(values) if not isinstance(values, np.ndarray) else values
    if arr.ndim != 1:
        raise PolicyError(f"column {name!r} must be one-dimensional")
    if n is not None and len(arr) != n:
        raise PolicyError(f"column {name!r} has {len(arr)} values, expected {n}")
    return arr


def _int_column(name: str, values: Any, n: int, low: int, high: int, absent: int) -> np.ndarray:
    """An integer column as uint16 where ``absent`` is 0, else int16: in an integer
    column ``absent`` (``low - 1``) means no value, in an object column None does."""
    arr = _as_array(name, values, n)
    small = np.int16 if absent < 0 else np.uint16
    if arr.dtype == object:
        given = np.array([v is not None for v in arr.tolist()], np.bool_)
        if any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) for v in arr[given].tolist()):
            raise TypeError(f"column {name!r} must hold integers or None")
        wide = np.array([int(v) if v is not None else absent for v in arr.tolist()], np.int64)
    elif arr.dtype.kind in "iu":
        if not n or (int(arr.min()) >= absent and int(arr.max()) <= high):  # the common case: one pass each
            return arr.astype(small, copy=False)
        wide = arr.astype(np.int64)
    else:
        raise TypeError(f"column {name!r} must hold integers, not {arr.dtype}")
    bad = (wide != absent) & ((wide < low) | (wide > high))
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise PolicyError(f"{name} {wide[k]} (flow {k}) is outside {low}-{high}")
    return wide.astype(small)


def _field_problem(k: int, proto: int, fields: dict[str, int]) -> str:
    """What is wrong with flow ``k``'s fields (given ones only) for its protocol."""
    for name in ("dst_port", "src_port", "icmp_type", "icmp_code"):
        if name in fields and proto not in (_PORTED if name.endswith("port") else _ICMP):
            return f"flow {k}: protocol {proto} does not take {name}"
    return f"flow {k}: icmp_code needs icmp_type"


def _protocols(data: Mapping[str, Any], n: int) -> np.ndarray:
    """The protocol column as uint8 numbers (names looked up once each); TCP when absent."""
    if "protocol" not in data:
        return np.full(n, 6, np.uint8)
    proto_raw = _as_array("protocol", data["protocol"], n)
    if proto_raw.dtype.kind in "iu":
        if n and (int(proto_raw.min()) < 1 or int(proto_raw.max()) > 255):
            raise PolicyError("protocol numbers must be 1-255")
        return proto_raw.astype(np.uint8, copy=False)
    if proto_raw.dtype.kind not in "OUS":
        raise TypeError(f"column 'protocol' must hold names or numbers, not {proto_raw.dtype}")
    names: dict[Any, int] = {}
    proto = np.empty(n, np.uint8)
    for k, value in enumerate(proto_raw.tolist()):
        number = names.get(value)
        if number is None:
            if isinstance(value, bytes):
                value = value.decode()
            number = names[value] = protocol_number(value)
        proto[k] = number
    return proto


def _keys(matcher: Matcher, proto: np.ndarray, columns: tuple[np.ndarray | None, ...], key: np.ndarray,
          skey: np.ndarray | None, workers: int) -> tuple[int, int]:
    """``matcher.flow_keys`` over spans of the flows on ``workers`` threads: the same
    keys and the same (first wrong flow, first ICMPv6 flow) as one call."""
    dport, sport, itype, icode = columns

    def part(start: int, stop: int) -> tuple[int, int]:
        def cut(column: np.ndarray | None) -> np.ndarray | None:
            return None if column is None else column[start:stop]

        bad, icmp6 = matcher.flow_keys(
            proto[start:stop], cut(dport), cut(sport), cut(itype), cut(icode), key[start:stop], cut(skey)
        )
        return (bad + start if bad >= 0 else -1), (icmp6 + start if icmp6 >= 0 else -1)

    found = run_spans(len(key), workers, part)
    return (next((bad for bad, _ in found if bad >= 0), -1), next((icmp6 for _, icmp6 in found if icmp6 >= 0), -1))


def _from_mapping(engine: _Resolves, data: Mapping[str, Any], workers: int = 1) -> _Columns:
    unknown = set(data) - set(COLUMNS)
    if unknown:
        raise PolicyError(f"unknown columns {sorted(unknown)}; columns are {', '.join(COLUMNS)}")
    for required in ("src", "dst"):
        if required not in data:
            raise PolicyError(f"column {required!r} is required")
    src = _as_array("src", data["src"], None)
    n = len(src)
    dst = _as_array("dst", data["dst"], n)
    proto = _protocols(data, n)
    # ports as uint16 and ICMP fields as int16; an absent column is None
    dport = _int_column("dst_port", data["dst_port"], n, 1, 65535, 0) if "dst_port" in data else None
    sport = _int_column("src_port", data["src_port"], n, 1, 65535, 0) if "src_port" in data else None
    itype = _int_column("icmp_type", data["icmp_type"], n, 0, 254, -1) if "icmp_type" in data else None
    icode = _int_column("icmp_code", data["icmp_code"], n, 0, 255, -1) if "icmp_code" in data else None
    cols = _Columns()
    # key: protocol in the high bits, then the destination port (0 where absent), or the
    # ICMP type and code (see flow_key); the matcher builds them and checks that each
    # given field suits its flow's protocol
    key = np.empty(n, np.uint32)
    cols.skey = np.empty(n, np.uint32) if sport is not None else None  # None: the matcher takes the protocol from the key
    bad, icmp6 = _keys(engine.matcher, proto, (dport, sport, itype, icode), key, cols.skey, workers)
    if bad >= 0:
        given = {name: int(column[bad]) for name, column, absent in (
            ("dst_port", dport, 0), ("src_port", sport, 0), ("icmp_type", itype, -1), ("icmp_code", icode, -1),
        ) if column is not None and column[bad] != absent}
        raise PolicyError(_field_problem(bad, int(proto[bad]), given))
    cols.key = key
    cols.src4, src_kind, src_parsed = _sides(engine, "src", src)
    cols.dst4, dst_kind, dst_parsed = _sides(engine, "dst", dst)
    v4 = np.ones(n, np.bool_)
    if src_kind is not None or dst_kind is not None:  # names and IPv6: resolved as the reference does
        cols.src4, cols.dst4 = cols.src4.copy(), cols.dst4.copy()  # written: not the caller's arrays
        _settle_rows(cols, v4, proto, (src_kind, src_parsed), (dst_kind, dst_parsed))
    if icmp6 >= 0:  # some flow is ICMPv6
        wrong = np.flatnonzero(v4 & (proto == 58))
        if len(wrong):
            raise PolicyError(f"flow {int(wrong[0])}: ICMPv6 needs IPv6 addresses")
    cols.v4 = v4

    def field(column: np.ndarray | None, k: int, absent: int) -> int | None:
        return None if column is None or column[k] == absent else int(column[k])

    def flow(k: int) -> Flow:
        return Flow(
            _side_value(src[k]), _side_value(dst[k]), int(proto[k]),
            field(dport, k, 0), field(sport, k, 0), field(itype, k, -1), field(icode, k, -1),
        )

    cols.flow = flow
    return cols


def _side_value(value: Any) -> Any:
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return ipaddress.ip_address(int(value))
    if isinstance(value, bytes):
        return value.decode()
    return value


#: a column's sides: IPv4 as uint32; where a row's side is something else (IPv6, a name),
#: its index into the list of those (-1 for IPv4), or None when every side is IPv4
_Sides = tuple[np.ndarray, "np.ndarray | None", list[Any]]


def _families(kind: np.ndarray | None, parsed: list[Any], n: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row's side as (families it can use: bit 1 IPv4, bit 2 IPv6, 0 for an
    endpoint without addresses; its first IPv4 address where it is not one itself)."""
    mask = np.ones(len(parsed) + 1, np.uint8)  # the last: an IPv4 side
    first4 = np.zeros(len(parsed) + 1, np.uint32)
    for j, side in enumerate(parsed):
        if side[0] == "name":
            versions = {ip.version for ip in side[1].ips}
            mask[j] = (1 if 4 in versions else 0) | (2 if 6 in versions else 0)
            found = endpoint_address(side[1], 4)
            first4[j] = found[1] if found is not None else 0
        else:
            mask[j] = 1 if side[0] == 4 else 2
    rows = kind if kind is not None else np.full(n, -1, np.int64)
    return mask[rows], first4[rows]


def _settle_rows(cols: _Columns, v4: np.ndarray, proto: np.ndarray, src: tuple[np.ndarray | None, list[Any]],
                 dst: tuple[np.ndarray | None, list[Any]]) -> None:
    """:func:`settle` on every row at once: the family both sides can use (IPv4 first;
    ICMP IPv4 only, ICMPv6 IPv6 only), a name's first address of it. Rows that end
    IPv4 take the names' addresses; the others are settled one by one as before."""
    n = len(v4)
    smask, s4 = _families(src[0], src[1], n)
    dmask, d4 = _families(dst[0], dst[1], n)
    allowed = np.where(proto == 1, 1, np.where(proto == 58, 2, 3)).astype(np.uint8) & smask & dmask
    touched = np.zeros(n, np.bool_)  # rows with a side that is not IPv4: the others stay as they are
    for kind in (src[0], dst[0]):
        if kind is not None:
            touched |= kind >= 0
    ipv4 = (((allowed & 1) != 0) & (smask != 0) & (dmask != 0)) | ~touched
    if src[0] is not None:
        named_src = ipv4 & (src[0] >= 0)
        cols.src4[named_src] = s4[named_src]
    if dst[0] is not None:
        named_dst = ipv4 & (dst[0] >= 0)
        cols.dst4[named_dst] = d4[named_dst]
    v4 &= ipv4
    for k in np.flatnonzero(~ipv4).tolist():  # IPv6, or no family, or no address: as the reference
        s = src[1][src[0][k]] if src[0] is not None and src[0][k] >= 0 else (4, int(cols.src4[k]))
        d = dst[1][dst[0][k]] if dst[0] is not None and dst[0][k] >= 0 else (4, int(cols.dst4[k]))
        settled = settle(s, d, int(proto[k]))
        cols.other[k] = settled if settled is not None else (None, None)


def _sides(engine: _Resolves, name: str, values: np.ndarray) -> _Sides:
    """IPv4 addresses as uint32, plus every other side (see :data:`_Sides`): (6, int) for
    IPv6, ("name", endpoint) for ``namespace/pod``."""
    n = len(values)
    if values.dtype == np.uint32:
        return np.ascontiguousarray(values), None, []
    if values.dtype.kind in "iu":
        if n and (int(values.min()) < 0 or int(values.max()) >= _V4_LIMIT):
            raise PolicyError(f"column {name!r}: integer addresses must be IPv4 (0 to 2**32-1); use text for IPv6")
        return values.astype(np.uint32), None, []
    if values.dtype.kind not in "OUS":
        raise TypeError(f"column {name!r} must hold IP addresses (text or integers) or 'namespace/pod', not {values.dtype}")
    listed = values.tolist()
    fast = all_v4(listed)  # the common case: every value plain IPv4 text, no per-value Python
    if fast is not None:
        return fast, None, []
    # distinct values once each, in first-seen order (so the first bad one raises, as
    # value by value would): plain IPv4 text parsed at once, the rest one by one
    try:
        distinct = list(dict.fromkeys(listed))
    except TypeError:  # an unhashable value: value by value, to fail where that fails
        return _each_side(engine, name, listed)
    index = dict(zip(distinct, range(len(distinct))))
    codes = np.fromiter(map(index.__getitem__, listed), np.int64, n)
    parsed, table = some_v4(distinct)
    kinds = np.full(len(distinct), -1, np.int64)
    others: list[Any] = []
    for code in np.flatnonzero(~parsed).tolist():
        found = _parse_side(engine, name, distinct[code])
        if found[0] == 4:
            table[code] = found[1]
        else:
            kinds[code] = len(others)
            others.append(found)
    if not others:
        return table[codes], None, []
    return table[codes], kinds[codes], others


def _each_side(engine: _Resolves, name: str, listed: list[Any]) -> _Sides:
    """Value by value (a value that cannot be a dictionary key fails where it is)."""
    out = np.zeros(len(listed), np.uint32)
    kinds = np.full(len(listed), -1, np.int64)
    others: list[Any] = []
    cache: dict[Any, Any] = {}
    for k, value in enumerate(listed):
        parsed = cache.get(value)
        if parsed is None:
            parsed = cache[value] = _parse_side(engine, name, value)
        if parsed[0] == 4:
            out[k] = parsed[1]
        else:
            kinds[k] = len(others)
            others.append(parsed)
    return out, kinds, others


def _parse_side(engine: _Resolves, name: str, value: Any) -> Any:
    if isinstance(value, bytes):
        value = value.decode()
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        if not 0 <= int(value) < (1 << 128):
            raise PolicyError(f"column {name!r}: address {value} out of range")
        ip = ipaddress.ip_address(int(value))
        return ip.version, int(ip)
    if isinstance(value, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
        return value.version, int(value)
    if not isinstance(value, str):
        raise TypeError(f"column {name!r} holds a {type(value).__name__}; use IP text, integers or 'namespace/pod'")
    if "/" in value:
        parts = value.split("/")  # namespace/pod, [namespace/]kind/name
        if len(parts) > 3 or not all(parts):
            raise PolicyError(f"{name} {value!r} is not of the form 'namespace/pod' or '[namespace/]kind/name'")
        return named(value, engine.endpoint)
    try:
        ip = ipaddress.ip_address(value)
    except ValueError:
        raise PolicyError(f"{name} {value!r} is neither 'namespace/pod' nor an IP address") from None
    return ip.version, int(ip)
