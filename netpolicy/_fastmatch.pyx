# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True, embedsignature=True
"""The compiled matcher twin: decides IPv4 flows on compiled tables without the GIL.

Same API as ``netpolicy._fastmatch_py`` (the pure twin, which is the specification). The
tables are described in ``netpolicy._compile``; ``Compiled.check()`` proves every index
in bounds before the loops below read without checks.
"""

import ipaddress
import types

import attrs
import numpy as np

from ._compile import KEY_BITS, key_class_map
from .model import Action
from .verdict import Verdict
from cpython.object cimport PyObject, PyTypeObject
from cpython.ref cimport Py_DECREF, Py_INCREF
from libc.stdint cimport int16_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t

__all__ = ["Matcher", "Single", "CODE_DENY", "CODE_ALLOW", "CODE_REFERENCE"]

CODE_DENY = 0
CODE_ALLOW = 1
CODE_REFERENCE = 2

cdef enum:
    _FALLBACK = -1
    _NONE = -2
    _BLOCK = 64  # flows decided together, stage by stage
    _KEY_BITS = 17  # as in _compile
    _KEY_LIMIT = 256 << 17
    _PORT_MASK = (1 << 17) - 1

cdef extern from *:
    """
    #if defined(__GNUC__) || defined(__clang__)
    #define NETPOLICY_PREFETCH(p) __builtin_prefetch(p)
    #else
    #define NETPOLICY_PREFETCH(p) ((void)0)
    #endif
    """
    void _prefetch "NETPOLICY_PREFETCH"(const void* p) noexcept nogil

cdef extern from "Python.h":
    ctypedef struct PyMemberDef:
        int type
        Py_ssize_t offset
        int flags
    ctypedef struct PyMemberDescrObject:
        PyMemberDef* d_member
    PyObject* PyType_GenericAlloc(PyTypeObject* cls, Py_ssize_t n)


cdef inline int64_t _class(const uint32_t* starts, int64_t n, uint32_t key) noexcept nogil:
    """The last k < n with starts[k] <= key, given starts[0] <= key; the loop has no
    branch to mispredict."""
    cdef int64_t base = 0, half
    while n > 1:
        half = n >> 1
        base = base + half if starts[base + half] <= key else base
        n -= half
    return base


cdef inline int64_t _key_class(const int64_t* layout, const uint16_t* classes, int64_t n, uint32_t key) noexcept nogil:
    """The class of ``key`` by the direct map of ``_compile.key_class_map`` (``n``
    classes in all; a key past every protocol is in the last)."""
    if key >= _KEY_LIMIT:
        return n - 1
    cdef int64_t protocol = key >> _KEY_BITS
    cdef int64_t sub = key & ((1 << _KEY_BITS) - 1)
    cdef int64_t last = layout[2 * protocol + 1]
    return classes[layout[2 * protocol] + (sub if sub < last else last)]


