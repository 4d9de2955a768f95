"""The trace: steps recorded while evaluating, and how rules and flows read in it.

Recording is off for plain evaluation (a verdict recomputes its trace when asked), so
callers guard any costly formatting with ``if trace.on``.
"""

from __future__ import annotations

from ..flow import Flow
from ..model import PROTOCOL_NAMES, Endpoint, EntityMatch, IcmpMatch, Rule, Tier
from ..verdict import Step

__all__ = ["Trace", "OFF", "describe_rule", "describe_flow", "describe_order", "endpoint_key", "describe_endpoint"]


class Trace:
    """Collects :class:`Step` values when ``on``."""

    def __init__(self, on: bool) -> None:
        self.on = on
        self.steps: list[Step] = []

    def add(self, depth: int, event: str, text: str) -> None:
        if self.on:
            self.steps.append(Step(event, text, depth))


#: A trace that records nothing.
OFF = Trace(False)


def endpoint_key(endpoint: Endpoint) -> str:
    """``namespace/name`` (``name`` for host endpoints); ``<unnamed>`` stands in for
    the name of a hand-built endpoint that has none."""
    if endpoint.name:
        return endpoint.key
    return f"{endpoint.namespace}/<unnamed>" if endpoint.namespace else "<unnamed>"


def describe_endpoint(endpoint: Endpoint) -> str:
    return f"{endpoint.kind} {endpoint_key(endpoint)}"


def describe_order(order: float | None) -> str:
    """``order 100``, or ``no order`` (sorted after every ordered one)."""
    if order is None:
        return "no order"
    return f"order {int(order)}" if order == int(order) else f"order {order}"


def describe_tier(tier: Tier) -> str:
    return f"tier {tier.name} ({describe_order(tier.order)}, default action {tier.default_action})"


def _protocol(number: int) -> str:
    return PROTOCOL_NAMES.get(number, str(number))


def _icmp(match: IcmpMatch) -> str:
    return f"type {match.type}" + (f" code {match.code}" if match.code is not None else "")


def _side(side: EntityMatch) -> str:
    parts: list[str] = []
    if side.selector is not None:
        parts.append(f"selector {side.selector}")
    if side.not_selector is not None:
        parts.append(f"notSelector {side.not_selector}")
    if side.nets:
        parts.append("nets " + ", ".join(str(n) for n in side.nets))
    if side.not_nets:
        parts.append("notNets " + ", ".join(str(n) for n in side.not_nets))
    if side.services is not None:
        parts.append(f"service {side.services.namespace}/{side.services.name}")
    if side.ports:
        parts.append("ports " + ", ".join(str(p) for p in side.ports))
    if side.not_ports:
        parts.append("notPorts " + ", ".join(str(p) for p in side.not_ports))
    return " ".join(parts)


def describe_rule(rule: Rule) -> str:
    """A rule in one line: action, then every criterion it has."""
    parts = [str(rule.action)]
    if rule.ip_version is not None:
        parts.append(f"IPv{rule.ip_version}")
    if rule.protocol is not None:
        parts.append(_protocol(rule.protocol))
    if rule.not_protocol is not None:
        parts.append(f"not {_protocol(rule.not_protocol)}")
    if rule.icmp is not None:
        parts.append(f"icmp {_icmp(rule.icmp)}")
    if rule.not_icmp is not None:
        parts.append(f"notICMP {_icmp(rule.not_icmp)}")
    source, destination = _side(rule.source), _side(rule.destination)
    if source:
        parts.append(f"from {source}")
    if destination:
        parts.append(f"to {destination}")
    if rule.http:
        parts.append("(http clause: not enforced at layer 4)")
    if len(parts) == 1:
        parts.append("all traffic")
    written = [p for p in (rule.from_rule, f'"{rule.name}"' if rule.name else None) if p]
    if written:  # the manifest rule it was converted from
        parts.append(f"[{' '.join(written)}]")
    return " ".join(parts)


def describe_flow(flow: Flow, family: int) -> str:
    protocol = _protocol(flow.protocol)
    src = describe_endpoint(flow.src) if isinstance(flow.src, Endpoint) else str(flow.src)
    dst = describe_endpoint(flow.dst) if isinstance(flow.dst, Endpoint) else str(flow.dst)
    if flow.src_port is not None:
        src += f" port {flow.src_port}"
    if flow.dst_port is not None:
        dst += f" port {flow.dst_port}"
    text = f"flow: {protocol} from {src} to {dst}, IPv{family}"
    if flow.icmp_type is not None:
        text += f", icmp type {flow.icmp_type}"
        if flow.icmp_code is not None:
            text += f" code {flow.icmp_code}"
    return text
