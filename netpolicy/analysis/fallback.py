"""Flows the tables leave to the reference evaluator, decided exactly.

The tables leave some flows to the reference (host endpoints, addresses several endpoints
share, an outcome marked ``FALLBACK``). For those, the key space is cut at every value
the reference compares a flow with: each protocol a rule, a Service or the failsafe
ports name (and TCP, UDP, SCTP, UDPLite, ICMP and ICMPv6, which have their own fields
or family), every port bound of every rule, every named port an endpoint declares,
every Service port and failsafe port, every ICMP type and code a rule tests. Within one
of these key classes every flow between the same two sides gets the same verdict and
the same decisions: nothing the reference tests tells them apart. So one flow per class
(and, where rules test source ports, per class of source port) decides the class, and
the answer is exact without trying every port.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any, Iterable, Union

import attrs
import numpy as np

from ..compile.keys import ICMP_CODES, KEY_BITS, KEY_LIMIT, Intervals, union
from ..errors import PolicyError
from ..flow import Flow
from ..model import Endpoint, EntityMatch, IcmpMatch, PortRange, Rule
from ..reference import evaluate as reference_evaluate
from ..reference._direction import FAILSAFE_INBOUND, FAILSAFE_OUTBOUND
from ..verdict import Decision
from .keyspace import ICMP, PORTED, first_real_key, key_fields, real_source_keys
from .tables import KeyGrant

if TYPE_CHECKING:
    from ..resolve import Snapshot

__all__ = ["Referee", "FlowSide"]

#: a side of a flow the referee decides: an endpoint, or an external address
FlowSide = Union[Endpoint, ipaddress.IPv4Address, ipaddress.IPv6Address]


def _rules(ps: Snapshot) -> Iterable[Rule]:
    for policy in (*ps.policies, *ps.staged_policies):
        yield from policy.ingress or ()
        yield from policy.egress or ()
    for profile in ps.profiles.values():
        yield from profile.ingress
        yield from profile.egress


def _port_bounds(sides: Iterable[EntityMatch]) -> set[int]:
    found: set[int] = set()
    for side in sides:
        for port in (*side.ports, *side.not_ports):
            if isinstance(port, PortRange):
                found.update((port.first, port.last + 1))
    return found


def _icmp_bounds(match: IcmpMatch | None) -> set[int]:
    if match is None:
        return set()
    base = (match.type + 1) * ICMP_CODES
    found = {base, base + ICMP_CODES}
    if match.code is not None:
        found.update((base + match.code + 1, base + match.code + 2))
    return found


class Referee:
    """Decides flows by the reference evaluator, one flow per class of the key space
    (see the module docstring). ``extra`` are further key starts to cut at."""

    def __init__(self, ps: Snapshot, extra: Iterable[int] = ()) -> None:
        self._ps = ps
        rules = list(_rules(ps))
        protocols = {*PORTED, *ICMP}
        named: set[int] = set()
        for endpoint in ps.endpoints:
            for port in endpoint.named_ports:
                protocols.add(port.protocol)
                named.update((port.port, port.port + 1))
        for service in ps.services:
            for protocol, number in service.ports:
                protocols.add(protocol)
                named.update((number, number + 1))
        for protocol, number in FAILSAFE_INBOUND | FAILSAFE_OUTBOUND:
            named.update((number, number + 1))
        icmp: set[int] = set()
        for rule in rules:
            protocols.update(p for p in (rule.protocol, rule.not_protocol) if p is not None)
            icmp |= _icmp_bounds(rule.icmp) | _icmp_bounds(rule.not_icmp)
        destination = _port_bounds(rule.destination for rule in rules) | named
        source = _port_bounds(rule.source for rule in rules)
        cuts = {0, *extra}
        for protocol in protocols:
            base = protocol << KEY_BITS
            cuts.update((base, base + (1 << KEY_BITS)))
            bounds = destination if protocol in PORTED else icmp if protocol in ICMP else set()
            cuts.update(base | b for b in bounds if 0 < b < (1 << KEY_BITS))
        self._cuts = np.array(sorted(c for c in cuts if c < KEY_LIMIT), np.int64)
        self._sources = sorted({b for b in source | named if 1 < b <= 65535}) if source else []
        self.evaluated = 0  #: flows decided by the reference so far

    def _classes(self, keys: Intervals) -> list[tuple[int, int]]:
        """``keys`` cut into the key classes (each part within one class)."""
        parts: list[tuple[int, int]] = []
        cuts = self._cuts
        for lo, hi in keys:
            at = int(np.searchsorted(cuts, lo, side="right"))
            while lo < hi:
                end = min(hi, int(cuts[at]) if at < len(cuts) else KEY_LIMIT)
                parts.append((lo, end))
                lo, at = end, at + 1
        return parts

    def _source_classes(self, protocol: int) -> list[tuple[int, int]]:
        """The source-port classes of ``protocol`` as source-key intervals ([None]: the
        rules test no source port)."""
        (lo, hi), = real_source_keys(protocol)
        if protocol not in PORTED or not self._sources:
            return [(lo, hi)]
        base = protocol << KEY_BITS
        bounds = [lo, *(base | b for b in self._sources), hi]
        return list(zip(bounds, bounds[1:]))

    def decide(self, src: FlowSide, dst: FlowSide, keys: Intervals) -> tuple[KeyGrant, ...]:
        """What the reference allows from ``src`` to ``dst`` among the real keys of
        ``keys``, with the decisions that allow it."""
        by_pair: dict[tuple[Any, Decision | None, Decision | None], list[tuple[int, int]]] = {}
        for lo, hi in self._classes(union(keys)):
            key = first_real_key(lo, hi)
            if key is None:
                continue  # no packet has these keys
            protocol, port, icmp_type, icmp_code = key_fields(key)
            sources = self._source_classes(protocol)
            found: dict[tuple[Decision | None, Decision | None], list[tuple[int, int]]] = {}
            for s_lo, s_hi in sources:
                src_port = s_lo & ((1 << KEY_BITS) - 1) if len(sources) > 1 else None
                verdict = self._verdict(Flow(src, dst, protocol, port, src_port or None, icmp_type, icmp_code))
                if verdict is not None:
                    found.setdefault(verdict, []).append((s_lo, s_hi))
            for (egress, ingress), spans in found.items():
                merged = union(spans)
                source = None if merged == [(sources[0][0], sources[-1][1])] else tuple(merged)
                by_pair.setdefault((source, egress, ingress), []).append((lo, hi))
        grants = [KeyGrant(tuple(union(spans)), source, e, i) for (source, e, i), spans in by_pair.items()]
        grants.sort(key=lambda g: g.keys[0])
        return tuple(grants)

    def _verdict(self, flow: Flow) -> tuple[Decision | None, Decision | None] | None:
        """The decisions of an allowed flow (without the endpoint they name); None when
        it is denied or cannot go (the sides share no IP family for its protocol)."""
        self.evaluated += 1
        try:
            verdict = reference_evaluate(self._ps, flow)
        except PolicyError:
            return None
        if not verdict.allowed:
            return None
        return _anonymous(verdict.egress), _anonymous(verdict.ingress)


def _anonymous(decision: Decision | None) -> Decision | None:
    """The decision without the endpoint it names (the tables' decisions name none)."""
    return None if decision is None else attrs.evolve(decision, endpoint=None)
