"""The pure twin's flows' keys from their columns: ``Matcher.flow_keys`` (compiled twin:
``_fastmatch_keys.pxi``)."""

from __future__ import annotations

import numpy as np

from .compile import KEY_BITS

__all__ = ["flow_keys"]


def flow_keys(
    protocol: np.ndarray, dst_port: np.ndarray | None, src_port: np.ndarray | None,
    icmp_type: np.ndarray | None, icmp_code: np.ndarray | None, key: np.ndarray, skey: np.ndarray | None,
) -> tuple[int, int]:
    """Each flow's key into ``key`` (and source key into ``skey``, unless None) from
    its columns (uint8 protocol, uint16 ports, int16 ICMP fields); a column None is
    absent, port 0 and ICMP -1 mean no value. Returns (the first flow whose protocol
    does not take one of its fields, or with an ICMP code without a type, else -1;
    the first ICMPv6 flow, else -1)."""
    n = len(protocol)
    if any(column is not None and len(column) != n for column in (dst_port, src_port, icmp_type, icmp_code, skey)) or len(key) != n:
        raise ValueError("all arrays must have the same length")
    if src_port is not None and skey is None:
        raise ValueError("source ports need skey")
    high = protocol.astype(np.uint32) << np.uint32(KEY_BITS)
    no = np.zeros(n, np.bool_)
    ported = np.isin(protocol, (6, 17, 132, 136))
    icmp = (protocol == 1) | (protocol == 58)
    given_port = (dst_port != 0 if dst_port is not None else no) | (src_port != 0 if src_port is not None else no)
    given_type = icmp_type >= 0 if icmp_type is not None else no
    given_code = icmp_code >= 0 if icmp_code is not None else no
    bad = (given_port & ~ported) | ((given_type | given_code) & ~icmp) | (given_code & ~given_type)
    key[:] = high
    if dst_port is not None:
        key |= dst_port
    # (type + 1) * 257 + (code + 1): 0 where both are absent; ICMP flows have no port
    sub = np.zeros(n, np.int32)
    if icmp_type is not None:
        sub += (icmp_type.astype(np.int32) + 1) * 257
    if icmp_code is not None:
        sub += icmp_code.astype(np.int32) + 1
    key |= sub.astype(np.uint32)
    if skey is not None:
        skey[:] = high | (src_port if src_port is not None else 0)
    return _first(bad), _first(protocol == 58)


def _first(found: np.ndarray) -> int:
    return int(np.argmax(found)) if found.any() else -1