cdef class Matcher:
    """Decides flows on the tables of one compiled PolicySet."""

    cdef const uint32_t[::1] starts
    cdef const int32_t[::1] rec  # per address interval, see __init__
    cdef const uint32_t[::1] radix  # per /16 block: the interval holding its first address
    cdef const uint8_t[::1] code_of  # per outcome + 2: 1 allow (or NONE), 0 deny, 2 reference
    cdef const int64_t[::1] loc  # per local class: row offset, groups offset
    cdef const uint8_t[::1] rows8
    cdef const uint16_t[::1] rows16
    cdef const int32_t[::1] table_at  # per group: where its table starts (table * number of key classes)
    cdef const uint32_t[::1] key_starts
    cdef const int64_t[::1] key_layout  # key -> key class, see _compile.key_class_map
    cdef const uint16_t[::1] key_classes
    cdef const int64_t[::1] skey_layout
    cdef const uint16_t[::1] skey_classes
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
        starts = np.ascontiguousarray(c.v4_starts, np.uint32)
        radix = np.searchsorted(starts, np.arange(65537, dtype=np.uint64) << np.uint64(16), side="right") - 1
        # Two extra tables decide every key as NONE (no policed endpoint) and FALLBACK (an
        # endpoint the tables do not decide), reached through a row of zeros: the flow loop
        # treats every side alike.
        n_tables, n_keys = c.n_tables, len(c.key_starts)
        tables = np.concatenate([c.tables, np.full(n_keys, _NONE, np.int32), np.full(n_keys, _FALLBACK, np.int32)])
        groups = np.concatenate([c.groups, np.array([n_tables, n_tables + 1], np.int32)])
        none_group, fallback_group = len(groups) - 2, len(groups) - 1
        zero_row = len(c.rows8)
        rows8 = np.concatenate([c.rows8, np.zeros(max(c.n_peer[0], c.n_peer[1]), np.uint8)])
        if len(rows8) >= 2**31 or len(c.rows16) >= 2**31 or len(groups) >= 2**31 or len(tables) >= 2**31:
            raise ValueError("compiled tables are too large")
        rec = np.zeros((n, 8), np.int32)  # 32 bytes per interval: one cache line holds two
        rec[:, 0] = c.v4_endpoint
        for column, local in ((1, c.v4_local[0]), (3, c.v4_local[1])):
            known = np.maximum(local, 0)
            rec[:, column] = np.where(local >= 0, np.asarray(c.loc_row, np.int64)[known] if len(c.loc_row) else 0, zero_row)
            rec[:, column + 1] = np.where(
                local >= 0, np.asarray(c.loc_tab, np.int64)[known] if len(c.loc_tab) else 0,
                np.where(local == -1, none_group, fallback_group),
            )
        rec[:, 5] = c.v4_peer[0]
        rec[:, 6] = c.v4_peer[1]
        if KEY_BITS != 17:
            raise ValueError("compiled tables use another key layout")
        key_layout, key_classes = key_class_map(c.key_starts)
        skey_layout, skey_classes = key_class_map(c.skey_starts)
        code_of = np.concatenate([np.array([1, 2], np.uint8), np.asarray(c.out_allow, np.uint8)])
        loc = np.stack([np.asarray(c.loc_row, np.int64), np.asarray(c.loc_tab, np.int64)], axis=1)
        arrays = dict(
            starts=starts,
            rec=np.ascontiguousarray(rec.reshape(-1)),
            radix=np.ascontiguousarray(radix, np.uint32),
            code_of=code_of,
            loc=np.ascontiguousarray(loc.reshape(-1)),
            rows8=np.ascontiguousarray(rows8, np.uint8),
            rows16=np.ascontiguousarray(c.rows16, np.uint16),
            table_at=np.ascontiguousarray(groups.astype(np.int64) * n_keys, np.int32),
            key_starts=np.ascontiguousarray(c.key_starts, np.uint32),
            key_layout=np.ascontiguousarray(key_layout.reshape(-1), np.int64),
            key_classes=np.ascontiguousarray(key_classes, np.uint16),
            skey_layout=np.ascontiguousarray(skey_layout.reshape(-1), np.int64),
            skey_classes=np.ascontiguousarray(skey_classes, np.uint16),
            tables=np.ascontiguousarray(tables, np.int32),
            skey_starts=np.ascontiguousarray(c.skey_starts, np.uint32),
            stables=np.ascontiguousarray(c.stables, np.int32),
            allow=np.ascontiguousarray(c.out_allow, np.uint8),
            hash=np.ascontiguousarray(packed, np.uint64),
        )
        self._keep = arrays
        self.starts = arrays["starts"]
        self.rec = arrays["rec"]
        self.radix = arrays["radix"]
        self.code_of = arrays["code_of"]
        self.loc = arrays["loc"]
        self.rows8 = arrays["rows8"]
        self.rows16 = arrays["rows16"]
        self.table_at = arrays["table_at"]
        self.key_starts = arrays["key_starts"]
        self.key_layout = arrays["key_layout"]
        self.key_classes = arrays["key_classes"]
        self.skey_layout = arrays["skey_layout"]
        self.skey_classes = arrays["skey_classes"]
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

    cdef inline uint32_t _slot(self, uint32_t ip) noexcept nogil:
        """Where the hash of endpoint addresses starts looking for ``ip``."""
        if self.hshift < 32:
            return <uint32_t>(<uint32_t>(ip * <uint32_t>2654435761u) >> self.hshift)
        return 0

    cdef inline Py_ssize_t _find(self, uint32_t ip) noexcept nogil:
        return self._find_from(ip, self._slot(ip))

    cdef inline Py_ssize_t _find_from(self, uint32_t ip, uint32_t h) noexcept nogil:
        """The address interval holding ``ip``: by the hash of endpoint addresses (from
        slot ``h``), else within the intervals of its /16 block."""
        cdef uint64_t slot
        while True:
            slot = self.hash[h]
            if slot == 0:
                break
            if <uint32_t>(slot >> 32) == ip:
                return <Py_ssize_t>(<uint32_t>slot) - 1
            h = (h + 1) & self.hmask
        cdef uint32_t block = ip >> 16
        cdef int64_t lo = self.radix[block]
        return <Py_ssize_t>(lo + _class(&self.starts[lo], self.radix[block + 1] - lo + 1, ip))

    cdef inline int32_t _secondary(self, int32_t found, uint32_t skey) noexcept nogil:
        """The outcome of secondary table ``-3 - found`` (a source-port table)."""
        return self.stables[(-3 - <int64_t>found) * self.n_skeys + _key_class(&self.skey_layout[0], &self.skey_classes[0], self.n_skeys, skey)]

    cdef inline int32_t _table_outcome(self, int64_t at, uint32_t skey) noexcept nogil:
        """The outcome in ``tables`` at ``at`` (a table's start plus a key class)."""
        cdef int32_t found = self.tables[at]
        if found <= -3:
            found = self._secondary(found, skey)
        return found

    cdef inline int32_t _side(self, int32_t local, int32_t peer, int64_t kc, uint32_t skey) noexcept nogil:
        """The outcome of a local class against a peer class, for key class ``kc``."""
        cdef int64_t row = self.loc[2 * local]
        cdef int64_t group
        if row >= 0:
            group = self.rows8[row + peer]
        else:
            group = self.rows16[-1 - row + peer]
        return self._table_outcome(self.table_at[self.loc[2 * local + 1] + group] + kc, skey)

    cdef inline int32_t _rec_side(self, int32_t row, int32_t groups, int32_t peer, int64_t kc, uint32_t skey) noexcept nogil:
        """As _side, from the row and groups offsets an address record holds."""
        cdef int64_t group
        if row >= 0:
            group = self.rows8[row + peer]
        else:
            group = self.rows16[-1 - <int64_t>row + peer]
        return self._table_outcome(self.table_at[groups + group] + kc, skey)

    cdef inline uint8_t _code(self, int32_t e, int32_t i) noexcept nogil:
        cdef uint8_t ce = self.code_of[e + 2], ci = self.code_of[i + 2]
        return 2 if (ce | ci) >= 2 else ce & ci

    cdef inline uint8_t _one(self, int32_t le, int32_t ps, int32_t li, int32_t pd, uint32_t key, uint32_t skey,
                             int32_t* e_out, int32_t* i_out) noexcept nogil:
        cdef int32_t e, i
        cdef int64_t kc = _key_class(&self.key_layout[0], &self.key_classes[0], self.n_keys, key)
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
        return self._code(e, i)

    cdef inline uint8_t _flow(self, uint32_t src, uint32_t dst, uint32_t key, uint32_t skey,
                              int32_t* e_out, int32_t* i_out) noexcept nogil:
        return self._records(&self.rec[8 * self._find(src)], &self.rec[8 * self._find(dst)], key, skey, e_out, i_out)

    cdef inline uint8_t _records(self, const int32_t* s, const int32_t* d, uint32_t key, uint32_t skey,
                                 int32_t* e_out, int32_t* i_out) noexcept nogil:
        """One flow from its sides' records: endpoint, egress row, egress groups, ingress
        row, ingress groups, peer class as an egress destination, as an ingress source."""
        cdef int64_t kc
        cdef int32_t e, i
        if s[0] >= 0 and s[0] == d[0]:
            e_out[0] = _NONE  # an endpoint to itself: allowed without evaluation
            i_out[0] = _NONE
            return 1
        kc = _key_class(&self.key_layout[0], &self.key_classes[0], self.n_keys, key)
        e = self._rec_side(s[1], s[2], d[5], kc, skey)
        i = self._rec_side(d[3], d[4], s[6], kc, skey)
        e_out[0] = e
        i_out[0] = i
        return self._code(e, i)

    cdef void _block(self, const uint32_t* src, const uint32_t* dst, const uint32_t* keys, const uint32_t* skeys,
                     uint8_t* code, int32_t* eg, int32_t* ing, Py_ssize_t m) noexcept nogil:
        """Decides ``m`` <= _BLOCK flows in stages, each over the whole block, so that the
        memory reads of different flows overlap instead of waiting on one another. The
        tables are read through local pointers, which the outputs cannot alias."""
        cdef const uint64_t* hash = &self.hash[0]
        cdef const int32_t* rec = &self.rec[0]
        cdef const uint8_t* rows8 = &self.rows8[0]
        cdef const uint16_t* rows16 = &self.rows16[0]
        cdef const int32_t* table_at = &self.table_at[0]
        cdef bint wide = self.rows16.shape[0] > 0
        cdef const int32_t* tables = &self.tables[0]
        cdef const int32_t* stables = &self.stables[0]
        cdef const uint8_t* code_of = &self.code_of[0]
        cdef int64_t n_keys = self.n_keys
        cdef const int64_t* key_layout = &self.key_layout[0]
        cdef const uint16_t* key_classes = &self.key_classes[0]
        cdef const int32_t* s[_BLOCK]
        cdef const int32_t* d[_BLOCK]
        cdef int64_t at_e[_BLOCK]
        cdef int64_t at_i[_BLOCK]
        cdef int64_t kc[_BLOCK]
        cdef int32_t out_e[_BLOCK]
        cdef int32_t out_i[_BLOCK]
        cdef Py_ssize_t j
        cdef int64_t group, skc
        cdef uint32_t skey
        cdef int32_t e, i
        cdef uint8_t ce, ci
        for j in range(m):
            at_e[j] = self._slot(src[j])
            at_i[j] = self._slot(dst[j])
            _prefetch(&hash[at_e[j]])
            _prefetch(&hash[at_i[j]])
        for j in range(m):
            s[j] = &rec[8 * self._find_from(src[j], <uint32_t>at_e[j])]
            d[j] = &rec[8 * self._find_from(dst[j], <uint32_t>at_i[j])]
            _prefetch(s[j])
            _prefetch(d[j])
        if wide:  # some local class has 16-bit rows
            for j in range(m):
                kc[j] = _key_class(key_layout, key_classes, n_keys, keys[j])
                at_e[j] = s[j][1] + <int64_t>d[j][5] if s[j][1] >= 0 else s[j][1] - <int64_t>d[j][5]
                at_i[j] = d[j][3] + <int64_t>s[j][6] if d[j][3] >= 0 else d[j][3] - <int64_t>s[j][6]
                _prefetch(&rows8[at_e[j]] if at_e[j] >= 0 else <const uint8_t*>&rows16[-1 - at_e[j]])
                _prefetch(&rows8[at_i[j]] if at_i[j] >= 0 else <const uint8_t*>&rows16[-1 - at_i[j]])
            for j in range(m):
                group = rows8[at_e[j]] if at_e[j] >= 0 else rows16[-1 - at_e[j]]
                at_e[j] = table_at[s[j][2] + group] + kc[j]
                group = rows8[at_i[j]] if at_i[j] >= 0 else rows16[-1 - at_i[j]]
                at_i[j] = table_at[d[j][4] + group] + kc[j]
                _prefetch(&tables[at_e[j]])
                _prefetch(&tables[at_i[j]])
        else:  # the same, with 8-bit rows only
            for j in range(m):
                kc[j] = _key_class(key_layout, key_classes, n_keys, keys[j])
                at_e[j] = s[j][1] + d[j][5]
                at_i[j] = d[j][3] + s[j][6]
                _prefetch(&rows8[at_e[j]])
                _prefetch(&rows8[at_i[j]])
            for j in range(m):
                at_e[j] = table_at[s[j][2] + rows8[at_e[j]]] + kc[j]
                at_i[j] = table_at[d[j][4] + rows8[at_i[j]]] + kc[j]
                _prefetch(&tables[at_e[j]])
                _prefetch(&tables[at_i[j]])
        for j in range(m):
            e = tables[at_e[j]]
            i = tables[at_i[j]]
            if e <= -3 or i <= -3:  # source-port tables (small: read at once)
                skey = skeys[j] if skeys != NULL else keys[j] & ~_PORT_MASK  # no source ports: none
                skc = _key_class(&self.skey_layout[0], &self.skey_classes[0], self.n_skeys, skey)
                if e <= -3:
                    e = stables[(-3 - <int64_t>e) * self.n_skeys + skc]
                if i <= -3:
                    i = stables[(-3 - <int64_t>i) * self.n_skeys + skc]
            if s[j][0] >= 0 and s[j][0] == d[j][0]:
                e = _NONE  # an endpoint to itself: allowed without evaluation
                i = _NONE
            out_e[j] = e
            out_i[j] = i
        for j in range(m):
            ce = code_of[out_e[j] + 2]
            ci = code_of[out_i[j] + 2]
            code[j] = 2 if (ce | ci) >= 2 else ce & ci
            eg[j] = out_e[j]
            ing[j] = out_i[j]

    def decide_v4(self, const uint32_t[::1] src, const uint32_t[::1] dst, const uint32_t[::1] keys,
                  const uint32_t[::1] skeys, uint8_t[::1] code, int32_t[::1] eg, int32_t[::1] ing):
        """Decides ``len(src)`` IPv4 flows into ``code``, ``eg`` and ``ing``; releases the
        GIL. ``skeys`` None: no flow has a source port."""
        cdef Py_ssize_t m = src.shape[0], k
        if (dst.shape[0] != m or keys.shape[0] != m or (skeys is not None and skeys.shape[0] != m) or code.shape[0] != m
                or eg.shape[0] != m or ing.shape[0] != m):
            raise ValueError("all arrays must have the same length")
        if m == 0:
            return
        cdef Py_ssize_t size = _BLOCK
        cdef bint has_skeys = skeys is not None
        k = 0
        with nogil:
            while k < m:
                size = min(size, m - k)
                self._block(&src[k], &dst[k], &keys[k], &skeys[k] if has_skeys else NULL, &code[k], &eg[k], &ing[k], size)
                k += size

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
                out[k] = self._side(local[k], peer[k], _key_class(&self.key_layout[0], &self.key_classes[0], self.n_keys, keys[k]), skeys[k])

    cpdef tuple decide_one_v4(self, uint32_t src, uint32_t dst, uint32_t key, uint32_t skey):
        """One IPv4 flow: (code, egress outcome, ingress outcome)."""
        cdef int32_t e, i
        cdef uint8_t c = self._flow(src, dst, key, skey, &e, &i)
        return (c, e, i)

    cpdef tuple decide_one_v4_owners(self, uint32_t src, uint32_t dst, uint32_t key, uint32_t skey):
        """One IPv4 flow: (code, egress outcome, ingress outcome, source endpoint,
        destination endpoint); an endpoint is its index, -1 for none, -3 for an address
        several endpoints share."""
        cdef int32_t e, i
        cdef const int32_t* s = &self.rec[8 * self._find(src)]
        cdef const int32_t* d = &self.rec[8 * self._find(dst)]
        cdef uint8_t c = self._records(s, d, key, skey, &e, &i)
        return (c, e, i, s[0], d[0])

    @staticmethod
    def flow_keys(const uint8_t[::1] protocol, const uint16_t[::1] dst_port, const uint16_t[::1] src_port,
                  const int16_t[::1] icmp_type, const int16_t[::1] icmp_code, uint32_t[::1] key, uint32_t[::1] skey):
        """Each flow's key into ``key`` (and source key into ``skey``, unless None) from
        its columns; a column None is absent, port 0 and ICMP -1 mean no
        value. Returns (the first flow whose protocol does not take one of its fields,
        or with an ICMP code without a type, else -1; the first ICMPv6 flow, else -1)."""
        cdef Py_ssize_t n = protocol.shape[0], k
        cdef Py_ssize_t bad = -1, icmp6 = -1
        cdef bint has_dport = dst_port is not None, has_sport = src_port is not None
        cdef bint has_type = icmp_type is not None, has_code = icmp_code is not None, has_skey = skey is not None
        cdef uint32_t sub, sport
        cdef int32_t itype, icode
        if ((has_dport and dst_port.shape[0] != n) or (has_sport and src_port.shape[0] != n)
                or (has_type and icmp_type.shape[0] != n) or (has_code and icmp_code.shape[0] != n)
                or key.shape[0] != n or (has_skey and skey.shape[0] != n)):
            raise ValueError("all arrays must have the same length")
        if has_sport and not has_skey:
            raise ValueError("source ports need skey")
        if n == 0:
            return bad, icmp6
        cdef const uint8_t* protos = &protocol[0]
        cdef uint32_t* keys = &key[0]
        cdef const uint16_t* ports = NULL
        cdef const int16_t* types = NULL
        cdef const int16_t* codes = NULL
        cdef uint32_t* skeys = NULL
        cdef uint32_t any_wrong = 0, any_icmp6 = 0
        cdef uint8_t p
        with nogil:
            # simple loops, one column at a time, that the compiler vectorizes; the rare
            # wrong flow is looked for only when there is one
            for k in range(n):
                keys[k] = <uint32_t>protos[k] << _KEY_BITS
                any_icmp6 |= protos[k] == 58
            if has_dport:
                ports = &dst_port[0]
                for k in range(n):
                    p = protos[k]
                    keys[k] |= ports[k]
                    any_wrong |= (ports[k] != 0) & (p != 6) & (p != 17) & (p != 132) & (p != 136)
            if has_skey:
                skeys = &skey[0]
                for k in range(n):
                    skeys[k] = <uint32_t>protos[k] << _KEY_BITS
                if has_sport:
                    ports = &src_port[0]
                    for k in range(n):
                        p = protos[k]
                        skeys[k] |= ports[k]
                        any_wrong |= (ports[k] != 0) & (p != 6) & (p != 17) & (p != 132) & (p != 136)
            # (type + 1) * 257 + (code + 1): 0 where both are absent; ICMP flows have no port
            if has_type:
                types = &icmp_type[0]
                for k in range(n):
                    p = protos[k]
                    keys[k] += <uint32_t>(types[k] + 1) * 257
                    any_wrong |= (types[k] >= 0) & (p != 1) & (p != 58)
            if has_code:
                codes = &icmp_code[0]
                for k in range(n):
                    p = protos[k]
                    keys[k] += <uint32_t>(codes[k] + 1)
                    any_wrong |= (codes[k] >= 0) & (p != 1) & (p != 58)
                if has_type:
                    for k in range(n):
                        any_wrong |= (codes[k] >= 0) & (types[k] < 0)
                else:
                    for k in range(n):
                        any_wrong |= codes[k] >= 0
            if any_wrong:
                for k in range(n):
                    sub = dst_port[k] if has_dport else 0
                    sport = src_port[k] if has_sport else 0
                    itype = icmp_type[k] if has_type else -1
                    icode = icmp_code[k] if has_code else -1
                    p = protos[k]
                    if (((sub | sport) != 0 and p != 6 and p != 17 and p != 132 and p != 136)
                            or ((itype >= 0 or icode >= 0) and p != 1 and p != 58) or (icode >= 0 and itype < 0)):
                        bad = k
                        break
            if any_icmp6:
                for k in range(n):
                    if protos[k] == 58:
                        icmp6 = k
                        break
        return bad, icmp6

    def single(self, list owners, other, source):
        """The one-flow path on these tables; see :class:`Single`."""
        return Single(self, owners, other, source)

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


