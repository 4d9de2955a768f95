# Included by _fastmatch.pyx (one extension module): many flows, the batch kernel behind
# Matcher.decide_v4. Pure twin: the numpy part of _fastmatch_py.Matcher ("many flows").

cdef extern from *:
    """
    #if defined(__GNUC__) || defined(__clang__)
    #define NETPOLICY_PREFETCH(p) __builtin_prefetch(p)
    #else
    #define NETPOLICY_PREFETCH(p) ((void)0)
    #endif
    """
    void _prefetch "NETPOLICY_PREFETCH"(const void* p) noexcept nogil


cdef void _decide_block(Matcher self, const uint32_t* src, const uint32_t* dst, const uint32_t* keys,
                        const uint32_t* skeys, uint8_t* code, int32_t* eg, int32_t* ing,
                        Py_ssize_t m) noexcept nogil:
    """Decides ``m`` <= _BLOCK flows on ``self``'s tables in stages, each over the whole
    block, so that the memory reads of different flows overlap instead of waiting on one
    another. The tables are read through local pointers, which the outputs cannot alias."""
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
