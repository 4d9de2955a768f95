"""Whether a policy set with some rules removed decides every flow as the original does,
read off both compiled tables, and which removed rules decided the flows that differ.

Removing rules only merges classes: two endpoints (or addresses, or keys) that no rule
of the original tells apart are told apart by no rule of the smaller set. So each cell
of the original (local class, peer class) falls in one cell of the smaller set, found
from any endpoint or address in it, and the two tables are compared on the key classes
of both. A direction's action is compared (the verdict is the conjunction of both
directions, so equal actions give equal verdicts). Where either table leaves the answer
to the reference evaluator, the comparison gives up (None).
"""

from __future__ import annotations

import bisect
from typing import TYPE_CHECKING

import numpy as np

from ...compile import NONE, Compiled
from ...compile.keys import KEY_LIMIT, Intervals
from ..reach import Reach
from .cells import RuleKey, rule_key
from .cells import _KINDS, _NOT_ICMP, _NOT_ICMPV6, _ICMPV6_ONLY, _SOURCE

if TYPE_CHECKING:
    from ...resolve import Snapshot

__all__ = ["blame"]

_KEYS = {"v4": _NOT_ICMPV6, "v6": _ICMPV6_ONLY, "v6all": _NOT_ICMP}
_CHUNK = 1 << 21  # pairs of classes read at once


class _GiveUp(Exception):
    pass


_ARRAYS: dict[int, tuple[np.ndarray, np.ndarray]] = {}


def _hits(points: np.ndarray, ends: np.ndarray, keys: Intervals) -> np.ndarray:
    """Whether each ``[points[k], ends[k])`` meets ``keys`` (sorted, disjoint)."""
    found = _ARRAYS.get(id(keys))
    if found is None:
        found = _ARRAYS[id(keys)] = (np.array([a for a, _ in keys], np.int64), np.array([b for _, b in keys], np.int64))
    lows, highs = found
    at = np.searchsorted(highs, points, side="right")
    inside = at < len(lows)
    result: np.ndarray = inside & (lows[np.minimum(at, len(lows) - 1)] < ends)
    return result


def _peer_of(c: Compiled, family: int, address: int, d: int) -> int:
    if family == 4:
        idx = int(np.searchsorted(c.v4_starts, address, side="right")) - 1
        return int(c.v4_peer[d, idx])
    idx = bisect.bisect_right(c.v6_starts, address) - 1
    return int(c.v6_peer[d, idx])


def _row(c: Compiled, table: int, secondary: bool) -> tuple[np.ndarray, np.ndarray]:
    starts = (c.skey_starts if secondary else c.key_starts).astype(np.int64)
    n = len(starts)
    if table == NONE:
        return starts, np.full(n, NONE, np.int64)
    data = c.stables if secondary else c.tables
    return starts, data[table * n : (table + 1) * n].astype(np.int64)


class _Compare:
    def __init__(self, a: Reach, b: Reach) -> None:
        self.a, self.b = a, b
        self.blamed: set[RuleKey] = set()
        self._done: set[tuple[int, int, str]] = set()
        self._pairs: set[tuple[int, int]] = set()

    def rows(self, ta: int, tb: int, kind: str) -> None:
        if (ta, tb, kind) in self._done:
            return
        self._done.add((ta, tb, kind))
        self._compare(ta, tb, _KEYS[kind], secondary=False)

    def _compare(self, ta: int, tb: int, keys: Intervals, secondary: bool) -> None:
        ca, cb = self.a.compiled, self.b.compiled
        sa, va = _row(ca, ta, secondary)
        sb, vb = _row(cb, tb, secondary)
        points = np.union1d(sa, sb)
        ends = np.append(points[1:], KEY_LIMIT)
        ia = np.searchsorted(sa, points, side="right") - 1
        ib = np.searchsorted(sb, points, side="right") - 1
        x_all, y_all = va[ia], vb[ib]
        live = _hits(points, ends, keys) & ((x_all != y_all) | (x_all < 0) | (y_all < 0) | (ca is not cb))
        for k in np.flatnonzero(live).tolist():
            x, y = int(x_all[k]), int(y_all[k])
            if x <= -3 or y <= -3:
                if secondary:
                    raise _GiveUp()
                sx = -3 - x if x <= -3 else None
                sy = -3 - y if y <= -3 else None
                self._secondary(x, y, sx, sy)
                continue
            if x == -1 or y == -1:  # FALLBACK
                raise _GiveUp()
            allow_x = x == NONE or bool(ca.out_allow[x])
            allow_y = y == NONE or bool(cb.out_allow[y])
            if allow_x != allow_y:
                key = rule_key(ca.outcomes[x][0]) if x >= 0 else None
                if key is None:
                    raise _GiveUp()
                self.blamed.add(key)

    def _secondary(self, x: int, y: int, sx: int | None, sy: int | None) -> None:
        """A key class where a table reads source keys: compare per source key class."""
        if (x, y) in self._pairs:
            return
        self._pairs.add((x, y))
        ca, cb = self.a.compiled, self.b.compiled
        sa, va = _row(ca, sx, True) if sx is not None else (np.array([0], np.int64), np.array([x], np.int64))
        sb, vb = _row(cb, sy, True) if sy is not None else (np.array([0], np.int64), np.array([y], np.int64))
        points = np.union1d(sa, sb)
        ends = np.append(points[1:], KEY_LIMIT)
        ia = np.searchsorted(sa, points, side="right") - 1
        ib = np.searchsorted(sb, points, side="right") - 1
        for k in np.flatnonzero(_hits(points, ends, _SOURCE)).tolist():
            p, q = int(va[ia[k]]), int(vb[ib[k]])
            if p == -1 or q == -1 or p <= -3 or q <= -3:
                raise _GiveUp()
            if (p == NONE or bool(ca.out_allow[p])) != (q == NONE or bool(cb.out_allow[q])):
                key = rule_key(ca.outcomes[p][0]) if p >= 0 else None
                if key is None:
                    raise _GiveUp()
                self.blamed.add(key)


