"""The pure-Python matcher twin: decides IPv4 flows on compiled tables with numpy.

Same API as the compiled twin ``netpolicy._fastmatch``: a :class:`Matcher` built from a
:class:`netpolicy._compile.Compiled`, with ``decide_v4`` (a batch, written into
caller-supplied arrays) and ``decide_one_v4``. Codes: 0 deny, 1 allow, 2 ask the
reference evaluator. Side outcomes: an outcome id, ``FALLBACK`` (-1) or ``NONE`` (-2).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["Matcher", "CODE_DENY", "CODE_ALLOW", "CODE_REFERENCE"]

CODE_DENY = 0
CODE_ALLOW = 1
CODE_REFERENCE = 2
_FALLBACK = -1
_NONE = -2


class Matcher:
    """Decides flows on the tables of one compiled PolicySet."""

    def __init__(self, compiled: Any) -> None:
        c = compiled
        self._starts = np.ascontiguousarray(c.v4_starts, np.uint32)
        self._peer_e = np.ascontiguousarray(c.v4_peer[0], np.int32)  # as an egress destination
        self._peer_i = np.ascontiguousarray(c.v4_peer[1], np.int32)  # as an ingress source
        self._ep = np.ascontiguousarray(c.v4_endpoint, np.int32)
        self._local_e = np.ascontiguousarray(c.v4_local[0], np.int32)
        self._local_i = np.ascontiguousarray(c.v4_local[1], np.int32)
        self._cell_e = np.ascontiguousarray(c.cells[0], np.int32)
        self._cell_i = np.ascontiguousarray(c.cells[1], np.int32)
        self._gkeys = np.ascontiguousarray(c.tab_gkeys, np.uint64)
        self._out = np.ascontiguousarray(c.tab_out, np.int32)
        self._allow = np.ascontiguousarray(c.out_allow, np.uint8)
        self._n_e, self._n_i = int(c.n_peer[0]), int(c.n_peer[1])
        # scalar path: plain lists are faster than numpy scalars
        self._l_starts = self._starts.tolist()
        self._l_peer_e = self._peer_e.tolist()
        self._l_peer_i = self._peer_i.tolist()
        self._l_ep = self._ep.tolist()
        self._l_local_e = self._local_e.tolist()
        self._l_local_i = self._local_i.tolist()
        self._l_off = c.tab_off.tolist()
        self._l_len = c.tab_len.tolist()
        self._l_keys = c.tab_keys.tolist()
        self._l_out = self._out.tolist()
        self._l_allow = self._allow.tolist()

    def _side(
        self, local: np.ndarray, cell: np.ndarray, width: int, peer_cls: np.ndarray, keys: np.ndarray, skeys: np.ndarray
    ) -> np.ndarray:
        out = np.where(local == -1, _NONE, _FALLBACK).astype(np.int32)
        has = np.flatnonzero(local >= 0)
        if len(has):
            idx = local[has].astype(np.int64) * width + peer_cls[has]
            found = self._find_many(cell[idx], keys[has])
            second = found <= -3  # a source-port table
            if second.any():
                inner = self._find_many(-3 - found[second], skeys[has][second])
                found[second] = np.where(inner <= -3, _FALLBACK, inner)
            out[has] = found
        return out

    def _find_many(self, tables: np.ndarray, keys: np.ndarray) -> np.ndarray:
        g = (tables.astype(np.uint64) << np.uint64(32)) | keys.astype(np.uint64)
        return self._out[np.searchsorted(self._gkeys, g, side="right") - 1]

    def decide_v4(
        self, src: np.ndarray, dst: np.ndarray, keys: np.ndarray, skeys: np.ndarray,
        code: np.ndarray, eg: np.ndarray, ing: np.ndarray,
    ) -> None:
        """Decides ``len(src)`` IPv4 flows (uint32 addresses, uint32 keys and source
        keys) into ``code`` (uint8), ``eg`` and ``ing`` (int32)."""
        m = len(src)
        if any(len(a) != m for a in (dst, keys, skeys, code, eg, ing)):
            raise ValueError("all arrays must have the same length")
        si = np.searchsorted(self._starts, src, side="right") - 1
        di = np.searchsorted(self._starts, dst, side="right") - 1
        e = self._side(self._local_e[si], self._cell_e, self._n_e, self._peer_e[di], keys, skeys)
        i = self._side(self._local_i[di], self._cell_i, self._n_i, self._peer_i[si], keys, skeys)
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

    def _lookup(self, table: int, key: int, skey: int) -> int:
        found = self._lookup1(table, key)
        if found <= -3:
            found = self._lookup1(-3 - found, skey)
            if found <= -3:
                found = _FALLBACK
        return found

    def _lookup1(self, table: int, key: int) -> int:
        lo = self._l_off[table]
        hi = lo + self._l_len[table]
        keys = self._l_keys
        while hi - lo > 1:
            mid = (lo + hi) >> 1
            if keys[mid] <= key:
                lo = mid
            else:
                hi = mid
        return int(self._l_out[lo])

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
        si = self._find(src)
        di = self._find(dst)
        sep = self._l_ep[si]
        if sep >= 0 and sep == self._l_ep[di]:
            return CODE_ALLOW, _NONE, _NONE
        return self.decide_classes(
            self._l_local_e[si], self._l_peer_i[si], self._l_local_i[di], self._l_peer_e[di], key, skey
        )

    def decide_classes(
        self, local_e: int, peer_s: int, local_i: int, peer_d: int, key: int, skey: int
    ) -> tuple[int, int, int]:
        """One flow given its classes: the source's egress local class and ingress peer
        class, the destination's ingress local class and egress peer class (any family)."""
        if not (0 <= peer_s < self._n_i and 0 <= peer_d < self._n_e):
            raise ValueError("peer class out of range")
        for local, cell, width in ((local_e, self._cell_e, self._n_e), (local_i, self._cell_i, self._n_i)):
            if local < -2 or (local >= 0 and (local + 1) * width > len(cell)):
                raise ValueError("local class out of range")
        if not (0 <= key < (1 << 32) and 0 <= skey < (1 << 32)):
            raise ValueError("key out of range")
        if local_e >= 0:
            e = self._lookup(int(self._cell_e[local_e * self._n_e + peer_d]), key, skey)
        else:
            e = _NONE if local_e == -1 else _FALLBACK
        if local_i >= 0:
            i = self._lookup(int(self._cell_i[local_i * self._n_i + peer_s]), key, skey)
        else:
            i = _NONE if local_i == -1 else _FALLBACK
        if e == _FALLBACK or i == _FALLBACK:
            return CODE_REFERENCE, e, i
        allowed = (e < 0 or self._l_allow[e]) and (i < 0 or self._l_allow[i])
        return (CODE_ALLOW if allowed else CODE_DENY), e, i
