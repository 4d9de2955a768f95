"""Where endpoints and external addresses stand in the compiled tables.

An endpoint's flows are decided at the address a flow between two named endpoints uses:
its first address of the flow's family (IPv4 first; ICMP IPv4 only, ICMPv6 IPv6 only).
That address falls in one address interval, which gives the endpoint's local classes
(the side policy judges) and peer classes (the side rules test) in each direction: its
:class:`Spot`. Endpoints whose spots are equal are decided alike in every flow.

Addresses no endpoint owns are external. The compiled intervals already cut them where
any rule's answer changes; when the tables decide nothing (host endpoints present), the
space is cut at every CIDR the input mentions instead (rules' nets, network sets,
Service backends), which is exact as well: an external address is tested only by CIDR
membership.
"""

from __future__ import annotations

import bisect
import ipaddress
from typing import TYPE_CHECKING, Any, Iterable

import attrs
import numpy as np

from ..compile import Compiled
from ..model import Endpoint, IPAddress, IPNetwork

if TYPE_CHECKING:
    from ..resolve import Snapshot

__all__ = ["Spot", "Place", "Externals", "Layout", "address_of", "cidr_blocks", "blocks_text"]

_BITS = {4: 32, 6: 128}


@attrs.frozen
class Spot:
    """One endpoint address in the tables: ``local`` (egress, ingress) local classes,
    ``peer`` (as an egress destination, as an ingress source) peer classes."""

    family: int
    address: int
    local: tuple[int, int]
    peer: tuple[int, int]


@attrs.frozen
class Place:
    """An endpoint and its spot per family it has an address in. ``decided`` says the
    tables decide its flows (else the reference does, see :mod:`.fallback`);
    ``signature`` is equal for endpoints decided alike."""

    endpoint: Endpoint
    spots: tuple[Spot, ...]
    decided: bool
    signature: Any
    #: the IP families it has an address in
    families: frozenset[int] = attrs.field(init=False, eq=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "families", frozenset(spot.family for spot in self.spots))

    def spot(self, family: int) -> Spot | None:
        for spot in self.spots:
            if spot.family == family:
                return spot
        return None


def address_of(family: int, value: int) -> IPAddress:
    return ipaddress.IPv4Address(value) if family == 4 else ipaddress.IPv6Address(value)


@attrs.frozen
class Externals:
    """The external intervals of one family: ``starts``/``ends`` (half-open), each
    one's peer classes (as an egress destination, as an ingress source) and an address
    in it that no endpoint owns."""

    family: int
    starts: tuple[int, ...]
    ends: tuple[int, ...]
    peer: np.ndarray = attrs.field(eq=False)  # (2, n)
    sample: tuple[int, ...] = ()


