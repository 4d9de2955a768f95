"""The pure-Python matcher twin: decides IPv4 flows on compiled tables with numpy.

Same API as the compiled twin ``netpolicy._fastmatch``: a :class:`Matcher` built from a
:class:`netpolicy._compile.Compiled`, with ``decide_v4`` (a batch, written into
caller-supplied arrays), ``decide_one_v4`` and ``decide_classes``. Codes: 0 deny, 1
allow, 2 ask the reference evaluator. Side outcomes: an outcome id, ``FALLBACK`` (-1) or
``NONE`` (-2). The tables are described in :mod:`netpolicy._compile`.

In parts that each sit beside their compiled twin: this module (``_fastmatch.pyx``, and
``_fastmatch_block.pxi`` for the batch kernel), ``_fastmatch_keys_py`` (the flows' keys,
``_fastmatch_keys.pxi``) and ``_fastmatch_single_py`` (one flow, one Verdict,
``_fastmatch_single.pxi``).
"""

from __future__ import annotations

import bisect
from typing import Any, Callable

import numpy as np

from ._fastmatch_keys_py import flow_keys
from ._fastmatch_single_py import Single
from .verdict import Verdict

__all__ = ["Matcher", "Single", "CODE_DENY", "CODE_ALLOW", "CODE_REFERENCE"]

CODE_DENY = 0
CODE_ALLOW = 1
CODE_REFERENCE = 2
_FALLBACK = -1
_NONE = -2


