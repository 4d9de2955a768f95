"""Deciding flows on the compiled tables: one at a time or many at once.

:class:`Engine` holds one PolicySet's tables and matcher; ``PolicySet.evaluate_many``
returns a :class:`BatchResult`. Whatever the tables cannot decide exactly (see
:mod:`netpolicy._compile`) is decided by the reference evaluator, flow by flow.
"""

from __future__ import annotations

import bisect
import functools
import ipaddress
import os
import threading
import weakref
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Sequence

import attrs
import numpy as np

from .compile import FALLBACK, KEY_BITS, Compiled, compile_policyset, flow_key, source_key
from ._matcher import Matcher
from .errors import PolicyError
from .reference import evaluate as _reference_evaluate
from .reference._packet import shared_family
from .flow import Flow, protocol_number
from .model import Action, Endpoint
from .verdict import Decision, RuleRef, Verdict, _quick_verdict

if TYPE_CHECKING:
    from .resolve import Snapshot as PolicySet

__all__ = ["BatchResult", "Engine", "engine_for", "evaluate", "ACTION_DENY", "ACTION_ALLOW", "COLUMNS"]

ACTION_DENY = 0  #: action code of a denied flow
ACTION_ALLOW = 1  #: action code of an allowed flow
COLUMNS = ("src", "dst", "protocol", "dst_port", "src_port", "icmp_type", "icmp_code")
_PORTED = (6, 17, 132, 136)  # protocols with ports
_SUB_MASK = (1 << KEY_BITS) - 1  # the port / ICMP part of a key
_ICMP = (1, 58)
_V4_LIMIT = 1 << 32
_ALLOW, _DENY = Action.ALLOW, Action.DENY

Reference = Callable[["PolicySet", Flow], Verdict]


