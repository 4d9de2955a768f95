"""Witness flows: flows of the input that given rules all match, for an endpoint their
policies apply to, found by trying one endpoint of each class of the tables against one
peer of each class (endpoints, then external addresses), at the ports the rules name.
A witness is a real flow; not finding one within the budget proves nothing."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Iterator, Sequence

from ...errors import PolicyError
from ...flow import Flow
from ...model import Direction, Endpoint, PortRange, Rule
from ...reference._match import rule_matches
from ...reference._packet import resolve
from ...resolve.index import index_of
from ..keyspace import protocol_text
from ..reach import Reach

if TYPE_CHECKING:
    from ...resolve import Snapshot

__all__ = ["Witnesses", "flow_text", "order_text"]

Side = Endpoint | ipaddress.IPv4Address | ipaddress.IPv6Address


def _keys(rules: Sequence[Rule]) -> list[tuple[int, int | None, int | None]]:
    """(protocol, port, ICMP type) to try: the protocols and first ports the rules name."""
    protocols = [r.protocol for r in rules if r.protocol is not None] or [6]
    found: list[tuple[int, int | None, int | None]] = []
    for protocol in dict.fromkeys(protocols):
        if protocol in (1, 58):
            types = [r.icmp.type for r in rules if r.icmp is not None] or [8]
            found.extend((protocol, None, t) for t in types)
        elif protocol in (6, 17, 132, 136):
            ports = [p.first for r in rules for p in r.destination.ports if isinstance(p, PortRange)]
            found.extend((protocol, port, None) for port in dict.fromkeys(ports or [80, 443, 1]))
        else:
            found.append((protocol, None, None))
    return found


class Witnesses:
    def __init__(self, ps: Snapshot, reach: Reach, total: int = 10_000) -> None:
        self.ps = ps
        self.reach = reach
        self.index = index_of(ps)
        self.left = total  #: probes left over all searches
        reps: dict[object, Endpoint] = {}
        for endpoint in ps.endpoints:
            reps.setdefault(reach.place(endpoint).signature, endpoint)
        self.peers: list[Side] = list(reps.values())
        for family in (4, 6):
            ext = reach.layout.externals(family)
            for value in ext.sample[:16]:
                self.peers.append(ipaddress.IPv4Address(value) if family == 4 else ipaddress.IPv6Address(value))

    def flows(self, locals_: Sequence[Endpoint], direction: Direction, rules: Sequence[Rule], budget: int = 60,
              want: int = 3) -> Iterator[Flow]:
        """Up to ``want`` flows of endpoints of ``locals_`` (policed in ``direction``)
        that every rule of ``rules`` matches, trying at most ``budget`` flows."""
        reps: dict[object, Endpoint] = {}
        for endpoint in locals_:
            reps.setdefault(self.reach.place(endpoint).signature, endpoint)
            if len(reps) >= 4:
                break
        keys = _keys(rules)
        found = 0
        for local in reps.values():
            for peer in self.peers:
                if peer is local:
                    continue
                for protocol, port, icmp in keys:
                    if budget <= 0 or self.left <= 0 or found >= want:
                        return
                    budget -= 1
                    self.left -= 1
                    src, dst = (local, peer) if direction is Direction.EGRESS else (peer, local)
                    flow = Flow(src, dst, protocol, port, None, icmp, None)
                    try:
                        packet = resolve(self.index, flow)
                    except PolicyError:
                        continue
                    if all(rule_matches(rule, packet, self.index) for rule in rules):
                        found += 1
                        yield flow


def flow_text(flow: Flow) -> str:
    """``tools/debug -> shop/web TCP 22``, ``203.0.113.5 -> shop/web ICMP 8``."""

    def side(value: object) -> str:
        key = getattr(value, "key", None)
        return key if isinstance(key, str) else str(value)

    text = f"{side(flow.src)} -> {side(flow.dst)} {protocol_text(flow.protocol)}"
    if flow.dst_port is not None:
        text += f" {flow.dst_port}"
    elif flow.icmp_type is not None:
        text += f" {flow.icmp_type}" + (f"/{flow.icmp_code}" if flow.icmp_code is not None else "")
    return text


def order_text(order: float | None) -> str:
    """``100``, ``12.5``, or ``none``."""
    if order is None:
        return "none"
    return str(int(order)) if float(order).is_integer() else str(order)
