"""What a change to the policies allows or blocks: :func:`diff`.

Both sides are compiled and read through :class:`~.reach.Reach`. Endpoints are matched
across the sides by kind, namespace and name (``Endpoint.key``); those on one side only
are added or removed, and their connectivity is reported against ``absent``. Endpoints
that each side decides alike (equal signatures on both sides) form one joint class, so
the work follows the number of classes, not of pods. For every ordered pair of classes,
and for every class and the external addresses (cut into the blocks where either side's
answer changes), the two sides' grants are compared key class by key class
(:mod:`.compare`): every protocol, port range, ICMP type and code, and source port range
where a rule tests one. Nothing is sampled.

Each change names the deciding egress and ingress decisions before and after, and the
changes are merged into the largest groups that change alike: a workload, a namespace,
a CIDR block; ports as ranges.
"""

from __future__ import annotations

import bisect
from typing import TYPE_CHECKING, Any, Iterator, Sequence

import attrs

from ..compile.keys import KEY_BITS, union
from ..model import Direction, Endpoint
from .compare import ABSENT, ALLOW, Cell, Cutter, End, State, compare
from .connections import summary_text
from .keyspace import PORTED, Ports, ports_of
from .parties import Party, external_party, group_endpoints
from .places import address_of
from .reach import ExternalAnswer, Reach
from .scope import touched

if TYPE_CHECKING:
    from ..resolve import Snapshot

__all__ = ["Change", "Diff", "diff"]

_LOW = (1 << KEY_BITS) - 1
_ORDER = {6: 0, 17: 1, 132: 2, 136: 3, 1: 4, 58: 5}
_TOP = {4: 1 << 32, 6: 1 << 128}


@attrs.frozen
class Change:
    """One row of a diff: the packets from ``src`` to ``dst`` in ``packets`` (per
    protocol, see :class:`~netpolicy.analysis.keyspace.Ports`) whose verdict goes from
    ``before`` to ``after``, each with its deciding decisions."""

    src: Party
    dst: Party
    packets: tuple[Ports, ...]
    before: State
    after: State

    @property
    def kind(self) -> str:
        """``added`` when the change allows what was not allowed, else ``removed``."""
        return "added" if self.after.verdict == ALLOW else "removed"

    @property
    def ports_text(self) -> str:
        """The packets of the change in words: ``TCP 443,8080-8090; UDP 53``, or
        ``all traffic``."""
        return summary_text(self.packets)

    def __str__(self) -> str:
        return f"{self.src} => {self.dst} : {self.ports_text} : {self.before.verdict} -> {self.after.verdict}"


class Diff(Sequence[Change]):
    """The changes :func:`diff` found, in order (by source, destination, protocol), and
    the endpoints only one side has (``added``/``removed_endpoints``, their keys)."""

    def __init__(self, changes: Sequence[Change], added_endpoints: Sequence[str], removed_endpoints: Sequence[str]) -> None:
        self._items = tuple(changes)
        self.added_endpoints = tuple(added_endpoints)
        self.removed_endpoints = tuple(removed_endpoints)

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, index: int) -> Change:  # type: ignore[override]
        return self._items[index]

    def __iter__(self) -> Iterator[Change]:
        return iter(self._items)

    def __bool__(self) -> bool:
        """Whether anything changed: a verdict, or an endpoint added or removed."""
        return bool(self._items or self.added_endpoints or self.removed_endpoints)

    @property
    def added(self) -> tuple[Change, ...]:
        """The changes that allow what was not allowed."""
        return tuple(c for c in self._items if c.kind == "added")

    @property
    def removed(self) -> tuple[Change, ...]:
        """The changes that no longer allow what was allowed."""
        return tuple(c for c in self._items if c.kind == "removed")


_Class = int
_Fine = tuple[Cell, ...]


