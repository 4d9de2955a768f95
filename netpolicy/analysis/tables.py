"""Reading the compiled tables a whole table at a time.

A flow's verdict is the egress table of (source's egress local class, destination's
egress peer class) and the ingress table of (destination's ingress local class, source's
ingress peer class), both read at the flow's key class (and, where rules test source
ports, a secondary table at the source key's class). So for two classes the set of
allowed flows is read off the two tables: every key class where both outcomes allow,
exactly, with the decisions that allow it. :meth:`TableReader.answer` does that once per
pair of tables.

An outcome the tables leave to the reference evaluator (``FALLBACK``) makes its key
interval *unsure* unless the other side denies there (then nothing is allowed, whatever
the reference would say of the first side); :mod:`.fallback` decides unsure intervals.
"""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np

from ..compile import FALLBACK, NONE, Compiled
from ..compile.keys import KEY_BITS, KEY_LIMIT, Intervals, intersect, union
from ..verdict import Decision
from .keyspace import real_source_keys

__all__ = ["KeyGrant", "Answer", "TableReader", "EMPTY", "restrict"]


@attrs.frozen
class KeyGrant:
    """Allowed flows in key space: the flow keys ``keys`` (sorted half-open intervals),
    with source keys in ``source`` (None: any source port), and the decisions allowing
    them (None: the side is not policed). The decisions name no endpoint."""

    keys: tuple[tuple[int, int], ...]
    source: tuple[tuple[int, int], ...] | None
    egress: Decision | None
    ingress: Decision | None


@attrs.frozen
class Answer:
    """What a pair of tables allows: ``grants``, and the key intervals the tables leave
    to the reference evaluator (``unsure``)."""

    grants: tuple[KeyGrant, ...]
    unsure: tuple[tuple[int, int], ...] = ()


EMPTY = Answer(())


