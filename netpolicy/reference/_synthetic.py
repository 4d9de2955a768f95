"""Which tests of a rule a synthetic address decided.

An endpoint the manifests give no address has one from the synthetic pool
(:mod:`netpolicy.resolve.addresses`). A rule's ``nets``/``notNets`` test (an ipBlock or
``networks`` peer once converted) on that address, or a selector that matched it only
through a network set whose CIDRs hold it, may answer otherwise with the address the pod
has in a cluster. Such a test is noted when its answer is not the same for every address
a pod may have: every address of the pods' CIDR when one was given (``pod_cidr``), else
of the private ranges pods are given addresses from (10.0.0.0/8, 172.16.0.0/12,
192.168.0.0/16, 100.64.0.0/10, fc00::/7). A test of the cloud's metadata address or of a
public range gives every pod the same answer and is not noted.

Tests are looked at in the order :func:`~._match.rule_matches` evaluates them, and only
those the evaluation reached.
"""

from __future__ import annotations

import ipaddress
from typing import Sequence

from ..model import EntityMatch, IPNetwork, Rule
from ..resolve.index import Index
from ._match import _icmp_matches, _protocol_matches, _side_matches, exists_for_family
from ._packet import Packet, Peer

__all__ = ["POD_RANGES", "synthetic_tests", "varies"]

#: Where pods get their addresses when no pod CIDR is given.
POD_RANGES: tuple[IPNetwork, ...] = tuple(
    ipaddress.ip_network(text) for text in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7")
)
_ENDPOINT_KINDS = frozenset({"WorkloadEndpoint", "HostEndpoint"})


def synthetic_tests(rule: Rule, packet: Packet, index: Index) -> list[str]:
    """The tests of ``rule`` that ran on a synthetic address and might answer otherwise
    with a real pod address, in words (empty when none)."""
    if not (exists_for_family(rule, packet.family) and _protocol_matches(rule, packet.protocol) and _icmp_matches(rule, packet)):
        return []
    ranges = _pod_ranges(index, packet)
    found = _side(rule.source, packet.src, "source", ranges)
    if not _side_matches(rule, rule.source, packet.src, packet.src_port, packet, index, source=True):
        return found  # the destination is not looked at
    return found + _side(rule.destination, packet.dst, "destination", ranges)


def _pod_ranges(index: Index, packet: Packet) -> tuple[IPNetwork, ...]:
    snapshot = index.policy_set
    given = getattr(snapshot, "pod_cidr", None)
    if given is not None:
        return (given,)
    return tuple(net for net in POD_RANGES if net.version == packet.family)


def varies(nets: Sequence[IPNetwork], ranges: Sequence[IPNetwork]) -> bool:
    """Whether membership in ``nets`` is not the same for every address of ``ranges``."""
    inside = outside = False
    for pod_range in ranges:
        held = any(pod_range.version == net.version and pod_range.subnet_of(net) for net in nets)  # type: ignore[arg-type]
        touched = any(pod_range.version == net.version and pod_range.overlaps(net) for net in nets)
        if held:
            inside = True
        elif touched:
            return True
        else:
            outside = True
    return inside and outside


def _side(side: EntityMatch, peer: Peer, name: str, ranges: Sequence[IPNetwork]) -> list[str]:
    if not peer.synthetic:
        return []
    found = []
    what = f"the {name}'s synthetic address {peer.address}"
    if side.nets and varies(side.nets, ranges):
        found.append(f"nets {', '.join(str(n) for n in side.nets)} on {what}")
    ran = not side.nets or _in(peer, side)
    if side.not_nets and ran and varies(side.not_nets, ranges):
        found.append(f"notNets {', '.join(str(n) for n in side.not_nets)} on {what}")
    if side.selector is not None or side.not_selector is not None:
        sets = [entity for entity in peer.entities if entity.kind not in _ENDPOINT_KINDS and varies(entity.nets, ranges)]
        if sets:
            found.append(f"a selector on {what}, which {', '.join(str(entity) for entity in sets)} holds")
    return found


def _in(peer: Peer, side: EntityMatch) -> bool:
    """Whether the nets test passed, so that the notNets test ran."""
    return peer.address is not None and any(peer.address in net for net in side.nets)
