"""``netpolicy.analyze`` against brute force on drawn policy sets: the reference evaluator
on every pair of endpoints and on external addresses at every CIDR bound, on every
protocol, port, ICMP type and code and source port where a rule, named port, Service port
or failsafe port changes the answer (the grid of the diff's exactness test).

* a rule reported shadowed is never the deciding rule of a flow (nor, a Log rule, logged;
  nor, a Pass rule, met: turning it into a Deny rule changes no verdict);
* removing every rule reported redundant, all at once, changes no verdict.

Run it with NETPOLICY_NO_EXTENSIONS=1 too, for the pure matcher twin."""

from __future__ import annotations

from typing import Any, Iterator

import attrs
from hypothesis import assume, given, settings

import netpolicy
from netpolicy.analysis.lint import analyze
from netpolicy.analysis.lint.cells import rule_key
from netpolicy.analysis.lint.shadow import _without
from netpolicy.model import Action, Direction
from netpolicy.reference import evaluate as reference
from netpolicy.testing import strategies as nps

from .test_diff_exact import _external, packets

EXAMPLES = settings(max_examples=max(8, settings.default.max_examples // 8), deadline=None)


def _load(documents: list[dict[str, Any]]) -> netpolicy.PolicySet:
    try:
        return netpolicy.from_objects(documents)
    except netpolicy.ValidationError:
        assume(False)
        raise


def _flows(ps: netpolicy.PolicySet, external_limit: int = 4) -> Iterator[netpolicy.Flow]:
    grid = packets(ps)
    grid = grid[:: max(1, len(grid) // 400)]  # every boundary of small sets; a stride through the largest
    ends = [e for e in ps.endpoints if e.name]
    for a in ends:
        for b in ends:
            if a is not b:
                for packet in grid:
                    yield netpolicy.Flow(a, b, **packet)
    for address in _external(ps)[:external_limit]:
        for a in ends:
            for packet in grid[::3]:
                yield netpolicy.Flow(a, address, **packet)
                yield netpolicy.Flow(address, a, **packet)


def _verdict(ps: Any, flow: netpolicy.Flow) -> Any:
    try:
        return reference(ps, flow)
    except netpolicy.PolicyError:
        return None


def _key(ref: Any) -> Any:
    return (ref.policy, ref.direction, ref.rule)


@EXAMPLES
@given(nps.manifests(max_pods=3, max_policies=5, max_rules=3, wrap=False))
def test_shadowed_rules_never_act_and_the_others_do(documents: list[dict[str, Any]]) -> None:
    ps = _load(documents)
    findings = analyze(ps, disable=[c for c in netpolicy.CHECKS if c not in ("shadowed-rule", "redundant-rule")])
    shadowed = {(f.policy, f.direction, f.rule) for f in findings.of("shadowed-rule")}
    redundant = {(f.policy, f.direction, f.rule) for f in findings.of("redundant-rule")}
    rules = {(p.ref, d, n): r for p in ps.policies for d in (Direction.INGRESS, Direction.EGRESS)
             for n, r in enumerate(p.rules(d) or ())}
    passes = {k for k, r in rules.items() if r.action is Action.PASS}
    # a Pass rule is met by a flow exactly when turning it into a Deny rule makes it decide that flow
    probe = _without(ps, set())
    probe = type(ps)(tiers=ps.tiers, policies=[attrs.evolve(p, **{
        name: tuple(attrs.evolve(r, action=Action.DENY) if (p.ref, d, n) in passes and (p.ref, d, n) in shadowed else r
                    for n, r in enumerate(p.rules(d)))
        for d, name in ((Direction.INGRESS, "ingress"), (Direction.EGRESS, "egress")) if p.rules(d) is not None})
        for p in ps.policies], profiles=ps.profiles.values(), endpoints=ps.endpoints, network_sets=ps.network_sets,
        services=ps.services, calico_version=ps.calico_version)
    without = _without(ps, redundant)
    for flow in _flows(ps):
        verdict = _verdict(ps, flow)
        if verdict is None:
            continue
        for decision in (verdict.egress, verdict.ingress):
            key = rule_key(decision) if decision is not None else None
            assert key not in shadowed, (flow, decision)
        for ref in verdict.logged:
            assert _key(ref) not in shadowed, (flow, ref)
        if any(k in passes for k in shadowed):
            probed = _verdict(probe, flow)
            assert probed is not None and probed.action == verdict.action, flow
        if redundant:
            after = _verdict(without, flow)
            assert after is not None and after.action == verdict.action, (flow, redundant)
    # shadowed Allow, Deny and Pass rules are redundant
    assert {k for k in shadowed if rules[k].action is not Action.LOG} <= redundant


def _ranges(text: str) -> list[tuple[int, int, int]]:
    """(protocol, first, last) of ``TCP 80,443; UDP all ports`` (ported protocols only)."""
    names = {"TCP": 6, "UDP": 17, "SCTP": 132, "UDPLite": 136}
    found = []
    for part in text.split("; "):
        protocol, _, ports = part.partition(" ")
        if protocol not in names:
            continue
        for piece in ports.split(","):
            if piece == "all ports":
                found.append((names[protocol], 1, 65535))
            elif piece.replace("-", "").isdigit():
                first, _, last = piece.partition("-")
                found.append((names[protocol], int(first), int(last or first)))
    return found


@settings(max_examples=max(5, settings.default.max_examples // 20), deadline=None)
@given(nps.manifests(max_pods=3, max_policies=4, max_rules=3, wrap=False))
def test_what_is_reported_open_to_everyone_is_open(documents: list[dict[str, Any]]) -> None:
    """Each port reported open to every external address is allowed from each external
    address of the grid; each reported open to every other namespace, from some endpoint
    of each other namespace (both ends of each reported range, and the reference decides)."""
    ps = _load(documents)
    findings = analyze(ps, disable=[c for c in netpolicy.CHECKS if not c.startswith("exposed-")])
    by_key = {e.key: e for e in ps.endpoints if e.name}
    addresses = _external(ps)[:6]
    for finding in findings:
        members = [by_key[k] for k in (*finding.evidence, finding.subject or "") if k in by_key]
        if not members:
            continue
        target = members[0]
        text = finding.message.split(" on ", 1)[1].removesuffix(" (no ingress policy applies)")
        if text == "all traffic":
            text = "TCP all ports; UDP all ports"
        for protocol, first, last in _ranges(text):
            for port in {first, last}:
                if finding.check == "exposed-external":
                    for address in addresses:
                        if address.version not in {ip.version for ip in target.ips}:
                            continue
                        verdict = _verdict(ps, netpolicy.Flow(address, target, protocol, port))
                        assert verdict is not None and verdict.allowed, (finding, address, port)
                else:
                    others = {e.namespace for e in ps.endpoints if e.namespace and e.namespace != target.namespace
                              and not e.is_host}
                    for namespace in others:
                        assert any(
                            (v := _verdict(ps, netpolicy.Flow(e, target, protocol, port))) is not None and v.allowed
                            for e in ps.endpoints if e.namespace == namespace and not e.is_host and e is not target
                        ), (finding, namespace, port)
