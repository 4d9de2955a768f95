"""The reference evaluator: the verdict Calico reaches on a flow, and why.

It reads like calico-semantics §G:

* resolve the flow's sides to endpoints or external peers (:mod:`._packet`);
* the source endpoint's egress and the destination endpoint's ingress must both allow
  (§C.4); an external side is not policed; traffic from an endpoint to itself is
  allowed without evaluation;
* each side is decided by its participating tiers, policies, rules and profiles (§C.3,
  :mod:`._direction`), with rules matched as §C.5 and §F say (:mod:`._match`);
* staged policies never change the verdict; the pending verdict evaluates them in place.

Every faster path must agree with this module on every input.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..flow import Flow
from ..model import Action, Direction
from ..resolve.index import Index, index_of
from ..verdict import Decision, RuleRef, Step, Verdict, explain_with
from ._direction import Judge, staged_applies
from ._packet import Packet, Peer, resolve
from ._trace import OFF, Trace, describe_endpoint, describe_flow

if TYPE_CHECKING:
    from ..resolve import Snapshot

__all__ = ["evaluate", "explain_steps"]


def evaluate(ps: Snapshot, flow: Flow) -> Verdict:
    """The verdict on ``flow``. The trace is not recorded; the verdict recomputes it
    when :meth:`Verdict.explain` is called."""
    return _verdict(ps, flow, OFF)


def explain_steps(ps: Snapshot, flow: Flow) -> tuple[Step, ...]:
    """The trace of evaluating ``flow``, step by step."""
    trace = Trace(True)
    _verdict(ps, flow, trace)
    return tuple(trace.steps)


explain_with(explain_steps)  # a verdict's explain() re-runs this evaluator on its source


def _verdict(ps: Snapshot, flow: Flow, trace: Trace) -> Verdict:
    index = index_of(ps)
    packet = resolve(index, flow)
    trace.add(0, "flow", describe_flow(flow, packet.family) if trace.on else "")
    trace.add(0, "endpoint", f"source: {packet.src.describe()}" if trace.on else "")
    trace.add(0, "endpoint", f"destination: {packet.dst.describe()}" if trace.on else "")

    if packet.src.endpoint is not None and packet.src.endpoint == packet.dst.endpoint:
        trace.add(0, "decision", "traffic from an endpoint to itself is allowed without evaluation")
        _conclude(trace, 0, "verdict", Action.ALLOW, ())
        return Verdict(flow, Action.ALLOW, None, None, source=ps)

    police_src, police_dst = _policed_sides(packet.src, packet.dst, trace)
    if trace.on:
        _note_forwarding(index, packet, trace)
    egress, ingress, logged = _judge(index, packet, police_src, police_dst, False, trace)
    action = _combine(egress, ingress)

    _conclude(trace, 0, "verdict", action, logged)

    pending = None
    if _staged_applies(index, packet, police_src, police_dst):
        trace.add(0, "pending", "with staged policies in place (the pending verdict):")
        p_egress, p_ingress, p_logged = _judge(index, packet, police_src, police_dst, True, trace, depth=1)
        pending = Verdict(flow, _combine(p_egress, p_ingress), p_egress, p_ingress, p_logged)
        _conclude(trace, 1, "pending verdict", pending.action, p_logged)
    if trace.on and any(step.event == "synthetic" for step in trace.steps):
        trace.add(
            0,
            "synthetic",
            f"note: this verdict depends on a synthetic address (from the pool {ps.address_pool}): with the "
            "addresses the pods have in a cluster it may differ",
        )
    return Verdict(flow, action, egress, ingress, logged, pending, source=ps)


def _conclude(trace: Trace, depth: int, what: str, action: Action, logged: tuple[RuleRef, ...]) -> None:
    trace.add(depth, "verdict", f"{what}: {action}")
    for ref in logged:
        trace.add(depth, "logged", f"logged: {ref}" if trace.on else "")


def _note_forwarding(index: Index, packet: Packet, trace: Trace) -> None:
    """Forwarded traffic through host endpoints is not modelled (docs/semantics.md §6):
    say so in the trace when a workload side's node has a host endpoint that forward,
    preDNAT or untracked policies select."""
    for peer, other in ((packet.src, packet.dst), (packet.dst, packet.src)):
        endpoint = peer.endpoint
        if endpoint is None or endpoint.is_host or not endpoint.node:
            continue
        if other.endpoint is not None and other.endpoint.node == endpoint.node:
            continue  # same node: the packet does not cross a host interface
        for host in index.hosts_on.get(endpoint.node, ()):
            for direction in (Direction.INGRESS, Direction.EGRESS):
                for group in index.applying(host, direction, False):
                    if any(p.apply_on_forward or p.pre_dnat or p.do_not_track for p in group.policies):
                        trace.add(
                            0,
                            "note",
                            f"note: {describe_endpoint(host)} on node {endpoint.node} has forward/preDNAT/untracked "
                            "policies; forwarded traffic through host endpoints is not modelled",
                        )
                        return


def _policed_sides(src: Peer, dst: Peer, trace: Trace) -> tuple[bool, bool]:
    """Which sides policy judges (§C.4, §C.6): every endpoint side, except that on one
    node, host-to-workload traffic is not policed at all and workload-to-host traffic is
    accepted after the workload's egress (DefaultEndpointToHostAction ACCEPT)."""
    police_src, police_dst = src.endpoint is not None, dst.endpoint is not None
    if src.endpoint is None or dst.endpoint is None:
        if not police_src and not police_dst:
            trace.add(0, "decision", "neither side is a Calico endpoint: not policed")
        return police_src, police_dst
    node = src.endpoint.node
    if node is None or node != dst.endpoint.node:
        return police_src, police_dst
    if src.endpoint.is_host and not dst.endpoint.is_host:
        trace.add(0, "decision", f"host of node {node} to a local workload: not policed")
        return False, False
    if not src.endpoint.is_host and dst.endpoint.is_host:
        trace.add(0, "decision", f"workload to its own host {node}: accepted after the workload's egress")
        return True, False
    return police_src, police_dst


