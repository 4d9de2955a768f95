"""Selectors that select nothing: a policy that applies to no endpoint, a rule selector
(its namespaceSelector and serviceAccountSelector folded in) that matches no endpoint
and no network set of the input. Either is likely a typo in a label."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ...model import Direction, Endpoint, Policy
from ...resolve.index import index_of
from ...selector import Selector
from ...selector._columns import LabelColumns
from .findings import Finding, rule_path

if TYPE_CHECKING:
    from ...resolve import Snapshot

__all__ = ["applied", "empty_policy_selectors", "empty_rule_selectors"]


def applied(ps: Snapshot) -> dict[int, list[Endpoint]]:
    """Per policy (by ``id``), enforced or staged, the endpoints it applies to in some
    direction."""
    index = index_of(ps)
    found: dict[int, list[Endpoint]] = {id(p): [] for p in (*ps.policies, *ps.staged_policies)}
    by_selector: dict[Selector, list[Policy]] = {}
    for policy in (*ps.policies, *ps.staged_policies):
        by_selector.setdefault(policy.selector, []).append(policy)
    endpoints = ps.endpoints
    columns = LabelColumns([index.labels_of(e) for e in endpoints], {k for s in by_selector for k in s.label_keys})
    for selector, policies in by_selector.items():
        hits = [endpoints[n] for n in np.flatnonzero(columns.matching(selector)).tolist()]
        for policy in policies:
            found[id(policy)] = hits
    return found


def empty_policy_selectors(ps: Snapshot, applies: dict[int, list[Endpoint]]) -> list[Finding]:
    out = []
    for policy in (*ps.policies, *ps.staged_policies):
        if not applies[id(policy)]:
            out.append(Finding(
                "empty-policy-selector", "warning", f"the policy applies to no endpoint: its selector {policy.selector} "
                "selects none of the input's endpoints", policy.ref, origin=policy.origin,
                evidence=(f"selector: {policy.selector}",)))
    return out


def empty_rule_selectors(ps: Snapshot) -> list[Finding]:
    index = index_of(ps)
    sides = [side.selector for policy in (*ps.policies, *ps.staged_policies)
             for direction in (Direction.INGRESS, Direction.EGRESS) for rule in policy.rules(direction) or ()
             for side in (rule.source, rule.destination) if side.selector is not None]
    columns = LabelColumns([entity.labels for entity in index.entities], {k for s in sides for k in s.label_keys})
    memo: dict[Selector, bool] = {}

    def selects(selector: Selector) -> bool:
        found = memo.get(selector)
        if found is None:
            found = memo[selector] = bool(columns.matching(selector).any())
        return found

    out = []
    for policy in (*ps.policies, *ps.staged_policies):
        for direction in (Direction.INGRESS, Direction.EGRESS):
            for n, rule in enumerate(policy.rules(direction) or ()):
                for side_name, side in (("source", rule.source), ("destination", rule.destination)):
                    if side.selector is not None and not selects(side.selector):
                        out.append(Finding(
                            "empty-rule-selector", "warning",
                            f"the rule's {side_name} selector matches no endpoint or network set of the input",
                            policy.ref, direction, n, origin=policy.origin,
                            evidence=(f"{side_name} selector: {side.selector}",), path=rule_path(policy, direction, n)))
    return out