class Matcher:
    """Decides flows on the tables of one compiled PolicySet."""

    def __init__(self, compiled: Any) -> None:
        c = compiled
        c.check()
        self._starts = np.ascontiguousarray(c.v4_starts, np.uint32)
        self._ep = np.ascontiguousarray(c.v4_endpoint, np.int32)
        self._local_e = np.ascontiguousarray(c.v4_local[0], np.int32)
        self._local_i = np.ascontiguousarray(c.v4_local[1], np.int32)
        self._peer_e = np.ascontiguousarray(c.v4_peer[0], np.int32)  # as an egress destination
        self._peer_i = np.ascontiguousarray(c.v4_peer[1], np.int32)  # as an ingress source
        self._loc_row = np.ascontiguousarray(c.loc_row, np.int64)
        self._loc_tab = np.ascontiguousarray(c.loc_tab, np.int64)
        self._rows8 = np.ascontiguousarray(c.rows8, np.uint8)
        self._rows16 = np.ascontiguousarray(c.rows16, np.uint16)
        self._groups = np.ascontiguousarray(c.groups, np.int64)
        self._key_starts = np.ascontiguousarray(c.key_starts, np.uint32)
        self._tables_arr = np.ascontiguousarray(c.tables, np.int32)
        self._skey_starts = np.ascontiguousarray(c.skey_starts, np.uint32)
        self._stables = np.ascontiguousarray(c.stables, np.int32)
        self._n_keys = len(self._key_starts)
        self._n_skeys = len(self._skey_starts)
        self._n_local = int(c.n_local[0] + c.n_local[1])
        self._n_e, self._n_i = int(c.n_peer[0]), int(c.n_peer[1])
        self._n_egress = int(c.n_local[0])
        self._allow = np.ascontiguousarray(c.out_allow, np.uint8)
        # scalar path: plain lists are faster than numpy scalars
        self._l_starts = self._starts.tolist()
        self._l_ep = self._ep.tolist()
        self._l_local_e = self._local_e.tolist()
        self._l_local_i = self._local_i.tolist()
        self._l_peer_e = self._peer_e.tolist()
        self._l_peer_i = self._peer_i.tolist()
        self._l_key_starts = self._key_starts.tolist()
        self._l_skey_starts = self._skey_starts.tolist()
        self._l_allow = self._allow.tolist()

    # -- many flows (numpy) ------------------------------------------------------------------

    def _tables(self, local: np.ndarray, peer: np.ndarray) -> np.ndarray:
        """The table of each (local class, peer class) pair: the peer's group in the
        local class's row, then the group's table."""
        row = self._loc_row[local]
        narrow = row >= 0
        group = np.empty(len(local), np.int64)
        group[narrow] = self._rows8[row[narrow] + peer[narrow]]
        group[~narrow] = self._rows16[-1 - row[~narrow] + peer[~narrow]]
        tables: np.ndarray = self._groups[self._loc_tab[local] + group]
        return tables

    def _side(self, local: np.ndarray, peer: np.ndarray, keys: np.ndarray, skeys: np.ndarray) -> np.ndarray:
        out = np.where(local == -1, _NONE, _FALLBACK).astype(np.int32)
        has = np.flatnonzero(local >= 0)
        if len(has):
            out[has] = self._outcomes(self._tables(local[has], peer[has]), keys[has], skeys[has])
        return out

    def _outcomes(self, tables: np.ndarray, keys: np.ndarray, skeys: np.ndarray) -> np.ndarray:
        """The outcome of each (table, key, source key)."""
        kc = np.searchsorted(self._key_starts, keys, side="right") - 1
        found = self._tables_arr[tables * self._n_keys + kc]
        second = found <= -3  # a source-port table
        if second.any():
            skc = np.searchsorted(self._skey_starts, skeys[second], side="right") - 1
            found[second] = self._stables[(-3 - found[second].astype(np.int64)) * self._n_skeys + skc]
        if found.size and int(found.min()) < _FALLBACK:
            raise ValueError("compiled tables are inconsistent: a table cell is no outcome")
        return found

    def decide_v4(
        self, src: np.ndarray, dst: np.ndarray, keys: np.ndarray, skeys: np.ndarray | None,
        code: np.ndarray, eg: np.ndarray, ing: np.ndarray,
    ) -> None:
        """Decides ``len(src)`` IPv4 flows (uint32 addresses, uint32 keys and source
        keys, or None for no source ports) into ``code`` (uint8), ``eg`` and ``ing`` (int32)."""
        m = len(src)
        if skeys is None:  # no flow has a source port
            skeys = keys & np.uint32(~((1 << 17) - 1) & 0xFFFFFFFF)
        if any(len(a) != m for a in (dst, keys, skeys, code, eg, ing)):
            raise ValueError("all arrays must have the same length")
        si = np.searchsorted(self._starts, src, side="right") - 1
        di = np.searchsorted(self._starts, dst, side="right") - 1
        e = self._side(self._local_e[si], self._peer_e[di], keys, skeys)
        i = self._side(self._local_i[di], self._peer_i[si], keys, skeys)
        sep = self._ep[si]
        self_flow = (sep >= 0) & (sep == self._ep[di])
        e[self_flow] = _NONE  # an endpoint to itself: allowed without evaluation
        i[self_flow] = _NONE
        allow_e = np.where(e >= 0, self._allow[np.maximum(e, 0)], e == _NONE)
        allow_i = np.where(i >= 0, self._allow[np.maximum(i, 0)], i == _NONE)
        result = (allow_e & allow_i).astype(np.uint8)
        result[(e == _FALLBACK) | (i == _FALLBACK)] = CODE_REFERENCE
        code[:] = result
        eg[:] = e
        ing[:] = i

    def decide_side(
        self, local: np.ndarray, peer: np.ndarray, keys: np.ndarray, skeys: np.ndarray, out: np.ndarray
    ) -> None:
        """One direction only: the outcome (or FALLBACK) of each (local class, peer class,
        key, source key), for local classes of one direction (all egress or all ingress)
        with peers of that direction."""
        m = len(local)
        if any(len(a) != m for a in (peer, keys, skeys, out)):
            raise ValueError("all arrays must have the same length")
        if m == 0:
            return
        egress = int(local[0]) < self._n_egress
        lo, hi = (0, self._n_egress) if egress else (self._n_egress, self._n_local)
        width = self._n_e if egress else self._n_i
        if int(local.min()) < lo or int(local.max()) >= hi or int(peer.min()) < 0 or int(peer.max()) >= width:
            raise ValueError("class out of range")
        out[:] = self._outcomes(self._tables(local, peer), keys, skeys)

    # -- one flow ------------------------------------------------------------------------------

    def _table(self, local: int, peer: int) -> int:
        row = int(self._loc_row[local])
        group = int(self._rows8[row + peer]) if row >= 0 else int(self._rows16[-1 - row + peer])
        return int(self._groups[int(self._loc_tab[local]) + group])

    def _lookup(self, table: int, key: int, skey: int) -> int:
        found = int(self._tables_arr[table * self._n_keys + bisect.bisect_right(self._l_key_starts, key) - 1])
        if found <= -3:
            skc = bisect.bisect_right(self._l_skey_starts, skey) - 1
            found = int(self._stables[(-3 - found) * self._n_skeys + skc])
        if found < _FALLBACK:
            raise ValueError("compiled tables are inconsistent: a table cell is no outcome")
        return found

    def _find(self, ip: int) -> int:
        starts = self._l_starts
        lo, hi = 0, len(starts)
        while hi - lo > 1:
            mid = (lo + hi) >> 1
            if starts[mid] <= ip:
                lo = mid
            else:
                hi = mid
        return lo

    def decide_one_v4(self, src: int, dst: int, key: int, skey: int) -> tuple[int, int, int]:
        """One IPv4 flow: (code, egress outcome, ingress outcome)."""
        if not (0 <= src < (1 << 32) and 0 <= dst < (1 << 32)):
            raise OverflowError("IPv4 addresses are 0 to 2**32-1")
        si = self._find(src)
        di = self._find(dst)
        sep = self._l_ep[si]
        if sep >= 0 and sep == self._l_ep[di]:
            return CODE_ALLOW, _NONE, _NONE  # an endpoint to itself: allowed without evaluation
        return self.decide_classes(
            self._l_local_e[si], self._l_peer_i[si], self._l_local_i[di], self._l_peer_e[di], key, skey
        )

    def decide_one_v4_owners(self, src: int, dst: int, key: int, skey: int) -> tuple[int, int, int, int, int]:
        """One IPv4 flow: (code, egress outcome, ingress outcome, source endpoint,
        destination endpoint); an endpoint is its index, -1 for none, -3 for an address
        several endpoints share."""
        code, e, i = self.decide_one_v4(src, dst, key, skey)
        return code, e, i, self._l_ep[self._find(src)], self._l_ep[self._find(dst)]

    flow_keys = staticmethod(flow_keys)  # in _fastmatch_keys_py

    def single(self, owners: list[Any], other: Callable[[Any], Verdict], source: Callable[[], Any],
               names: dict[str, int] | None = None) -> Single:
        """The one-flow path on these tables; see :class:`Single`."""
        return Single(self, owners, other, source, names)

    def decide_classes(
        self, local_e: int, peer_s: int, local_i: int, peer_d: int, key: int, skey: int
    ) -> tuple[int, int, int]:
        """One flow given its classes: the source's egress local class and ingress peer
        class, the destination's ingress local class and egress peer class (any family)."""
        if not (0 <= peer_s < self._n_i and 0 <= peer_d < self._n_e):
            raise ValueError("peer class out of range")
        if not (-2 <= local_e < self._n_egress and (local_i < 0 and local_i >= -2 or self._n_egress <= local_i < self._n_local)):
            raise ValueError("local class out of range")
        if not (0 <= key < (1 << 32) and 0 <= skey < (1 << 32)):
            raise ValueError("key out of range")
        if local_e >= 0:
            e = self._lookup(self._table(local_e, peer_d), key, skey)
        else:
            e = _NONE if local_e == -1 else _FALLBACK
        if local_i >= 0:
            i = self._lookup(self._table(local_i, peer_s), key, skey)
        else:
            i = _NONE if local_i == -1 else _FALLBACK
        if e == _FALLBACK or i == _FALLBACK:
            return CODE_REFERENCE, e, i
        allowed = (e < 0 or self._l_allow[e]) and (i < 0 or self._l_allow[i])
        return (CODE_ALLOW if allowed else CODE_DENY), e, i
