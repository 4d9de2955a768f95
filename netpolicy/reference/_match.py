"""Does a rule match a packet? (calico-semantics §C.5, with §A.9, §B.3 and §F.)

Every criterion present in the rule must hold. A criterion about a value the flow does not
give (no port, no ICMP type) treats it as a value outside every list: a positive
criterion (``ports``, ``icmp``) does not match, a negated one (``notPorts``,
``notICMP``) does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

from ..errors import PolicyError
from ..model import EntityMatch, IcmpMatch, IPNetwork, NamedPort, PortRange, Rule, RulePort
from ..resolve.index import Entity, Index
from ._packet import Packet, Peer

if TYPE_CHECKING:
    from ..selector import Selector

__all__ = ["rule_matches", "exists_for_family"]

_TCP, _UDP, _SCTP = 6, 17, 132


def rule_matches(rule: Rule, packet: Packet, index: Index) -> bool:
    """§C.5: the AND of every criterion the rule has."""
    return (
        exists_for_family(rule, packet.family)
        and _protocol_matches(rule, packet.protocol)
        and _icmp_matches(rule, packet)
        and _side_matches(rule, rule.source, packet.src, packet.src_port, packet, index, source=True)
        and _side_matches(rule, rule.destination, packet.dst, packet.dst_port, packet, index, source=False)
    )
    # rule.http is ignored: HTTP clauses do not restrict at layer 4 (§C.5).


# -- §F.2: the rule exists per IP family ------------------------------------------------------


def exists_for_family(rule: Rule, family: int) -> bool:
    """Whether the dataplane renders ``rule`` for ``family`` (§F.2): ``ip_version`` (as
    written or inferred from ICMP/ICMPv6) must be that family, and every non-empty CIDR
    list (nets and notNets of both sides) must hold a CIDR of that family."""
    if rule.ip_version is not None and rule.ip_version != family:
        return False
    for nets in (rule.source.nets, rule.source.not_nets, rule.destination.nets, rule.destination.not_nets):
        if nets and not any(net.version == family for net in nets):
            return False
    return True


# -- protocol and ICMP ---------------------------------------------------------------------------


def _protocol_matches(rule: Rule, protocol: int) -> bool:
    if rule.protocol is not None and protocol != rule.protocol:
        return False
    if rule.not_protocol is not None and protocol == rule.not_protocol:
        return False
    return True


def _icmp_is(match: IcmpMatch, packet: Packet) -> bool:
    if packet.icmp_type is None or packet.icmp_type != match.type:
        return False
    return match.code is None or match.code == packet.icmp_code


def _icmp_matches(rule: Rule, packet: Packet) -> bool:
    if rule.icmp is not None and not _icmp_is(rule.icmp, packet):
        return False
    if rule.not_icmp is not None and _icmp_is(rule.not_icmp, packet):
        return False
    return True


# -- one side: nets, selectors, services, ports -----------------------------------------------


def _side_matches(
    rule: Rule, side: EntityMatch, peer: Peer, port: int | None, packet: Packet, index: Index, *, source: bool
) -> bool:
    if side.nets and not _in_nets(peer, side.nets):
        return False
    if side.not_nets and _in_nets(peer, side.not_nets):
        return False
    if side.selector is not None and not _selected(side.selector, peer.entities):
        return False
    if side.not_selector is not None:
        if side.selector is not None:  # the model folds notSelector into a positive selector
            raise PolicyError("internal inconsistency: a rule side has both selector and not_selector")
        if _selected(side.not_selector, peer.entities):
            return False
    if side.services is not None and not _service_matches(side, peer, port, packet, index, source=source):
        return False
    if side.ports and not _port_in(side.ports, rule, side, peer, port, packet.protocol):
        return False
    if side.not_ports and _port_in(side.not_ports, rule, side, peer, port, packet.protocol):
        return False
    return True


def _in_nets(peer: Peer, nets: tuple[IPNetwork, ...]) -> bool:
    """CIDR membership; CIDRs of the other family are ignored (§F.2). An endpoint without
    an address is in no CIDR."""
    address = peer.address
    return address is not None and any(address in net for net in nets)


def _selected(selector: Selector, entities: Iterable[Entity]) -> bool:
    """§A.9: the address is in IPS(selector) iff any entity owning it matches."""
    return any(selector.matches(entity.labels) for entity in entities)


def _service_matches(side: EntityMatch, peer: Peer, port: int | None, packet: Packet, index: Index, *, source: bool) -> bool:
    """§B.3 services: source = the backend addresses; destination = (address, protocol,
    port) among the backends' addresses and ports. An unknown service matches nothing."""
    assert side.services is not None
    backends = index.services.get((side.services.namespace, side.services.name))
    if backends is None or peer.address is None or peer.address not in backends.addresses:
        return False
    if source:
        return True
    return port is not None and (packet.protocol, port) in backends.ports


def _port_in(
    ports: tuple[RulePort, ...], rule: Rule, side: EntityMatch, peer: Peer, port: int | None, protocol: int
) -> bool:
    """Whether the packet's port on this side is one of ``ports``: a numeric range, or a
    named port resolved per endpoint (§F.1)."""
    if port is None:
        return False
    for item in ports:
        if isinstance(item, PortRange):
            if item.first <= port <= item.last:
                return True
        elif isinstance(item, NamedPort):
            if _named_port_matches(item.name, rule, side, peer, port, protocol):
                return True
        else:  # pragma: no cover - the model has no other kind of port
            raise TypeError(f"internal inconsistency: unknown rule port {item!r}")
    return False


def _named_port_matches(name: str, rule: Rule, side: EntityMatch, peer: Peer, port: int, protocol: int) -> bool:
    """§F.1: (address, protocol, port) must be a member of NP(name, rule protocol, Sel)
    where Sel is the side's positive selector (all() when it has none). Only entities that
    own the packet's address count; network sets declare no ports."""
    wanted = _named_port_protocol(rule.protocol)
    for entity in peer.entities:
        if not entity.ports:
            continue
        if side.selector is not None and not side.selector.matches(entity.labels):
            continue
        for declared in entity.ports:
            if (
                declared.name == name
                and declared.port == port
                and declared.protocol == protocol
                and (wanted is None or declared.protocol == wanted)
            ):
                return True
    return False


def _named_port_protocol(protocol: int | None) -> int | None:
    """The protocol a named port is resolved for (§F.1): UDP and SCTP as such, any other
    given protocol as TCP, no protocol as any."""
    if protocol is None:
        return None
    return protocol if protocol in (_UDP, _SCTP) else _TCP