class _Sides:
    """The two sides' reach, cutters and joint classes of endpoints."""

    def __init__(self, base: Snapshot, head: Snapshot) -> None:
        self.base, self.head = base, head
        self.rb, self.rh = Reach(base), Reach(head)
        self.cb, self.ch = Cutter(base), Cutter(head)
        ends_b = {(e.kind, e.key): e for e in base.endpoints if e.name}
        ends_h = {(e.kind, e.key): e for e in head.endpoints if e.name}
        self.keys = list(ends_b) + [k for k in ends_h if k not in ends_b]
        self.pairs = {k: (ends_b.get(k), ends_h.get(k)) for k in self.keys}
        self.added = [k[1] for k in ends_h if k not in ends_b]
        self.removed = [k[1] for k in ends_b if k not in ends_h]
        ids: dict[Any, int] = {}
        self.class_of: dict[tuple[str, str], int] = {}
        self.members: list[list[tuple[Endpoint | None, Endpoint | None]]] = []
        for k in self.keys:
            eb, eh = self.pairs[k]
            sig = (self.rb.place(eb).signature if eb is not None else None,
                   self.rh.place(eh).signature if eh is not None else None)
            c = ids.setdefault(sig, len(ids))
            if c == len(self.members):
                self.members.append([])
            self.members[c].append((eb, eh))
            self.class_of[k] = c
        owned: dict[int, set[int]] = {4: set(), 6: set()}
        for ps in (base, head):
            for e in ps.endpoints:
                for ip in e.ips:
                    owned[ip.version].add(int(ip))
        self.owned = owned
        self.fetched: tuple[dict[tuple[_Class, _Class], Any], dict[tuple[_Class, _Class], Any]] = ({}, {})

    def prefetch(self, blocks: Sequence[tuple[list[_Class], list[_Class]]]) -> None:
        """Each side's grants between every source and destination class of each block
        (distinct classes), the tables of whole rows looked up at once (``Reach.rows``)."""
        for n, reach in enumerate((self.rb, self.rh)):
            for srcs, dsts in blocks:
                rows = [(a, e) for a in srcs if (e := self.members[a][0][n]) is not None]
                cols = [(b, e) for b in dsts if (e := self.members[b][0][n]) is not None]
                if not rows or not cols:
                    continue
                found = reach.rows([e for _, e in rows], [e for _, e in cols])
                for (a, _), row in zip(rows, found):
                    self.fetched[n].update(((a, b), grants) for (b, _), grants in zip(cols, row) if a != b)

    def between(self, a: _Class, b: _Class) -> _Fine:
        ma, mb = self.members[a], self.members[b]
        if a == b:
            if len(ma) < 2:
                return ()
            src, dst = ma[0], ma[1]
        else:
            src, dst = ma[0], mb[0]
        ends = []
        for n, (reach, ps, cutter) in enumerate(((self.rb, self.base, self.cb), (self.rh, self.head, self.ch))):
            s, d = src[n], dst[n]
            grants = self.fetched[n].get((a, b)) if a != b else None
            if grants is None:
                grants = reach.between(s, d) if s is not None and d is not None else None
            ends.append(End(grants, ps, s, d, cutter))
        return tuple(compare(ends[0], ends[1]))

    def external(self, a: _Class, outbound: bool) -> list[tuple[int, list[tuple[int, int]], _Fine]]:
        """(family, half-open address ranges, cells) of the external addresses whose
        answer changes for class ``a`` in one direction."""
        eb, eh = self.members[a][0]
        ans_b = self.rb.external(eb, outbound) if eb is not None else None
        ans_h = self.rh.external(eh, outbound) if eh is not None else None
        if ans_b == ans_h:
            return []
        found = []
        for family in (4, 6):
            found.extend(self._family(family, eb, eh, ans_b, ans_h, outbound))
        return found

    def _family(
        self, family: int, eb: Endpoint | None, eh: Endpoint | None, ans_b: list[ExternalAnswer] | None,
        ans_h: list[ExternalAnswer] | None, outbound: bool,
    ) -> list[tuple[int, list[tuple[int, int]], _Fine]]:
        runs_b, runs_h = _runs(ans_b, family), _runs(ans_h, family)
        if runs_b == runs_h:
            return []
        bounds = sorted({0, _TOP[family], *(x for r in (runs_b or []) + (runs_h or []) for x in r[:2])})
        ext = []
        for reach, present in ((self.rb, eb), (self.rh, eh)):
            ext.append(reach.layout.externals(family) if present is not None else None)
        pieces: list[tuple[int, int, _Fine | None]] = []
        memo: dict[Any, _Fine] = {}
        for lo, hi in zip(bounds, bounds[1:]):
            gb, gh = _lookup(runs_b, lo), _lookup(runs_h, lo)
            if gb == gh:
                pieces.append((lo, hi, ()))
                continue
            cuts = {lo, hi}
            for x in ext:
                if x is not None:
                    for edges in (x.starts, x.ends):
                        at = bisect.bisect_right(edges, lo)
                        while at < len(edges) and edges[at] < hi:
                            cuts.add(edges[at])
                            at += 1
            edges_sorted = sorted(cuts)
            for p, q in zip(edges_sorted, edges_sorted[1:]):
                label = tuple(_peer(x, p, outbound) for x in ext)
                if any(x is not None and lab is None for x, lab in zip(ext, label)):
                    pieces.append((p, q, None))  # an endpoint's address on a side: not external
                    continue
                sample = self._unowned(family, p, q)
                if sample is None:
                    pieces.append((p, q, None))
                    continue
                if label not in memo:
                    memo[label] = self._cells(family, sample, eb, eh, gb, gh, outbound)
                pieces.append((p, q, memo[label]))
        return _blocks(family, pieces)

    def _cells(
        self, family: int, sample: int, eb: Endpoint | None, eh: Endpoint | None, gb: Any, gh: Any, outbound: bool,
    ) -> _Fine:
        address = address_of(family, sample)
        ends = []
        for ep, grants, ps, cutter in ((eb, gb, self.base, self.cb), (eh, gh, self.head, self.ch)):
            src, dst = (ep, address) if outbound else (address, ep)
            ends.append(End(grants if ep is not None else None, ps, src, dst, cutter))
        return tuple(compare(ends[0], ends[1]))

    def _unowned(self, family: int, lo: int, hi: int) -> int | None:
        owned = self.owned[family]
        for value in range(lo, min(hi, lo + len(owned) + 1)):
            if value not in owned:
                return value
        return None


