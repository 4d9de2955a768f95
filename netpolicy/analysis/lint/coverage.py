"""Coverage: workloads no policy polices in a direction, namespaces without a default
deny, and tiers whose default drops traffic only Log rules touched."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...model import Action, Direction, Endpoint, Policy, PolicyRef
from ..parties import controller
from .cells import Reached
from .findings import Finding, rule_path

if TYPE_CHECKING:
    from ...resolve import Snapshot

__all__ = ["unprotected", "no_default_deny", "log_only_drops"]


def _workload(endpoint: Endpoint) -> str:
    owner = controller(endpoint)
    if owner is not None and endpoint.namespace:
        return f"{endpoint.namespace}/{owner[1]}[{owner[0]}]"
    return endpoint.key


def unprotected(ps: Snapshot, applies: dict[int, list[Endpoint]]) -> list[Finding]:
    """Per workload (its pods) and direction: no enforced policy applies to any of them."""
    policed: dict[Direction, set[int]] = {Direction.INGRESS: set(), Direction.EGRESS: set()}
    for policy in ps.policies:
        for direction in (Direction.INGRESS, Direction.EGRESS):
            if policy.rules(direction) is not None:
                policed[direction].update(id(e) for e in applies[id(policy)])
    out = []
    for direction, check in ((Direction.INGRESS, "unprotected-ingress"), (Direction.EGRESS, "unprotected-egress")):
        groups: dict[str, list[Endpoint]] = {}
        for endpoint in ps.endpoints:
            if not endpoint.is_host and id(endpoint) not in policed[direction]:
                groups.setdefault(_workload(endpoint), []).append(endpoint)
        for name, members in sorted(groups.items()):
            out.append(Finding(
                check, "note", f"no policy applies to the {str(direction).lower()} of {name}", subject=name,
                origin=members[0].origin, evidence=tuple(e.key for e in members[:5] if e.key != name)))
    return out


def _denies_all(policy: Policy, direction: Direction) -> bool:
    rules = policy.rules(direction)
    return rules is not None and not any(r.action in (Action.ALLOW, Action.PASS) for r in rules)


def no_default_deny(ps: Snapshot, applies: dict[int, list[Endpoint]]) -> list[Finding]:
    """Per namespace with endpoints and direction: no enforced policy without Allow or
    Pass rules in that direction applies to every endpoint of the namespace."""
    members: dict[str, set[int]] = {}
    for endpoint in ps.endpoints:
        if endpoint.namespace and not endpoint.is_host:
            members.setdefault(endpoint.namespace, set()).add(id(endpoint))
    out = []
    for direction in (Direction.INGRESS, Direction.EGRESS):
        covered: set[str] = set()
        for policy in ps.policies:
            if not _denies_all(policy, direction):
                continue
            mine = {id(e) for e in applies[id(policy)]}
            covered.update(ns for ns, ids in members.items() if ids <= mine)
        for namespace in sorted(set(members) - covered):
            out.append(Finding(
                "no-default-deny", "note", f"namespace {namespace} has no default deny for {str(direction).lower()}: "
                "no policy without allow rules applies to all its endpoints", subject=namespace))
    return out


def log_only_drops(ps: Snapshot, found: Reached) -> list[Finding]:
    """Per tier, direction and policy of the Log rules: flows that only Log rules of
    the tier matched, denied by the tier's end."""
    policies = {p.ref: p for p in ps.policies}
    by: dict[tuple[str, Direction, PolicyRef], set[int]] = {}
    for tier, direction, logged in found.log_drops:
        for ref, _, n in logged:
            by.setdefault((tier, direction, ref), set()).add(n)
    out = []
    for (tier, direction, ref), rules in sorted(by.items(), key=lambda item: (item[0][0], str(item[0][1]), str(item[0][2]))):
        first = min(rules)
        out.append(Finding(
            "log-only-drop", "warning", f"traffic that only Log rules of tier {tier} matched is denied by the tier's "
            "default action", ref, direction, first, origin=policies[ref].origin,
            evidence=tuple(f"Log rule {n} matched, then end of tier {tier}" for n in sorted(rules)),
            path=rule_path(policies[ref], direction, first)))
    return out
