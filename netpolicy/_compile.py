"""Compiles a PolicySet into flat decision tables (shared by both matcher twins).

The tables answer "what does each side decide" for a flow with no Python objects in the
loop:

* **Address classes.** Every CIDR that matters (endpoint IPs, network-set nets, rule
  nets/notNets, service backends) is laid out per family; the address space splits into
  intervals on which every rule's address predicate is constant (selector IP sets, nets,
  named-port and service memberships, §A.9, §F.1). Intervals with the same memberships
  share a class. An IPv4 address maps to its interval by a hash of endpoint addresses,
  else by binary search.
* **Roles.** Each address is classed four times, once per role it can play: the local
  side of egress rules (their sources), the peer of egress rules (their destinations),
  the peer of ingress rules (their sources) and the local side of ingress rules. A role
  class keeps only the memberships that rules in that role test, so there are few.
* **Local classes.** The policed side of a direction (egress: the source, ingress: the
  destination) is classed by the policies and profiles that apply to its endpoint (§C.2)
  together with its local-role class.
* **Rows and groups.** For a local class, the peer classes that reach the same table form
  a group: a row over the peer classes of its direction gives each peer's group (8 bits,
  or 16 where a local class has more than 256 groups), and the local class's group list
  gives the table. Rows are stored once per content; local classes with the same live
  rules share them.
* **Tables.** A table gives an outcome per *key class*: the flow key (protocol,
  destination port or ICMP type/code, see :func:`flow_key`) falls in one class of the
  sorted ``key_starts`` (the keys where any table changes), and tables are dense over
  these classes. Where rules test source ports, a table holds ``-3 - s`` instead:
  secondary table ``s`` is then read by the class of the source key
  (:func:`source_key`) in ``skey_starts``. Tables larger than :data:`MAX_TABLE_CELLS`
  are not built; the reference then decides every flow.
* **Outcomes.** An outcome id names a precomputed (Decision, logged rules) pair.
  ``FALLBACK`` means "ask the reference evaluator" (what the tables cannot express
  exactly: policy sets with host endpoints, addresses shared by
  endpoints, endpoints without addresses, traffic of an endpoint to itself); ``NONE`` means "no policed endpoint on this side".
"""

from __future__ import annotations

import hashlib
import ipaddress
from typing import TYPE_CHECKING, Any, Iterable, Sequence

import numpy as np

from .selector._columns import LabelColumns
from .model import Action, Direction, Endpoint, EntityMatch, NamedPort, PortRange, Rule
from .resolve.index import index_of
from .verdict import Decision, Reason, RuleRef

if TYPE_CHECKING:
    from .resolve import Snapshot as PolicySet

__all__ = ["Compiled", "compile_policyset", "flow_key", "source_key", "key_class_map", "FALLBACK", "NONE", "KEY_BITS", "KEY_LIMIT"]

FALLBACK = -1  #: outcome: decide this flow with the reference evaluator
NONE = -2  #: outcome: no policed endpoint on this side
LOCAL_EXTERNAL = -1  #: local class of an address no policed endpoint owns
LOCAL_FALLBACK = -2  #: local class of an endpoint the tables do not decide

KEY_BITS = 17
MAX_FEATURES = 63  #: up to this many 0/1 peer features group peers by their bit pattern
MAX_TABLE_CELLS = 1 << 24  #: above this many dense table cells, the reference decides every flow
KEY_LIMIT = 256 << KEY_BITS
_PORTED = (6, 17, 132, 136)
_ICMP_PROTOCOLS = (1, 58)
_ICMP_CODES = 257  # code 0-255, plus "none" (0)

Intervals = list[tuple[int, int]]  # sorted, disjoint, half-open


def source_key(protocol: int, src_port: int | None) -> int:
    """The source-port key of a flow: protocol in the high bits, then the source port (0
    when absent). Tables of rules with source ports look it up second."""
    return (protocol << KEY_BITS) | (src_port or 0)


def flow_key(protocol: int, dst_port: int | None, icmp_type: int | None, icmp_code: int | None) -> int:
    """The table key of a flow: protocol in the high bits, then the destination port
    (0 when absent) or, for ICMP, ``(type+1)*257 + (code+1)`` (0 for an absent part)."""
    if icmp_type is not None:
        sub = (icmp_type + 1) * _ICMP_CODES + (0 if icmp_code is None else icmp_code + 1)
    else:
        sub = dst_port or 0
    return (protocol << KEY_BITS) | sub


# -- interval sets over the key space ------------------------------------------------------


def _union(parts: Iterable[tuple[int, int]]) -> Intervals:
    out: Intervals = []
    for a, b in sorted(parts):
        if a >= b:
            continue
        if out and a <= out[-1][1]:
            if b > out[-1][1]:
                out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out


def _complement(iv: Intervals) -> Intervals:
    out: Intervals = []
    pos = 0
    for a, b in iv:
        if a > pos:
            out.append((pos, a))
        pos = b
    if pos < KEY_LIMIT:
        out.append((pos, KEY_LIMIT))
    return out


def _intersect(x: Intervals, y: Intervals) -> Intervals:
    out: Intervals = []
    i = j = 0
    while i < len(x) and j < len(y):
        a = max(x[i][0], y[j][0])
        b = min(x[i][1], y[j][1])
        if a < b:
            out.append((a, b))
        if x[i][1] < y[j][1]:
            i += 1
        else:
            j += 1
    return out


_ALL: Intervals = [(0, KEY_LIMIT)]


def _proto_iv(protocol: int) -> Intervals:
    return [(protocol << KEY_BITS, (protocol + 1) << KEY_BITS)]


def _port_ranges_iv(ranges: Sequence[PortRange]) -> Intervals:
    return _union(
        ((p << KEY_BITS) | r.first, ((p << KEY_BITS) | r.last) + 1) for p in _PORTED for r in ranges
    )


def _pairs_iv(pairs: Iterable[tuple[int, int]]) -> Intervals:
    return _union(((p << KEY_BITS) | port, ((p << KEY_BITS) | port) + 1) for p, port in pairs)


def _icmp_iv(match: Any) -> Intervals:
    base = (match.type + 1) * _ICMP_CODES
    if match.code is None:
        lo, hi = base, base + _ICMP_CODES
    else:
        lo, hi = base + match.code + 1, base + match.code + 2
    return [((p << KEY_BITS) | lo, (p << KEY_BITS) | hi) for p in _ICMP_PROTOCOLS]


def _rule_base_iv(rule: Rule) -> Intervals:
    """Keys the rule's protocol and ICMP criteria accept."""
    iv = _ALL
    if rule.protocol is not None:
        iv = _intersect(iv, _proto_iv(rule.protocol))
    if rule.not_protocol is not None:
        iv = _intersect(iv, _complement(_proto_iv(rule.not_protocol)))
    if rule.icmp is not None:
        iv = _intersect(iv, _icmp_iv(rule.icmp))
    if rule.not_icmp is not None:
        iv = _intersect(iv, _complement(_icmp_iv(rule.not_icmp)))
    return iv


# -- the compiled result -------------------------------------------------------------------


