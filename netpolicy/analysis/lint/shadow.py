"""Shadowed and redundant rules.

A rule is *shadowed* when no flow of the input reaches it with its match: it decides
no flow (an Allow or Deny rule), no flow passes through it (a Pass rule), or no flow is
logged by it (a Log rule). That is read exactly off the compiled tables
(:func:`.cells.reached`). The rules that cover it are named from witness flows: flows
it matches (see :mod:`.witness`), and what decides them.

A rule is *redundant* when removing it changes no verdict. Shadowed Allow, Deny and
Pass rules are (they never act), and so are rules whose removal leaves every verdict as
it was because what decides in their place agrees with them. The second kind is
checked for every Allow and Deny rule followed in its policy and direction by a rule of
the same action, unless what decides without it, on one flow of a cell it decides, has
another action (:mod:`.runnerup`): all such rules are removed at once and the verdicts compared exactly
(:mod:`.agree`); a rule that decides a changed flow is kept, and the
rest compared again until nothing changes. So removing every rule reported redundant
together changes no verdict.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator

import attrs

from ...errors import PolicyError
from ...model import Action, Direction, Endpoint, Policy, Rule
from ...reference import evaluate as reference_evaluate
from ..reach import Reach
from .agree import blame
from .runnerup import runner_up
from .cells import Marked, Reached, RuleKey
from .findings import Finding, rule_path
from .witness import Witnesses, flow_text

if TYPE_CHECKING:
    from ...resolve import Snapshot

__all__ = ["shadowed", "redundant", "rules_of"]

def rules_of(ps: Snapshot) -> Iterator[tuple[Policy, Direction, int, Rule]]:
    """Every rule of ``ps``'s enforced policies."""
    for policy in ps.policies:
        for direction in (Direction.INGRESS, Direction.EGRESS):
            for n, rule in enumerate(policy.rules(direction) or ()):
                yield policy, direction, n, rule


def _covering(ps: Snapshot, witnesses: Witnesses, policy: Policy, locals_: list[Endpoint], direction: Direction,
              rule: Rule) -> tuple[list[str], str | None]:
    """What decides flows ``rule`` matches (up to three), and one such flow."""
    found: dict[str, None] = {}
    witness = None
    for flow in witnesses.flows(locals_, direction, [rule]):
        try:
            verdict = reference_evaluate(ps, flow)
        except PolicyError:
            continue
        decision = verdict.egress if direction is Direction.EGRESS else verdict.ingress
        if decision is not None:
            found.setdefault(decision.why, None)
            witness = witness or flow_text(flow)
    return list(found), witness


def shadowed(ps: Snapshot, found: Reached, reach: Reach, applies: dict[int, list[Endpoint]]) -> list[Finding]:
    """A finding per shadowed rule (see the module docstring)."""
    out: list[Finding] = []
    witnesses: Witnesses | None = None
    for policy, direction, n, rule in rules_of(ps):
        key: RuleKey = (policy.ref, direction, n)
        if rule.action is Action.LOG:
            if key in found.logged:
                continue
        elif key in found.decided:
            continue
        witnesses = witnesses or Witnesses(ps, reach)
        covers, witness = _covering(ps, witnesses, policy, applies[id(policy)], direction, rule)
        what = {Action.LOG: "logs no flow", Action.PASS: "passes no flow"}.get(rule.action, "decides no flow")
        if covers:
            message = f"{rule.action.value} rule {what}: every flow it matches is decided before it"
            evidence = tuple(f"covered by {c}" for c in covers) + ((f"for example {witness}",) if witness else ())
        else:
            message = f"{rule.action.value} rule {what}: it matches no flow of the input, or only flows decided before it"
            evidence = ()
        out.append(Finding("shadowed-rule", "warning", message, policy.ref, direction, n, origin=policy.origin,
                           evidence=evidence, path=rule_path(policy, direction, n)))
    return out


def _without(ps: Snapshot, removed: set[RuleKey]) -> Snapshot:
    def strip(policy: Policy) -> Policy:
        changes: dict[str, Any] = {}
        for direction, name in ((Direction.INGRESS, "ingress"), (Direction.EGRESS, "egress")):
            rules = policy.rules(direction)
            if rules is not None and any((policy.ref, direction, n) in removed for n in range(len(rules))):
                changes[name] = tuple(r for n, r in enumerate(rules) if (policy.ref, direction, n) not in removed)
        return attrs.evolve(policy, **changes) if changes else policy

    return type(ps)(
        tiers=ps.tiers, policies=(*(strip(p) for p in ps.policies), *ps.staged_policies), profiles=ps.profiles.values(),
        endpoints=ps.endpoints, network_sets=ps.network_sets, services=ps.services, warnings=ps.warnings,
        calico_version=ps.calico_version, address_pool=ps.address_pool, pod_cidr=ps.pod_cidr, names=ps.names,
    )


def redundant(ps: Snapshot, found: Reached, marks: Marked, rounds: int = 6) -> tuple[list[Finding], set[RuleKey]]:
    """A finding per redundant rule (see the module docstring), and the rules."""
    never: set[RuleKey] = set()
    candidates: set[RuleKey] = set()
    for policy, direction, n, rule in rules_of(ps):
        key: RuleKey = (policy.ref, direction, n)
        if rule.action is Action.LOG:
            continue
        if key not in found.decided:
            never.add(key)
        elif rule.action in (Action.ALLOW, Action.DENY) and any(
                later.action is rule.action for later in (policy.rules(direction) or ())[n + 1:]):
            if all(runner_up(ps, key, sample) in (rule.action, None) for sample in found.samples.get(key, ())):
                candidates.add(key)  # else removing it alone changes that flow's side
    agreed: set[RuleKey] = set()
    for _ in range(rounds):
        if not candidates:
            break
        removed = {marks.marked[k] for k in never | candidates}
        removed |= {(ref, d, n - 1) for ref, d, n in removed if (ref, d, n - 1) in marks.copies}
        blamed_marked = blame(marks.snapshot, _without(marks.snapshot, removed))
        blamed = None if blamed_marked is None else {marks.original[k] for k in blamed_marked}
        if blamed is None:
            break  # the tables cannot tell: report none
        if not blamed:
            agreed = candidates
            break
        kept = candidates - blamed
        if kept == candidates:  # a change no candidate decided: keep none of them
            break
        candidates = kept
    out: list[Finding] = []
    for policy, direction, n, rule in rules_of(ps):
        key = (policy.ref, direction, n)
        if key in never:
            out.append(Finding("redundant-rule", "note", f"{rule.action.value} rule is redundant: it is shadowed (it never acts)",
                               policy.ref, direction, n, origin=policy.origin, evidence=("shadowed",),
                               path=rule_path(policy, direction, n)))
        elif key in agreed:
            out.append(Finding("redundant-rule", "note",
                               f"{rule.action.value} rule is redundant: where it decides, the rules after it decide alike",
                               policy.ref, direction, n, origin=policy.origin, evidence=("agrees with what happens anyway",),
                               path=rule_path(policy, direction, n)))
    return out, never | agreed