class Engine:
    """One PolicySet's compiled tables, its matcher and the reference to fall back on."""

    def __init__(self, ps: PolicySet, reference: Reference, matcher: type | None = None) -> None:
        self._ps = weakref.ref(ps)  # weak: the PolicySet keeps its engine (engine_for)
        self._reference = reference
        self.compiled: Compiled = compile_policyset(ps)
        self.matcher: Matcher = (matcher or Matcher)(self.compiled)
        c = self.compiled
        self.owner: dict[tuple[int, int], int] = {}
        for eid, endpoint in enumerate(c.endpoints):
            for ip in endpoint.ips:
                key = (ip.version, int(ip))
                self.owner[key] = eid if key not in self.owner else -3
        self.decisions = [d for d, _ in c.outcomes]
        self.logged = [logs for _, logs in c.outcomes]
        self.by_reference = c.verdict_by_reference.tolist()
        self.owner4 = {value: eid for (family, value), eid in self.owner.items() if family == 4}
        self._all_fallback = c.all_fallback
        self.allows = c.out_allow.tolist()
        # each endpoint's outcomes by id, built on first use (their Decisions name it)
        tables = (self.decisions, self.logged, self.allows, [0])
        self._outcomes: list[_Outcomes] = [_Outcomes(tables, endpoint.key) for endpoint in c.endpoints]
        self.evaluate: Callable[[Flow], Verdict] = self._one_flow_path()

    def _one_flow_path(self) -> Callable[[Flow], Verdict]:
        """``evaluate``: the matcher's one-flow path (``Single``), which decides the common
        case, two IPv4 addresses, and hands every other flow to :meth:`evaluate_any`."""
        # the path holds the engine weakly, as the engine holds it: no cycle, so both are
        # freed with the PolicySet, at once
        other = functools.partial(_evaluate_any, weakref.ref(self))
        if self._all_fallback:
            return other
        # by endpoint index + 3: its _Outcomes, or None where the reference decides (the
        # endpoint's verdicts have a pending part); first an address endpoints share
        # (whose flows the tables leave to the reference anyway), an unused index, and an
        # address of no endpoint
        owners: list[_Outcomes | None] = [None, None, _EXTERNAL]
        owners += [None if self.by_reference[eid] else outcomes for eid, outcomes in enumerate(self._outcomes)]
        return self.matcher.single(owners, other, self._ps).evaluate

    def use_matcher(self, matcher: type) -> None:
        """Decides with another matcher twin from now on (benchmarks compare them)."""
        self.matcher = matcher(self.compiled)
        self.evaluate = self._one_flow_path()

    @property
    def ps(self) -> PolicySet:
        ps = self._ps()
        if ps is None:
            raise RuntimeError("the PolicySet of this engine is gone")
        return ps

    def reference(self, flow: Flow) -> Verdict:
        """The reference evaluator's verdict."""
        return self._reference(self.ps, flow)

    # -- sides ---------------------------------------------------------------------------

    def endpoint_address(self, endpoint: Endpoint, family: int | None) -> tuple[int, int] | None:
        """An endpoint's first address of ``family`` (any family when None)."""
        for ip in endpoint.ips:
            if family is None or ip.version == family:
                return ip.version, int(ip)
        return None

    def settle(self, src: Any, dst: Any, protocol: int) -> tuple[tuple[int, int], tuple[int, int]] | None:
        """Both sides' (family, address) as the reference resolves them: each side is
        (family, address) or ("name", endpoint); an address fixes the family, else IPv4
        is preferred; ICMP is IPv4 only, ICMPv6 IPv6 only. None when the reference must
        decide (it raises when the sides share no family)."""
        families = []
        for side in (src, dst):
            if side[0] == "name":
                versions = {ip.version for ip in side[1].ips}
                if not versions:
                    return None  # matched by identity
                families.append(versions)
            else:
                families.append({side[0]})
        family = shared_family(families[0], families[1], protocol)
        if family is None:
            return None  # no shared family: the reference raises
        s = src if src[0] != "name" else self.endpoint_address(src[1], family)
        d = dst if dst[0] != "name" else self.endpoint_address(dst[1], family)
        return s, d  # type: ignore[return-value]

    def _side(self, side: Any) -> Any:
        if isinstance(side, str):
            try:
                return ("name", self.ps.endpoint(side))
            except KeyError:
                raise PolicyError(f"no pod or workload endpoint {side!r} in the policy set") from None
        if isinstance(side, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
            return side.version, int(side)
        return None  # a hand-built Endpoint: the reference decides

    def sides(self, flow: Flow) -> tuple[tuple[int, int], tuple[int, int]] | None:
        """Both sides' (family, address), or None when the reference must decide."""
        src = self._side(flow.src)
        dst = self._side(flow.dst)
        if src is None or dst is None:
            return None
        return self.settle(src, dst, flow.protocol)

    # -- one flow ------------------------------------------------------------------------

    def decide(self, src: tuple[int, int], dst: tuple[int, int], key: int, skey: int) -> tuple[int, int, int]:
        """(code, egress outcome, ingress outcome) of one flow between two addresses of
        the same family."""
        if src[0] == 4:
            return self.matcher.decide_one_v4(src[1], dst[1], key, skey)
        c = self.compiled
        si = bisect.bisect_right(c.v6_starts, src[1]) - 1
        di = bisect.bisect_right(c.v6_starts, dst[1]) - 1
        sep = int(c.v6_endpoint[si])
        if sep >= 0 and sep == int(c.v6_endpoint[di]):
            return 1, -2, -2  # an endpoint to itself: allowed without evaluation
        return self.matcher.decide_classes(
            int(c.v6_local[0][si]), int(c.v6_peer[1][si]), int(c.v6_local[1][di]), int(c.v6_peer[0][di]), key, skey
        )

    def evaluate_any(self, flow: Flow) -> Verdict:
        """The verdict on any ``flow``: from the tables, else from the reference evaluator
        (``evaluate`` is the same, faster for flows between two IPv4 addresses)."""
        if self._all_fallback:
            return self.reference(flow)
        sides = self.sides(flow)
        if sides is None:
            return self.reference(flow)
        src_at, dst_at = sides
        code, e, i = self.decide(
            src_at, dst_at, flow_key(flow.protocol, flow.dst_port, flow.icmp_type, flow.icmp_code),
            source_key(flow.protocol, flow.src_port),
        )
        if code == 2:
            return self.reference(flow)
        owner = self.owner
        sep = owner.get(src_at, -1)
        dep = owner.get(dst_at, -1)
        if (sep >= 0 and self.by_reference[sep]) or (dep >= 0 and self.by_reference[dep]):
            return self.reference(flow)
        return self.verdict(flow, code, e, i, sep, dep)

    def verdict(self, flow: Flow, code: int, e: int, i: int, sep: int, dep: int) -> Verdict:
        """The Verdict from outcome ids (as the reference builds it: decisions name their
        endpoint; the destination's Log rules count only when egress allowed)."""
        egress: Decision | None = None
        ingress: Decision | None = None
        logged: tuple[RuleRef, ...] = ()
        if e >= 0:
            egress, logged, allowed = self._outcomes[sep][e]
        if i >= 0:
            ingress, more, _ = self._outcomes[dep][i]
            if e < 0 or allowed:
                logged += more
        # the PolicySet goes with the verdict: explain() re-runs the reference on it
        return _quick_verdict(flow, _ALLOW if code == 1 else _DENY, egress, ingress, logged, self._ps())

    # -- many flows ------------------------------------------------------------------------

    def evaluate_many(self, flows: Any) -> BatchResult:
        cols = _columns(self, flows)
        n = len(cols.key)
        code = np.empty(n, np.uint8)
        eg = np.empty(n, np.int32)
        ing = np.empty(n, np.int32)
        v4 = cols.v4
        if self.compiled.all_fallback:
            code[:] = 2
            eg[:] = FALLBACK
            ing[:] = FALLBACK
        elif v4.all():
            self.matcher.decide_v4(cols.src4, cols.dst4, cols.key, cols.skey, code, eg, ing)
        else:
            idx = np.flatnonzero(v4)
            c4 = np.empty(len(idx), np.uint8)
            e4 = np.empty(len(idx), np.int32)
            i4 = np.empty(len(idx), np.int32)
            self.matcher.decide_v4(
                np.ascontiguousarray(cols.src4[idx]), np.ascontiguousarray(cols.dst4[idx]),
                np.ascontiguousarray(cols.key[idx]), None if cols.skey is None else np.ascontiguousarray(cols.skey[idx]), c4, e4, i4,
            )
            code[idx], eg[idx], ing[idx] = c4, e4, i4
            for k in np.flatnonzero(~v4).tolist():
                s, d = cols.other[k]
                if s is None or d is None or s[0] != d[0]:
                    code[k], eg[k], ing[k] = 2, FALLBACK, FALLBACK
                else:
                    code[k], eg[k], ing[k] = self.decide(s, d, int(cols.key[k]), cols.source_key(k))
        result = BatchResult(self, cols, code, eg, ing)
        referred = np.flatnonzero(code == 2).tolist() if n and int(code.max()) == 2 else []
        for k in referred:
            verdict = self.reference(cols.flow(k))
            result.action[k] = ACTION_ALLOW if verdict.allowed else ACTION_DENY
            result.allowed[k] = verdict.allowed
        return result


class _Outcomes(dict[int, tuple[Decision, tuple[RuleRef, ...], bool]]):
    """One endpoint's outcomes by outcome id: (the Decision naming the endpoint, the Log
    rules that fired, whether it allows), each built on first use; built ones cost one
    dict lookup. ``tables`` is what its engine shares among them: the outcomes'
    Decisions, Log rules and allows, and a one-item list counting what they keep (no
    reference to the engine itself, so that it is freed with its PolicySet, at once)."""

    __slots__ = ("_tables", "_endpoint")

    def __init__(self, tables: tuple[list[Decision], list[tuple[RuleRef, ...]], list[Any], list[int]], endpoint: str) -> None:
        super().__init__()
        self._tables = tables
        self._endpoint = endpoint

    def __missing__(self, outcome: int) -> tuple[Decision, tuple[RuleRef, ...], bool]:
        decisions, logged, allows, kept = self._tables
        found = (attrs.evolve(decisions[outcome], endpoint=self._endpoint), logged[outcome], bool(allows[outcome]))
        if kept[0] < _KEPT_MAX:  # racing threads may overshoot a little: harmless
            kept[0] += 1
            self[outcome] = found
        return found


_EXTERNAL = _Outcomes.__new__(_Outcomes)  # the outcomes of an address of no endpoint (Single)
_KEPT_MAX = 1_000_000  # outcomes kept by all of an engine's _Outcomes together


class BatchResult:
    """What ``evaluate_many`` returns: per flow, in input order.

    ``allowed`` (bool) and ``action`` (``ACTION_ALLOW`` 1 / ``ACTION_DENY`` 0) are numpy
    arrays. ``egress_decision``/``ingress_decision`` hold decision ids (-2: no policed
    endpoint on that side, -1: decided by the reference evaluator); :meth:`decision`
    turns an id into its :class:`Decision`, :meth:`verdict` gives flow ``k``'s full
    Verdict (what ``evaluate`` returns).
    """

    def __init__(self, engine: Engine, cols: _Columns, code: np.ndarray, eg: np.ndarray, ing: np.ndarray) -> None:
        self._engine = engine
        self._cols = cols
        self.action = code  # ACTION_DENY 0, ACTION_ALLOW 1; 2 (the reference decides) is set by evaluate_many
        self.allowed = code == 1
        self.egress_decision = eg
        self.ingress_decision = ing

    def __len__(self) -> int:
        return len(self.allowed)

    def decision(self, decision_id: int) -> Decision | None:
        """The Decision a decision id stands for (None for -2; -1 has none: use verdict())."""
        if decision_id == -2:
            return None
        if decision_id < 0:
            raise ValueError("decision -1 was made by the reference evaluator: use verdict(k)")
        return self._engine.decisions[decision_id]

    def flow(self, k: int) -> Flow:
        """Flow ``k`` as a :class:`Flow`."""
        return self._cols.flow(k)

    def verdict(self, k: int) -> Verdict:
        """Flow ``k``'s Verdict, equal to ``evaluate(flow(k))``."""
        flow = self._cols.flow(k)
        return self._engine.evaluate(flow)


# -- columns -------------------------------------------------------------------------------


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
        """Flow ``k``'s source key (see ``_compile.source_key``)."""
        if self.skey is None:
            return int(self.key[k]) & ~_SUB_MASK
        return int(self.skey[k])


def _columns(engine: Engine, flows: Any) -> _Columns:
    if hasattr(flows, "column_names") and hasattr(flows, "column"):  # a pyarrow Table
        flows = {name: flows.column(name).to_numpy(zero_copy_only=False) for name in flows.column_names}
    if isinstance(flows, Mapping):
        return _from_mapping(engine, flows)
    if isinstance(flows, (str, bytes)) or not isinstance(flows, Iterable):
        raise TypeError("evaluate_many takes an iterable of Flow, a mapping of columns or a pyarrow Table")
    return _from_flows(engine, list(flows))


def _from_flows(engine: Engine, flows: list[Any]) -> _Columns:
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


def _from_mapping(engine: Engine, data: Mapping[str, Any]) -> _Columns:
    unknown = set(data) - set(COLUMNS)
    if unknown:
        raise PolicyError(f"unknown columns {sorted(unknown)}; columns are {', '.join(COLUMNS)}")
    for required in ("src", "dst"):
        if required not in data:
            raise PolicyError(f"column {required!r} is required")
    src = _as_array("src", data["src"], None)
    n = len(src)
    dst = _as_array("dst", data["dst"], n)
    if "protocol" in data:
        proto_raw = _as_array("protocol", data["protocol"], n)
        if proto_raw.dtype.kind in "iu":
            if n and (int(proto_raw.min()) < 1 or int(proto_raw.max()) > 255):
                raise PolicyError("protocol numbers must be 1-255")
            proto = proto_raw.astype(np.uint8, copy=False)
        elif proto_raw.dtype.kind in "OUS":
            names: dict[Any, int] = {}
            proto = np.empty(n, np.uint8)
            for k, value in enumerate(proto_raw.tolist()):
                number = names.get(value)
                if number is None:
                    if isinstance(value, bytes):
                        value = value.decode()
                    number = names[value] = protocol_number(value)
                proto[k] = number
        else:
            raise TypeError(f"column 'protocol' must hold names or numbers, not {proto_raw.dtype}")
    else:
        proto = np.full(n, 6, np.uint8)
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
    bad, icmp6 = engine.matcher.flow_keys(proto, dport, sport, itype, icode, key, cols.skey)
    if bad >= 0:
        given = {name: int(column[bad]) for name, column, absent in (
            ("dst_port", dport, 0), ("src_port", sport, 0), ("icmp_type", itype, -1), ("icmp_code", icode, -1),
        ) if column is not None and column[bad] != absent}
        raise PolicyError(_field_problem(bad, int(proto[bad]), given))
    cols.key = key
    cols.src4, src_other = _sides(engine, "src", src)
    cols.dst4, dst_other = _sides(engine, "dst", dst)
    v4 = np.ones(n, np.bool_)
    others = sorted(set(src_other) | set(dst_other))
    v4[others] = False
    if others:  # written below: not the caller's arrays
        cols.src4, cols.dst4 = cols.src4.copy(), cols.dst4.copy()
    # names and IPv6: resolved as the reference does
    for k in others:
        s = src_other.get(k, (4, int(cols.src4[k])))
        d = dst_other.get(k, (4, int(cols.dst4[k])))
        settled = engine.settle(s, d, int(proto[k]))
        cols.other[k] = settled if settled is not None else (None, None)
        if settled is not None and settled[0][0] == 4 and settled[1][0] == 4:
            v4[k] = True
            cols.src4[k], cols.dst4[k] = settled[0][1], settled[1][1]
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


def _sides(engine: Engine, name: str, values: np.ndarray) -> tuple[np.ndarray, dict[int, Any]]:
    """IPv4 addresses as uint32, plus every other side by index: (6, int) for IPv6,
    ("name", endpoint) for ``namespace/pod``, None for an endpoint without addresses."""
    n = len(values)
    other: dict[int, Any] = {}
    if values.dtype == np.uint32:
        return np.ascontiguousarray(values), other
    if values.dtype.kind in "iu":
        if n and (int(values.min()) < 0 or int(values.max()) >= _V4_LIMIT):
            raise PolicyError(f"column {name!r}: integer addresses must be IPv4 (0 to 2**32-1); use text for IPv6")
        return values.astype(np.uint32), other
    if values.dtype.kind not in "OUS":
        raise TypeError(f"column {name!r} must hold IP addresses (text or integers) or 'namespace/pod', not {values.dtype}")
    out = np.zeros(n, np.uint32)
    cache: dict[Any, Any] = {}
    for k, value in enumerate(values.tolist()):
        parsed = cache.get(value)
        if parsed is None:
            parsed = cache[value] = _parse_side(engine, name, value)
        if parsed[0] == 4:
            out[k] = parsed[1]
        else:
            other[k] = parsed
    return out, other


def _parse_side(engine: Engine, name: str, value: Any) -> Any:
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
        try:
            return ("name", engine.ps.endpoint(value))
        except KeyError:
            raise PolicyError(f"no pod or workload endpoint {value!r} in the policy set") from None
    try:
        ip = ipaddress.ip_address(value)
    except ValueError:
        raise PolicyError(f"{name} {value!r} is neither 'namespace/pod' nor an IP address") from None
    return ip.version, int(ip)


# -- one engine per PolicySet --------------------------------------------------------------

_LOCK = threading.Lock()


def engine_for(ps: PolicySet) -> Engine:
    """The PolicySet's engine, compiled on first use and kept on the PolicySet
    (thread-safe); the reference evaluator decides what its tables do not express."""
    engine: Engine | None = ps._engine
    if engine is None:
        with _LOCK:
            engine = ps._engine
            if engine is None:
                engine = Engine(ps, _reference)
                object.__setattr__(ps, "_engine", engine)  # a cache, not a change: ps stays immutable
    return engine


#: ``evaluate`` compiles a PolicySet's tables once it has decided this many flows with
#: the reference evaluator (compiling pays off only over many flows). The environment
#: variable NETPOLICY_COMPILE_AFTER overrides it (1: always use the tables; tests).
COMPILE_AFTER = max(1, int(os.environ.get("NETPOLICY_COMPILE_AFTER", "64") or 64))
_CALLS: "weakref.WeakKeyDictionary[Any, int]" = weakref.WeakKeyDictionary()


def _evaluate_any(engine: weakref.ref[Engine], flow: Flow) -> Verdict:
    live = engine()
    if live is None:
        raise RuntimeError("the engine of this evaluate is gone")
    return live.evaluate_any(flow)


def _reference(ps: PolicySet, flow: Flow) -> Verdict:
    return _reference_evaluate(ps, flow)


def evaluate(ps: PolicySet, flow: Flow) -> Verdict:
    """``PolicySet.evaluate``: the tables decide once compiled (by ``evaluate_many``,
    ``matrix`` or after :data:`COMPILE_AFTER` flows); until then, and for whatever the
    tables do not express, the reference evaluator. Both give equal verdicts."""
    engine: Engine | None = ps._engine
    if engine is None:
        calls = _CALLS.get(ps, 0) + 1
        if calls < COMPILE_AFTER:
            _CALLS[ps] = calls
            return _reference_evaluate(ps, flow)
        engine = engine_for(ps)
    return engine.evaluate(flow)
