"""Address classes.

Every CIDR that matters (endpoint IPs, network-set nets, rule nets/notNets, service
backends) is a node carrying *atoms*: the address predicates true on it (a rule net, a
selector's members, a named port's or a service's addresses). The address space of each
family splits into intervals on which every atom is constant (§A.9, §F.1); intervals
with the same atoms share a class. Each class is then projected once per *role* an
address plays (the local side of egress rules, the peer of egress rules, the peer of
ingress rules, the local side of ingress rules), keeping only the atoms rules in that
role test, so that role classes are few.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable, Sequence

import numpy as np

from ..model import EntityMatch, NamedPort, Rule
from .labels import LabelMaps

if TYPE_CHECKING:
    from ..resolve import Snapshot

__all__ = [
    "EGRESS_LOCAL", "EGRESS_PEER", "INGRESS_LOCAL", "INGRESS_PEER", "AddressIntervals", "Atoms", "Partition",
    "Roles", "cidr",
    "collect_atoms", "partition", "project_roles", "rule_sides",
]

#: (family, start, size) of a CIDR or an address
Cidr = tuple[int, int, int]
#: per family: interval starts, their fine class, their owning endpoint (-1 none, -3 shared)
AddressIntervals = tuple[list[int], list[int], list[int]]


def cidr(net: Any) -> Cidr:
    """The family, first address and size of an address or network."""
    if isinstance(net, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
        return net.version, int(net), 1
    if isinstance(net, (ipaddress.IPv4Network, ipaddress.IPv6Network)):
        return net.version, int(net.network_address), 1 << (net.max_prefixlen - net.prefixlen)
    net = ipaddress.ip_network(net, strict=False)
    bits = 32 if net.version == 4 else 128
    return net.version, int(net.network_address), 1 << (bits - net.prefixlen)


def rule_sides(rules: Sequence[Rule]) -> Iterable[EntityMatch]:
    """The source and destination of each rule, in order."""
    for rule in rules:
        yield rule.source
        yield rule.destination


class _Node:
    __slots__ = ("family", "start", "size", "atoms", "endpoint")

    def __init__(self, family: int, start: int, size: int) -> None:
        self.family = family
        self.start = start
        self.size = size
        self.atoms: set[int] = set()
        self.endpoint = -1  # the endpoint owning this address; -3: several do


class Atoms:
    """The atoms, numbered in order of first sight, and the nodes that carry them."""

    def __init__(self) -> None:
        self.ids: dict[Any, int] = {}
        self.nodes: dict[Cidr, _Node] = {}
        #: per (port name, rule selector): the atoms of its (protocol, port) pairs
        self.named: dict[tuple[str, Any], list[int]] = {}

    def atom(self, key: Any) -> int:
        found = self.ids.get(key)
        if found is None:
            found = self.ids[key] = len(self.ids)
        return found

    def node(self, net: Any) -> _Node:
        key = cidr(net)
        node = self.nodes.get(key)
        if node is None:
            node = self.nodes[key] = _Node(*key)
        return node

    def of_side(self, side: EntityMatch) -> set[int]:
        """The atoms whose membership a rule side tests."""
        keys: list[Any] = [("net", cidr(net)) for net in side.nets + side.not_nets]
        for selector in (side.selector, side.not_selector):
            if selector is not None:
                keys.append(("sel", selector))
        if side.services is not None:
            keys.append(("svc", (side.services.namespace, side.services.name)))
        found = {self.ids[k] for k in keys if k in self.ids}
        for port in side.ports + side.not_ports:
            if isinstance(port, NamedPort):
                found.update(self.named.get((port.name, side.selector), ()))
        return found


def collect_atoms(
    ps: Snapshot, rules: list[Rule], labels: LabelMaps, ep_labels: list[int], ns_labels: list[int]
) -> Atoms:
    """The atoms ``rules`` test, on the nodes of the addresses they hold."""
    found = Atoms()
    endpoints = ps.endpoints
    for eid, endpoint in enumerate(endpoints):
        for ip in endpoint.ips:
            node = found.node(ip)
            node.endpoint = eid if node.endpoint == -1 else -3  # -3: shared address
    ep_array = np.array(ep_labels, np.int64)
    ns_array = np.array(ns_labels, np.int64)
    selectors: dict[Any, None] = {}
    triples: dict[tuple[str, int | None, Any], None] = {}
    services: dict[tuple[str, str], None] = {}
    for side in rule_sides(rules):
        for net in side.nets + side.not_nets:
            found.node(net).atoms.add(found.atom(("net", cidr(net))))
        if side.selector is not None:
            selectors[side.selector] = None
        if side.not_selector is not None:
            selectors[side.not_selector] = None
        for port in side.ports + side.not_ports:
            if isinstance(port, NamedPort):
                triples[(port.name, None, side.selector)] = None
        if side.services is not None:
            services[(side.services.namespace, side.services.name)] = None
    # selector atoms are gathered per endpoint and per network set first, so that each
    # address is looked up once, however many selectors match it
    ep_atoms: dict[int, list[int]] = {}
    ns_atoms: dict[int, list[int]] = {}
    for selector in selectors:
        atom = found.atom(("sel", selector))
        hits = labels.matches(selector)
        for eid in np.flatnonzero(hits[ep_array]).tolist():
            ep_atoms.setdefault(eid, []).append(atom)
        for nid in np.flatnonzero(hits[ns_array]).tolist():
            ns_atoms.setdefault(nid, []).append(atom)
    for eid, atoms in ep_atoms.items():
        for ip in endpoints[eid].ips:
            found.node(ip).atoms.update(atoms)
    for nid, atoms in ns_atoms.items():
        for net in ps.network_sets[nid].nets:
            found.node(net).atoms.update(atoms)
    # Named ports: per (name, selector) the (protocol, port) pairs at each endpoint IP;
    # the rule's protocol filter is applied later on the key space.
    for name, _, selector in triples:
        named_hits = labels.matches(selector) if selector is not None else None
        for eid, endpoint in enumerate(endpoints):
            if named_hits is not None and not named_hits[ep_labels[eid]]:
                continue
            for cp in endpoint.named_ports:
                if cp.name == name:
                    atom = found.atom(("np", name, selector, cp.protocol, cp.port))
                    listed = found.named.setdefault((name, selector), [])
                    if atom not in listed:
                        listed.append(atom)
                    for ip in endpoint.ips:
                        found.node(ip).atoms.add(atom)
    backends = {(s.namespace, s.name): s for s in ps.services}
    for key in services:
        backend = backends.get(key)
        if backend is not None:
            atom = found.atom(("svc", key))
            for ip in backend.addresses:
                found.node(ip).atoms.add(atom)
    return found


@dataclass
class Partition:
    """The fine address classes: per class its family and atoms, and per family the
    intervals of the address space."""

    class_family: np.ndarray
    class_atoms: list[frozenset[int]]
    per_family: dict[int, AddressIntervals]


def partition(nodes: Iterable[_Node]) -> Partition:
    """Cuts each family's address space where the set of atoms (or the owning endpoint)
    changes; adjacent unowned intervals of one class merge."""
    nodes = list(nodes)
    class_ids: dict[tuple[int, frozenset[int]], int] = {}
    class_atoms: list[frozenset[int]] = []
    class_family: list[int] = []
    per_family: dict[int, AddressIntervals] = {}
    for family, bits in ((4, 32), (6, 128)):
        ordered = sorted((n for n in nodes if n.family == family), key=lambda n: (n.start, -n.size))
        starts: list[int] = []
        classes: list[int] = []
        owners: list[int] = []

        def emit(lo: int, hi: int, atoms: frozenset[int], owner: int) -> None:
            if lo >= hi:
                return
            key = (family, atoms)
            cid = class_ids.get(key)
            if cid is None:
                cid = class_ids[key] = len(class_atoms)
                class_atoms.append(atoms)
                class_family.append(family)
            if owners and owner == -1 and owners[-1] == -1 and classes[-1] == cid:
                return
            starts.append(lo)
            classes.append(cid)
            owners.append(owner)

        stack: list[tuple[int, frozenset[int], int]] = [(1 << bits, frozenset(), -1)]
        pos = 0
        for node in ordered:
            while stack[-1][0] <= node.start:
                end, atoms, owner = stack.pop()
                emit(pos, end, atoms, owner)
                pos = max(pos, end)
            emit(pos, node.start, stack[-1][1], stack[-1][2])
            pos = node.start
            owner = node.endpoint if node.size == 1 else -1
            stack.append((node.start + node.size, stack[-1][1] | frozenset(node.atoms), owner))
        while stack:
            end, atoms, owner = stack.pop()
            emit(pos, end, atoms, owner)
            pos = max(pos, end)
        per_family[family] = (starts, classes, owners)
    return Partition(np.array(class_family, np.int8), class_atoms, per_family)


#: the roles, in the order of ``Roles``' lists
EGRESS_LOCAL, EGRESS_PEER, INGRESS_PEER, INGRESS_LOCAL = 0, 1, 2, 3


@dataclass
class Roles:
    """Per role (``EGRESS_LOCAL`` .. ``INGRESS_LOCAL``): each fine class's role class,
    each role class's atoms, and per atom the role classes that have it."""

    of: list[np.ndarray]
    atoms: list[list[frozenset[int]]]
    atom_classes: list[dict[int, np.ndarray]]


def project_roles(classes: Partition, atoms: Atoms, role_sides: Sequence[list[EntityMatch]]) -> Roles:
    """Projects the fine address classes onto each role's atoms."""
    roles = Roles([], [], [])
    for sides in role_sides:
        wanted: set[int] = set()
        seen: set[int] = set()
        for side in sides:
            if id(side) not in seen:
                seen.add(id(side))
                wanted |= atoms.of_side(side)
        ids: dict[tuple[int, frozenset[int]], int] = {}
        atoms_of: list[frozenset[int]] = []
        mapping = np.empty(len(classes.class_atoms), np.int32)
        for cid, fine in enumerate(classes.class_atoms):
            key = (int(classes.class_family[cid]), fine & wanted if wanted else frozenset())
            rid = ids.get(key)
            if rid is None:
                rid = ids[key] = len(atoms_of)
                atoms_of.append(key[1])
            mapping[cid] = rid
        members: dict[int, list[int]] = {}
        for rid, kept in enumerate(atoms_of):
            for atom in kept:
                members.setdefault(atom, []).append(rid)
        roles.of.append(mapping)
        roles.atoms.append(atoms_of)
        roles.atom_classes.append({a: np.array(m, np.int64) for a, m in members.items()})
    return roles
