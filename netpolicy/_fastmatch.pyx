# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True, embedsignature=True
"""The compiled matcher twin: decides IPv4 flows on compiled tables without the GIL.

Same API as ``netpolicy._fastmatch_py`` (the pure twin, which is the specification). The
tables are described in ``netpolicy._compile``; ``Compiled.check()`` proves every index
in bounds before the loops below read without checks.
"""

import numpy as np
from libc.stdint cimport int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t

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
    cdef const int32_t[::1] rec  # per address interval: endpoint, egress local, ingress local, egress peer, ingress peer
    cdef const int64_t[::1] loc  # per local class: row offset, groups offset
    cdef const uint8_t[::1] rows8
    cdef const uint16_t[::1] rows16
    cdef const int32_t[::1] groups
    cdef const uint32_t[::1] key_starts
    cdef const int32_t[::1] tables
    cdef const uint32_t[::1] skey_starts
    cdef const int32_t[::1] stables
    cdef const uint8_t[::1] allow
    cdef const uint64_t[::1] hash
    cdef int64_t n_keys
    cdef int64_t n_skeys
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
        n = len(c.v4_starts)
        if len(hkeys) != len(hvals) or len(hkeys) == 0 or len(hkeys) & (len(hkeys) - 1):
            raise ValueError("compiled tables are inconsistent: hash size")
        if int(hvals.max()) >= n:
            raise ValueError("compiled tables are inconsistent: hash value")
        if not (len(c.v4_endpoint) == c.v4_local.shape[1] == c.v4_peer.shape[1] == n):
            raise ValueError("compiled tables are inconsistent: address arrays")
        # one 64-bit word per slot: address in the high half, interval + 1 in the low half
        packed = (hkeys.astype(np.uint64) << np.uint64(32)) | (hvals.astype(np.int64) + 1).astype(np.uint64)
        rec = np.full((n, 8), -2, np.int32)  # 32 bytes per interval: one cache line holds two
        rec[:, 0] = c.v4_endpoint
        rec[:, 1] = c.v4_local[0]
        rec[:, 2] = c.v4_local[1]
        rec[:, 3] = c.v4_peer[0]
        rec[:, 4] = c.v4_peer[1]
        loc = np.stack([np.asarray(c.loc_row, np.int64), np.asarray(c.loc_tab, np.int64)], axis=1)
        arrays = dict(
            starts=np.ascontiguousarray(c.v4_starts, np.uint32),
            rec=np.ascontiguousarray(rec.reshape(-1)),
            loc=np.ascontiguousarray(loc.reshape(-1)),
            rows8=np.ascontiguousarray(c.rows8, np.uint8),
            rows16=np.ascontiguousarray(c.rows16, np.uint16),
            groups=np.ascontiguousarray(c.groups, np.int32),
            key_starts=np.ascontiguousarray(c.key_starts, np.uint32),
            tables=np.ascontiguousarray(c.tables, np.int32),
            skey_starts=np.ascontiguousarray(c.skey_starts, np.uint32),
            stables=np.ascontiguousarray(c.stables, np.int32),
            allow=np.ascontiguousarray(c.out_allow, np.uint8),
            hash=np.ascontiguousarray(packed, np.uint64),
        )
        self._keep = arrays
        self.starts = arrays["starts"]
        self.rec = arrays["rec"]
        self.loc = arrays["loc"]
        self.rows8 = arrays["rows8"]
        self.rows16 = arrays["rows16"]
        self.groups = arrays["groups"]
        self.key_starts = arrays["key_starts"]
        self.tables = arrays["tables"]
        self.skey_starts = arrays["skey_starts"]
        self.stables = arrays["stables"]
        self.allow = arrays["allow"]
        self.hash = arrays["hash"]
        self.n_keys = len(arrays["key_starts"])
        self.n_skeys = len(arrays["skey_starts"])
        self.hshift = c.hash_shift
        self.hmask = len(hkeys) - 1
        self.nstarts = n
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

    @staticmethod
    cdef inline int64_t _class(const uint32_t[::1] starts, int64_t n, uint32_t key) noexcept nogil:
        """The last k with starts[k] <= key (starts[0] is 0), without branches to mispredict."""
        cdef int64_t base = 0, half
        while n > 1:
            half = n >> 1
            base = base + half if starts[base + half] <= key else base
            n -= half
        return base

    cdef inline int32_t _side(self, int32_t local, int32_t peer, int64_t kc, uint32_t skey) noexcept nogil:
        """The outcome of a local class against a peer class, for key class ``kc``."""
        cdef int64_t row = self.loc[2 * local]
        cdef int64_t group
        if row >= 0:
            group = self.rows8[row + peer]
        else:
            group = self.rows16[-1 - row + peer]
        cdef int64_t table = self.groups[self.loc[2 * local + 1] + group]
        cdef int32_t found = self.tables[table * self.n_keys + kc]
        if found <= -3:
            found = self.stables[(-3 - <int64_t>found) * self.n_skeys + Matcher._class(self.skey_starts, self.n_skeys, skey)]
        return found

    cdef inline uint8_t _one(self, int32_t le, int32_t ps, int32_t li, int32_t pd, uint32_t key, uint32_t skey,
                             int32_t* e_out, int32_t* i_out) noexcept nogil:
        cdef int32_t e, i
        cdef int64_t kc = Matcher._class(self.key_starts, self.n_keys, key)
        if le >= 0:
            e = self._side(le, pd, kc, skey)
        elif le == -1:
            e = _NONE
        else:
            e = _FALLBACK
        if li >= 0:
            i = self._side(li, ps, kc, skey)
        elif li == -1:
            i = _NONE
        else:
            i = _FALLBACK
        e_out[0] = e
        i_out[0] = i
        if e == _FALLBACK or i == _FALLBACK:
            return 2
        return (e < 0 or self.allow[e]) and (i < 0 or self.allow[i])

    cdef inline uint8_t _flow(self, uint32_t src, uint32_t dst, uint32_t key, uint32_t skey,
                              int32_t* e_out, int32_t* i_out) noexcept nogil:
        cdef const int32_t* s = &self.rec[8 * self._find(src)]
        cdef const int32_t* d = &self.rec[8 * self._find(dst)]
        if s[0] >= 0 and s[0] == d[0]:
            e_out[0] = _NONE  # an endpoint to itself: allowed without evaluation
            i_out[0] = _NONE
            return 1
        return self._one(s[1], s[4], d[2], d[3], key, skey, e_out, i_out)

    def decide_v4(self, const uint32_t[::1] src, const uint32_t[::1] dst, const uint32_t[::1] keys,
                  const uint32_t[::1] skeys, uint8_t[::1] code, int32_t[::1] eg, int32_t[::1] ing):
        """Decides ``len(src)`` IPv4 flows into ``code``, ``eg`` and ``ing``; releases the GIL."""
        cdef Py_ssize_t m = src.shape[0], k
        if (dst.shape[0] != m or keys.shape[0] != m or skeys.shape[0] != m or code.shape[0] != m
                or eg.shape[0] != m or ing.shape[0] != m):
            raise ValueError("all arrays must have the same length")
        with nogil:
            for k in range(m):
                code[k] = self._flow(src[k], dst[k], keys[k], skeys[k], &eg[k], &ing[k])

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
                out[k] = self._side(local[k], peer[k], Matcher._class(self.key_starts, self.n_keys, keys[k]), skeys[k])

    cpdef tuple decide_one_v4(self, uint32_t src, uint32_t dst, uint32_t key, uint32_t skey):
        """One IPv4 flow: (code, egress outcome, ingress outcome)."""
        cdef int32_t e, i
        cdef uint8_t c = self._flow(src, dst, key, skey, &e, &i)
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
