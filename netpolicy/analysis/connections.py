"""Which ports are open between whom: :func:`connections`.

For every ordered pair of parties (endpoints, workloads, external CIDR blocks) the exact
set of packets the policies allow, per protocol as destination port ranges or ICMP types
and codes (and source ports where a rule tests them), each with the egress and ingress
decisions that allow it. It is read off the compiled tables (:class:`~.reach.Reach`),
never by trying ports.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Iterator, Sequence

import attrs

from ..compile.keys import KEY_BITS, Intervals, complement, intersect, union
from ..errors import PolicyError
from ..flow import protocol_number
from ..model import PROTOCOL_NAMES, Endpoint
from ..resolve.names import KIND_NAMES, resolve_name
from ..verdict import Decision
from .keyspace import ICMP, PORTED, Ports, family_keys, ports_of, ports_text, range_text, real_keys
from .parties import Member, Party, external_party, group_endpoints, owning_workloads
from .reach import Reach
from .tables import KeyGrant

if TYPE_CHECKING:
    from ..resolve import Snapshot

__all__ = ["Grant", "Connection", "Connections", "connections", "summary_text", "grants_of"]

_LOW = (1 << KEY_BITS) - 1
_ORDER = {6: 0, 17: 1, 132: 2, 136: 3, 1: 4, 58: 5}  # named protocols first, in this order


@attrs.frozen
class Grant:
    """Packets of one protocol that one pair of decisions allows: ``ports`` (see
    :class:`~netpolicy.analysis.keyspace.Ports`), the source's ``egress`` decision and
    the destination's ``ingress`` decision (None for a side that is not policed: an
    external address, or an endpoint reaching itself). The decisions name no endpoint."""

    ports: Ports
    egress: Decision | None
    ingress: Decision | None


def grants_of(key_grants: Iterable[KeyGrant]) -> tuple[Grant, ...]:
    """Key-space grants as grants per protocol."""
    found = []
    for grant in key_grants:
        source = None if grant.source is None else tuple((lo & _LOW, (hi - 1) & _LOW) for lo, hi in grant.source)
        for protocol, ranges in ports_of(list(grant.keys)).items():
            found.append(Grant(Ports(protocol, ranges, source), grant.egress, grant.ingress))
    found.sort(key=lambda g: _rank(g.ports))
    return tuple(found)


def _rank(p: Ports) -> tuple[int, int, tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]]:
    """Named protocols first (TCP, UDP, SCTP, UDPLite, ICMP, ICMPv6), then by number."""
    return _ORDER.get(p.protocol, 6), p.protocol, p.ranges, p.source_ports or ()


def _merge(ports: Iterable[Ports]) -> list[Ports]:
    """Ports of one protocol and source ports merged."""
    by: dict[tuple[int, tuple[tuple[int, int], ...] | None], list[tuple[int, int]]] = {}
    for p in ports:
        by.setdefault((p.protocol, p.source_ports), []).extend(p.ranges)
    merged = []
    for (protocol, source), ranges in by.items():
        out: list[tuple[int, int]] = []
        for a, b in sorted(ranges):
            if out and a <= out[-1][1] + 1:
                out[-1] = (out[-1][0], max(out[-1][1], b))
            else:
                out.append((a, b))
        merged.append(Ports(protocol, tuple(out), source))
    merged.sort(key=_rank)
    return merged


def summary_text(ports: Iterable[Ports], families: frozenset[int] = frozenset({4, 6})) -> str:
    """``TCP 443,8080-8090; UDP 53``; ``all traffic`` when every packet that may go over
    the IP ``families`` is allowed (ICMP needs IPv4, ICMPv6 IPv6);
    protocols other than TCP, UDP, SCTP, UDPLite, ICMP and ICMPv6 as ``proto 2-5,7``, or
    ``all other protocols``; ``nothing`` when none is."""
    merged = _merge(ports)
    if not merged:
        return "nothing"
    whole = {p.protocol for p in merged if p.everything}
    impossible = ({1} if 4 not in families else set()) | ({58} if 6 not in families else set())
    if len(whole | impossible) == 255:
        return "all traffic"
    parts = [ports_text(p) for p in merged if p.protocol in _ORDER or not p.everything]
    others = sorted(p for p in whole if p not in _ORDER)
    if len(others) == 255 - len(_ORDER):
        parts.append("all other protocols")
    elif others:
        runs: list[tuple[int, int]] = []
        for p in others:
            if runs and p == runs[-1][1] + 1:
                runs[-1] = (runs[-1][0], p)
            else:
                runs.append((p, p))
        parts.append("proto " + ",".join(range_text(0, a, b) for a, b in runs))
    return "; ".join(parts)


class Answer:
    """Key-space grants (shared by every connection they answer), with their grants per
    protocol and their texts made on first use."""

    __slots__ = ("key_grants", "_grants", "_texts")

    def __init__(self, key_grants: Sequence[KeyGrant]) -> None:
        self.key_grants = tuple(key_grants)
        self._grants: tuple[Grant, ...] | None = None
        self._texts: dict[frozenset[int], str] = {}

    @property
    def grants(self) -> tuple[Grant, ...]:
        if self._grants is None:
            self._grants = grants_of(self.key_grants)
        return self._grants

    def text(self, families: frozenset[int]) -> str:
        found = self._texts.get(families)
        if found is None:
            whole = union(iv for g in self.key_grants if g.source is None for iv in g.keys)
            if not intersect(complement(whole), _possible(families)):
                found = "all traffic"  # the common answer, without a grant per protocol
            else:
                found = summary_text((g.ports for g in self.grants), families)
            self._texts[families] = found
        return found


def _possible(families: frozenset[int]) -> Intervals:
    """The real keys of the packets that may go over ``families``."""
    found = _POSSIBLE.get(families)
    if found is None:
        masks = [iv for family in families for iv in family_keys(family, families)]
        found = _POSSIBLE[families] = intersect(real_keys(), union(masks))
    return found


_POSSIBLE: dict[frozenset[int], Intervals] = {}


class Connection:
    """What ``src`` may send to ``dst``: ``grants``, each protocol's allowed packets with
    the decisions allowing them. ``families`` are the IP families packets between them
    may use."""

    __slots__ = ("src", "dst", "families", "_answer")

    def __init__(self, src: Party, dst: Party, grants: Sequence[Grant] | Answer, families: frozenset[int] = frozenset({4, 6})) -> None:
        self.src = src
        self.dst = dst
        self.families = families
        if not isinstance(grants, Answer):
            answer = Answer(())
            answer._grants = tuple(grants)
            grants = answer
        self._answer = grants

    @property
    def grants(self) -> tuple[Grant, ...]:
        """Each protocol's allowed packets with the decisions allowing them."""
        return self._answer.grants

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Connection):
            return NotImplemented
        return (self.src, self.dst, self.families, self.grants) == (other.src, other.dst, other.families, other.grants)

    def __hash__(self) -> int:
        return hash((self.src, self.dst, self.families, self.grants))

    def __repr__(self) -> str:
        return f"Connection({self.src!r}, {self.dst!r}, {self.text!r})"

    @property
    def ports(self) -> tuple[Ports, ...]:
        """The allowed packets per protocol (and source ports), whatever decided."""
        return tuple(_merge(g.ports for g in self.grants))

    @property
    def text(self) -> str:
        """The allowed packets in words: ``TCP 443,8080-8090; UDP 53``, ``all traffic``."""
        if self._answer.key_grants:
            return self._answer.text(self.families)
        return summary_text((g.ports for g in self.grants), self.families)

    def allows(
        self, protocol: str | int, port: int | None = None, icmp_type: int | None = None,
        icmp_code: int | None = None, src_port: int | None = None,
    ) -> bool:
        """Whether one packet is allowed: ``port`` for TCP, UDP, SCTP and UDPLite,
        ``icmp_type`` and ``icmp_code`` for ICMP and ICMPv6, nothing else for other
        protocols. ``src_port`` None asks whether every source port is allowed."""
        number = protocol_number(protocol)
        if number in PORTED:
            if port is None:
                raise PolicyError(f"{PROTOCOL_NAMES[number]} needs a port")
            value = port
        elif number in ICMP:
            if icmp_type is None or icmp_code is None:
                raise PolicyError(f"{PROTOCOL_NAMES[number]} needs icmp_type and icmp_code")
            value = icmp_type * 256 + icmp_code
        else:
            value = 0
        for grant in self.grants:
            p = grant.ports
            if p.protocol != number or not any(a <= value <= b for a, b in p.ranges):
                continue
            if p.source_ports is None:
                return True
            if src_port is not None and any(a <= src_port <= b for a, b in p.source_ports):
                return True
        return False

    def __str__(self) -> str:
        return f"{self.src} => {self.dst} : {self.text}"


