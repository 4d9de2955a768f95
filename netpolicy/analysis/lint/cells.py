"""Which rules decide some flow, and which Log rules some flow passes, read off the
compiled tables.

A rule *decides* a flow when it is the first rule (honouring tiers, policy order and the
name tie-break, Pass and the rules before it) whose match the flow meets. Every flow of
the input (between two of its endpoints, or between an endpoint and an address no
endpoint owns) falls in one cell of the tables: the local class of the policed
endpoint, the peer class of the other side, and the key class of its protocol and port.
So the rules that decide some flow are exactly the decisions of the cells that hold a
flow, read a table at a time: for each direction and IP family, every pair of a local
class and a peer class that some endpoint and some peer occupy, restricted to the keys
a packet of that family can carry. Cells the tables leave to the reference evaluator
are decided by it, one flow per key class (see :mod:`..fallback`). Nothing is sampled.

The tables record the deciding rule and the Log rules passed, not the Pass rules a
flow meets: the tables read are those of the policy set with a Log copy of each Pass
rule just before it (:func:`mark_passes`), which logs exactly the flows that meet the
Pass rule and changes no verdict.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable

import attrs
import numpy as np

from ...compile import FALLBACK, NONE
from ...compile.keys import KEY_BITS, KEY_LIMIT, Intervals, intersect, union
from ...errors import PolicyError
from ...flow import Flow
from ...model import Action, Direction, Endpoint, Rule
from ...reference import evaluate as reference_evaluate
from ...model import PolicyRef
from ...verdict import Decision, Reason, RuleRef
from ..fallback import FlowSide
from ..keyspace import first_real_key, key_fields, protocol_keys, real_keys, real_source_keys
from ..places import address_of
from ..reach import Reach

if TYPE_CHECKING:
    from ...resolve import Snapshot

__all__ = ["RuleKey", "Reached", "Marked", "Sample", "reached", "rule_key", "mark_passes"]

#: a policy rule: (policy, direction, index among the direction's rules)
RuleKey = tuple[PolicyRef, Direction, int]

_DIRECTIONS = (Direction.EGRESS, Direction.INGRESS)


def rule_key(ref: RuleRef | Decision) -> RuleKey | None:
    """The policy rule a decision or a logged rule names (None: a profile's, or no rule)."""
    if isinstance(ref, Decision):
        if ref.reason != Reason.RULE or ref.policy is None or ref.rule is None:
            return None
        return ref.policy, ref.direction, ref.rule
    if ref.policy is None:
        return None
    return ref.policy, ref.direction, ref.rule


@attrs.define
class Reached:
    """The policy rules that decide some flow (``decided``, with a count of the cells
    they decide) and the Log rules some flow passes (``logged``)."""

    decided: dict[RuleKey, int] = attrs.field(factory=dict)
    logged: set[RuleKey] = attrs.field(factory=set)
    evaluated: int = 0  #: flows the reference evaluator decided
    #: Log rules whose traffic the end of their own tier denied: (tier, direction, Log rules)
    log_drops: set[tuple[str, Direction, tuple[RuleKey, ...]]] = attrs.field(factory=set)
    #: (a Log rule, the rule of its policy that decided after it) in some flow
    log_then: set[tuple[RuleKey, RuleKey]] = attrs.field(factory=set)
    #: per deciding rule, flows of some cells it decides (from the tables)
    samples: dict[RuleKey, list["Sample"]] = attrs.field(factory=dict)

    def add(self, decision: Decision | None, logged: Iterable[RuleRef], cells: int = 1) -> None:
        logged = tuple(logged)
        if decision is not None and decision.reason == Reason.END_OF_TIER and decision.tier is not None:
            mine = tuple(k for ref in logged if ref.tier == decision.tier for k in [rule_key(ref)] if k is not None)
            if mine:
                self.log_drops.add((decision.tier, decision.direction, mine))
        if decision is not None:
            key = rule_key(decision)
            if key is not None:
                self.decided[key] = self.decided.get(key, 0) + cells
                for ref in logged:
                    if ref.policy == key[0]:
                        self.log_then.add(((ref.policy, ref.direction, ref.rule), key))
        for ref in logged:
            key = rule_key(ref)
            if key is not None:
                self.logged.add(key)


_NOT_ICMPV6: Intervals = intersect(real_keys(), [(0, 58 << KEY_BITS), (59 << KEY_BITS, KEY_LIMIT)])
_ICMPV6_ONLY: Intervals = intersect(real_keys(), protocol_keys(58))
_NOT_ICMP: Intervals = intersect(real_keys(), [(0, 1 << KEY_BITS), (2 << KEY_BITS, KEY_LIMIT)])
_KINDS = ("v4", "v6", "v6all")
_CHUNK = 1 << 21  # pairs of classes read at once
_SAMPLES = 8  # flows kept per outcome (see samples)
_KEY_LISTS = {"v4": _NOT_ICMPV6, "v6": _ICMPV6_ONLY, "v6all": _NOT_ICMP}
#: a flow of a cell: (0 egress or 1 ingress, the policed endpoint, the other side, the flow
#: key, the source port where the cell is one of source ports)
Sample = tuple[int, Endpoint, FlowSide, int, "int | None"]
_SOURCE: Intervals = union([iv for protocol in range(256) for iv in real_source_keys(protocol)])


class _Sides:
    """The local classes and peer classes one direction and family holds, with an
    endpoint in each (None: the class holds only external addresses) and whether some
    member has no address of the other family."""

    def __init__(self) -> None:
        self.local: dict[int, list[Endpoint]] = {}
        self.peer: dict[int, list[FlowSide]] = {}
        self.local_single: set[int] = set()  # classes with a member of this family only
        self.peer_single: set[int] = set()


def _key_mask(starts: np.ndarray, keys: Intervals) -> np.ndarray:
    ends = np.append(starts[1:], KEY_LIMIT)
    mask = np.zeros(len(starts), np.bool_)
    for lo, hi in keys:
        mask |= (starts < hi) & (ends > lo)
    return mask


class _Collector:
    def __init__(self, ps: Snapshot) -> None:
        self.ps = ps
        self.reach = Reach(ps)
        c = self.reach.compiled
        self.c = c
        self.found = Reached()
        self._nk = len(c.key_starts)
        self._starts = c.key_starts.astype(np.int64)
        self._masks = {kind: _key_mask(self._starts, keys) for kind, keys in
                       (("v4", _NOT_ICMPV6), ("v6", _ICMPV6_ONLY), ("v6all", _NOT_ICMP))}
        self._smask = _key_mask(c.skey_starts.astype(np.int64), _SOURCE)
        self._outcomes: dict[int, int] = {}
        self.samples: dict[int, list[Sample]] = {}  #: per outcome, flows of cells it decides

    def run(self) -> Reached:
        undecided = []
        sides = {(d, f): _Sides() for d in range(2) for f in (4, 6)}
        for endpoint in self.ps.endpoints:
            place = self.reach.place(endpoint)
            if not place.decided:
                undecided.append(endpoint)
                continue
            for spot in place.spots:
                for d in range(2):
                    s = sides[d, spot.family]
                    s.local.setdefault(spot.local[d], []).append(endpoint)
                    s.peer.setdefault(spot.peer[d], []).append(endpoint)
                    if len(place.families) == 1:
                        s.local_single.add(spot.local[d])
                        s.peer_single.add(spot.peer[d])
        for family in (4, 6):
            ext = self.reach.layout.externals(family)
            for n in range(len(ext.starts)):
                for d in range(2):
                    s = sides[d, family]
                    peer = int(ext.peer[d][n])
                    s.peer.setdefault(peer, []).append(address_of(family, ext.sample[n]))
                    s.peer_single.add(peer)
        for (d, family), s in sides.items():
            self._direction(d, family, s)
        for (decision, logged), cells in self._outcome_list():
            self.found.add(decision, logged, cells)
        if undecided:
            self._undecided(undecided)
        return self.found

    def _outcome_list(self) -> list[tuple[tuple[Decision, tuple[RuleRef, ...]], int]]:
        return [(self.c.outcomes[o], n) for o, n in self._outcomes.items()]

    def _direction(self, d: int, family: int, s: _Sides) -> None:
        all_locs = np.array(sorted(l for l in s.local if l >= 0), np.int64)
        peers = np.array(sorted(s.peer), np.int64)
        if not len(all_locs) or not len(peers):
            return
        column = {p: n for n, p in enumerate(peers.tolist())}
        single_l = np.array(sorted(s.local_single), np.int64)
        single_p = np.isin(peers, np.array(sorted(s.peer_single), np.int64))
        alone_peer = {id(members[0]): p for p, members in s.peer.items() if len(members) == 1}
        seen: set[int] = set()
        step = max(1, _CHUNK // len(peers))
        for start in range(0, len(all_locs), step):  # a bounded number of pairs at a time
            locs = all_locs[start : start + step]
            ll = np.repeat(locs, len(peers))
            pp = np.tile(peers, len(locs))
            tables = self.reach.reader.tables_at(ll, pp)
            if family == 4:
                kinds = np.zeros(len(ll), np.int64)
            else:
                kinds = np.where(np.isin(ll, single_l) | np.tile(single_p, len(locs)), 2, 1)
            # an endpoint alone in its local class and in its peer class: no flow but to itself
            keep = np.ones(len(ll), np.bool_)
            for n, l in enumerate(locs.tolist()):
                members = s.local[l]
                if len(members) == 1 and id(members[0]) in alone_peer:
                    keep[n * len(peers) + column[alone_peer[id(members[0])]]] = False
            combos = tables[keep] * 3 + kinds[keep]
            unique, first = np.unique(combos, return_index=True)
            kept_ll, kept_pp = ll[keep], pp[keep]
            for combo, at in zip(unique.tolist(), first.tolist()):
                table, kind = divmod(combo, 3)
                if table == NONE:
                    continue
                fallback = table == FALLBACK or self._has_fallback(table)
                if combo in seen and not fallback:
                    continue
                pairs = [(int(kept_ll[at]), int(kept_pp[at]))]
                if fallback:
                    where = np.flatnonzero(combos == combo).tolist()
                    pairs = [(int(kept_ll[k]), int(kept_pp[k])) for k in where]
                for n, (l, p) in enumerate(pairs):
                    sample = self._peer_sample(s.local[l], s.peer[p])
                    if sample is not None:
                        self._table(table, _KINDS[kind], d, sample, count=n == 0 and combo not in seen)
                seen.add(combo)

    def _has_fallback(self, table: int) -> bool:
        row = self.c.tables[table * self._nk : (table + 1) * self._nk]
        if (row == FALLBACK).any():
            return True
        ns = len(self.c.skey_starts)
        return any((self.c.stables[(-3 - v) * ns : (-2 - v) * ns] == FALLBACK).any() for v in set(row.tolist()) if v <= -3)

    @staticmethod
    def _peer_sample(members: list[Endpoint], peers: list[FlowSide]) -> tuple[Endpoint, FlowSide] | None:
        for endpoint in members[:2]:
            for peer in peers[:2]:
                if peer is not endpoint:
                    return endpoint, peer
        return None

    def _table(self, table: int, kind: str, d: int, sample: tuple[Endpoint, FlowSide], count: bool) -> None:
        mask = self._masks[kind]
        if table == FALLBACK:
            row = np.full(self._nk, FALLBACK, np.int64)
        else:
            row = self.c.tables[table * self._nk : (table + 1) * self._nk].astype(np.int64)
        values = row[mask]
        for value in np.unique(values).tolist():
            if value >= 0 and count:
                self._outcomes[value] = self._outcomes.get(value, 0) + int((values == value).sum())
                if len(self.samples.get(value, ())) < _SAMPLES:
                    self._sample(value, row, mask, kind, d, sample)
            elif value <= -3:
                ns = len(self.c.skey_starts)
                t = -3 - value
                full = self.c.stables[t * ns : (t + 1) * ns].astype(np.int64)
                srow = full[self._smask]
                for inner in np.unique(srow).tolist():
                    if inner >= 0 and count:
                        self._outcomes[inner] = self._outcomes.get(inner, 0) + 1
                        if len(self.samples.get(inner, ())) < _SAMPLES:
                            self._source_sample(inner, full, row, value, mask, kind, d, sample)
                    elif inner == FALLBACK:
                        self._refer(d, sample, self._spans(row, value, mask))
            elif value == FALLBACK:
                self._refer(d, sample, self._spans(row, value, mask))

    def _sample(self, value: int, row: np.ndarray, mask: np.ndarray, kind: str, d: int,
                sample: tuple[Endpoint, FlowSide]) -> None:
        """One flow of a cell the outcome ``value`` decides."""
        for lo, hi in self._spans(row, value, mask):
            for a, b in intersect([(lo, hi)], _KEY_LISTS[kind]):
                key = first_real_key(a, b)
                if key is not None:
                    self.samples.setdefault(value, []).append((d, sample[0], sample[1], key, None))
                    return

    def _source_sample(self, inner: int, full: np.ndarray, row: np.ndarray, value: int, mask: np.ndarray, kind: str,
                       d: int, sample: tuple[Endpoint, FlowSide]) -> None:
        """One flow of a cell the outcome ``inner`` of a secondary table decides: a key
        of the primary class, and a source port of the secondary class."""
        starts = self.c.skey_starts.astype(np.int64)
        ends = np.append(starts[1:], KEY_LIMIT)
        for lo, hi in self._spans(row, value, mask):
            for a, b in intersect([(lo, hi)], _KEY_LISTS[kind]):
                key = first_real_key(a, b)
                if key is None:
                    continue
                protocol = key >> KEY_BITS
                sources = real_source_keys(protocol)
                for j in np.flatnonzero(full == inner).tolist():
                    found = intersect([(int(starts[j]), int(ends[j]))], sources)
                    if found:
                        port = found[0][0] & ((1 << KEY_BITS) - 1)
                        self.samples.setdefault(inner, []).append((d, sample[0], sample[1], key, port or None))
                        return

    def _spans(self, row: np.ndarray, value: int, mask: np.ndarray) -> Intervals:
        ends = np.append(self._starts[1:], KEY_LIMIT)
        return [(int(self._starts[k]), int(ends[k])) for k in np.flatnonzero((row == value) & mask).tolist()]

    def _refer(self, d: int, sample: tuple[Endpoint, FlowSide], keys: Intervals) -> None:
        local, peer = sample
        src, dst = (local, peer) if d == 0 else (peer, local)
        self._evaluate(src, dst, keys, directions=(d,))

    def _evaluate(self, src: FlowSide, dst: FlowSide, keys: Intervals, directions: tuple[int, ...] = (0, 1)) -> None:
        referee = self.reach.referee
        for lo, hi in referee._classes(union(keys)):
            key = first_real_key(lo, hi)
            if key is None:
                continue
            protocol, port, icmp_type, icmp_code = key_fields(key)
            for s_lo, _ in referee._source_classes(protocol):
                src_port = s_lo & ((1 << KEY_BITS) - 1) or None
                self.found.evaluated += 1
                try:
                    verdict = reference_evaluate(self.ps, Flow(src, dst, protocol, port, src_port, icmp_type, icmp_code))
                except PolicyError:
                    continue
                for d in directions:
                    decision = verdict.egress if d == 0 else verdict.ingress
                    logged = [ref for ref in verdict.logged if ref.direction is _DIRECTIONS[d]]
                    self.found.add(decision, logged)

    def _undecided(self, undecided: list[Endpoint]) -> None:
        """Endpoints the tables do not decide: every flow to and from them, by the
        reference, one flow per key class and per peer (another endpoint, or an address
        of each external interval)."""
        externals: list[FlowSide] = []
        for family in (4, 6):
            ext = self.reach.layout.externals(family)
            externals.extend(address_of(family, a) for a in ext.sample)
        whole = [(0, KEY_LIMIT)]
        for endpoint in undecided:
            for other in (*self.ps.endpoints, *externals):
                if other is endpoint:
                    continue
                self._evaluate(endpoint, other, whole)
                if not isinstance(other, Endpoint) or self.reach.place(other).decided:
                    self._evaluate(other, endpoint, whole)


@attrs.frozen
class Marked:
    """A policy set with a Log copy just before each Pass rule (``snapshot``), and the
    keys of its rules in the original (``original``; a copy maps to its Pass rule) and
    back (``marked``). The copy logs exactly the flows that reach the Pass rule with its
    match, and changes no verdict."""

    snapshot: Any
    original: dict[RuleKey, RuleKey]
    marked: dict[RuleKey, RuleKey]
    copies: frozenset[RuleKey]


def mark_passes(ps: Snapshot) -> Marked:
    original: dict[RuleKey, RuleKey] = {}
    copies: set[RuleKey] = set()
    policies = []
    for policy in ps.policies:
        changes: dict[str, Any] = {}
        for direction, name in ((Direction.INGRESS, "ingress"), (Direction.EGRESS, "egress")):
            rules = policy.rules(direction)
            if rules is None:
                continue
            made: list[Rule] = []
            for n, rule in enumerate(rules):
                if rule.action is Action.PASS:
                    copies.add((policy.ref, direction, len(made)))
                    original[policy.ref, direction, len(made)] = (policy.ref, direction, n)
                    made.append(attrs.evolve(rule, action=Action.LOG))
                original[policy.ref, direction, len(made)] = (policy.ref, direction, n)
                made.append(rule)
            if len(made) != len(rules):
                changes[name] = tuple(made)
        policies.append(attrs.evolve(policy, **changes) if changes else policy)
    marked = {v: k for k, v in original.items() if k not in copies}
    if not copies:
        return Marked(ps, original, marked, frozenset())
    cls = type(ps)
    snapshot = cls(
        tiers=ps.tiers, policies=(*policies, *ps.staged_policies), profiles=ps.profiles.values(),
        endpoints=ps.endpoints, network_sets=ps.network_sets, services=ps.services, warnings=ps.warnings,
        calico_version=ps.calico_version, address_pool=ps.address_pool, pod_cidr=ps.pod_cidr, names=ps.names,
    )
    return Marked(snapshot, original, marked, frozenset(copies))


def reached(ps: Snapshot) -> tuple[Reached, Marked]:
    """The rules of ``ps``'s enforced policies that decide some flow, the Log rules some
    flow passes, and the Pass rules some flow meets (in ``decided``, as if they decided),
    all read off the tables of ``ps`` with its Pass rules marked (:func:`mark_passes`);
    and the marked policy set."""
    marks = mark_passes(ps)
    collector = _Collector(marks.snapshot)
    raw = collector.run()
    back = marks.original
    found = Reached(evaluated=raw.evaluated)
    for key, cells in raw.decided.items():
        found.decided[back[key]] = found.decided.get(back[key], 0) + cells
    for key in raw.logged:
        if key in marks.copies:
            found.decided[back[key]] = found.decided.get(back[key], 0) + 1
        else:
            found.logged.add(back[key])
    for tier, direction, logged in raw.log_drops:
        mine = tuple(back[k] for k in logged if k not in marks.copies)
        if mine:
            found.log_drops.add((tier, direction, mine))
    for first, then in raw.log_then:
        if first not in marks.copies:
            found.log_then.add((back[first], back[then]))
    for outcome, samples in collector.samples.items():
        decided = rule_key(collector.c.outcomes[outcome][0])
        if decided is not None and decided in back:
            found.samples.setdefault(back[decided], []).extend(samples)
    return found, marks
