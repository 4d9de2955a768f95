"""``netpolicy.analysis.connections`` against brute force: the reference evaluator on
every port (and ICMP type and code, and source port) where any rule, named port, Service
port or failsafe port changes, on both sides of each, for every pair of endpoints and
for external addresses at every CIDR bound.

The points are worked out from the manifests' model here, independently of the
compiler's key classes, and the decisions a connection names are compared with the
reference's too."""

from __future__ import annotations

import ipaddress
from typing import Any, Iterator

import attrs
import pytest
from hypothesis import given, settings, strategies as st

import netpolicy
from netpolicy.analysis.connections import Connection, Connections, connections
from netpolicy.model import PortRange
from netpolicy.reference import evaluate as reference
from netpolicy.reference._direction import FAILSAFE_INBOUND, FAILSAFE_OUTBOUND
from netpolicy.testing import strategies as nps

EXAMPLES = settings(max_examples=max(8, settings.default.max_examples // 6), deadline=None)
PORTED = (6, 17, 132, 136)


def _rules(ps: netpolicy.PolicySet) -> Iterator[Any]:
    for policy in ps.policies:
        yield from policy.ingress or ()
        yield from policy.egress or ()
    for profile in ps.profiles.values():
        yield from profile.ingress
        yield from profile.egress


def _cuts(starts: set[int], low: int, high: int) -> list[int]:
    """The values on both sides of every place where a class may start."""
    return sorted({v for c in starts for v in (c - 1, c) if low <= v <= high})


def points(ps: netpolicy.PolicySet) -> tuple[list[int], list[int], list[tuple[int, int]], list[int | None]]:
    """(protocols, destination ports, ICMP (type, code) pairs, source ports) on both sides
    of every place where the answer may change ([None] source ports: no rule tests one)."""
    ports: set[int] = {1, 53, 80, 443, 65535}
    sources: set[int] = set()
    protocols: set[int] = {1, 6, 17, 47, 58, 132, 136, 255}
    icmp: set[tuple[int, int]] = {(0, 0), (8, 0), (254, 255)}
    for rule in _rules(ps):
        protocols.update(p for p in (rule.protocol, rule.not_protocol) if p is not None)
        for match in (rule.icmp, rule.not_icmp):
            if match is not None:
                t, code = match.type, match.code
                icmp.update({(t, 0), (t, 255), (max(t - 1, 0), 255), (min(t + 1, 254), 0)})
                if code is not None:
                    icmp.update({(t, code), (t, max(code - 1, 0)), (t, min(code + 1, 255))})
        for side, found in ((rule.destination, ports), (rule.source, sources)):
            for port in (*side.ports, *side.not_ports):
                found.update((port.first, port.last + 1) if isinstance(port, PortRange) else (0,))
    named = {n for endpoint in ps.endpoints for p in endpoint.named_ports for n in (p.port, p.port + 1)}
    ports |= named
    ports |= {n for service in ps.services for _, port in service.ports for n in (port, port + 1)}
    if any(e.is_host for e in ps.endpoints):
        ports |= {n for _, port in FAILSAFE_INBOUND | FAILSAFE_OUTBOUND for n in (port, port + 1)}
    if 0 in sources:  # a named source port
        sources |= named
    if sources:
        sources |= {1}
    source_points: list[int | None] = list(_cuts(sources, 1, 65535)) if sources else [None]
    return sorted(protocols), _cuts(ports, 1, 65535), sorted(icmp), source_points


def _packets(ps: netpolicy.PolicySet) -> Iterator[dict[str, Any]]:
    protocols, ports, icmp, sources = points(ps)
    for protocol in protocols:
        if protocol in PORTED:
            for port in ports:
                for src_port in sources:
                    yield {"protocol": protocol, "dst_port": port, "src_port": src_port}
        elif protocol in (1, 58):
            for t, c in icmp:
                yield {"protocol": protocol, "icmp_type": t, "icmp_code": c}
        else:
            yield {"protocol": protocol}


def _strip(decision: Any) -> Any:
    return None if decision is None else attrs.evolve(decision, endpoint=None)


def _check(connection: Connection | None, verdict: netpolicy.Verdict | None, packet: dict[str, Any], where: str) -> None:
    allowed = verdict is not None and verdict.allowed
    got = connection is not None and connection.allows(
        packet["protocol"], packet.get("dst_port"), packet.get("icmp_type"), packet.get("icmp_code"), packet.get("src_port")
    )
    assert got == allowed, (where, packet, str(connection))
    if not allowed:
        return
    assert connection is not None and verdict is not None
    value = packet.get("dst_port") or 0
    if packet.get("icmp_type") is not None:
        value = packet["icmp_type"] * 256 + packet["icmp_code"]
    deciding = [
        (g.egress, g.ingress) for g in connection.grants
        if g.ports.protocol == packet["protocol"] and any(a <= value <= b for a, b in g.ports.ranges)
        and (g.ports.source_ports is None or any(a <= packet["src_port"] <= b for a, b in g.ports.source_ports))
    ]
    assert deciding == [(_strip(verdict.egress), _strip(verdict.ingress))], (where, packet)


def _verdict(ps: netpolicy.PolicySet, src: Any, dst: Any, packet: dict[str, Any]) -> netpolicy.Verdict | None:
    try:
        return reference(ps, netpolicy.Flow(src, dst, **packet))
    except netpolicy.PolicyError:  # no IP family in common for this protocol
        return None


def _external_samples(ps: netpolicy.PolicySet) -> list[Any]:
    nets = [n for s in ps.network_sets for n in s.nets]
    for rule in _rules(ps):
        for side in (rule.source, rule.destination):
            nets.extend((*side.nets, *side.not_nets))
    owned = {ip for e in ps.endpoints for ip in e.ips}
    found = {ipaddress.ip_address("8.8.8.8"), ipaddress.ip_address("0.0.0.0"), ipaddress.ip_address("2001:db8::1")}
    for net in nets:
        first, last = int(net.network_address), int(net.broadcast_address)
        top = (1 << net.max_prefixlen) - 1
        for value in {first, last, max(first - 1, 0), min(last + 1, top)}:
            found.add(ipaddress.ip_address(value) if net.version == 4 else ipaddress.IPv6Address(value))
    return sorted((a for a in found if a not in owned), key=lambda a: (a.version, int(a)))


def _outside(found: Connections, endpoint: str, address: Any, outbound: bool) -> Connection | None:
    for c in found:
        party, other = (c.dst, c.src) if outbound else (c.src, c.dst)
        if other.name == endpoint and party.kind == "external" and any(address in n for n in party.networks):
            return c
    return None


def brute_force(ps: netpolicy.PolicySet, external_limit: int = 6) -> None:
    found = connections(ps, workloads=False)
    pods = [e for e in ps.endpoints if e.name]
    packets = list(_packets(ps))
    for a in pods:
        for b in pods:
            if a is b:
                continue
            connection = found.between(a.key, b.key)
            for packet in packets:
                _check(connection, _verdict(ps, a, b, packet), packet, f"{a.key} => {b.key}")
    for address in _external_samples(ps)[:external_limit]:
        for a in pods:
            for outbound in (True, False):
                connection = _outside(found, a.key, address, outbound)
                src, dst = (a, address) if outbound else (address, a)
                for packet in packets[::3]:
                    _check(connection, _verdict(ps, src, dst, packet), packet, f"{a.key} {outbound} {address}")


@EXAMPLES
@given(nps.manifests(max_pods=4, max_policies=4, max_rules=3))
def test_connections_equal_the_reference_everywhere(documents: list[dict[str, Any]]) -> None:
    brute_force(netpolicy.from_objects(documents))


@EXAMPLES
@given(nps.manifests(max_pods=3, max_policies=3, max_rules=2, ipv6=False), st.data())
def test_endpoints_decided_alike_share_their_answers(documents: list[dict[str, Any]], data: st.DataObject) -> None:
    """Endpoints with equal signatures get equal connections to every other endpoint."""
    ps = netpolicy.from_objects(documents)
    from netpolicy.analysis.reach import Reach

    reach = Reach(ps)
    pods = [e for e in ps.endpoints if e.namespace and e.name and not e.is_host]
    for a in pods:
        for b in pods:
            if a is not b and reach.place(a).signature == reach.place(b).signature:
                for c in pods:
                    if c is not a and c is not b:
                        assert reach.between(a, c) == reach.between(b, c)


@pytest.mark.parametrize("example", ["examples/staging"])
def test_the_bundled_example(example: str) -> None:
    brute_force(netpolicy.load(example), external_limit=12)


@EXAMPLES
@given(nps.manifests(max_pods=4, max_policies=4, max_rules=3), st.sampled_from([6, 17, 1, 58, 47]))
def test_the_port_grid_is_what_connections_give(documents: list[dict[str, Any]], protocol: int) -> None:
    """The matrix without a port (one answer per pair of classes, spread to the pairs of
    endpoints) gives each pair the ranges its connection lists."""
    from netpolicy.analysis.grid import port_grid

    ps = netpolicy.from_objects(documents)
    pods = [e for e in ps.endpoints if e.name]
    grid = port_grid(ps, pods, protocol)
    found = connections(ps, workloads=False, external=False)
    for i, a in enumerate(pods):
        for j, b in enumerate(pods):
            if i == j:
                assert len(grid[i][j]) == 1  # every port
                continue
            link = found.between(a.key, b.key)
            ranges = sorted(r for p in (link.ports if link else ()) if p.protocol == protocol for r in p.ranges)
            merged: list[tuple[int, int]] = []
            for lo, hi in ranges:
                if merged and lo <= merged[-1][1] + 1:
                    merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
                else:
                    merged.append((lo, hi))
            assert list(grid[i][j]) == merged, (a.key, b.key)


def _twins() -> list[Any]:
    from netpolicy._fastmatch_py import Matcher as PureMatcher

    try:
        from netpolicy._fastmatch import Matcher as CompiledMatcher
    except ImportError:  # not built here (CI requires it, and runs the suite in pure Python too)
        return [PureMatcher]
    return [PureMatcher, CompiledMatcher]


@pytest.mark.parametrize("matcher", _twins(), ids=lambda m: m.__module__.rsplit(".", 1)[-1])
@EXAMPLES
@given(documents=nps.manifests(max_pods=3, max_policies=4, max_rules=3))
def test_connections_equal_both_matcher_twins(matcher: Any, documents: list[dict[str, Any]]) -> None:
    """Each twin's batch verdicts on every boundary flow between two pods are what the
    connections say (the twins read the tables connections read, through their own code)."""
    from netpolicy.engine import Engine
    from netpolicy.reference._packet import shared_family

    ps = netpolicy.from_objects(documents)
    engine = Engine(ps, lambda p, f: reference(p, f), matcher)
    found = connections(ps, workloads=False, external=False)
    pods = [e for e in ps.endpoints if e.namespace and e.name]
    flows, links, packets = [], [], []
    for a in pods:
        for b in pods:
            if a is not b:
                for packet in _packets(ps):
                    families = [{ip.version for ip in e.ips} or None for e in (a, b)]
                    if shared_family(families[0], families[1], packet["protocol"]) is None:
                        continue  # no packet can go: evaluate raises, connections have none
                    flows.append(netpolicy.Flow(a.key, b.key, **packet))
                    links.append(found.between(a.key, b.key))
                    packets.append(packet)
    if not flows:
        return
    got = engine.evaluate_many(flows).allowed.tolist()
    for flow, link, packet, allowed in zip(flows, links, packets, got):
        want = link is not None and link.allows(
            packet["protocol"], packet.get("dst_port"), packet.get("icmp_type"), packet.get("icmp_code"), packet.get("src_port")
        )
        assert bool(allowed) == want, (flow, str(link))