class Connections(Sequence[Connection]):
    """The connections :func:`connections` found, in order: by source, then destination,
    external addresses last. ``focus`` holds the parties asked about (empty without a
    focus: a workload whose pods are decided differently is several); ``parties`` are
    the endpoints and workloads considered."""

    def __init__(self, items: Sequence[Connection], parties: Sequence[Party], focus: Sequence[Party] = ()) -> None:
        self._items = tuple(items)
        self.parties = tuple(parties)
        self.focus = tuple(focus)

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, index: int) -> Connection:  # type: ignore[override]
        return self._items[index]

    def __iter__(self) -> Iterator[Connection]:
        return iter(self._items)

    def between(self, src: str, dst: str) -> Connection | None:
        """The connection from the party named ``src`` to the one named ``dst``."""
        for item in self._items:
            if item.src.name == src and item.dst.name == dst:
                return item
        return None

    @property
    def ingress(self) -> tuple[Connection, ...]:
        """The connections into the focus (all of them when there is no focus)."""
        return tuple(c for c in self._items if not self.focus or c.dst in self.focus)

    @property
    def egress(self) -> tuple[Connection, ...]:
        """The connections out of the focus (all of them when there is no focus)."""
        return tuple(c for c in self._items if not self.focus or c.src in self.focus)


