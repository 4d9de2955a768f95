"""A verdict as plain data (JSON/YAML) and as text for a person."""

from __future__ import annotations

from typing import Any, Protocol

from ..flow import Flow
from ..model import PROTOCOL_NAMES, Action, PolicyRef
from ..verdict import Decision, Reason, RuleRef, Verdict
from ._common import side_text, style
from ._formats import key_values

__all__ = [
    "protocol_text",
    "flow_text",
    "flow_data",
    "decision_data",
    "decision_text",
    "deciding",
    "verdict_data",
    "verdict_table",
]


def protocol_text(protocol: int) -> str:
    """``TCP`` for 6; a number without a Calico name stays a number."""
    return PROTOCOL_NAMES.get(protocol, str(protocol))


def flow_text(flow: Flow) -> str:
    text = f"{side_text(flow.src)} -> {side_text(flow.dst)} {protocol_text(flow.protocol)}"
    if flow.dst_port is not None:
        text += f"/{flow.dst_port}"
    if flow.icmp_type is not None:
        text += f" type {flow.icmp_type}"
        if flow.icmp_code is not None:
            text += f" code {flow.icmp_code}"
    return text


def flow_data(flow: Flow) -> dict[str, Any]:
    return {
        "src": side_text(flow.src),
        "dst": side_text(flow.dst),
        "protocol": protocol_text(flow.protocol),
        "dst_port": flow.dst_port,
        "src_port": flow.src_port,
        "icmp_type": flow.icmp_type,
        "icmp_code": flow.icmp_code,
    }


def _policy_data(ref: PolicyRef | None) -> dict[str, Any] | None:
    if ref is None:
        return None
    return {"kind": ref.kind, "namespace": ref.namespace, "name": ref.name}


def decision_data(decision: Decision | None) -> dict[str, Any] | None:
    """One side's decision; ``None`` when that side is not a policed endpoint."""
    if decision is None:
        return None
    return {
        "action": decision.action.value,
        "reason": decision.reason,
        "tier": decision.tier,
        "policy": _policy_data(decision.policy),
        "rule": decision.rule,
        "profile": decision.profile,
        "endpoint": decision.endpoint,
        "layer": getattr(decision, "layer", None),
    }


def _rule_ref_data(ref: RuleRef) -> dict[str, Any]:
    return {
        "direction": ref.direction.value,
        "tier": ref.tier,
        "policy": _policy_data(ref.policy),
        "profile": ref.profile,
        "rule": ref.rule,
    }


def decision_text(decision: Decision | None) -> str:
    """``Allow: tier default, KubernetesNetworkPolicy staging/back-end rule 0`` and the like."""
    if decision is None:
        return "not policed"
    return f"{decision.action}: {decision.why}"


class _Settled(Protocol):
    @property
    def allowed(self) -> bool: ...
    @property
    def egress(self) -> Decision | None: ...
    @property
    def ingress(self) -> Decision | None: ...


def deciding(result: _Settled) -> Decision | None:
    """The side that settled a verdict (a :class:`Verdict` or a batch outcome): the first
    side that denied (egress, then ingress) for a Deny; for an Allow, the destination's
    ingress decision when it is policed, else the source's egress decision. None when
    neither side is policed."""
    sides = [d for d in (result.egress, result.ingress) if d is not None]
    if not result.allowed:
        for decision in sides:
            if decision.action is Action.DENY:
                return decision
    return sides[-1] if sides else None


def deciding_label(result: _Settled) -> str:
    """Short text naming what settled the verdict, for summaries."""
    decision = deciding(result)
    if decision is None:
        return "no policed endpoint (external, or to itself)"
    if decision.reason == Reason.RULE:
        return f"{decision.policy} (tier {decision.tier}) rule {decision.rule}"
    if decision.reason == Reason.END_OF_TIER:
        return f"end of tier {decision.tier}"
    if decision.reason == Reason.PROFILE:
        return f"profile {decision.profile}"
    if decision.reason == Reason.NO_PROFILE_MATCH:
        return "no policy or profile rule matched"
    return decision.reason


def verdict_data(verdict: Verdict) -> dict[str, Any]:
    """The verdict as JSON-ready data."""
    data: dict[str, Any] = {
        "flow": flow_data(verdict.flow),
        "action": verdict.action.value,
        "allowed": verdict.allowed,
        "logged": [_rule_ref_data(ref) for ref in verdict.logged],
        "egress": decision_data(verdict.egress),
        "ingress": decision_data(verdict.ingress),
    }
    if verdict.pending is not None:
        data["pending"] = {
            "action": verdict.pending.action.value,
            "allowed": verdict.pending.allowed,
            "egress": decision_data(verdict.pending.egress),
            "ingress": decision_data(verdict.pending.ingress),
        }
    return data


def action_text(action: Action) -> str:
    return style(str(action), fg="green" if action is Action.ALLOW else "red", bold=True)


def verdict_table(verdict: Verdict) -> str:
    """The verdict as aligned ``KEY  value`` lines, kubectl-describe style."""
    rows: list[tuple[str, str]] = [
        ("FLOW", flow_text(verdict.flow)),
        ("ACTION", action_text(verdict.action)),
        ("EGRESS", decision_text(verdict.egress)),
        ("INGRESS", decision_text(verdict.ingress)),
    ]
    for index, ref in enumerate(verdict.logged):
        rows.append(("LOGGED" if index == 0 else "", str(ref)))
    if verdict.pending is not None:
        rows.append(("PENDING", f"{verdict.pending.action} (with staged policies)"))
    return key_values(rows)
