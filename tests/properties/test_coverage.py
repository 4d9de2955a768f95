"""The strategies must make interesting policy sets: over a fixed-seed run, verdicts
are decided by every rule action and every default, both Allow and Deny, and by host
endpoints' failsafe ports and layers and by rules that name Services."""

from __future__ import annotations

from collections import Counter
from typing import Any

from hypothesis import HealthCheck, given, settings, strategies as st

from netpolicy import Verdict
from netpolicy.testing import strategies as nps
from netpolicy.verdict import Layer, Reason

from .support import draw_flows, load, requires_loader

pytestmark = requires_loader

#: Every outcome a run must reach.
REQUIRED = {
    "verdict Allow",
    "verdict Deny",
    "Allow rule",
    "Deny rule",
    "end of tier Deny",
    "Pass rule then Allow",
    "Pass rule then Deny",
    "tier default Pass then Allow",
    "tier default Pass then Deny",
    "profile Allow",
    "profile Deny",
    "no profile rule: Deny",
    "Log rule fired",
    "ingress decided",
    "egress decided",
    "IPv6 flow",
    "ICMP flow",
    "set member",
    "staged policy changes the pending verdict",
    "host endpoint decided",
    "failsafe port",
    "untracked layer decided",
    "preDNAT layer decided",
    "services rule decided",
}


def outcomes(verdict: Verdict) -> set[str]:
    """The outcomes one verdict shows, read from its decisions and its trace."""
    found = {f"verdict {verdict.action}"}
    if verdict.logged:
        found.add("Log rule fired")
    if verdict.pending is not None and verdict.pending.action != verdict.action:
        found.add("staged policy changes the pending verdict")
    flow = verdict.flow
    if flow.protocol in (1, 58):
        found.add("ICMP flow")
    if any(getattr(side, "version", 4) == 6 for side in (flow.src, flow.dst)):
        found.add("IPv6 flow")
    # Split the trace into the two sides' parts.
    parts: list[list[Any]] = []
    for step in verdict.steps():
        if step.event == "direction":
            parts.append([])
        elif parts:
            parts[-1].append(step)
    decisions = [d for d in (verdict.egress, verdict.ingress) if d is not None]
    for decision, steps in zip(decisions, parts):
        found.add(f"{decision.direction.value.lower()} decided")
        action = decision.action.value
        if decision.reason == Reason.RULE:
            found.add(f"{action} rule")
        elif decision.reason == Reason.END_OF_TIER:
            found.add(f"end of tier {action}")
        elif decision.reason == Reason.PROFILE:
            found.add(f"profile {action}")
        elif decision.reason == Reason.NO_PROFILE_MATCH:
            found.add(f"no profile rule: {action}")
        elif decision.reason == Reason.FAILSAFE:
            found.add("failsafe port")
        if decision.layer is not None:
            found.add("host endpoint decided")
            if decision.layer in (Layer.UNTRACKED, Layer.PRE_DNAT):
                found.add(f"{decision.layer} layer decided")
        if any(s.event == "pass" for s in steps):
            found.add(f"Pass rule then {action}")
        if any(s.event == "default" and "Pass" in s.text for s in steps):
            found.add(f"tier default Pass then {action}")
    return found


def _services_rule(ps: Any, verdict: Verdict) -> bool:
    """Whether a rule with a ``services`` clause decided a side."""
    policies = {policy.ref: policy for policy in ps.policies}
    for decision in (verdict.egress, verdict.ingress):
        if decision is None or decision.reason != Reason.RULE or decision.policy not in policies:
            continue
        rule = policies[decision.policy].rules(decision.direction)[decision.rule]
        if rule.source.services is not None or rule.destination.services is not None:
            return True
    return False


def _set_member(ps: Any, verdict: Verdict) -> bool:
    for side in (verdict.flow.src, verdict.flow.dst):
        if hasattr(side, "version") and not any(side in e.ips for e in ps.endpoints):
            if any(side in net for s in ps.network_sets for net in s.nets):
                return True
    return False


def test_a_run_reaches_every_outcome() -> None:
    seen: Counter[str] = Counter()

    @settings(max_examples=300, derandomize=True, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @given(nps.manifests(), st.data())
    def run(documents: list[dict[str, Any]], data: st.DataObject) -> None:
        ps = load(documents)
        for flow in draw_flows(data, ps, max_size=10):
            verdict = ps.evaluate(flow)
            seen.update(outcomes(verdict))
            if _set_member(ps, verdict):
                seen["set member"] += 1
            if _services_rule(ps, verdict):
                seen["services rule decided"] += 1

    run()
    missing = REQUIRED - set(seen)
    assert not missing, f"never reached: {sorted(missing)}; reached: {dict(seen)}"
    assert seen["verdict Allow"] >= 50 and seen["verdict Deny"] >= 50, dict(seen)
