"""Exact reachability between endpoints, and between endpoints and external addresses,
read off the compiled tables.

:class:`Reach` is the foundation the analyses share: for two endpoints it gives every
flow key (protocol, destination port or ICMP type and code, and source port where rules
test it) that is allowed, with the egress and ingress decisions that allow it; for one
endpoint, the same towards (or from) every external address, as address ranges that get
the same answer. Endpoints the tables decide alike (equal signatures, see
:mod:`.places`) are worked out once; whatever the tables leave to the reference is
decided by :class:`~.fallback.Referee`, one flow per class. Nothing is sampled.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator, Sequence

import numpy as np

from ..compile import NONE
from ..compile.keys import KEY_LIMIT, Intervals, union
from ..engine import engine_for
from ..model import Endpoint
from .fallback import Referee
from .keyspace import family_keys
from .places import Layout, Place, address_of
from .tables import Answer, KeyGrant, TableReader, restrict

if TYPE_CHECKING:
    from ..resolve import Snapshot

__all__ = ["Reach", "ExternalAnswer", "merge_grants", "EVERYTHING"]

#: an endpoint to itself: every flow, allowed without evaluation
EVERYTHING: tuple[KeyGrant, ...] = (KeyGrant(((0, KEY_LIMIT),), None, None, None),)

#: towards or from external addresses of one family: (family, the grants, the half-open
#: address ranges that get them)
ExternalAnswer = tuple[int, tuple[KeyGrant, ...], list[tuple[int, int]]]


def merge_grants(grants: Sequence[KeyGrant]) -> tuple[KeyGrant, ...]:
    """Grants with the same source keys and decisions merged, ordered by first key."""
    by: dict[tuple[Any, ...], list[tuple[int, int]]] = {}
    for grant in grants:
        by.setdefault((grant.source, grant.egress, grant.ingress), []).extend(grant.keys)
    merged = [KeyGrant(tuple(union(keys)), source, e, i) for (source, e, i), keys in by.items()]
    merged.sort(key=lambda g: g.keys[0])
    return tuple(merged)


class Reach:
    """Exact reachability on one snapshot's compiled tables (see the module docstring).
    ``Reach(ps).between(a, b)`` for two endpoints, ``external(a, outbound)`` for one
    endpoint and the addresses no endpoint owns."""

    def __init__(self, ps: Snapshot) -> None:
        self.ps = ps
        self.compiled = engine_for(ps).compiled
        self.reader = TableReader(self.compiled)
        self.layout = Layout(ps, self.compiled)
        self.referee = Referee(ps, extra=self.compiled.key_starts.tolist())
        self._places: dict[int, Place] = {}
        self._pairs: dict[tuple[Any, Any], tuple[KeyGrant, ...]] = {}
        self._tabled: dict[tuple[Any, ...], tuple[KeyGrant, ...]] = {}
        self._outside_tables: dict[tuple[int, bool, int], tuple[KeyGrant, ...]] = {}
        self._outside: dict[tuple[Any, ...], list[ExternalAnswer]] = {}

    def place(self, endpoint: Endpoint) -> Place:
        found = self._places.get(id(endpoint))
        if found is None:
            found = self._places[id(endpoint)] = self.layout.place(endpoint)
        return found

    # -- between two endpoints --------------------------------------------------------------

    def between(self, src: Endpoint, dst: Endpoint) -> tuple[KeyGrant, ...]:
        """Every allowed flow from ``src`` to ``dst`` (two endpoints of the snapshot),
        as grants in key space; an endpoint reaches itself without evaluation."""
        if src is dst:
            return EVERYTHING
        a, b = self.place(src), self.place(dst)
        if a.decided and b.decided:
            key = (a.signature, b.signature)
        else:
            key = (("endpoint", id(src)), ("endpoint", id(dst)))
        found = self._pairs.get(key)
        if found is None:
            found = self._pairs[key] = self._between(a, b)
        return found

    def _between(self, a: Place, b: Place) -> tuple[KeyGrant, ...]:
        if not (a.decided and b.decided):
            return self.referee.decide(a.endpoint, b.endpoint, [(0, KEY_LIMIT)])
        shared = a.families & b.families
        reader = self.reader
        tables = []
        for family in sorted(shared):
            s, d = a.spot(family), b.spot(family)
            assert s is not None and d is not None
            tables.append((family, reader.table(s.local[0], d.peer[0]), reader.table(d.local[1], s.peer[1])))
        return self._by_tables(shared, tuple(tables), a.endpoint, b.endpoint)

    def _by_tables(
        self, shared: frozenset[int], tables: tuple[tuple[int, int, int], ...], src: Endpoint, dst: Endpoint
    ) -> tuple[KeyGrant, ...]:
        """The grants of (family, egress table, ingress table) per shared family; the same
        tables give the same grants, unless some keys are left to the reference (then
        it decides for ``src`` and ``dst``)."""
        key = (shared, tables)
        found = self._tabled.get(key)
        if found is not None:
            return found
        grants: list[KeyGrant] = []
        unsure: Intervals = []
        for family, egress, ingress in tables:
            answer = restrict(self.reader.answer(egress, ingress), family_keys(family, shared))
            grants.extend(answer.grants)
            unsure.extend(answer.unsure)
        if unsure:
            grants.extend(self.referee.decide(src, dst, union(unsure)))
            return merge_grants(grants)
        found = self._tabled[key] = merge_grants(grants)
        return found

    def rows(self, srcs: Sequence[Endpoint], dsts: Sequence[Endpoint]) -> Iterator[list[tuple[KeyGrant, ...]]]:
        """``[between(s, d) for d in dsts]`` for each ``s`` of ``srcs`` in turn, the
        tables of a whole row looked up at once."""
        places = [self.place(d) for d in dsts]
        columns: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        for family in (4, 6):
            at = [n for n, p in enumerate(places) if p.decided and p.spot(family) is not None]
            spots = [places[n].spot(family) for n in at]
            columns[family] = (
                np.array(at, np.int64),
                np.array([s.peer[0] for s in spots if s is not None], np.int64),
                np.array([s.local[1] for s in spots if s is not None], np.int64),
            )
        for src in srcs:
            a = self.place(src)
            if not a.decided:
                yield [self.between(src, d) for d in dsts]
                continue
            looked: dict[int, tuple[list[int], list[int]]] = {}
            for family in a.families:
                spot = a.spot(family)
                assert spot is not None
                idx, peers, locals_ = columns[family]
                egress = np.full(len(dsts), -9, np.int64)
                ingress = np.full(len(dsts), -9, np.int64)
                egress[idx] = self.reader.tables(spot.local[0], peers)
                ingress[idx] = self.reader.tables_at(locals_, np.full(len(locals_), spot.peer[1], np.int64))
                looked[family] = (egress.tolist(), ingress.tolist())
            row: list[tuple[KeyGrant, ...]] = []
            by_tables, mine = self._by_tables, a.families
            e4, i4 = looked.get(4, ([], []))
            e6, i6 = looked.get(6, ([], []))
            for n, (dst, b) in enumerate(zip(dsts, places)):
                if dst is src:
                    row.append(EVERYTHING)
                    continue
                if not b.decided:
                    row.append(self.between(src, dst))
                    continue
                shared = mine & b.families
                if len(shared) == 2:
                    tables: tuple[tuple[int, int, int], ...] = ((4, e4[n], i4[n]), (6, e6[n], i6[n]))
                elif 4 in shared:
                    tables = ((4, e4[n], i4[n]),)
                else:
                    tables = ((6, e6[n], i6[n]),) if shared else ()
                row.append(by_tables(shared, tables, src, dst))
            yield row

    # -- between an endpoint and external addresses -------------------------------------------

    def external(self, endpoint: Endpoint, outbound: bool) -> list[ExternalAnswer]:
        """What ``endpoint`` may send to (``outbound``) or receive from external
        addresses: per family and distinct answer, the address ranges that get it
        (ranges of one answer are merged across endpoint addresses, which are not
        external: their flows are the endpoints')."""
        place = self.place(endpoint)
        found: list[ExternalAnswer] = []
        for spot in place.spots:
            key: tuple[Any, ...] = (spot.family, outbound, spot.local[0 if outbound else 1]) if place.decided else (
                spot.family, outbound, "endpoint", id(endpoint))
            part = self._outside.get(key)
            if part is None:
                part = self._outside[key] = self._external(place, spot.family, outbound)
            found.extend(part)
        return found

    def _external(self, place: Place, family: int, outbound: bool) -> list[ExternalAnswer]:
        ext = self.layout.externals(family)
        if not ext.starts:
            return []
        keys = family_keys(family, frozenset({family}))
        peers = ext.peer[1 - int(outbound)]  # [0]: as egress destination, [1]: as ingress source
        unique, first, label = np.unique(peers, return_index=True, return_inverse=True)
        answers: list[tuple[KeyGrant, ...]] = []
        spot = place.spot(family)
        assert spot is not None
        if place.decided:
            tables = self.reader.tables(spot.local[0 if outbound else 1], unique)
        for n in range(len(unique)):
            if not place.decided:
                sample = address_of(family, ext.sample[int(first[n])])
                src, dst = (place.endpoint, sample) if outbound else (sample, place.endpoint)
                answers.append(self.referee.decide(src, dst, keys))
                continue
            table = int(tables[n])
            known = self._outside_tables.get((family, outbound, table))
            if known is not None:
                answers.append(known)
                continue
            answer: Answer = self.reader.answer(table, NONE) if outbound else self.reader.answer(NONE, table)
            answer = restrict(answer, keys)
            grants = list(answer.grants)
            if answer.unsure:  # left to the reference: decided for this peer class
                sample = address_of(family, ext.sample[int(first[n])])
                src, dst = (place.endpoint, sample) if outbound else (sample, place.endpoint)
                grants.extend(self.referee.decide(src, dst, list(answer.unsure)))
                answers.append(merge_grants(grants))
                continue
            answers.append(self._outside_tables.setdefault((family, outbound, table), merge_grants(grants)))
        return _runs(family, ext.starts, np.asarray(label).reshape(-1), answers)


def _runs(family: int, starts: Sequence[int], label: np.ndarray, answers: list[tuple[KeyGrant, ...]]) -> list[ExternalAnswer]:
    """Consecutive external intervals with equal answers as runs reaching to the next
    run (over the endpoint addresses between them), then each answer's runs."""
    ids: dict[tuple[KeyGrant, ...], int] = {}
    canon = np.array([ids.setdefault(a, len(ids)) for a in answers], np.int64)[label]
    change = np.flatnonzero(np.diff(canon)) + 1
    firsts = [0, *change.tolist()]
    top = 1 << (32 if family == 4 else 128)
    bounds = [0, *(starts[k] for k in firsts[1:]), top]
    by: dict[int, list[tuple[int, int]]] = {}
    for n, k in enumerate(firsts):
        by.setdefault(int(canon[k]), []).append((bounds[n], bounds[n + 1]))
    grants_of = {v: a for a, v in ids.items()}
    return [(family, grants_of[v], _merged(ranges)) for v, ranges in sorted(by.items()) if grants_of[v]]


def _merged(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for lo, hi in ranges:
        if out and out[-1][1] == lo:
            out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return out