class Compiled:
    """The tables for one PolicySet; see the module docstring. Arrays are numpy."""

    def __init__(self) -> None:
        self.n_peer = (1, 1)  # peer classes of egress (destinations), ingress (sources)
        self.v4_starts = np.zeros(1, np.uint32)
        self.v4_peer = np.zeros((2, 1), np.int32)  # [as an egress destination, as an ingress source]
        self.v4_endpoint = np.full(1, -1, np.int32)
        self.v4_local = np.full((2, 1), LOCAL_EXTERNAL, np.int32)  # [egress, ingress]
        self.hash_keys = np.zeros(1, np.uint32)
        self.hash_vals = np.full(1, -1, np.int32)
        self.hash_shift = 31
        self.v6_starts: list[int] = [0]
        self.v6_peer = np.zeros((2, 1), np.int32)
        self.v6_endpoint = np.full(1, -1, np.int32)
        self.v6_local = np.full((2, 1), LOCAL_EXTERNAL, np.int32)
        # local classes (egress ones, then ingress ones): a row over the peer classes of
        # their direction gives a group, the group a table
        self.n_local = (0, 0)
        self.loc_row = np.zeros(0, np.int64)  # >= 0: offset into rows8; < 0: -1 - offset into rows16
        self.loc_tab = np.zeros(0, np.int32)  # offset into groups
        self.loc_groups = np.zeros(0, np.int32)  # number of groups
        self.rows8 = np.zeros(0, np.uint8)
        self.rows16 = np.zeros(0, np.uint16)
        self.groups = np.zeros(0, np.int32)  # table ids
        # tables, dense over key classes: an outcome id, FALLBACK, or (primary tables only)
        # ``-3 - s``: secondary table ``s`` decides by the source key
        self.key_starts = np.zeros(1, np.uint32)  # key class k starts at key_starts[k]
        self.tables = np.zeros(0, np.int32)  # [table * n_key_classes + key class]
        self.skey_starts = np.zeros(1, np.uint32)
        self.stables = np.zeros(0, np.int32)  # [secondary table * n_skey_classes + class]
        self.out_allow = np.zeros(0, np.uint8)
        self.outcomes: list[tuple[Decision, tuple[RuleRef, ...]]] = []
        self.endpoints: tuple[Endpoint, ...] = ()
        self.endpoint_ids: dict[str, int] = {}
        self.verdict_by_reference = np.zeros(0, np.bool_)  # staged policies apply: pending
        self.all_fallback = False  # host endpoints present: every flow goes to the reference

    @property
    def n_tables(self) -> int:
        return len(self.tables) // len(self.key_starts)

    @property
    def n_stables(self) -> int:
        return len(self.stables) // len(self.skey_starts)

    def check(self) -> None:
        """Raises ValueError unless every index the matchers follow stays in bounds (the
        compiled matcher reads without bounds checks)."""
        n_local = self.n_local[0] + self.n_local[1]

        def bad(what: str) -> None:
            raise ValueError(f"compiled tables are inconsistent: {what}")

        if len(self.v4_starts) == 0 or int(self.v4_starts[0]) != 0:
            bad("address intervals must start at 0")
        for local, peer in ((self.v4_local, self.v4_peer), (self.v6_local, self.v6_peer)):
            if local.size and (int(local.min()) < -2 or int(local.max()) >= n_local):
                bad("local class out of range")
            for d in (0, 1):
                if peer[d].size and (int(peer[d].min()) < 0 or int(peer[d].max()) >= self.n_peer[d]):
                    bad("peer class out of range")
            ego = local[0]
            if ego.size and int(ego.max()) >= self.n_local[0]:
                bad("egress local class out of range")
            ing = local[1]
            if (ing >= 0).any() and int(ing[ing >= 0].min()) < self.n_local[0]:
                bad("ingress local class out of range")
        if not (len(self.loc_row) == len(self.loc_tab) == len(self.loc_groups) == n_local):
            bad("local class arrays")
        if n_local:
            if int(self.loc_groups.min()) < 1 or int(self.loc_tab.min()) < 0:
                bad("groups")
            if int((self.loc_tab.astype(np.int64) + self.loc_groups).max()) > len(self.groups):
                bad("groups out of range")
            width = np.where(np.arange(n_local) < self.n_local[0], self.n_peer[0], self.n_peer[1])
            # every row in bounds, and its groups below its local class's group count
            for row in np.unique(np.stack([self.loc_row, width]), axis=1).T.tolist():
                start, size = row
                rows, at = (self.rows8, start) if start >= 0 else (self.rows16, -1 - start)
                if at + size > len(rows) or size < 1:
                    bad("row out of range")
                top = int(rows[at : at + size].max())
                if (self.loc_groups[(self.loc_row == start) & (width == size)] <= top).any():
                    bad("group out of range")
        n_keys, n_skeys = len(self.key_starts), len(self.skey_starts)
        for starts in (self.key_starts, self.skey_starts):
            if len(starts) == 0 or int(starts[0]) != 0 or (len(starts) > 1 and (np.diff(starts.astype(np.int64)) <= 0).any()):
                bad("key classes")
        if len(self.tables) % n_keys or len(self.stables) % n_skeys:
            bad("table sizes")
        if self.groups.size and (int(self.groups.min()) < 0 or int(self.groups.max()) >= self.n_tables):
            bad("table id out of range")
        n_out = len(self.out_allow)
        if self.tables.size and (int(self.tables.max()) >= n_out or -3 - int(self.tables.min()) >= self.n_stables):
            bad("outcome out of range")
        if self.tables.size and (self.tables == NONE).any():
            bad("outcome out of range")
        if self.stables.size and (int(self.stables.max()) >= n_out or int(self.stables.min()) < FALLBACK):
            bad("outcome out of range")
        if len(self.hash_keys) != len(self.hash_vals) or len(self.hash_vals) & (len(self.hash_vals) - 1):
            bad("hash size")
        if self.hash_vals.size and int(self.hash_vals.max()) >= len(self.v4_starts):
            bad("hash value")

    @property
    def nbytes(self) -> int:
        return sum(v.nbytes for v in vars(self).values() if isinstance(v, np.ndarray))


class _Node:
    __slots__ = ("family", "start", "size", "atoms", "endpoint")

    def __init__(self, family: int, start: int, size: int) -> None:
        self.family = family
        self.start = start
        self.size = size
        self.atoms: set[int] = set()
        self.endpoint = -1