def _workload_labels(name: str) -> list[str]:
    """The ``namespace/name[Kind]`` a kubectl name ``[namespace/]kind/name`` may mean
    (``*`` for any namespace)."""
    parts = name.split("/")
    kind = KIND_NAMES.get(parts[-2].lower()) if len(parts) in (2, 3) else None
    if kind is None:
        return []
    return [f"{parts[0] if len(parts) == 3 else '*'}/{parts[-1]}[{kind}]"]


def _focus(members: list[Member], name: str, ps: Snapshot) -> list[Member]:
    """The parties ``name`` names: a party's name, or what :func:`resolve_name` finds
    (an endpoint, a workload's pods; one pod of a workload party is taken out of it)."""
    labels = {name, *_workload_labels(name)}
    named = [
        member for member in members
        if member[0].name in labels or f"*/{member[0].name.partition('/')[2]}" in labels
    ]
    if len(named) == 1:
        return named
    target = resolve_name(ps, name)
    if target.service is not None:
        raise PolicyError(f"{name!r} is the Service {target.name}: focus on the workload behind it")
    wanted = {id(e) for e in target.endpoints}
    if not wanted:
        raise PolicyError(f"{name!r} ({target.name}) has no endpoint in the policy set")
    found: list[Member] = []
    for n, (party, pods) in enumerate(list(members)):
        inside = [p for p in pods if id(p) in wanted]
        if not inside:
            continue
        if len(inside) == len(pods):
            found.append(members[n])
            continue
        rest = tuple(p for p in pods if id(p) not in wanted)
        members[n] = (attrs.evolve(party, endpoints=tuple(p.key for p in rest)), rest)
        for pod in inside:
            members.append((Party(pod.key, "endpoint", pod.namespace, (pod.key,)), (pod,)))
            found.append(members[-1])
    return found


