# Included by _fastmatch.pyx (one extension module): the flows' keys from their columns,
# Matcher.flow_keys. Pure twin: _fastmatch_keys_py.py.


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
