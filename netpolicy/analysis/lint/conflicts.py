"""Conflicts: rules of two policies of one tier with the same order (Calico breaks the
tie by name; for AdminNetworkPolicy priorities the upstream spec leaves the result
undefined) that have different actions and match a common flow of an endpoint both
policies apply to.

A conflict is reported with a witness flow both rules match (:mod:`.witness`): each
reported conflict is real, but overlaps no witness was found for are not reported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

from ...model import Action, Direction, Endpoint, Policy, Rule
from ..reach import Reach
from .findings import Finding, rule_path
from .witness import Witnesses, flow_text, order_text

if TYPE_CHECKING:
    from ...resolve import Snapshot

__all__ = ["conflicts", "candidate_pairs"]

_ACTING = (Action.ALLOW, Action.DENY, Action.PASS)


def candidate_pairs(
    ps: Snapshot, applies: dict[int, list[Endpoint]]
) -> Iterator[tuple[Policy, Policy, Direction, int, Rule, int, Rule]]:
    """Pairs of rules of equal-order policies of one tier, applying to a common
    endpoint, in one direction, with different actions."""
    by: dict[tuple[str, float | None], list[Policy]] = {}
    for policy in ps.policies:
        by.setdefault((policy.tier, policy.order), []).append(policy)
    for policies in by.values():
        for i, first in enumerate(policies):
            mine = {id(e) for e in applies[id(first)]}
            for second in policies[i + 1:]:
                if not mine.intersection(id(e) for e in applies[id(second)]):
                    continue
                for direction in (Direction.INGRESS, Direction.EGRESS):
                    for a, ra in enumerate(first.rules(direction) or ()):
                        for b, rb in enumerate(second.rules(direction) or ()):
                            if ra.action in _ACTING and rb.action in _ACTING and ra.action is not rb.action:
                                yield first, second, direction, a, ra, b, rb


def conflicts(ps: Snapshot, applies: dict[int, list[Endpoint]], reach: Reach) -> list[Finding]:
    """A finding per pair of rules with a witness flow both match."""
    out = []
    witnesses: Witnesses | None = None
    for first, second, direction, a, ra, b, rb in candidate_pairs(ps, applies):
        common = _common(applies, first, second)
        witnesses = witnesses or Witnesses(ps, reach)
        flow = next(iter(witnesses.flows(common, direction, [ra, rb], want=1)), None)
        if flow is None:
            continue
        order = "priority" if first.ref.kind in _ADMIN else "order"
        out.append(Finding(
            "order-conflict", "warning",
            f"{ra.action.value} rule {a} overlaps {rb.action.value} rule {b} of {second.ref}, of the same {order} "
            f"({order_text(first.order)}) in tier {first.tier}", first.ref, direction, a, origin=first.origin,
            evidence=(f"both match {flow_text(flow)}",), path=rule_path(first, direction, a)))
    return out


_ADMIN = ("AdminNetworkPolicy", "BaselineAdminNetworkPolicy", "KubernetesClusterNetworkPolicy")


def _common(applies: dict[int, list[Endpoint]], first: Policy, second: Policy) -> list[Endpoint]:
    theirs = {id(e) for e in applies[id(second)]}
    return [e for e in applies[id(first)] if id(e) in theirs]