class Layout:
    """Endpoints' places and the external intervals of one compiled snapshot."""

    def __init__(self, ps: Snapshot, compiled: Compiled) -> None:
        self._ps = ps
        self._c = compiled
        self._index = {id(e): i for i, e in enumerate(compiled.endpoints)}
        self._externals: dict[int, Externals] = {}

    def place(self, endpoint: Endpoint) -> Place:
        """Where ``endpoint`` stands (see the module docstring)."""
        c = self._c
        eid = self._index.get(id(endpoint), -1)
        spots = []
        decided = not c.all_fallback and eid >= 0
        for family in (4, 6):
            ip = next((ip for ip in endpoint.ips if ip.version == family), None)
            if ip is None:
                continue
            value = int(ip)
            if c.all_fallback:
                spots.append(Spot(family, value, (-2, -2), (-1, -1)))
                continue
            if family == 4:
                idx = int(np.searchsorted(c.v4_starts, value, side="right")) - 1
                local, peer, owner = c.v4_local[:, idx], c.v4_peer[:, idx], int(c.v4_endpoint[idx])
            else:
                idx = bisect.bisect_right(c.v6_starts, value) - 1
                local, peer, owner = c.v6_local[:, idx], c.v6_peer[:, idx], int(c.v6_endpoint[idx])
            spot = Spot(family, value, (int(local[0]), int(local[1])), (int(peer[0]), int(peer[1])))
            decided = decided and owner == eid and min(spot.local) >= 0
            spots.append(spot)
        if not spots:
            decided = False  # matched by identity: the reference decides
        signature: Any = tuple((s.family, s.local, s.peer) for s in spots) if decided else ("endpoint", endpoint.key, eid)
        return Place(endpoint, tuple(spots), decided, signature)

    def externals(self, family: int) -> Externals:
        """The external intervals of ``family``."""
        found = self._externals.get(family)
        if found is None:
            found = self._externals[family] = self._make(family)
        return found

    def _make(self, family: int) -> Externals:
        c = self._c
        top = 1 << _BITS[family]
        if c.all_fallback:
            return self._elementary(family)
        if family == 4:
            starts = [int(s) for s in c.v4_starts.tolist()]
            owners, peer = c.v4_endpoint, c.v4_peer
        else:
            starts = list(c.v6_starts)
            owners, peer = c.v6_endpoint, c.v6_peer
        ends = starts[1:] + [top]
        keep = np.flatnonzero(np.asarray(owners) == -1).tolist()
        return Externals(
            family, tuple(starts[k] for k in keep), tuple(ends[k] for k in keep),
            np.asarray(peer)[:, keep].reshape(2, len(keep)), tuple(starts[k] for k in keep),
        )

    def _elementary(self, family: int) -> Externals:
        """Intervals between every CIDR bound the input mentions (no endpoint's own
        address), each its own class; the sample skips endpoint addresses."""
        ps = self._ps
        nets: list[IPNetwork] = [n for s in ps.network_sets for n in s.nets]
        for policy in (*ps.policies, *ps.staged_policies):
            for rule in (*(policy.ingress or ()), *(policy.egress or ())):
                for side in (rule.source, rule.destination):
                    nets.extend((*side.nets, *side.not_nets))
        for profile in ps.profiles.values():
            for rule in (*profile.ingress, *profile.egress):
                for side in (rule.source, rule.destination):
                    nets.extend((*side.nets, *side.not_nets))
        nets.extend(ipaddress.ip_network(ip) for s in ps.services for ip in s.addresses)
        top = 1 << _BITS[family]
        bounds = sorted({0, top, *(b for n in nets if n.version == family for b in _bounds(n))})
        owned = {int(ip) for e in ps.endpoints for ip in e.ips if ip.version == family}
        starts, ends, samples = [], [], []
        for lo, hi in zip(bounds, bounds[1:]):
            sample = next((a for a in range(lo, min(hi, lo + len(owned) + 1)) if a not in owned), None)
            if sample is not None:
                starts.append(lo)
                ends.append(hi)
                samples.append(sample)
        n = len(starts)
        return Externals(family, tuple(starts), tuple(ends), np.stack([np.arange(n), np.arange(n)]), tuple(samples))


def _bounds(net: IPNetwork) -> tuple[int, int]:
    start = int(net.network_address)
    return start, start + net.num_addresses


def cidr_blocks(family: int, ranges: Iterable[tuple[int, int]]) -> list[IPNetwork]:
    """Half-open address ranges as the fewest CIDR blocks, in order."""
    found: list[IPNetwork] = []
    for lo, hi in ranges:
        if family == 4:
            found.extend(ipaddress.summarize_address_range(ipaddress.IPv4Address(lo), ipaddress.IPv4Address(hi - 1)))
        else:
            found.extend(ipaddress.summarize_address_range(ipaddress.IPv6Address(lo), ipaddress.IPv6Address(hi - 1)))
    found.sort(key=lambda n: int(n.network_address))
    merged: list[IPNetwork] = []
    for net in found:  # summarized ranges that touch may make a larger block
        merged.append(net)
        while len(merged) > 1:
            a, b = merged[-2], merged[-1]
            if a.prefixlen == b.prefixlen and a.supernet() == b.supernet() and a != b:
                merged[-2:] = [a.supernet()]
            else:
                break
    return merged


def blocks_text(family: int, ranges: list[tuple[int, int]]) -> str:
    """The blocks of ``ranges``: ``10.0.0.0/8, 192.168.0.0/16``, or, when it is shorter,
    ``0.0.0.0/0 except 10.0.0.0/8``."""
    top = 1 << _BITS[family]
    blocks = cidr_blocks(family, ranges)
    holes: list[tuple[int, int]] = []
    pos = 0
    for lo, hi in sorted(ranges):
        if lo > pos:
            holes.append((pos, lo))
        pos = max(pos, hi)
    if pos < top:
        holes.append((pos, top))
    everything = "0.0.0.0/0" if family == 4 else "::/0"
    if not holes:
        return everything
    others = cidr_blocks(family, holes)
    if len(others) + 1 < len(blocks):
        return f"{everything} except {', '.join(map(str, others))}"
    return ", ".join(map(str, blocks))