def _staged_applies(index: Index, packet: Packet, police_src: bool, police_dst: bool) -> bool:
    if police_src and packet.src.endpoint is not None and staged_applies(index, packet.src.endpoint, Direction.EGRESS):
        return True
    return police_dst and packet.dst.endpoint is not None and staged_applies(index, packet.dst.endpoint, Direction.INGRESS)


def _judge(
    index: Index, packet: Packet, police_src: bool, police_dst: bool, staged: bool, trace: Trace, depth: int = 0
) -> tuple[Decision | None, Decision | None, tuple[RuleRef, ...]]:
    """Both sides' decisions and the Log rules that fired. The destination's Log rules
    count only when the packet gets there (the source's egress allowed it)."""
    egress = ingress = None
    logged: list[RuleRef] = []
    if police_src:
        assert packet.src.endpoint is not None
        trace.add(depth, "direction", f"egress from {describe_endpoint(packet.src.endpoint)}:")
        judge = Judge(index, packet, packet.src.endpoint, Direction.EGRESS, staged, trace)
        egress = judge.decide(depth + 1)
        logged.extend(judge.logged)
        trace.add(depth + 1, "decision", f"=> {egress}")
    if police_dst:
        assert packet.dst.endpoint is not None
        trace.add(depth, "direction", f"ingress to {describe_endpoint(packet.dst.endpoint)}:")
        if egress is not None and egress.action is Action.DENY:
            trace.add(depth + 1, "note", "(the packet is dropped at egress; ingress is shown for information)")
        judge = Judge(index, packet, packet.dst.endpoint, Direction.INGRESS, staged, trace)
        ingress = judge.decide(depth + 1)
        if egress is None or egress.action is Action.ALLOW:
            logged.extend(judge.logged)
        trace.add(depth + 1, "decision", f"=> {ingress}")
    return egress, ingress, tuple(logged)


def _combine(egress: Decision | None, ingress: Decision | None) -> Action:
    """§C.4: allowed only when every policed side allows."""
    for decision in (egress, ingress):
        if decision is not None and decision.action is not Action.ALLOW:
            if decision.action is not Action.DENY:
                raise AssertionError(f"internal inconsistency: decision {decision}")
            return Action.DENY
    return Action.ALLOW
