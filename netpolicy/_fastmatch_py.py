"""The pure-Python matcher twin: decides IPv4 flows on compiled tables with numpy.

Same API as the compiled twin ``netpolicy._fastmatch``: a :class:`Matcher` built from a
:class:`netpolicy._compile.Compiled`, with ``decide_v4`` (a batch, written into
caller-supplied arrays), ``decide_one_v4`` and ``decide_classes``. Codes: 0 deny, 1
allow, 2 ask the reference evaluator. Side outcomes: an outcome id, ``FALLBACK`` (-1) or
``NONE`` (-2). The tables are described in :mod:`netpolicy._compile`.
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
        c.check()
        self._starts = np.ascontiguousarray(c.v4_starts, np.uint32)
        self._ep = np.ascontiguousarray(c.v4_endpoint, np.int32)
        self._local_e = np.ascontiguousarray(c.v4_local[0], np.int32)
        self._local_i = np.ascontiguousarray(c.v4_local[1], np.int32)
        self._peer_e = np.ascontiguousarray(c.v4_peer[0], np.int32)  # as an egress destination
        self._peer_i = np.ascontiguousarray(c.v4_peer[1], np.int32)  # as an ingress source
        self._k = np.ascontiguousarray(c.loc_k, np.int32)
        self._feat_off = np.ascontiguousarray(c.loc_feat, np.int32)
        self._tab_off = np.ascontiguousarray(c.loc_tab, np.int32)
        self._tab_n = np.ascontiguousarray(c.loc_n, np.int32)
        self._lookup_keys = np.ascontiguousarray(c.lookup_keys, np.uint64)
        self._fallback_table = int(c.fallback_table)
        self._feats = np.ascontiguousarray(c.feats, np.int32)
        self._lookup_arr = np.ascontiguousarray(c.lookup, np.int32)
        self._bits = [np.ascontiguousarray(b, np.uint64) for b in c.bits]
        self._words = [int(w) for w in c.words]
        self._n_local = int(c.n_local[0] + c.n_local[1])
        self._n_e, self._n_i = int(c.n_peer[0]), int(c.n_peer[1])
        self._n_egress = int(c.n_local[0])
        self._gkeys = np.ascontiguousarray(c.tab_gkeys, np.uint64)
        self._out = np.ascontiguousarray(c.tab_out, np.int32)
        self._allow = np.ascontiguousarray(c.out_allow, np.uint8)
        # scalar path: plain lists are faster than numpy scalars
        self._l_starts = self._starts.tolist()
        self._l_ep = self._ep.tolist()
        self._l_local_e = self._local_e.tolist()
        self._l_local_i = self._local_i.tolist()
        self._l_peer_e = self._peer_e.tolist()
        self._l_peer_i = self._peer_i.tolist()
        self._l_k = self._k.tolist()
        self._l_feat_off = self._feat_off.tolist()
        self._l_tab_off = self._tab_off.tolist()
        self._l_feats = self._feats.tolist()
        self._l_lookup = self._lookup_arr.tolist()
        self._l_lookup_keys = self._lookup_keys.tolist()
        self._l_tab_n = self._tab_n.tolist()
        self._l_bits = [b.tolist() for b in self._bits]
        self._l_off = c.tab_off.tolist()
        self._l_len = c.tab_len.tolist()
        self._l_keys = c.tab_keys.tolist()
        self._l_out = self._out.tolist()
        self._l_allow = self._allow.tolist()

    # -- many flows (numpy) ------------------------------------------------------------------

    def _tables(self, local: np.ndarray, peer: np.ndarray) -> np.ndarray:
        """The table of each (local class, peer class) pair."""
        k = self._k[local]
        off = self._tab_off[local].astype(np.int64)
        out = np.empty(len(local), np.int32)
        dense = k < 0
        out[dense] = self._lookup_arr[off[dense] + peer[dense]]
        sparse = np.flatnonzero(~dense)
        if len(sparse):
            ks, offs, ps = k[sparse], off[sparse], peer[sparse]
            idx = np.zeros(len(sparse), np.uint64)
            d = 0 if int(local[sparse][0]) < self._n_egress else 1  # one direction per call
            bits, words = self._bits[d], self._words[d]
            base = ps.astype(np.int64) * words
            feat_off = self._feat_off[local[sparse]]
            for j in range(int(ks.max()) if len(ks) else 0):
                on = np.flatnonzero(ks > j)
                f = self._feats[feat_off[on] + j].astype(np.int64)
                bit = (bits[base[on] + (f >> 6)] >> (f & 63).astype(np.uint64)) & np.uint64(1)
                idx[on] |= bit << np.uint64(j)
            # binary search of idx among each local class's sorted keys
            lo = offs.copy()
            hi = offs + self._tab_n[local[sparse]]
            while True:
                open_ = hi - lo > 1
                if not open_.any():
                    break
                mid = (lo + hi) >> 1
                go = open_ & (self._lookup_keys[np.where(open_, mid, lo)] <= idx)
                lo = np.where(go, mid, lo)
                hi = np.where(open_ & ~go, mid, hi)
            hit = self._lookup_keys[lo] == idx
            out[sparse] = np.where(hit, self._lookup_arr[lo], self._fallback_table)
        return out

    def _find_many(self, tables: np.ndarray, keys: np.ndarray) -> np.ndarray:
        g = (tables.astype(np.uint64) << np.uint64(32)) | keys.astype(np.uint64)
        return self._out[np.searchsorted(self._gkeys, g, side="right") - 1]

    def _side(self, local: np.ndarray, peer: np.ndarray, keys: np.ndarray, skeys: np.ndarray) -> np.ndarray:
        out = np.where(local == -1, _NONE, _FALLBACK).astype(np.int32)
        has = np.flatnonzero(local >= 0)
        if len(has):
            found = self._find_many(self._tables(local[has], peer[has]), keys[has])
            second = found <= -3  # a source-port table
            if second.any():
                inner = self._find_many(-3 - found[second], skeys[has][second])
                found[second] = np.where(inner <= -3, _FALLBACK, inner)
            out[has] = found
        return out

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
        found = self._find_many(self._tables(local, peer), keys)
        second = found <= -3
        if second.any():
            inner = self._find_many(-3 - found[second], skeys[second])
            found[second] = np.where(inner <= -3, _FALLBACK, inner)
        out[:] = found

    # -- one flow ------------------------------------------------------------------------------

    def _table(self, local: int, peer: int) -> int:
        k = self._l_k[local]
        off = self._l_tab_off[local]
        if k < 0:
            return int(self._l_lookup[off + peer])
        idx = 0
        fo = self._l_feat_off[local]
        d = 0 if local < self._n_egress else 1
        bits = self._l_bits[d]
        base = peer * self._words[d]
        for j in range(k):
            f = self._l_feats[fo + j]
            idx |= ((bits[base + (f >> 6)] >> (f & 63)) & 1) << j
        lo, hi = off, off + self._l_tab_n[local]
        keys = self._l_lookup_keys
        while hi - lo > 1:
            mid = (lo + hi) >> 1
            if keys[mid] <= idx:
                lo = mid
            else:
                hi = mid
        return int(self._l_lookup[lo]) if keys[lo] == idx else self._fallback_table

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