def _runs(answers: list[ExternalAnswer] | None, family: int) -> list[tuple[int, int, Any]] | None:
    if answers is None:
        return None
    runs = [(lo, hi, grants) for fam, grants, ranges in answers if fam == family for lo, hi in ranges]
    runs.sort(key=lambda r: r[0])
    return runs


def _lookup(runs: list[tuple[int, int, Any]] | None, at: int) -> Any:
    """The grants of the run holding address ``at`` (() for none; None: side absent)."""
    if runs is None:
        return None
    k = bisect.bisect_right([r[0] for r in runs], at) - 1
    if k >= 0 and runs[k][0] <= at < runs[k][1]:
        return runs[k][2]
    return ()


def _peer(ext: Any, at: int, outbound: bool) -> Any:
    """The peer class of the external interval holding ``at`` (None: not external)."""
    if ext is None:
        return "absent"
    k = bisect.bisect_right(ext.starts, at) - 1
    if k >= 0 and ext.starts[k] <= at < ext.ends[k]:
        return int(ext.peer[0 if outbound else 1][k])
    return None


def _blocks(family: int, pieces: list[tuple[int, int, _Fine | None]]) -> list[tuple[int, list[tuple[int, int]], _Fine]]:
    """Consecutive pieces with equal cells merged (over addresses that are not external),
    then each distinct set of cells with its ranges."""
    by: dict[_Fine, list[tuple[int, int]]] = {}
    last: _Fine | None = None
    for lo, hi, cells in pieces:
        if cells is None:
            continue
        ranges = by.setdefault(cells, [])
        if cells == last and ranges:
            ranges[-1] = (ranges[-1][0], hi)
        else:
            ranges.append((lo, hi))
        last = cells
    return [(family, ranges, cells) for cells, ranges in by.items() if cells]


def _changes(src: Party, dst: Party, cells: _Fine) -> list[Change]:
    """Cells as rows: one per pair of states, keys merged per protocol."""
    by: dict[tuple[State, State], dict[Any, list[tuple[int, int]]]] = {}
    for cell in cells:
        by.setdefault((cell.before, cell.after), {}).setdefault(cell.source, []).append((cell.lo, cell.hi))
    found = []
    for (before, after), sources in by.items():
        packets = []
        for source, keys in sources.items():
            for protocol, ranges in ports_of(union(keys)).items():
                sports = None
                if source is not None and protocol in PORTED:
                    first, last = source[0] & _LOW, (source[1] - 1) & _LOW
                    sports = None if (first, last) == (1, 65535) else ((first, last),)
                packets.append(Ports(protocol, ranges, sports))
        packets.sort(key=lambda p: (_ORDER.get(p.protocol, 6), p))
        found.append(Change(src, dst, tuple(packets), before, after))
    return found


def _states_key(c: Change) -> tuple[Any, ...]:
    return (c.packets, c.before, c.after)