class TableReader:
    """One compiled snapshot's tables, read a table pair at a time (memoized)."""

    def __init__(self, compiled: Compiled) -> None:
        c = compiled
        self.compiled = c
        self._nk = len(c.key_starts)
        self._starts = c.key_starts.astype(np.int64)
        self._ends = np.append(self._starts[1:], KEY_LIMIT)
        self._nsk = len(c.skey_starts)
        self._sstarts = c.skey_starts.astype(np.int64)
        self._send = np.append(self._sstarts[1:], KEY_LIMIT)
        self._allow = c.out_allow.astype(np.bool_)
        self._decisions = [decision for decision, _ in c.outcomes]
        self._memo: dict[tuple[int, int], Answer] = {}
        self._interned: dict[Any, Answer] = {}

    # -- locating tables --------------------------------------------------------------------

    def tables(self, local: int, peers: np.ndarray) -> np.ndarray:
        """The table of local class ``local`` for each peer class in ``peers``; NONE for
        no policed endpoint (``local == -1``), FALLBACK for a local class the tables do not
        decide (``local == -2``)."""
        c = self.compiled
        peers = np.asarray(peers, np.int64)
        if local < 0:
            return np.full(len(peers), NONE if local == -1 else FALLBACK, np.int64)
        row = int(c.loc_row[local])
        groups = c.rows8[row + peers] if row >= 0 else c.rows16[-1 - row + peers]
        found: np.ndarray = c.groups[int(c.loc_tab[local]) + groups.astype(np.int64)].astype(np.int64)
        return found

    def tables_at(self, locals_: np.ndarray, peers: np.ndarray) -> np.ndarray:
        """The table of each (local class, peer class) pair (local classes >= 0)."""
        c = self.compiled
        locals_ = np.asarray(locals_, np.int64)
        peers = np.asarray(peers, np.int64)
        row = c.loc_row[locals_].astype(np.int64)
        narrow = row >= 0
        groups = np.empty(len(locals_), np.int64)
        groups[narrow] = c.rows8[row[narrow] + peers[narrow]]
        groups[~narrow] = c.rows16[-1 - row[~narrow] + peers[~narrow]]
        found: np.ndarray = c.groups[c.loc_tab[locals_].astype(np.int64) + groups].astype(np.int64)
        return found

    def table(self, local: int, peer: int) -> int:
        """The table of one (local class, peer class) pair (see :meth:`tables`)."""
        return int(self.tables(local, np.array([peer]))[0])

    # -- reading a pair of tables -----------------------------------------------------------

    def answer(self, egress: int, ingress: int) -> Answer:
        """The flows the egress table ``egress`` and the ingress table ``ingress`` (table
        ids, or NONE / FALLBACK) both allow. Equal answers are the same object."""
        key = (egress, ingress)
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = self._intern(self._read(egress, ingress))
        return found

    def _intern(self, answer: Answer) -> Answer:
        return self._interned.setdefault((answer.grants, answer.unsure), answer)

    def _row(self, table: int) -> np.ndarray:
        if table >= 0:
            row: np.ndarray = self.compiled.tables[table * self._nk : (table + 1) * self._nk].astype(np.int64)
            return row
        return np.full(self._nk, table, np.int64)

    def _srow(self, value: int) -> np.ndarray:
        if value <= -3:
            s = -3 - value
            row: np.ndarray = self.compiled.stables[s * self._nsk : (s + 1) * self._nsk].astype(np.int64)
            return row
        return np.full(self._nsk, value, np.int64)

    def _ok(self, outcomes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(allows, unsure) per outcome (NONE allows; FALLBACK is unsure)."""
        allows = np.where(outcomes >= 0, self._allow[np.maximum(outcomes, 0)], outcomes == NONE)
        return allows, outcomes == FALLBACK

    def _decision(self, outcome: int) -> Decision | None:
        return self._decisions[outcome] if outcome >= 0 else None

    def _read(self, egress: int, ingress: int) -> Answer:
        oe, oi = self._row(egress), self._row(ingress)
        by_pair: dict[tuple[Any, int, int], list[tuple[int, int]]] = {}
        unsure: list[tuple[int, int]] = []
        second = (oe <= -3) | (oi <= -3)
        e_ok, e_unsure = self._ok(oe)
        i_ok, i_unsure = self._ok(oi)
        # a side that denies decides; else both must allow, and an unsure side is unsure
        live = ~second & (e_ok | e_unsure) & (i_ok | i_unsure)
        for k in np.flatnonzero(live).tolist():
            span = (int(self._starts[k]), int(self._ends[k]))
            if e_unsure[k] or i_unsure[k]:
                unsure.append(span)
            else:
                by_pair.setdefault((None, int(oe[k]), int(oi[k])), []).append(span)
        for k in np.flatnonzero(second).tolist():
            self._read_sources(int(self._starts[k]), int(self._ends[k]), int(oe[k]), int(oi[k]), by_pair, unsure)
        grants = [
            KeyGrant(tuple(union(spans)), source, self._decision(e), self._decision(i))
            for (source, e, i), spans in by_pair.items()
        ]
        grants.sort(key=lambda g: g.keys[0])
        return Answer(tuple(grants), tuple(union(unsure)))

    def _read_sources(
        self, lo: int, hi: int, e: int, i: int, by_pair: dict[tuple[Any, int, int], list[tuple[int, int]]],
        unsure: list[tuple[int, int]],
    ) -> None:
        """A key class some of whose outcomes depend on the source key: per protocol in
        it, the source keys each outcome pair holds for."""
        se, si = self._srow(e), self._srow(i)
        e_ok, e_unsure = self._ok(se)
        i_ok, i_unsure = self._ok(si)
        for protocol in range(lo >> KEY_BITS, ((hi - 1) >> KEY_BITS) + 1):
            part = (max(lo, protocol << KEY_BITS), min(hi, (protocol + 1) << KEY_BITS))
            (s_lo, s_hi), = real_source_keys(protocol)
            first = int(np.searchsorted(self._sstarts, s_lo, side="right")) - 1
            last = int(np.searchsorted(self._sstarts, s_hi - 1, side="right")) - 1
            found: dict[tuple[int, int], list[tuple[int, int]]] = {}
            doubt = False
            for j in range(first, last + 1):
                if not ((e_ok[j] or e_unsure[j]) and (i_ok[j] or i_unsure[j])):
                    continue
                if e_unsure[j] or i_unsure[j]:
                    doubt = True
                    break
                span = (max(s_lo, int(self._sstarts[j])), min(s_hi, int(self._send[j])))
                found.setdefault((int(se[j]), int(si[j])), []).append(span)
            if doubt:
                unsure.append(part)
                continue
            for (oe, oi), spans in found.items():
                merged = union(spans)
                source = None if merged == [(s_lo, s_hi)] else tuple(merged)
                by_pair.setdefault((source, oe, oi), []).append(part)


def restrict(answer: Answer, keys: Intervals) -> Answer:
    """``answer`` on the keys ``keys`` only."""
    grants = []
    for grant in answer.grants:
        kept = intersect(list(grant.keys), keys)
        if kept:
            grants.append(attrs.evolve(grant, keys=tuple(kept)))
    return Answer(tuple(grants), tuple(intersect(list(answer.unsure), keys)))