def connections(
    ps: Snapshot, namespaces: Iterable[str] | None = None, *, focus: str | None = None,
    external: bool = True, workloads: bool = True,
) -> Connections:
    """Every allowed connection between the endpoints of ``ps`` (pods, workloads, host
    endpoints), and between them and external addresses: for each
    ordered pair, the allowed protocols, destination port ranges and ICMP types and
    codes, with the decisions that allow them. Exact: computed on the compiled tables,
    and by the reference evaluator, one flow per class, where the tables leave flows to
    it.

    ``namespaces``: only pairs with an endpoint in one of them. ``focus``: only the
    connections into and out of one endpoint or workload, named as a flow side names it
    (``namespace/pod``, ``namespace/name[Kind]``, kubectl's ``[namespace/]kind/name``).
    ``external``: include external addresses, as the CIDR
    blocks that get the same answer (``0.0.0.0/0 except 10.0.0.0/8``; endpoints' own
    addresses in a block are not external: their connections are listed as theirs).
    ``workloads``: the pods of one controller that are decided alike are one party.
    An endpoint's flows are those of its first address of each IP family, as for a flow
    between two named endpoints; an endpoint reaching itself is not listed."""
    reach = Reach(ps)
    chosen = [e for e in ps.endpoints if e.name]
    owners = owning_workloads(ps.names.owners.members)
    members = group_endpoints(chosen, lambda e: reach.place(e).signature, collapse=workloads, owners=owners)
    targets = {id(m) for m in _focus(members, focus, ps)} if focus is not None else None
    wanted = set(namespaces) if namespaces is not None else None

    def in_scope(member: Member) -> bool:
        if targets is not None:
            return id(member) in targets
        return wanted is None or member[0].namespace in wanted

    found: list[tuple[tuple[bool, str, bool, str], Connection]] = []
    answers: dict[int, Answer] = {}  # by the id of key grants Reach keeps

    def families(pod: Endpoint) -> frozenset[int]:
        return reach.place(pod).families or frozenset({4, 6})  # without an address: any family

    def add(src: Party, dst: Party, key_grants: tuple[KeyGrant, ...], shared: frozenset[int]) -> None:
        if not key_grants:
            return
        answer = answers.get(id(key_grants))
        if answer is None or answer.key_grants is not key_grants:
            answer = answers[id(key_grants)] = Answer(key_grants)
        order = (src.kind == "external", src.name, dst.kind == "external", dst.name)
        found.append((order, Connection(src, dst, answer, shared)))

    usable = [m for m in members if m[1]]
    inside = [m for m in usable if in_scope(m)]
    outside = [m for m in usable if not in_scope(m)]
    kinds = {id(m): families(m[1][0]) for m in usable}

    def pairs(sources: list[Member], destinations: list[Member]) -> None:
        rows = reach.rows([m[1][0] for m in sources], [m[1][0] for m in destinations])
        for a, row in zip(sources, rows):
            mine = kinds[id(a)]
            for b, key_grants in zip(destinations, row):
                if a is b:
                    if len(a[1]) > 1:  # between two pods of one workload
                        add(a[0], a[0], reach.between(a[1][0], a[1][1]), mine)
                    continue
                add(a[0], b[0], key_grants, mine & kinds[id(b)])

    pairs(inside, usable)  # from each party in scope, to every party
    pairs(outside, inside)  # to each party in scope, from those out of it
    if external:
        for a in inside:
            for outbound in (True, False):
                for family, outside_grants, ranges in reach.external(a[1][0], outbound):
                    blocks = external_party(family, ranges)
                    add(*((a[0], blocks) if outbound else (blocks, a[0])), outside_grants, frozenset({family}))
    found.sort(key=lambda item: item[0])
    focused = tuple(m[0] for m in members if targets is not None and id(m) in targets)
    return Connections([c for _, c in found], [m[0] for m in members], focused)