def _cidr(net: Any) -> tuple[int, int, int]:
    if isinstance(net, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
        return net.version, int(net), 1
    if isinstance(net, (ipaddress.IPv4Network, ipaddress.IPv6Network)):
        return net.version, int(net.network_address), net.num_addresses
    net = ipaddress.ip_network(net, strict=False)
    bits = 32 if net.version == 4 else 128
    return net.version, int(net.network_address), 1 << (bits - net.prefixlen)


def _layers(rules: Sequence[Rule]) -> Iterable[EntityMatch]:
    for rule in rules:
        yield rule.source
        yield rule.destination


class _Compiler:
    def __init__(self, ps: PolicySet) -> None:
        self.ps = ps
        self.policies = ps.policies
        self.tiers = {tier.name: tier for tier in ps.tiers}
        self.endpoints = ps.endpoints
        self.index = index_of(ps)  # profile resolution exactly as the reference does it
        self.out = Compiled()
        self.atoms: dict[Any, int] = {}
        self.nodes: dict[tuple[int, int, int], _Node] = {}
        self._label_maps: list[Any] = []
        self._label_ids: dict[frozenset[tuple[str, str]], int] = {}
        self._match_cache: dict[Any, np.ndarray] = {}
        self._columns: LabelColumns | None = None

    def _profiles_of(self, endpoint: Endpoint) -> tuple[tuple[str, Any], ...]:
        """The endpoint's profiles in order, resolved as the reference resolves them."""
        names = self.index.profiles_of(endpoint)
        try:
            return tuple((name, self.index.profile(name, endpoint)) for name in names)
        except TypeError:  # the one-argument form
            return tuple((name, self.index.profile(name)) for name in names)  # type: ignore[call-arg]

    # -- labels and selectors --------------------------------------------------------------

    def _label_id(self, labels: Any) -> int:
        """The id of a label map, kept to the labels some selector reads."""
        wanted = self._label_keys
        kept = {k: v for k, v in labels.items() if k in wanted}
        key = frozenset(kept.items())
        found = self._label_ids.get(key)
        if found is None:
            found = self._label_ids[key] = len(self._label_maps)
            self._label_maps.append(kept)
        return found

    def _matches(self, selector: Any) -> np.ndarray:
        """Whether ``selector`` matches each distinct label map. Every label map is known
        before the first call."""
        hits = np.zeros(len(self._label_maps), np.bool_)
        hits[self._matching(selector)] = True
        return hits

    def _matching(self, selector: Any) -> np.ndarray:
        """The label maps ``selector`` matches, as sorted ids (cached)."""
        try:
            cached = self._match_cache.get(selector)
        except TypeError:  # unhashable selector: key by text
            selector_key: Any = ("text", str(selector))
            cached = self._match_cache.get(selector_key)
        else:
            selector_key = selector
        if cached is None:
            if not selector.label_keys <= self._label_keys:  # every selector is known up front
                raise RuntimeError(f"selector {selector} was not collected before label maps were kept")
            if self._columns is None:  # every label map is known by the first match
                self._columns = LabelColumns(self._label_maps, self._label_keys)
            cached = self._match_cache[selector_key] = np.flatnonzero(self._columns.matching(selector))
        return cached

    def _atom(self, key: Any) -> int:
        found = self.atoms.get(key)
        if found is None:
            found = self.atoms[key] = len(self.atoms)
        return found

    def _node(self, net: Any) -> _Node:
        key = _cidr(net)
        node = self.nodes.get(key)
        if node is None:
            node = self.nodes[key] = _Node(*key)
        return node

    # -- main --------------------------------------------------------------------------

    def run(self) -> Compiled:
        out = self.out
        out.endpoints = self.endpoints
        out.endpoint_ids = {e.key: i for i, e in enumerate(self.endpoints) if e.name}
        out.all_fallback = any(e.is_host for e in self.endpoints)
        egress_rules: list[Rule] = []
        ingress_rules: list[Rule] = []
        for policy in self.policies:
            ingress_rules.extend(policy.ingress or ())
            egress_rules.extend(policy.egress or ())
        self.ep_profiles = [self._profiles_of(e) for e in self.endpoints]
        for profile in {p for profiles in self.ep_profiles for _, p in profiles if p is not None}:
            ingress_rules.extend(profile.ingress)
            egress_rules.extend(profile.egress)
        # Selectors read only the labels they name: label maps are kept to those, so
        # endpoints that differ elsewhere (a pod-template-hash) share one.
        selectors = [p.selector for p in (*self.policies, *self.ps.staged_policies)]
        selectors += [sel for side in _layers(egress_rules + ingress_rules) for sel in (side.selector, side.not_selector) if sel is not None]
        self._label_keys: frozenset[str] = frozenset().union(*(sel.label_keys for sel in selectors))
        # Entities with addresses: endpoints (points) and network sets (CIDRs).
        self.ep_labels = [self._label_id(self.ps._labels_of(e)) for e in self.endpoints]
        self.ns_labels = [self._label_id(n.effective_labels) for n in self.ps.network_sets]
        self._np_atoms: dict[tuple[str, Any], list[int]] = {}
        self._collect_atoms(egress_rules + ingress_rules)
        self._partition()
        role_sides = (
            [r.source for r in egress_rules],
            [r.destination for r in egress_rules],
            [r.source for r in ingress_rules],
            [r.destination for r in ingress_rules],
        )
        self._roles(role_sides)
        self._side_rows: dict[int, np.ndarray] = {}
        self._rows_by_content: dict[tuple[int, str, bytes], np.ndarray] = {}  # by a digest of the content
        self._row_top: dict[int, int] = {}
        self._row_ids: dict[tuple[bool, bytes], int] = {}
        self._rule_ids: dict[int, int] = {}
        self._rule_contents: dict[Rule, int] = {}
        self._rows8: list[np.ndarray] = []
        self._rows16: list[np.ndarray] = []
        self._rows_len = [0, 0]  # [8-bit, 16-bit] row store sizes
        self._keep: list[Any] = []
        self._port_sets: dict[Any, int] = {}
        self._port_set_list: list[Any] = []
        self._tables: dict[tuple[int, ...], int] = {}  # relative tables (see _concrete)
        self._table_list: list[tuple[tuple[int, ...], tuple[int, ...]]] = []
        self._ctables: dict[tuple[int, ...], int] = {}  # concrete tables
        self._ctable_list: list[tuple[tuple[int, ...], tuple[int, ...]]] = []
        self._concrete_ids: dict[tuple[int, tuple[str, ...]], int] = {}
        self._slotted: dict[int, bool] = {}
        self._template_ids: dict[Any, int] = {}
        self._templates: list[Any] = []
        self._template_slotted: list[bool] = []
        self._outcomes: dict[Any, int] = {}
        self._rule_base: dict[int, Intervals] = {}
        self._families: dict[int, tuple[bool, bool]] = {}
        self._keys_cache: dict[tuple[int, int, int], tuple[Intervals, Intervals | None]] = {}
        self._structures: dict[int, list[int]] = {}
        self._ident_lists: dict[int, list[Any]] = {}
        self._ident_shared: dict[Any, Any] = {}
        self._live_info: dict[tuple[int, bool], tuple[bool, bool, np.ndarray, np.ndarray, int]] = {}
        self._table_memo: dict[Any, int] = {}
        self._build_directions()
        self._finish_tables()
        return out

    def _collect_atoms(self, rules: list[Rule]) -> None:
        for eid, endpoint in enumerate(self.endpoints):
            for ip in endpoint.ips:
                node = self._node(ip)
                node.endpoint = eid if node.endpoint == -1 else -3  # -3: shared address
        ep_labels = np.array(self.ep_labels, np.int64)
        ns_labels = np.array(self.ns_labels, np.int64)
        selectors: dict[Any, None] = {}
        triples: dict[tuple[str, int | None, Any], None] = {}
        services: dict[tuple[str, str], None] = {}
        for side in _layers(rules):
            for net in side.nets + side.not_nets:
                self._node(net).atoms.add(self._atom(("net", _cidr(net))))
            if side.selector is not None:
                selectors[side.selector] = None
            if side.not_selector is not None:
                selectors[side.not_selector] = None
            for port in side.ports + side.not_ports:
                if isinstance(port, NamedPort):
                    triples[(port.name, None, side.selector)] = None
            if side.services is not None:
                services[(side.services.namespace, side.services.name)] = None
        for selector in selectors:
            atom = self._atom(("sel", selector))
            hits = self._matches(selector)
            for eid in np.flatnonzero(hits[ep_labels]).tolist():
                for ip in self.endpoints[eid].ips:
                    self._node(ip).atoms.add(atom)
            for nid in np.flatnonzero(hits[ns_labels]).tolist():
                for net in self.ps.network_sets[nid].nets:
                    self._node(net).atoms.add(atom)
        # Named ports: per (name, selector) the (protocol, port) pairs at each endpoint IP;
        # the rule's protocol filter is applied later on the key space.
        for name, _, selector in triples:
            named_hits = self._matches(selector) if selector is not None else None
            for eid, endpoint in enumerate(self.endpoints):
                if named_hits is not None and not named_hits[self.ep_labels[eid]]:
                    continue
                for cp in endpoint.named_ports:
                    if cp.name == name:
                        atom = self._atom(("np", name, selector, cp.protocol, cp.port))
                        listed = self._np_atoms.setdefault((name, selector), [])
                        if atom not in listed:
                            listed.append(atom)
                        for ip in endpoint.ips:
                            self._node(ip).atoms.add(atom)
        backends = {(s.namespace, s.name): s for s in self.ps.services}
        for key in services:
            found = backends.get(key)
            if found is not None:
                atom = self._atom(("svc", key))
                for ip in found.addresses:
                    self._node(ip).atoms.add(atom)

    def _partition(self) -> None:
        class_ids: dict[tuple[int, frozenset[int]], int] = {}
        class_atoms: list[frozenset[int]] = []
        class_family: list[int] = []
        per_family: dict[int, tuple[list[int], list[int], list[int]]] = {}
        for family, bits in ((4, 32), (6, 128)):
            nodes = sorted(
                (n for n in self.nodes.values() if n.family == family), key=lambda n: (n.start, -n.size)
            )
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
            for node in nodes:
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
        self.class_family = np.array(class_family, np.int8)
        self.class_atoms = class_atoms
        self.per_family = per_family

    def _side_atoms(self, side: EntityMatch) -> set[int]:
        """The atoms whose membership a rule side tests."""
        keys: list[Any] = [("net", _cidr(net)) for net in side.nets + side.not_nets]
        for selector in (side.selector, side.not_selector):
            if selector is not None:
                keys.append(("sel", selector))
        if side.services is not None:
            keys.append(("svc", (side.services.namespace, side.services.name)))
        found = {self.atoms[k] for k in keys if k in self.atoms}
        for port in side.ports + side.not_ports:
            if isinstance(port, NamedPort):
                found.update(self._np_atoms.get((port.name, side.selector), ()))
        return found

    def _roles(self, role_sides: tuple[list[EntityMatch], ...]) -> None:
        """Projects the fine address classes onto each role's atoms (see the module doc)."""
        self.role_of: list[np.ndarray] = []  # fine class -> role class
        self.role_atoms: list[list[frozenset[int]]] = []
        self.role_family: list[np.ndarray] = []
        self.role_atom_classes: list[dict[int, np.ndarray]] = []
        for sides in role_sides:
            wanted: set[int] = set()
            seen: set[int] = set()
            for side in sides:
                if id(side) not in seen:
                    seen.add(id(side))
                    wanted |= self._side_atoms(side)
            ids: dict[tuple[int, frozenset[int]], int] = {}
            atoms_of: list[frozenset[int]] = []
            family_of: list[int] = []
            mapping = np.empty(len(self.class_atoms), np.int32)
            for cid, atoms in enumerate(self.class_atoms):
                key = (int(self.class_family[cid]), atoms & wanted if wanted else frozenset())
                rid = ids.get(key)
                if rid is None:
                    rid = ids[key] = len(atoms_of)
                    atoms_of.append(key[1])
                    family_of.append(key[0])
                mapping[cid] = rid
            members: dict[int, list[int]] = {}
            for rid, atoms in enumerate(atoms_of):
                for atom in atoms:
                    members.setdefault(atom, []).append(rid)
            self.role_of.append(mapping)
            self.role_atoms.append(atoms_of)
            self.role_family.append(np.array(family_of, np.int8))
            self.role_atom_classes.append({a: np.array(m, np.int64) for a, m in members.items()})

    # -- rule sides over address classes ------------------------------------------------

    def _port_set_id(self, value: Any) -> int:
        found = self._port_sets.get(value)
        if found is None:
            found = self._port_sets[value] = len(self._port_set_list)
            self._port_set_list.append(value)
        return found

    def _side_row(self, side: EntityMatch, role: int) -> np.ndarray:
        """Per class of ``role``: 0 no match, 1 match, 2+k match with port-set k (named
        ports or service ports resolved at that address)."""
        key = id(side) * 4 + role
        row = self._side_rows.get(key)
        if row is not None:
            return row
        self._keep.append(side)
        destination = role in (1, 3)
        classes_of = self.role_atom_classes[role]
        class_atoms = self.role_atoms[role]
        n = len(class_atoms)
        ok = np.ones(n, np.bool_)

        def any_atom(keys: Iterable[Any]) -> np.ndarray:
            hit = np.zeros(n, np.bool_)
            for k in keys:
                atom = self.atoms.get(k)
                if atom is not None and atom in classes_of:
                    hit[classes_of[atom]] = True
            return hit

        if side.nets:
            ok &= any_atom(("net", _cidr(net)) for net in side.nets)
        if side.not_nets:
            ok &= ~any_atom(("net", _cidr(net)) for net in side.not_nets)
        if side.selector is not None:
            ok &= any_atom([("sel", side.selector)])
        if side.not_selector is not None:
            ok &= ~any_atom([("sel", side.not_selector)])
        svc_pairs: frozenset[tuple[int, int]] | None = None
        if side.services is not None:
            svc_key = (side.services.namespace, side.services.name)
            ok &= any_atom([("svc", svc_key)])
            if destination:
                found = [s for s in self.ps.services if (s.namespace, s.name) == svc_key]
                svc_pairs = frozenset(found[0].ports) if found else frozenset()
        named = [p.name for p in side.ports if isinstance(p, NamedPort)]
        not_named = [p.name for p in side.not_ports if isinstance(p, NamedPort)]
        row = ok.astype(np.int32)
        if named or not_named or svc_pairs is not None:
            wanted = set(named) | set(not_named)
            np_atoms = {
                aid: (k[1], k[3], k[4])
                for k, aid in self.atoms.items()
                if k[0] == "np" and k[1] in wanted and k[2] == side.selector
            }
            for cid in np.flatnonzero(ok):
                have = [np_atoms[a] for a in class_atoms[cid] if a in np_atoms]
                value = (
                    frozenset((pr, po) for nm, pr, po in have if nm in named),
                    frozenset((pr, po) for nm, pr, po in have if nm in not_named),
                    svc_pairs,
                )
                row[cid] = 2 + self._port_set_id(value)
        top = int(row.max()) if len(row) else 0
        if top < 127:
            row = row.astype(np.int8)
        # sides that test the same thing share one row (and so one feature)
        digest = hashlib.blake2b(row.tobytes(), digest_size=16).digest()
        row = self._rows_by_content.setdefault((role, row.dtype.str, digest), row)
        self._side_rows[key] = row
        self._row_top[id(row)] = top
        return row

    def _family_ok(self, rule: Rule) -> tuple[bool, bool]:
        found = self._families.get(id(rule))
        if found is not None:
            return found
        self._keep.append(rule)
        out = []
        for family in (4, 6):
            ok = rule.ip_version in (None, family)
            for nets in (rule.source.nets, rule.source.not_nets, rule.destination.nets, rule.destination.not_nets):
                if nets and not any(_cidr(n)[0] == family for n in nets):
                    ok = False
            out.append(ok)
        found = self._families[id(rule)] = (out[0], out[1])
        return found

    def _rule_keys(self, rule: Rule, src_val: int, dst_val: int) -> tuple[Intervals, Intervals | None]:
        """The keys the rule matches given its side values, and the source keys (see
        :func:`source_key`) when the rule has source ports (else None)."""
        cache_key = (id(rule), src_val, dst_val)
        cached = self._keys_cache.get(cache_key)
        if cached is not None:
            return cached
        source: Intervals | None = None
        src = rule.source
        if src.ports or src.not_ports:
            named_src = self._port_set_list[src_val - 2] if src_val >= 2 else (frozenset(), frozenset(), None)
            source = _ALL
            if src.ports:
                numeric = [p for p in src.ports if isinstance(p, PortRange)]
                source = _intersect(source, _union(_port_ranges_iv(numeric) + _named_iv(named_src[0], rule.protocol)))
            if src.not_ports:
                numeric = [p for p in src.not_ports if isinstance(p, PortRange)]
                source = _intersect(source, _complement(_union(_port_ranges_iv(numeric) + _named_iv(named_src[1], rule.protocol))))
        base = self._rule_base.get(id(rule))
        if base is None:
            base = self._rule_base[id(rule)] = _rule_base_iv(rule)
            self._keep.append(rule)
        iv = base
        dst = rule.destination
        named = self._port_set_list[dst_val - 2] if dst_val >= 2 else (frozenset(), frozenset(), None)
        if dst.ports:
            numeric = [p for p in dst.ports if isinstance(p, PortRange)]
            iv = _intersect(iv, _union(_port_ranges_iv(numeric) + _named_iv(named[0], rule.protocol)))
        if dst.not_ports:
            numeric = [p for p in dst.not_ports if isinstance(p, PortRange)]
            iv = _intersect(iv, _complement(_union(_port_ranges_iv(numeric) + _named_iv(named[1], rule.protocol))))
        if named[2] is not None:
            iv = _intersect(iv, _pairs_iv(named[2]))
        result = self._keys_cache[cache_key] = (iv, source)
        return result

    # -- directions ----------------------------------------------------------------------

    def _build_directions(self) -> None:
        out = self.out
        ep_labels = self.ep_labels
        # Which policies apply to each distinct endpoint label map, per direction.
        policies_by_label: list[list[int]] = [[] for _ in self._label_maps]
        for i, policy in enumerate(self.policies):
            for lid in self._matching(policy.selector).tolist():
                policies_by_label[lid].append(i)  # in policy order
        staged_hits = [self._matches(p.selector) for p in self.ps.staged_policies]
        self._columns = None  # label maps by name: not needed past this point
        self._label_ids = {}
        verdict_ref = np.zeros(len(self.endpoints), np.bool_)
        for eid, lid in enumerate(ep_labels):
            verdict_ref[eid] = any(hits[lid] for hits in staged_hits)
        out.verdict_by_reference = verdict_ref
        specs: list[list[tuple[int, np.ndarray]]] = []
        for d_index, direction in enumerate((Direction.EGRESS, Direction.INGRESS)):
            sigma_ids: dict[Any, int] = {}
            # A signature's tables are computed once per *relative* signature: its
            # profiles stand as slots (profile rules compared by content), and their names
            # are put into the outcomes last (:meth:`_concrete`). Namespaces whose profiles
            # say the same thing then share the work.
            relative_ids: dict[Any, int] = {}
            relatives: list[Any] = []
            sigma_relative: list[int] = []
            sigma_names: list[tuple[str, ...]] = []
            ep_sigma = np.full(len(self.endpoints), -1, np.int32)
            # workloads see only the normal layer: doNotTrack and preDNAT policies are for
            # host endpoints (§C.6), whose flows the reference decides
            in_direction = [
                p.rules(direction) is not None and not p.do_not_track and not p.pre_dnat for p in self.policies
            ]
            for eid, endpoint in enumerate(self.endpoints):
                if endpoint.is_host:
                    continue
                profiles = self.ep_profiles[eid]
                lid = ep_labels[eid]
                applying = tuple(i for i in policies_by_label[lid] if in_direction[i])
                key = (applying, profiles)
                sid = sigma_ids.get(key)
                if sid is None:
                    sid = sigma_ids[key] = len(sigma_relative)
                    present = [(name, profile) for name, profile in profiles if profile is not None]
                    slots = tuple(profile.rules(direction) for _, profile in present)
                    relative = (applying, tuple(tuple(self._rule_id(rule) for rule in rules) for rules in slots))
                    rid = relative_ids.setdefault(relative, len(relative_ids))
                    if rid == len(relatives):
                        relatives.append((applying, slots))
                    sigma_relative.append(rid)
                    sigma_names.append(tuple(name for name, _ in present))
                ep_sigma[eid] = sid
            local_ids: dict[tuple[int, int], int] = {}
            local_role = self.role_of[0 if d_index == 0 else 3]
            # first the local classes (signature, local-role class) of every address
            wanted: dict[tuple[int, int], int] = {}  # local class -> a fine class of it
            for family in (4, 6):
                starts, classes, owners = self.per_family[family]
                local = np.full(len(starts), LOCAL_EXTERNAL, np.int32)
                for idx, (cid, owner) in enumerate(zip(classes, owners)):
                    if owner == -1:
                        continue
                    if owner < 0 or ep_sigma[owner] < 0:
                        local[idx] = LOCAL_FALLBACK
                        continue
                    pair = (int(ep_sigma[owner]), int(local_role[cid]))
                    lid = local_ids.get(pair)
                    if lid is None:
                        lid = local_ids[pair] = len(local_ids)
                        wanted[pair] = cid
                    local[idx] = lid
                if family == 4:
                    if d_index == 0:
                        out.v4_local = np.zeros((2, len(starts)), np.int32)
                    out.v4_local[d_index] = local
                else:
                    if d_index == 0:
                        out.v6_local = np.zeros((2, len(starts)), np.int32)
                    out.v6_local[d_index] = local
            # then their lookups, one signature at a time (its rule list is then dropped)
            rows: list[Any] = [None] * len(local_ids)
            by_relative: dict[int, list[tuple[int, int, int]]] = {}
            for (sid, rcid), lid in local_ids.items():
                by_relative.setdefault(sigma_relative[sid], []).append((lid, rcid, sid))
            for rid, members in by_relative.items():
                rules = self._sigma_rules(relatives[rid], direction)
                self._structures.clear()
                self._ident_lists.clear()
                done: dict[int, tuple[int, list[int]]] = {}
                for lid, rcid, sid in members:
                    computed = done.get(rcid)
                    if computed is None:
                        computed = done[rcid] = self._cell_row(rules, wanted[(sid, rcid)], direction)
                    names = sigma_names[sid]
                    rows[lid] = (computed[0], np.array([self._concrete(t, names) for t in computed[1]], np.int32))
            specs.append(rows)
        self._table_memo.clear()
        # address arrays
        out.n_peer = (len(self.role_atoms[1]), len(self.role_atoms[2]))
        # local classes: egress ones first, then ingress ones (one id space)
        n_egress = len(specs[0])
        for both in (out.v4_local, out.v6_local):
            both[1] = np.where(both[1] >= 0, both[1] + n_egress, both[1])
        every = specs[0] + specs[1]
        out.n_local = (n_egress, len(specs[1]))
        out.loc_row = np.array([row for row, _ in every], np.int64)
        out.loc_groups = np.array([len(tables) for _, tables in every], np.int32)
        # local classes that share a row usually share its tables too: store them once
        group_offsets: dict[bytes, int] = {}
        parts: list[np.ndarray] = []
        loc_tab = np.zeros(len(every), np.int32)
        size = 0
        for lid, (_, tables) in enumerate(every):
            found = group_offsets.get(tables.tobytes())
            if found is None:
                found = group_offsets[tables.tobytes()] = size
                parts.append(tables)
                size += len(tables)
            loc_tab[lid] = found
        out.loc_tab = loc_tab
        out.groups = np.concatenate([np.zeros(0, np.int32), *parts]).astype(np.int32)
        del every, specs, parts, group_offsets
        out.rows8 = np.concatenate([np.zeros(0, np.uint8), *self._rows8])
        out.rows16 = np.concatenate([np.zeros(0, np.uint16), *self._rows16])
        self._rows8.clear()
        self._rows16.clear()
        self._row_ids.clear()
        s4, c4, o4 = self.per_family[4]
        out.v4_starts = np.array(s4, np.uint32)
        out.v4_peer = np.stack([self.role_of[1][c4], self.role_of[2][c4]]).astype(np.int32)
        out.v4_endpoint = np.array(o4, np.int32)
        s6, c6, o6 = self.per_family[6]
        out.v6_starts = list(s6)
        out.v6_peer = np.stack([self.role_of[1][c6], self.role_of[2][c6]]).astype(np.int32).reshape(2, len(c6))
        out.v6_endpoint = np.array(o6, np.int32)
        _build_hash(out)

    def _sigma_rules(self, sigma: Any, direction: Direction) -> list[tuple[Any, ...]]:
        """The ordered entries of a relative signature (see :meth:`_build_directions`):
        (layer, rule, tier, owner, index), where a profile's owner is its slot number; a
        ("tier-end", None, tier, None, None) entry closes each participating tier."""
        applying, slots = sigma
        rules: list[tuple[Any, ...]] = []
        for n, i in enumerate(applying):
            policy = self.policies[i]
            for r_index, rule in enumerate(policy.rules(direction) or ()):
                rules.append(("policy", rule, policy.tier, i, r_index))
            if n + 1 == len(applying) or self.policies[applying[n + 1]].tier != policy.tier:
                rules.append(("tier-end", None, policy.tier, None, None))
        for slot, profile_rules in enumerate(slots):
            for r_index, rule in enumerate(profile_rules):
                rules.append(("profile", rule, None, slot, r_index))
            rules.append(("profile-end", None, None, slot, None))
        return rules

    def _cell_row(
        self, rules: list[tuple[Any, ...]], cid: int, direction: Direction
    ) -> tuple[int, list[int]]:
        """How a local class (endpoint signature and address class) finds its table for
        each peer class: (row id, group tables), see :meth:`_row_id`. Peers are first
        grouped by the values of the live rules' peer sides (bit patterns when every
        value is 0/1), each distinct value set gets its table, and peers reaching the
        same table share a group."""
        egress = direction is Direction.EGRESS
        family = int(self.class_family[cid])
        local_role, peer_role = (0, 1) if egress else (3, 2)
        rcid = int(self.role_of[local_role][cid])
        live: list[tuple[int, int, np.ndarray, int]] = []
        infos = self._live_info
        for pos, (_, rule, _, _, _) in enumerate(rules):
            if rule is None:
                continue
            info = infos.get((id(rule), egress))
            if info is None:
                info = self._rule_info(rule, egress)
            fam4, fam6, lrow, prow, top = info
            if top == 0 or not (fam4 if family == 4 else fam6):
                continue  # matches no peer, or not this family
            lval = int(lrow[rcid])
            if lval == 0:
                continue
            live.append((pos, lval, prow, top))
        idents = self._idents(rules)
        first, inverse = self._peer_groups(live, len(self.role_atoms[peer_role]))
        structure = self._structure(rules)
        if live:
            peer_values = np.stack([prow[first] for _, _, prow, _ in live]).T.tolist()
        else:
            peer_values = [[] for _ in range(len(first))]
        # peers that reach the same table form one group, numbered by first peer: local
        # classes that split their peers alike share one row
        # live entries and tier/profile ends in rule order: (position, live index or -1)
        merged = sorted([(pos, n) for n, (pos, _, _, _) in enumerate(live)] + [(pos, -1) for pos in structure])
        group_of: dict[int, int] = {}
        labels: list[int] = []
        for values in peer_values:
            tid = self._table(rules, idents, merged, live, values, direction, egress)
            labels.append(group_of.setdefault(tid, len(group_of)))
        row = np.array(labels, np.int32)[inverse]
        return self._row_id(row, len(group_of)), list(group_of)

    def _peer_groups(self, live: list[tuple[int, int, np.ndarray, int]], n: int) -> tuple[np.ndarray, np.ndarray]:
        """Peer classes grouped by the values of the live rules' peer sides: for each
        group (in order of its first peer) its first peer, and each peer's group."""
        features: dict[int, np.ndarray] = {}
        for _, _, prow, _ in live:
            features.setdefault(id(prow), prow)
        if all(top == 1 for _, _, _, top in live) and len(features) <= MAX_FEATURES:
            if features:
                stacked = np.stack(list(features.values())).astype(np.int64)
                group = (stacked << np.arange(len(features), dtype=np.int64)[:, None]).sum(axis=0)
            else:
                group = np.zeros(n, np.int64)
        else:
            group = np.zeros(n, np.int64)
            span = 1
            for _, _, prow, top in live:
                if span * (top + 1) >= (1 << 62):
                    _, group = np.unique(group, return_inverse=True)
                    group = group.reshape(-1).astype(np.int64)
                    span = int(group.max()) + 1 if n else 1
                group = group * (top + 1) + prow
                span *= top + 1
        _, first, inverse = np.unique(group, return_index=True, return_inverse=True)
        order = np.argsort(first)  # groups renumbered by first peer
        rank = np.empty(len(order), np.int32)
        rank[order] = np.arange(len(order), dtype=np.int32)
        return first[order], rank[inverse.reshape(-1)]

    def _row_id(self, row: np.ndarray, n_groups: int) -> int:
        """The offset of ``row`` (group per peer class) in the shared row store, stored
        once per content: >= 0 into the 8-bit rows, < 0 (``-1 - offset``) into the 16-bit ones."""
        wide = n_groups > 256
        row = row.astype(np.uint16 if wide else np.uint8)
        key = (wide, row.tobytes())
        found = self._row_ids.get(key)
        if found is None:
            store = self._rows16 if wide else self._rows8
            offset = self._rows_len[wide]
            self._rows_len[wide] += len(row)
            store.append(row)
            found = self._row_ids[key] = -1 - offset if wide else offset
        return found

    def _rule_id(self, rule: Rule) -> int:
        """A number per distinct rule content (rules are hashed once per object)."""
        found = self._rule_ids.get(id(rule))
        if found is None:
            found = self._rule_ids[id(rule)] = self._rule_contents.setdefault(rule, len(self._rule_contents))
            self._keep.append(rule)  # its id stays its own
        return found

    def _idents(self, rules: list[tuple[Any, ...]]) -> list[Any]:
        """Per entry of a signature, a key naming it across signatures (cached like
        :meth:`_structure`): a policy rule by (policy, rule index), a profile rule by
        (slot, rule index, the rule's content), a tier end by its tier, a profile end by
        its slot."""
        found = self._ident_lists.get(id(rules))
        if found is None:
            found = []
            shared = self._ident_shared
            for layer, rule, tier_name, owner, r_index in rules:
                if layer == "policy":
                    ident: Any = ("r", owner, r_index)
                elif layer == "profile":
                    ident = ("p", owner, r_index, self._rule_id(rule))
                elif layer == "tier-end":
                    ident = ("T", tier_name)
                else:
                    ident = ("P", owner)
                found.append(shared.setdefault(ident, len(shared)))  # a small int per entry
            self._ident_lists[id(rules)] = found
        return found

    def _rule_info(self, rule: Rule, egress: bool) -> tuple[bool, bool, np.ndarray, np.ndarray, int]:
        """(IPv4 ok, IPv6 ok, local side row, peer side row, top of the peer row) of a
        rule in a direction (cached)."""
        local_role, peer_role = (0, 1) if egress else (3, 2)
        fam4, fam6 = self._family_ok(rule)
        lrow = self._side_row(rule.source if egress else rule.destination, local_role)
        prow = self._side_row(rule.destination if egress else rule.source, peer_role)
        info = self._live_info[(id(rule), egress)] = (fam4, fam6, lrow, prow, self._row_top[id(prow)])
        return info

    def _table(
        self, rules: list[tuple[Any, ...]], idents: list[Any], merged: list[tuple[int, int]],
        live: list[tuple[int, int, np.ndarray, int]], values: list[int], direction: Direction, egress: bool,
    ) -> int:
        """The table of the peers whose live entries take ``values`` (peer side values)."""
        # The table depends only on the entries that match these peers and the structure
        # around them, up to the first end of a tier that denies by default with no Pass
        # rule matching before it: nothing reaches past it (every key is decided there).
        parts: list[Any] = []
        kept: list[tuple[int, int, int]] = []
        pass_seen = False
        for pos, n in merged:
            if n >= 0:
                pval = values[n]
                if pval == 0:
                    continue
                lval = live[n][1]
                parts.append((idents[pos], lval, pval))
                kept.append((pos, lval, pval))
                if rules[pos][1].action is Action.PASS:
                    pass_seen = True
                continue
            parts.append(idents[pos])
            entry = rules[pos]
            if entry[0] == "tier-end":
                if self.tiers[entry[2]].default_action is not Action.PASS and not pass_seen:
                    break
                pass_seen = False
        memo_key = (direction, tuple(parts))
        found = self._table_memo.get(memo_key)
        if found is not None:
            return found
        found = self._table_memo[memo_key] = self._table_uncached(rules, tuple(kept), direction, egress)
        return found

    def _table_uncached(self, rules: list[tuple[Any, ...]], column: tuple[tuple[int, int, int], ...], direction: Direction, egress: bool) -> int:
        keysets: list[tuple[int, Intervals]] = []
        sources: dict[int, Intervals] = {}
        for pos, lval, pval in column:
            rule = rules[pos][1]
            src_val, dst_val = (lval, pval) if egress else (pval, lval)
            iv, source = self._rule_keys(rule, src_val, dst_val)
            if iv and source != []:
                keysets.append((pos, iv))
                if source is not None:
                    sources[pos] = source
        if not sources:
            table = self._evaluate_table(rules, keysets, direction)
        else:
            table = self._two_level(rules, keysets, sources, direction)
        return self._intern_table(table)

    def _intern_table(self, table: tuple[tuple[int, ...], tuple[int, ...]]) -> int:
        tid = self._tables.get(table)  # type: ignore[arg-type]
        if tid is None:
            tid = self._tables[table] = len(self._table_list)  # type: ignore[index]
            self._table_list.append(table)
        return tid

    def _two_level(
        self, rules: list[tuple[Any, ...]], keysets: list[tuple[int, Intervals]], sources: dict[int, Intervals], direction: Direction
    ) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """A table whose rules also test source ports: per key interval, either an
        outcome or ``-3 - t``, where table ``t`` is looked up with the source key."""
        points = sorted({0, *(a for _, iv in keysets for a, _ in iv), *(b for _, iv in keysets for _, b in iv)} - {KEY_LIMIT})
        ends = points[1:] + [KEY_LIMIT]
        starts: list[int] = []
        values: list[int] = []
        for lo, hi in zip(points, ends):
            here = [(pos, sources.get(pos, _ALL)) for pos, iv in keysets if _intersect(iv, [(lo, hi)])]
            inner = self._evaluate_table(rules, here, direction)
            value = inner[1][0] if len(inner[1]) == 1 else -3 - self._intern_table(inner)
            if not values or values[-1] != value:
                starts.append(lo)
                values.append(value)
        return tuple(starts), tuple(values)

    def _outcome(self, direction: Direction, decision: tuple[Any, ...], logged: tuple[tuple[Any, ...], ...]) -> int:
        """The id of an outcome *template*: (Decision, logged RuleRefs) given as light
        tuples, ("rule", tier, policy index, rule, action), ("end", tier), ("profile",
        slot, rule, action), ("none",); logs as (tier, policy index, None, rule) /
        (None, None, slot, rule). :meth:`_concrete` names the slots."""
        key = (direction, decision, logged)
        found = self._template_ids.get(key)
        if found is None:
            found = self._template_ids[key] = len(self._templates)
            self._templates.append(key)
            self._template_slotted.append(decision[0] == "profile" or any(ref[2] is not None for ref in logged))
        return found

    def _concrete(self, tid: int, names: tuple[str, ...]) -> int:
        """The concrete table of relative table ``tid`` for profile slots ``names``."""
        slotted = self._table_slotted(tid)
        key = (tid, names if slotted else ())
        found = self._concrete_ids.get(key)
        if found is None:
            starts, values = self._table_list[tid]
            made = []
            for v in values:
                if v <= -3:
                    made.append(-3 - self._concrete(-3 - v, names))
                elif v >= 0:
                    made.append(self._named_outcome(v, names) if self._template_slotted[v] else self._named_outcome(v, ()))
                else:
                    made.append(v)
            table = (starts, tuple(made))
            found = self._ctables.get(table)  # type: ignore[arg-type]
            if found is None:
                found = self._ctables[table] = len(self._ctable_list)  # type: ignore[index]
                self._ctable_list.append(table)
            self._concrete_ids[key] = found
        return found

    def _table_slotted(self, tid: int) -> bool:
        """Whether a relative table's outcomes name a profile slot."""
        found = self._slotted.get(tid)
        if found is None:
            found = self._slotted[tid] = any(
                self._table_slotted(-3 - v) if v <= -3 else v >= 0 and self._template_slotted[v]
                for v in self._table_list[tid][1]
            )
        return found

    def _named_outcome(self, template: int, names: tuple[str, ...]) -> int:
        """The concrete outcome id of a template, its slots named."""
        direction, decision, logged = self._templates[template]
        if decision[0] == "profile":
            decision = ("profile", names[decision[1]], *decision[2:])
        logged = tuple((t, p, names[slot] if slot is not None else None, r) for t, p, slot, r in logged)
        key = (direction, decision, logged)
        found = self._outcomes.get(key)
        if found is None:
            kind = decision[0]
            if kind == "rule":
                made = Decision(direction, decision[4], Reason.RULE, decision[1], self.policies[decision[2]].ref, decision[3])
            elif kind == "end":
                made = Decision(direction, Action.DENY, Reason.END_OF_TIER, decision[1])
            elif kind == "profile":
                made = Decision(direction, decision[3], Reason.PROFILE, profile=decision[1], rule=decision[2])
            else:
                made = Decision(direction, Action.DENY, Reason.NO_PROFILE_MATCH)
            refs = tuple(
                RuleRef(direction, tier, self.policies[pidx].ref if pidx is not None else None, profile, number)
                for tier, pidx, profile, number in logged
            )
            found = self._outcomes[key] = len(self.out.outcomes)
            self.out.outcomes.append((made, refs))
        return found

    def _structure(self, rules: list[tuple[Any, ...]]) -> list[int]:
        """Positions of the tier-end and profile-end entries of a signature (cached)."""
        found = self._structures.get(id(rules))
        if found is None:
            found = self._structures[id(rules)] = [
                pos for pos, entry in enumerate(rules) if entry[0] in ("tier-end", "profile-end")
            ]
        return found

    def _evaluate_table(
        self, rules: list[tuple[Any, ...]], keysets: list[tuple[int, Intervals]], direction: Direction
    ) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """Runs §C.3 on every key interval at once (bit i = elementary interval i)."""
        points = sorted({0, *(a for _, iv in keysets for a, _ in iv), *(b for _, iv in keysets for _, b in iv)} - {KEY_LIMIT})
        index = {p: i for i, p in enumerate(points)}
        index[KEY_LIMIT] = len(points)
        member: dict[int, int] = {}
        for pos, iv in keysets:
            mask = 0
            for a, b in iv:
                i, j = index[a], index[b]
                mask |= ((1 << (j - i)) - 1) << i
            member[pos] = mask
        full = (1 << len(points)) - 1
        decided: list[tuple[int, tuple[Any, ...]]] = []
        logs: dict[int, list[tuple[Any, ...]]] = {}

        def log(hit: int, ref: tuple[Any, ...]) -> None:
            while hit:
                low = hit & -hit
                logs.setdefault(low.bit_length() - 1, []).append(ref)
                hit ^= low

        active, passed = full, 0
        for pos in sorted([*member, *self._structure(rules)]):
            layer, rule, tier_name, owner, r_index = rules[pos]
            if layer == "profile-end":
                active |= passed
                passed = 0
                continue
            if layer == "tier-end":
                if self.tiers[tier_name].default_action is Action.PASS:
                    active |= passed
                else:
                    if active:
                        decided.append((active, ("end", tier_name)))
                    active = passed
                passed = 0
                continue
            hit = member[pos] & active
            if not hit:
                continue
            action = rule.action
            if action is Action.LOG:
                log(hit, (tier_name, owner, None, r_index) if layer == "policy" else (None, None, owner, r_index))
            elif action is Action.PASS:  # policy: leave the tier; profile: go to the next profile
                passed |= hit
                active &= ~hit
            else:
                if layer == "policy":
                    decided.append((hit, ("rule", tier_name, owner, r_index, action)))
                else:
                    decided.append((hit, ("profile", owner, r_index, action)))
                active &= ~hit
        if active:
            decided.append((active, ("none",)))
        outs = [0] * len(points)
        for mask, decision in decided:
            if not logs:
                oid = self._outcome(direction, decision, ())
            while mask:
                low = mask & -mask
                i = low.bit_length() - 1
                outs[i] = oid if not logs else self._outcome(direction, decision, tuple(logs.get(i, ())))
                mask ^= low
        starts: list[int] = []
        values: list[int] = []
        for p, o in zip(points, outs):
            if not values or values[-1] != o:
                starts.append(p)
                values.append(o)
        return tuple(starts), tuple(values)

    def _finish_tables(self) -> None:
        """Lays the tables out densely over key classes: the primary ones (which groups
        name) over the keys where any of them changes, the secondary ones (source-port
        tables) over the source keys where any of them changes."""
        out = self.out
        tables = self._ctable_list
        primary = sorted(set(out.groups.tolist()))
        secondary = sorted({-3 - v for t in primary for v in tables[t][1] if v <= -3})
        p_index = np.full(len(tables), -1, np.int32)
        p_index[primary] = np.arange(len(primary), dtype=np.int32)
        s_index = {t: n for n, t in enumerate(secondary)}
        out.groups = p_index[out.groups]
        out.out_allow = np.array([d.action is Action.ALLOW for d, _ in out.outcomes], np.uint8)
        for ids, remap, attr, starts_attr in ((primary, s_index, "tables", "key_starts"), (secondary, None, "stables", "skey_starts")):
            starts = np.array(sorted({0, *(k for t in ids for k in tables[t][0])}), np.uint32)
            if len(ids) * len(starts) > MAX_TABLE_CELLS:
                raise TooLarge(f"{len(ids)} tables over {len(starts)} key classes")
            dense = np.empty((len(ids), len(starts)), np.int32)
            for n, t in enumerate(ids):
                keys, values = tables[t]
                if remap is not None:
                    values = tuple(-3 - remap[-3 - v] if v <= -3 else v for v in values)
                at = np.searchsorted(np.array(keys, np.uint32), starts, side="right") - 1
                dense[n] = np.array(values, np.int32)[at]
            setattr(out, attr, dense.reshape(-1))
            setattr(out, starts_attr, starts)
        self._table_list, self._ctable_list = [], []
        self._tables, self._ctables, self._concrete_ids = {}, {}, {}


class TooLarge(Exception):
    """The dense tables would exceed :data:`MAX_TABLE_CELLS`; the reference decides."""


def _named_iv(pairs: frozenset[tuple[int, int]], protocol: int | None) -> Intervals:
    """Keys of resolved named ports, filtered by the rule's protocol (§F.1: UDP and SCTP
    as such, any other given protocol as TCP, none: the declared protocol)."""
    if protocol is None:
        chosen = pairs
    else:
        want = protocol if protocol in (17, 132) else 6
        chosen = frozenset(p for p in pairs if p[0] == want)
    return _pairs_iv(chosen)


def key_class_map(starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A direct map from flow keys to key classes (``starts`` sorted, ``starts[0] == 0``):
    per protocol ``p``, ``(offset, last)`` with ``last`` the highest position in the
    protocol's block where a class starts, and ``classes[offset + min(key & 0x1FFFF,
    last)]`` the class of a key of protocol ``p``. Classes above 65535 do not fit."""
    if len(starts) > 1 << 16:
        raise TooLarge(f"{len(starts)} key classes")
    starts = np.asarray(starts, np.int64)
    blocks = starts >> KEY_BITS
    layout = np.zeros((256, 2), np.int64)  # [offset, last]
    parts = []
    size = 0
    for protocol in range(256):
        inside = starts[blocks == protocol] - (protocol << KEY_BITS)
        last = int(inside.max()) if len(inside) else 0
        keys = (protocol << KEY_BITS) + np.arange(last + 1, dtype=np.int64)
        parts.append(np.searchsorted(starts, keys, side="right") - 1)
        layout[protocol] = (size, last)
        size += last + 1
    return layout, np.concatenate(parts).astype(np.uint16)


def _build_hash(out: Compiled) -> None:
    """Open-addressing hash (multiplicative, linear probing) of point intervals, IPv4."""
    starts = out.v4_starts
    ends = np.append(starts[1:].astype(np.int64), 1 << 32)
    points = np.flatnonzero((ends - starts.astype(np.int64)) == 1)
    size = 1
    while size < 2 * max(len(points), 1):
        size <<= 1
    shift = 32 - size.bit_length() + 1
    keys = np.zeros(size, np.uint32)
    vals = np.full(size, -1, np.int32)
    mask = size - 1
    for idx in points.tolist():
        ip = int(starts[idx])
        h = ((ip * 2654435761) & 0xFFFFFFFF) >> shift if shift < 32 else 0
        while vals[h] != -1:
            h = (h + 1) & mask
        keys[h] = ip
        vals[h] = idx
    out.hash_keys = keys
    out.hash_vals = vals
    out.hash_shift = shift


def compile_policyset(ps: PolicySet) -> Compiled:
    """Compiles ``ps`` into tables (see the module docstring). Tables that would grow
    past :data:`MAX_TABLE_CELLS` are not built: every flow then goes to the reference."""
    try:
        return _Compiler(ps).run()
    except TooLarge:
        out = Compiled()
        out.endpoints = ps.endpoints
        out.endpoint_ids = {e.key: i for i, e in enumerate(ps.endpoints) if e.name}
        out.all_fallback = True
        out.verdict_by_reference = np.ones(len(ps.endpoints), np.bool_)
        return out
