# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True, embedsignature=True
"""The compiled matcher twin: decides IPv4 flows on compiled tables without the GIL.

Same API as ``netpolicy._fastmatch_py`` (the pure twin, which is the specification). The
tables are described in ``netpolicy._compile``; ``Compiled.check()`` proves every index
in bounds before the loops below read without checks.
"""

import numpy as np
from libc.stdint cimport int32_t, int64_t, uint8_t, uint32_t, uint64_t

__all__ = ["Matcher", "CODE_DENY", "CODE_ALLOW", "CODE_REFERENCE"]

CODE_DENY = 0
CODE_ALLOW = 1
CODE_REFERENCE = 2

cdef enum:
    _FALLBACK = -1
    _NONE = -2


cdef class Matcher:
    """Decides flows on the tables of one compiled PolicySet."""

    cdef const uint32_t[::1] starts
    cdef const int32_t[::1] ep
    cdef const int32_t[::1] local_e
    cdef const int32_t[::1] local_i
    cdef const int32_t[::1] peer_e
    cdef const int32_t[::1] peer_i
    cdef const int32_t[::1] loc_k
    cdef const int32_t[::1] loc_feat
    cdef const int32_t[::1] loc_tab
    cdef const int32_t[::1] loc_n
    cdef const uint64_t[::1] lookup_keys
    cdef int32_t fallback_table
    cdef const int32_t[::1] feats
    cdef const int32_t[::1] lookup
    cdef const uint64_t[::1] bits_e
    cdef const uint64_t[::1] bits_i
    cdef int64_t words_e
    cdef int64_t words_i
    cdef const int32_t[::1] tab_off
    cdef const int32_t[::1] tab_len
    cdef const uint32_t[::1] tab_keys
    cdef const int32_t[::1] tab_out
    cdef const uint8_t[::1] allow
    cdef const uint64_t[::1] hash
    cdef uint32_t hshift
    cdef uint32_t hmask
    cdef Py_ssize_t nstarts
    cdef int32_t n_e
    cdef int32_t n_i
    cdef int32_t n_egress
    cdef int32_t n_local
    cdef object _keep

    def __init__(self, compiled):
        c = compiled
        c.check()
        hkeys = np.ascontiguousarray(c.hash_keys, np.uint32)
        hvals = np.ascontiguousarray(c.hash_vals, np.int32)
        if len(hkeys) != len(hvals) or len(hkeys) & (len(hkeys) - 1):
            raise ValueError("compiled tables are inconsistent: hash size")
        if len(hvals) and int(hvals.max()) >= len(c.v4_starts):
            raise ValueError("compiled tables are inconsistent: hash value")
        # one 64-bit word per slot: address in the high half, interval + 1 in the low half
        packed = (hkeys.astype(np.uint64) << np.uint64(32)) | (hvals.astype(np.int64) + 1).astype(np.uint64)
        arrays = dict(
            starts=np.ascontiguousarray(c.v4_starts, np.uint32),
            ep=np.ascontiguousarray(c.v4_endpoint, np.int32),
            local_e=np.ascontiguousarray(c.v4_local[0], np.int32),
            local_i=np.ascontiguousarray(c.v4_local[1], np.int32),
            peer_e=np.ascontiguousarray(c.v4_peer[0], np.int32),
            peer_i=np.ascontiguousarray(c.v4_peer[1], np.int32),
            loc_k=np.ascontiguousarray(c.loc_k, np.int32),
            loc_feat=np.ascontiguousarray(c.loc_feat, np.int32),
            loc_tab=np.ascontiguousarray(c.loc_tab, np.int32),
            loc_n=np.ascontiguousarray(c.loc_n, np.int32),
            lookup_keys=np.ascontiguousarray(c.lookup_keys, np.uint64),
            feats=np.ascontiguousarray(c.feats, np.int32),
            lookup=np.ascontiguousarray(c.lookup, np.int32),
            bits_e=np.ascontiguousarray(c.bits[0], np.uint64),
            bits_i=np.ascontiguousarray(c.bits[1], np.uint64),
            tab_off=np.ascontiguousarray(c.tab_off, np.int32),
            tab_len=np.ascontiguousarray(c.tab_len, np.int32),
            tab_keys=np.ascontiguousarray(c.tab_keys, np.uint32),
            tab_out=np.ascontiguousarray(c.tab_out, np.int32),
            allow=np.ascontiguousarray(c.out_allow, np.uint8),
            hash=np.ascontiguousarray(packed, np.uint64),
        )
        self._keep = arrays
        self.starts = arrays["starts"]
        self.ep = arrays["ep"]
        self.local_e = arrays["local_e"]
        self.local_i = arrays["local_i"]
        self.peer_e = arrays["peer_e"]
        self.peer_i = arrays["peer_i"]
        self.loc_k = arrays["loc_k"]
        self.loc_feat = arrays["loc_feat"]
        self.loc_tab = arrays["loc_tab"]
        self.loc_n = arrays["loc_n"]
        self.lookup_keys = arrays["lookup_keys"]
        self.fallback_table = c.fallback_table
        self.feats = arrays["feats"]
        self.lookup = arrays["lookup"]
        self.bits_e = arrays["bits_e"]
        self.bits_i = arrays["bits_i"]
        self.tab_off = arrays["tab_off"]
        self.tab_len = arrays["tab_len"]
        self.tab_keys = arrays["tab_keys"]
        self.tab_out = arrays["tab_out"]
        self.allow = arrays["allow"]
        self.hash = arrays["hash"]
        self.hshift = c.hash_shift
        self.hmask = len(hkeys) - 1
        self.nstarts = len(arrays["starts"])
        self.words_e = c.words[0]
        self.words_i = c.words[1]
        self.n_e = c.n_peer[0]
        self.n_i = c.n_peer[1]
        self.n_egress = c.n_local[0]
        self.n_local = c.n_local[0] + c.n_local[1]

    cdef inline Py_ssize_t _find(self, uint32_t ip) noexcept nogil:
        cdef uint32_t h
        cdef uint64_t slot
        if self.hshift < 32:
            h = <uint32_t>(<uint32_t>(ip * <uint32_t>2654435761u) >> self.hshift)
        else:
            h = 0
        while True:
            slot = self.hash[h]
            if slot == 0:
                break
            if <uint32_t>(slot >> 32) == ip:
                return <Py_ssize_t>(<uint32_t>slot) - 1
            h = (h + 1) & self.hmask
        cdef Py_ssize_t lo = 0, hi = self.nstarts, mid
        while hi - lo > 1:
            mid = (lo + hi) >> 1
            if self.starts[mid] <= ip:
                lo = mid
            else:
                hi = mid
        return lo

    cdef inline int32_t _table(self, int32_t local, int32_t peer) noexcept nogil:
        cdef int32_t k = self.loc_k[local]
        cdef Py_ssize_t off = self.loc_tab[local]
        cdef uint64_t idx = 0
        cdef int64_t j, f
        cdef int64_t fo, base
        cdef Py_ssize_t lo, hi, mid
        cdef const uint64_t* row
        if k < 0:
            return self.lookup[off + peer]
        fo = self.loc_feat[local]
        if local < self.n_egress:
            row = &self.bits_e[peer * self.words_e]
        else:
            row = &self.bits_i[peer * self.words_i]
        for j in range(k):
            f = self.feats[fo + j]
            idx |= ((row[f >> 6] >> (f & 63)) & 1) << j
        lo = off
        hi = off + self.loc_n[local]
        while hi - lo > 1:
            mid = (lo + hi) >> 1
            if self.lookup_keys[mid] <= idx:
                lo = mid
            else:
                hi = mid
        if self.lookup_keys[lo] == idx:
            return self.lookup[lo]
        return self.fallback_table

    cdef inline int32_t _lookup1(self, int32_t table, uint32_t key) noexcept nogil:
        cdef Py_ssize_t lo = self.tab_off[table]
        cdef Py_ssize_t hi = lo + self.tab_len[table]
        cdef Py_ssize_t mid
        while hi - lo > 1:
            mid = (lo + hi) >> 1
            if self.tab_keys[mid] <= key:
                lo = mid
            else:
                hi = mid
        return self.tab_out[lo]

    cdef inline int32_t _lookup(self, int32_t table, uint32_t key, uint32_t skey) noexcept nogil:
        cdef int32_t found = self._lookup1(table, key)
        if found <= -3:
            found = self._lookup1(-3 - found, skey)
            if found <= -3:
                found = _FALLBACK
        return found

    cdef inline uint8_t _one(self, int32_t le, int32_t ps, int32_t li, int32_t pd, uint32_t key, uint32_t skey,
                             int32_t* e_out, int32_t* i_out) noexcept nogil:
        cdef int32_t e, i
        cdef bint ok = True
        if le >= 0:
            e = self._lookup(self._table(le, pd), key, skey)
        elif le == -1:
            e = _NONE
        else:
            e = _FALLBACK
        if li >= 0:
            i = self._lookup(self._table(li, ps), key, skey)
        elif li == -1:
            i = _NONE
        else:
            i = _FALLBACK
        e_out[0] = e
        i_out[0] = i
        if e == _FALLBACK or i == _FALLBACK:
            return 2
        if e >= 0 and not self.allow[e]:
            ok = False
        if i >= 0 and not self.allow[i]:
            ok = False
        return 1 if ok else 0

    def decide_v4(self, const uint32_t[::1] src, const uint32_t[::1] dst, const uint32_t[::1] keys,
                  const uint32_t[::1] skeys, uint8_t[::1] code, int32_t[::1] eg, int32_t[::1] ing):
        """Decides ``len(src)`` IPv4 flows into ``code``, ``eg`` and ``ing``; releases the GIL."""
        cdef Py_ssize_t m = src.shape[0], k, si, di
        if (dst.shape[0] != m or keys.shape[0] != m or skeys.shape[0] != m or code.shape[0] != m
                or eg.shape[0] != m or ing.shape[0] != m):
            raise ValueError("all arrays must have the same length")
        cdef int32_t e, i
        with nogil:
            for k in range(m):
                si = self._find(src[k])
                di = self._find(dst[k])
                if self.ep[si] >= 0 and self.ep[si] == self.ep[di]:
                    code[k] = 1  # an endpoint to itself: allowed without evaluation
                    eg[k] = _NONE
                    ing[k] = _NONE
                    continue
                code[k] = self._one(self.local_e[si], self.peer_i[si], self.local_i[di], self.peer_e[di],
                                    keys[k], skeys[k], &e, &i)
                eg[k] = e
                ing[k] = i

    def decide_side(self, const int32_t[::1] local, const int32_t[::1] peer, const uint32_t[::1] keys,
                    const uint32_t[::1] skeys, int32_t[::1] out):
        """One direction only: the outcome (or FALLBACK) of each (local class, peer class,
        key, source key), for local classes of one direction (all egress or all ingress)
        with peers of that direction. Releases the GIL."""
        cdef Py_ssize_t m = local.shape[0], k
        cdef int32_t lo, hi, width
        if peer.shape[0] != m or keys.shape[0] != m or skeys.shape[0] != m or out.shape[0] != m:
            raise ValueError("all arrays must have the same length")
        if m == 0:
            return
        if local[0] < self.n_egress:
            lo, hi, width = 0, self.n_egress, self.n_e
        else:
            lo, hi, width = self.n_egress, self.n_local, self.n_i
        for k in range(m):
            if local[k] < lo or local[k] >= hi or peer[k] < 0 or peer[k] >= width:
                raise ValueError("class out of range")
        with nogil:
            for k in range(m):
                out[k] = self._lookup(self._table(local[k], peer[k]), keys[k], skeys[k])

    cpdef tuple decide_one_v4(self, uint32_t src, uint32_t dst, uint32_t key, uint32_t skey):
        """One IPv4 flow: (code, egress outcome, ingress outcome)."""
        cdef Py_ssize_t si = self._find(src), di = self._find(dst)
        cdef int32_t e, i
        cdef uint8_t c
        if self.ep[si] >= 0 and self.ep[si] == self.ep[di]:
            return (1, _NONE, _NONE)
        c = self._one(self.local_e[si], self.peer_i[si], self.local_i[di], self.peer_e[di], key, skey, &e, &i)
        return (c, e, i)

    def decide_classes(self, int32_t local_e, int32_t peer_s, int32_t local_i, int32_t peer_d, uint32_t key, uint32_t skey):
        """One flow given its classes: the source's egress local class and ingress peer
        class, the destination's ingress local class and egress peer class (any family)."""
        cdef int32_t e, i
        if peer_s < 0 or peer_s >= self.n_i or peer_d < 0 or peer_d >= self.n_e:
            raise ValueError("peer class out of range")
        if not (-2 <= local_e < self.n_egress and ((-2 <= local_i < 0) or (self.n_egress <= local_i < self.n_local))):
            raise ValueError("local class out of range")
        cdef uint8_t c = self._one(local_e, peer_s, local_i, peer_d, key, skey, &e, &i)
        return (c, e, i)