def _collapse(parties: list[Party], by_namespace: dict[str, set[Party]]) -> list[Party]:
    """Parties with every party of a namespace replaced by the namespace."""
    found: list[Party] = []
    chosen = set(parties)
    done: set[str] = set()
    for party in parties:
        ns = party.namespace
        group = by_namespace.get(ns, set()) if ns is not None else set()
        if ns is not None and party.kind in ("endpoint", "workload") and len(group) > 1 and group <= chosen:
            if ns not in done:
                done.add(ns)
                keys = tuple(sorted(k for p in group for k in p.endpoints))
                found.append(Party(f"{ns}/*", "namespace", ns, keys))
            continue
        found.append(party)
    return found


def _group(rows: list[Change], by_namespace: dict[str, set[Party]]) -> list[Change]:
    """Rows merged into namespaces where every party of one changes alike."""
    by_dst: dict[tuple[Any, ...], list[Party]] = {}
    for row in rows:
        by_dst.setdefault((row.dst, *_states_key(row)), []).append(row.src)
    step: list[Change] = []
    for (dst, *rest), srcs in by_dst.items():
        for src in _collapse(srcs, by_namespace):
            step.append(Change(src, dst, *rest))
    by_src: dict[tuple[Any, ...], list[Party]] = {}
    for row in step:
        by_src.setdefault((row.src, *_states_key(row)), []).append(row.dst)
    found = []
    for (src, *rest), dsts in by_src.items():
        for dst in _collapse(dsts, by_namespace):
            found.append(Change(src, dst, *rest))
    return found


def _order(c: Change) -> tuple[Any, ...]:
    first = c.packets[0].protocol if c.packets else 0
    return (c.src.kind == "external", c.src.name, c.dst.kind == "external", c.dst.name, _ORDER.get(first, 6), c.packets)


def diff(base: Snapshot, head: Snapshot, *, external: bool = True, workloads: bool = True) -> Diff:
    """What changes from ``base`` to ``head`` (see the module docstring): every verdict
    that differs, between every pair of endpoints and between endpoints and external
    addresses (when ``external``), grouped; the pods of one controller decided alike on
    both sides are one workload (when ``workloads``)."""
    sides = _Sides(base, head)
    chosen = [eh if eh is not None else eb for eb, eh in (sides.pairs[k] for k in sides.keys)]
    keyed = {(e.kind, e.key): sides.class_of[k] for e, k in zip(chosen, sides.keys) if e is not None}
    members = group_endpoints([e for e in chosen if e is not None], lambda e: keyed[(e.kind, e.key)], collapse=workloads)
    party_class = [(party, keyed[(pods[0].kind, pods[0].key)], len(pods)) for party, pods in members]
    by_namespace: dict[str, set[Party]] = {}
    for party, _, _ in party_class:
        if party.namespace is not None:
            by_namespace.setdefault(party.namespace, set()).add(party)
    test = touched(base, head)
    classes = range(len(sides.members))
    out_touched = [any(test(eb, eh, Direction.EGRESS) for eb, eh in sides.members[c]) for c in classes]
    in_touched = [any(test(eb, eh, Direction.INGRESS) for eb, eh in sides.members[c]) for c in classes]
    parties_of: dict[int, list[tuple[Party, int]]] = {}
    for party, c, n in party_class:
        parties_of.setdefault(c, []).append((party, n))
    pairs = {(a, b) for a in classes if out_touched[a] for b in classes}
    pairs |= {(a, b) for b in classes if in_touched[b] for a in classes}
    known = [c for c in classes if c in parties_of]
    sides.prefetch([([a for a in known if out_touched[a]], known), (known, [b for b in known if in_touched[b]])])
    rows: list[Change] = []
    for ca, cb in sorted(pairs):
        if ca not in parties_of or cb not in parties_of:
            continue
        cells = sides.between(ca, cb)
        if not cells:
            continue
        for pa, na in parties_of[ca]:
            for pb, _ in parties_of[cb]:
                if pa is pb and na < 2:
                    continue
                rows.extend(_changes(pa, pb, cells))
    if external:
        for ca, parties in parties_of.items():
            for outbound, flags in ((True, out_touched), (False, in_touched)):
                if not flags[ca]:
                    continue
                for family, ranges, cells in sides.external(ca, outbound):
                    other = external_party(family, ranges)
                    for pa, _ in parties:
                        rows.extend(_changes(*((pa, other) if outbound else (other, pa)), cells))
    rows = _group(rows, by_namespace)
    rows.sort(key=_order)
    return Diff(rows, sides.added, sides.removed)
