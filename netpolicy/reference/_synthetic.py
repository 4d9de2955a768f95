"""Which tests of a rule a synthetic address decided.

An endpoint the manifests give no address has one from the synthetic pool
(:mod:`netpolicy.resolve.addresses`). A rule's ``nets``/``notNets`` test (an ipBlock or
``networks`` peer once converted) on that address, or a selector that matched it only
through a network set whose CIDRs hold it, would perhaps answer otherwise with the
address the pod gets in a cluster. The trace notes every such test the evaluation
reached, in the order :func:`~._match.rule_matches` evaluates the criteria, so a verdict
can say it depended on a synthetic address.
"""

from __future__ import annotations

from ..model import EntityMatch, Rule
from ..resolve.index import Index
from ._match import _icmp_matches, _protocol_matches, _side_matches, exists_for_family
from ._packet import Packet, Peer

__all__ = ["synthetic_tests"]

_ENDPOINT_KINDS = frozenset({"WorkloadEndpoint", "HostEndpoint"})


def synthetic_tests(rule: Rule, packet: Packet, index: Index) -> list[str]:
    """The tests of ``rule`` that ran on a synthetic address, in words (empty when none)."""
    if not (exists_for_family(rule, packet.family) and _protocol_matches(rule, packet.protocol) and _icmp_matches(rule, packet)):
        return []
    found = _side(rule.source, packet.src, "source")
    if not _side_matches(rule, rule.source, packet.src, packet.src_port, packet, index, source=True):
        return found  # the destination is not looked at
    return found + _side(rule.destination, packet.dst, "destination")


def _side(side: EntityMatch, peer: Peer, name: str) -> list[str]:
    if not peer.synthetic:
        return []
    found = []
    what = f"the {name}'s synthetic address {peer.address}"
    if side.nets:
        found.append(f"nets {', '.join(str(n) for n in side.nets)} on {what}")
    if side.not_nets and (not side.nets or _in(peer, side)):
        found.append(f"notNets {', '.join(str(n) for n in side.not_nets)} on {what}")
    sets = [entity for entity in peer.entities if entity.kind not in _ENDPOINT_KINDS]
    if sets and (side.selector is not None or side.not_selector is not None):
        names = ", ".join(str(entity) for entity in sets)
        found.append(f"a selector on {what}, which {names} holds")
    return found


def _in(peer: Peer, side: EntityMatch) -> bool:
    """Whether the nets test passed, so that the notNets test ran."""
    return peer.address is not None and any(peer.address in net for net in side.nets)