def blame(a: Snapshot, b: Snapshot) -> set[RuleKey] | None:
    """The rules of ``a`` that decide some flow ``b`` (``a`` with rules removed, same
    inventory) decides otherwise; None when the tables cannot tell (see the module
    docstring). An empty set: every flow is decided alike."""
    ra, rb = Reach(a), Reach(b)
    if ra.compiled.all_fallback or rb.compiled.all_fallback:
        return None
    compare = _Compare(ra, rb)
    try:
        for d in range(2):
            for family in (4, 6):
                _direction(ra, rb, compare, d, family)
    except _GiveUp:
        return None
    return compare.blamed


def _direction(ra: Reach, rb: Reach, compare: _Compare, d: int, family: int) -> None:
    pairs_l: dict[int, int] = {}
    pairs_p: dict[int, int] = {}
    single_l: set[int] = set()
    single_p: set[int] = set()
    members: dict[int, list[int]] = {}
    peer_members: dict[int, list[int]] = {}
    for endpoint in ra.ps.endpoints:
        pa, pb = ra.place(endpoint), rb.place(endpoint)
        if not (pa.decided and pb.decided):
            raise _GiveUp()
        sa, sb = pa.spot(family), pb.spot(family)
        if sa is None or sb is None:
            continue
        for mapping, x, y in ((pairs_l, sa.local[d], sb.local[d]), (pairs_p, sa.peer[d], sb.peer[d])):
            if mapping.setdefault(x, y) != y:
                raise _GiveUp()  # not a coarsening after all
        members.setdefault(sa.local[d], []).append(id(endpoint))
        peer_members.setdefault(sa.peer[d], []).append(id(endpoint))
        if len(pa.families) == 1:
            single_l.add(sa.local[d])
            single_p.add(sa.peer[d])
    ext = ra.layout.externals(family)
    for n in range(len(ext.starts)):
        x = int(ext.peer[d][n])
        y = _peer_of(rb.compiled, family, ext.sample[n], d)
        if pairs_p.setdefault(x, y) != y:
            raise _GiveUp()
        peer_members.setdefault(x, []).append(-1 - n)
        single_p.add(x)
    all_locs = sorted(pairs_l)
    peers = sorted(pairs_p)
    if not all_locs or not peers:
        return
    column = {p: n for n, p in enumerate(peers)}
    alone_peer = {found[0]: p for p, found in peer_members.items() if len(found) == 1}
    single_l_array = np.array(sorted(single_l), np.int64)
    single_p_array = np.isin(np.array(peers, np.int64), np.array(sorted(single_p), np.int64))
    step = max(1, _CHUNK // len(peers))
    for start in range(0, len(all_locs), step):  # a bounded number of pairs at a time
        locs = all_locs[start : start + step]
        ll = np.repeat(np.array(locs, np.int64), len(peers))
        pp = np.tile(np.array(peers, np.int64), len(locs))
        keep = np.ones(len(ll), np.bool_)
        for n, l in enumerate(locs):  # an endpoint alone in both classes: no flow but to itself
            if len(members[l]) == 1 and members[l][0] in alone_peer:
                keep[n * len(peers) + column[alone_peer[members[l][0]]]] = False
        kinds = np.zeros(len(ll), np.int64) if family == 4 else np.where(
            np.isin(ll, single_l_array) | np.tile(single_p_array, len(locs)), 2, 1)
        ll, pp, kinds = ll[keep], pp[keep], kinds[keep]
        ta = ra.reader.tables_at(ll, pp)
        tb = rb.reader.tables_at(_mapped(pairs_l, ll), _mapped(pairs_p, pp))
        width = int(tb.max()) + 4 if len(tb) else 4
        combined = np.unique(((ta + 3) * width + (tb + 3)) * 3 + kinds)
        for value in combined.tolist():
            rest, k = divmod(value, 3)
            x, y = divmod(rest, width)
            compare.rows(x - 3, y - 3, _KINDS[k])


def _mapped(mapping: dict[int, int], values: np.ndarray) -> np.ndarray:
    keys = np.array(list(mapping), np.int64)
    table = np.full(int(keys.max()) + 1 if len(keys) else 1, -1, np.int64)
    table[keys] = np.array(list(mapping.values()), np.int64)
    found: np.ndarray = table[values]
    return found
