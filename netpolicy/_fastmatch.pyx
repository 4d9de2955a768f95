# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True, embedsignature=True
"""The compiled matcher twin: decides IPv4 flows on compiled tables without the GIL.

Same API as ``netpolicy._fastmatch_py`` (the pure twin, which is the specification). The
tables are described in ``netpolicy._compile``; ``Compiled.check()`` proves every index
in bounds before the loops below read without checks.

One extension module, in parts that each sit beside their pure twin:

- this file: the tables as the Matcher holds them, the lookups of one flow and the
  Matcher's calls (twin: ``_fastmatch_py.py``);
- ``_fastmatch_keys.pxi``: the flows' keys from their columns, ``Matcher.flow_keys``
  (twin: ``_fastmatch_keys_py.py``);
- ``_fastmatch_block.pxi``: many flows, the batch kernel behind ``Matcher.decide_v4``
  (twin: the numpy part of ``_fastmatch_py.Matcher``);
- ``_fastmatch_single.pxi``: one flow, one Verdict, ``Single`` (twin:
  ``_fastmatch_single_py.py``).

The parts share this file's imports and declarations.
"""

import ipaddress
import types

import attrs
import numpy as np

from .compile import KEY_BITS, key_class_map
from .model import Action
from .verdict import Verdict
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


include "_fastmatch_keys.pxi"


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
                _decide_block(self, &src[k], &dst[k], &keys[k], &skeys[k] if has_skeys else NULL, &code[k], &eg[k], &ing[k], size)
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

    flow_keys = staticmethod(flow_keys)  # in _fastmatch_keys.pxi

    def single(self, list owners, other, source, dict names=None):
        """The one-flow path on these tables; see :class:`Single`."""
        return Single(self, owners, other, source, names)

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


include "_fastmatch_block.pxi"

include "_fastmatch_single.pxi"
