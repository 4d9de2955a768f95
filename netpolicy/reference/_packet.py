"""From a Flow to the packet Calico sees: each side resolved to the endpoint it is (or
an external peer), the address it uses, and the entities that own that address.

* ``"namespace/pod"`` names an inventory endpoint; an unknown name is a PolicyError,
  never an external peer.
* An IP address is the endpoint owning it (pod, WorkloadEndpoint, HostEndpoint
  expectedIPs), otherwise an external peer: only nets and network sets can match it.
* A hand-built :class:`Endpoint` is taken as is; its labels are derived as the PolicySet
  would for a pod in its namespace when it has no ``effective_labels``.

The packet's IP family is the one both sides can use: an IP address fixes it; otherwise
IPv4 is preferred; ICMP is IPv4 only, ICMPv6 IPv6 only. An endpoint without any address is matched by
identity: rule selectors and named ports see the endpoint itself, nets never contain it.
"""

from __future__ import annotations

import ipaddress
from typing import Iterable

import attrs

from ..errors import PolicyError
from ..flow import Flow, Side
from ..model import Endpoint, IPAddress
from ..resolve.index import Entity, Index
from ._trace import describe_endpoint

__all__ = ["Packet", "Peer", "resolve", "shared_family"]

_ICMP, _ICMPV6 = 1, 58


@attrs.frozen
class Peer:
    """One side of the packet.

    ``endpoint`` is the policed endpoint there, or None for an external peer.
    ``address`` is the address the packet carries (None for an endpoint that has none,
    which is then matched by identity). ``entities`` are every Calico entity that owns the
    address (§A.9), or the endpoint itself when matched by identity. ``synthetic`` says
    the address is the endpoint's synthetic one (the manifests give it none).
    """

    endpoint: Endpoint | None
    address: IPAddress | None
    entities: tuple[Entity, ...]
    synthetic: bool = False

    def describe(self) -> str:
        if self.endpoint is None:
            return f"external {self.address}"
        if self.address is None:
            where = " (no address: matched by identity)"
        elif self.synthetic:
            where = f" ({self.address}, synthetic)"
        else:
            where = f" ({self.address})"
        text = f"{describe_endpoint(self.endpoint)}{where}"
        if not self.endpoint.running:
            text += " [no running pods: 0 replicas]"
        return text


@attrs.frozen
class Packet:
    """The first packet of the flow as policy sees it."""

    src: Peer
    dst: Peer
    family: int
    protocol: int
    src_port: int | None
    dst_port: int | None
    icmp_type: int | None
    icmp_code: int | None

    @property
    def synthetic(self) -> bool:
        """Whether either side carries a synthetic address."""
        return self.src.synthetic or self.dst.synthetic


def _endpoint_for(index: Index, side: Side) -> tuple[Endpoint | None, IPAddress | None]:
    """The endpoint a side names and the explicit address, if the side is an address."""
    if isinstance(side, Endpoint):
        return side, None
    if isinstance(side, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
        return index.endpoint_at(side), side
    if isinstance(side, str):
        endpoint = index.endpoint_by_key(side)
        if endpoint is None:
            raise PolicyError(f"no pod or workload endpoint {side!r} in the policy set")
        return endpoint, None
    raise PolicyError(f"flow side must be 'namespace/pod', an IP address or an Endpoint, not {side!r}")


def _families(endpoint: Endpoint | None, address: IPAddress | None) -> set[int] | None:
    """The IP families a side can use; None when it can use any (no address at all)."""
    if address is not None:
        return {address.version}
    if endpoint is not None and endpoint.ips:
        return {ip.version for ip in endpoint.ips}
    return None


def shared_family(src: set[int] | None, dst: set[int] | None, protocol: int) -> int | None:
    """The family both sides can use, IPv4 first (None when there is none); ICMP is
    IPv4 only and ICMPv6 IPv6 only. A side of ``None`` can use any family."""
    allowed = {4} if protocol == _ICMP else {6} if protocol == _ICMPV6 else {4, 6}
    for families in (src, dst):
        if families is not None:
            allowed &= families
    for family in (4, 6):
        if family in allowed:
            return family
    return None


def _choose_family(src: set[int] | None, dst: set[int] | None, protocol: int) -> int:
    """:func:`shared_family`, or PolicyError when the sides share none."""
    family = shared_family(src, dst, protocol)
    if family is not None:
        return family
    raise PolicyError(_no_family_message(src, dst, protocol))


def _no_family_message(src: set[int] | None, dst: set[int] | None, protocol: int) -> str:
    """Why no packet can go between the sides, in words."""
    if protocol in (_ICMP, _ICMPV6):
        name, need, other = ("ICMP", 4, "IPv6") if protocol == _ICMP else ("ICMPv6", 6, "IPv4")
        sides = [side for side, families in (("source", src), ("destination", dst)) if families is not None and need not in families]
        who = " and the ".join(sides)
        has = "has" if len(sides) == 1 else "have"
        return f"{name} needs IPv{need} addresses, but the {who} {has} only {other} addresses"
    only = {4: "IPv4", 6: "IPv6"}
    return (
        f"the source has only {only[min(src or {4})]} addresses and the destination only "
        f"{only[min(dst or {4})]} addresses: no packet can go between them"
    )


def _address_in(endpoint: Endpoint, family: int) -> IPAddress | None:
    for ip in endpoint.ips:
        if ip.version == family:
            return ip
    return None


def _peer(index: Index, endpoint: Endpoint | None, address: IPAddress | None, family: int) -> Peer:
    if endpoint is not None and address is None:
        address = _address_in(endpoint, family)
    if address is None:
        if endpoint is None:  # pragma: no cover - an external side always has an address
            raise PolicyError("internal inconsistency: external side without an address")
        own = index.entity_of.get(endpoint) or index.make_entity(endpoint)
        return Peer(endpoint, None, (own,))
    entities: Iterable[Entity] = index.entities_at(address)
    if endpoint is not None and endpoint not in index.entity_of:
        # a hand-built endpoint joins the inventory for this flow
        entities = (*entities, index.make_entity(endpoint))
    synthetic = endpoint is not None and endpoint.synthetic and address in endpoint.ips
    return Peer(endpoint, address, tuple(entities), synthetic)


def resolve(index: Index, flow: Flow) -> Packet:
    """The packet of ``flow``; PolicyError for a side that names nothing known."""
    src_endpoint, src_address = _endpoint_for(index, flow.src)
    dst_endpoint, dst_address = _endpoint_for(index, flow.dst)
    family = _choose_family(_families(src_endpoint, src_address), _families(dst_endpoint, dst_address), flow.protocol)
    return Packet(
        src=_peer(index, src_endpoint, src_address, family),
        dst=_peer(index, dst_endpoint, dst_address, family),
        family=family,
        protocol=flow.protocol,
        src_port=flow.src_port,
        dst_port=flow.dst_port,
        icmp_type=flow.icmp_type,
        icmp_code=flow.icmp_code,
    )
