"""``netpolicy.diff`` against brute force: the reference evaluator on both sides, for every
pair of endpoints (matched by key, or present on one side only) and external addresses at
every CIDR bound of either side, on every protocol, port, ICMP type and code and source
port where a rule, named port, Service port or failsafe port of either side changes the
answer, and their neighbours. A flow whose verdict differs must be in exactly one row,
with both sides' deciding decisions; a flow whose verdict is equal must be in none.

The grid is worked out from the manifests' model here, independently of the compiler.
Run it with NETPOLICY_NO_EXTENSIONS=1 too, for the pure matcher twin."""

from __future__ import annotations

import ipaddress
from typing import Any, Iterator

import attrs
from hypothesis import assume, given, settings, strategies as st

import netpolicy
from netpolicy.analysis.diff import Change, Diff, diff
from netpolicy.model import PortRange
from netpolicy.reference import evaluate as reference
from netpolicy.reference._direction import FAILSAFE_INBOUND, FAILSAFE_OUTBOUND
from netpolicy.testing import strategies as nps

EXAMPLES = settings(max_examples=max(10, settings.default.max_examples // 4), deadline=None)
PORTED = (6, 17, 132, 136)
_KEEP = ("Namespace", "Tier")


def _rules(ps: netpolicy.PolicySet) -> Iterator[Any]:
    for policy in (*ps.policies, *ps.staged_policies):
        yield from policy.ingress or ()
        yield from policy.egress or ()
    for profile in ps.profiles.values():
        yield from profile.ingress
        yield from profile.egress


def _around(values: set[int], low: int, high: int) -> list[int]:
    return sorted({v + d for v in values for d in (-1, 0, 1) if low <= v + d <= high})


def packets(*sides: netpolicy.PolicySet) -> list[dict[str, Any]]:
    """Every packet where an answer of either side may change, with its neighbours."""
    ports: set[int] = {1, 53, 80, 443, 65535}
    sources: set[int] = set()
    protocols: set[int] = {1, 6, 17, 47, 58, 132, 136, 255}
    icmp: set[tuple[int, int]] = {(0, 0), (8, 0), (254, 255)}
    named: set[int] = set()
    for ps in sides:
        for rule in _rules(ps):
            protocols.update(p for p in (rule.protocol, rule.not_protocol) if p is not None)
            for match in (rule.icmp, rule.not_icmp):
                if match is not None:
                    code = match.code if match.code is not None else 0
                    icmp.update({(match.type, code), (match.type, min(code + 1, 255)), (match.type, max(code - 1, 0)),
                                 (match.type, 255), (min(match.type + 1, 254), 0), (max(match.type - 1, 0), 255)})
            for side, found in ((rule.destination, ports), (rule.source, sources)):
                for port in (*side.ports, *side.not_ports):
                    found.update((port.first, port.last) if isinstance(port, PortRange) else (1,))
        named |= {p.port for endpoint in ps.endpoints for p in endpoint.named_ports}
        ports.update(port for service in ps.services for _, port in service.ports)
    ports |= named | {port for _, port in FAILSAFE_INBOUND | FAILSAFE_OUTBOUND}
    if sources:
        sources |= named
    source_points: list[int | None] = list(_around(sources | {1, 65535}, 1, 65535)) if sources else [None]
    found: list[dict[str, Any]] = []
    for protocol in sorted(protocols):
        if protocol in PORTED:
            found.extend({"protocol": protocol, "dst_port": p, "src_port": s} for p in _around(ports, 1, 65535) for s in source_points)
        elif protocol in (1, 58):
            found.extend({"protocol": protocol, "icmp_type": t, "icmp_code": c} for t, c in sorted(icmp))
        else:
            found.append({"protocol": protocol})
    return found


def _external(*sides: netpolicy.PolicySet) -> list[Any]:
    nets = []
    owned = set()
    for ps in sides:
        nets.extend(n for s in ps.network_sets for n in s.nets)
        for rule in _rules(ps):
            for side in (rule.source, rule.destination):
                nets.extend((*side.nets, *side.not_nets))
        owned |= {ip for e in ps.endpoints for ip in e.ips}
    found = {ipaddress.ip_address("8.8.8.8"), ipaddress.ip_address("0.0.0.0"), ipaddress.ip_address("2001:db8::1")}
    for net in nets:
        first, last = int(net.network_address), int(net.broadcast_address)
        top = (1 << net.max_prefixlen) - 1
        for value in {first, last, max(first - 1, 0), min(last + 1, top)}:
            found.add(ipaddress.IPv4Address(value) if net.version == 4 else ipaddress.IPv6Address(value))
    return sorted((a for a in found if a not in owned), key=lambda a: (a.version, int(a)))


def _strip(decision: Any) -> Any:
    return None if decision is None else attrs.evolve(decision, endpoint=None)


def _answer(ps: netpolicy.PolicySet, src: Any, dst: Any, packet: dict[str, Any]) -> tuple[str, Any, Any]:
    if src is None or dst is None:
        return ("absent", None, None)
    try:
        verdict = reference(ps, netpolicy.Flow(src, dst, **packet))
    except netpolicy.PolicyError:  # no IP family in common for this protocol
        return ("deny", None, None)
    return ("allow" if verdict.allowed else "deny", _strip(verdict.egress), _strip(verdict.ingress))


def _holds(party: Any, side: Any) -> bool:
    if isinstance(side, str):
        return party.kind != "external" and side in party.endpoints
    return party.kind == "external" and any(side in n for n in party.networks)


def _rows(found: Diff, src: Any, dst: Any, packet: dict[str, Any]) -> list[Change]:
    value = packet.get("dst_port") or 0
    if packet.get("icmp_type") is not None:
        value = packet["icmp_type"] * 256 + packet["icmp_code"]
    return [
        c for c in found
        if _holds(c.src, src) and _holds(c.dst, dst) and any(
            p.protocol == packet["protocol"] and any(a <= value <= b for a, b in p.ranges)
            and (p.source_ports is None or any(a <= packet["src_port"] <= b for a, b in p.source_ports))
            for p in c.packets)
    ]


def _check(found: Diff, names: tuple[Any, Any], pairs: tuple[tuple[Any, Any], tuple[Any, Any]],
           sides: tuple[netpolicy.PolicySet, netpolicy.PolicySet], packet: dict[str, Any]) -> None:
    before = _answer(sides[0], *pairs[0], packet)
    after = _answer(sides[1], *pairs[1], packet)
    rows = _rows(found, *names, packet)
    if before[0] == after[0] or {before[0], after[0]} == {"absent", "deny"}:
        assert rows == [], (names, packet, [str(r) for r in rows])
        return
    assert len(rows) == 1, (names, packet, before, after, [str(r) for r in rows])
    row = rows[0]
    assert (row.before.verdict, row.before.egress, row.before.ingress) == before, (names, packet, str(row))
    assert (row.after.verdict, row.after.egress, row.after.ingress) == after, (names, packet, str(row))


def brute_force(base: netpolicy.PolicySet, head: netpolicy.PolicySet, external_limit: int = 4, stride: int = 1) -> Diff:
    found = diff(base, head)
    ends = [{e.key: e for e in ps.endpoints if e.name} for ps in (base, head)]
    keys = list(dict.fromkeys([*ends[0], *ends[1]]))
    grid = packets(base, head)[::stride]
    for a in keys:
        for b in keys:
            if a == b:
                continue
            pairs = ((ends[0].get(a), ends[0].get(b)), (ends[1].get(a), ends[1].get(b)))
            for packet in grid:
                _check(found, (a, b), pairs, (base, head), packet)
    for address in _external(base, head)[:external_limit]:
        for a in keys:
            for outbound in (True, False):
                eb, eh = ends[0].get(a), ends[1].get(a)
                pairs = ((eb, address), (eh, address)) if outbound else ((address, eb), (address, eh))
                names = (a, address) if outbound else (address, a)
                for packet in grid[::3]:
                    _check(found, names, pairs, (base, head), packet)
    assert set(found.added_endpoints) == set(ends[1]) - set(ends[0])
    assert set(found.removed_endpoints) == set(ends[0]) - set(ends[1])
    return found


def _load(documents: list[dict[str, Any]]) -> netpolicy.PolicySet:
    try:
        return netpolicy.from_objects(documents)
    except netpolicy.ValidationError:
        assume(False)
        raise


@EXAMPLES
@given(nps.manifests(max_pods=4, max_policies=5, max_rules=3, wrap=False), st.data())
def test_diff_equals_the_reference_on_both_sides(documents: list[dict[str, Any]], data: st.DataObject) -> None:
    """An edit drops some documents from each side (never a namespace or tier): policies
    appear, disappear and change order; pods and network sets come and go."""
    optional = [n for n, doc in enumerate(documents) if doc.get("kind") not in _KEEP]
    drop_base = data.draw(st.sets(st.sampled_from(optional), max_size=2) if optional else st.just(set()), label="base drops")
    drop_head = data.draw(st.sets(st.sampled_from(optional), max_size=2) if optional else st.just(set()), label="head drops")
    base = _load([d for n, d in enumerate(documents) if n not in drop_base])
    head = _load([d for n, d in enumerate(documents) if n not in drop_head])
    brute_force(base, head)


@EXAMPLES
@given(nps.manifests(max_pods=3, max_policies=4, max_rules=3, wrap=False))
def test_a_side_compared_with_itself_has_no_change(documents: list[dict[str, Any]]) -> None:
    ps = netpolicy.from_objects(documents)
    assert not diff(ps, netpolicy.from_objects(documents))


def test_the_bundled_example_change() -> None:
    base, head = netpolicy.load("examples/staging"), netpolicy.load("examples/staging-change")
    found = brute_force(base, head, external_limit=12, stride=2)
    assert [str(c) for c in found] == ["staging/back-end => 192.0.2.0/24 : TCP 443 : deny -> allow"]
    assert found[0].after.egress is not None and found[0].after.egress.policy is not None
    assert found[0].after.egress.policy.name == "back-end"