# -- one flow, one Verdict -------------------------------------------------------------------

cdef enum:
    _T_OBJECT_EX = 16  # structmember.h: an object slot
    _READONLY = 1

cdef tuple _VERDICT_SLOTS = ("flow", "action", "egress", "ingress", "logged", "pending", "trace", "_replay", "_source")
cdef object _V4 = ipaddress.IPv4Address
cdef object _ALLOW = Action.ALLOW
cdef object _DENY = Action.DENY


cdef Py_ssize_t _slot_offset(type cls, str name) except -1:
    """Where instances of ``cls`` keep attribute ``name``, which must be a writable
    object slot."""
    descriptor = cls.__dict__.get(name)
    if type(descriptor) is not types.MemberDescriptorType:
        raise TypeError(f"{cls.__name__}.{name} is not a slot")
    cdef PyMemberDef* member = (<PyMemberDescrObject*><PyObject*>descriptor).d_member
    if member.type != _T_OBJECT_EX or member.flags & _READONLY:
        raise TypeError(f"{cls.__name__}.{name} is not a writable object slot")
    return member.offset


cdef class Single:
    """One flow decided and its Verdict built in one call: the common case of
    ``netpolicy.batch.Engine.evaluate``. The pure twin's ``Single`` is the specification.

    The Verdict is allocated and its slots filled directly: what attrs' frozen
    ``__init__`` would store, without the cost of a Python call per field. The slots are
    found once, here, and every field of Verdict must be one of them.
    """

    cdef Matcher matcher
    cdef list owners
    cdef object other
    cdef object source
    cdef Py_ssize_t at[9]  # offsets of _VERDICT_SLOTS

    def __init__(self, Matcher matcher, list owners, other, source):
        if {field.name for field in attrs.fields(Verdict)} != set(_VERDICT_SLOTS):
            raise TypeError("Verdict's fields are not the ones Single fills")
        for k, name in enumerate(_VERDICT_SLOTS):
            self.at[k] = _slot_offset(Verdict, name)
        endpoints = np.asarray(matcher.rec).reshape(-1, 8)[:, 0]
        if len(owners) < 3 + (int(endpoints.max()) + 1 if len(endpoints) else 0):
            raise ValueError("owners must hold three entries, then one per endpoint")  # read unchecked
        self.matcher = matcher
        self.owners = owners
        self.other = other
        self.source = source

    cdef inline void _put(self, PyObject* verdict, int k, object value) noexcept:
        """Stores ``value`` into slot ``k`` of a fresh verdict (whose slots are empty)."""
        Py_INCREF(value)
        (<PyObject**>((<char*>verdict) + self.at[k]))[0] = <PyObject*>value

    def evaluate(self, flow):
        cdef uint32_t high, key, skey
        cdef int32_t e, i, s_ep, d_ep
        cdef const int32_t* s
        cdef const int32_t* d
        cdef uint8_t code
        cdef Matcher m = self.matcher
        src = flow.src
        dst = flow.dst
        cdef int protocol = flow.protocol
        if type(src) is not _V4 or type(dst) is not _V4 or protocol == 58:
            return self.other(flow)
        high = (<uint32_t>protocol) << _KEY_BITS
        icmp_type = flow.icmp_type
        if icmp_type is None:
            port = flow.dst_port
            key = high if port is None else high | <uint16_t>port
        else:
            icmp_code = flow.icmp_code
            key = high | ((<uint8_t>icmp_type + 1) * 257 + (0 if icmp_code is None else <uint32_t><uint8_t>icmp_code + 1))
        port = flow.src_port
        skey = high if port is None else high | <uint16_t>port
        s = &m.rec[8 * m._find(<uint32_t>src._ip)]
        d = &m.rec[8 * m._find(<uint32_t>dst._ip)]
        code = m._records(s, d, key, skey, &e, &i)
        src_outcomes = self.owners[s[0] + 3]
        dst_outcomes = self.owners[d[0] + 3]
        if code == 2 or src_outcomes is None or dst_outcomes is None:
            return self.other(flow)
        if e >= 0:
            egress, logged, allowed = src_outcomes[e]
            if i >= 0:
                ingress, more, _ = dst_outcomes[i]
                if more and allowed:  # the packet got there
                    logged += more
            else:
                ingress = None
        elif i >= 0:
            egress = None
            ingress, logged, _ = dst_outcomes[i]
        else:
            egress = ingress = None
            logged = ()
        source = self.source()  # explain() re-runs the reference on it
        cdef PyObject* raw = PyType_GenericAlloc(<PyTypeObject*>Verdict, 0)
        if raw == NULL:
            raise MemoryError()
        verdict = <object>raw  # a second reference: given back below
        Py_DECREF(verdict)
        self._put(raw, 0, flow)
        self._put(raw, 1, _ALLOW if code == 1 else _DENY)
        self._put(raw, 2, egress)
        self._put(raw, 3, ingress)
        self._put(raw, 4, logged)
        self._put(raw, 5, None)
        self._put(raw, 6, ())
        self._put(raw, 7, None)
        self._put(raw, 8, source)
        return verdict
