"""The matchers' direct lookups: IPv4 point addresses by an open-addressing hash, and
flow keys to key classes by a direct map."""

from __future__ import annotations

import numpy as np

from .compiled import Compiled, TooLarge
from .keys import KEY_BITS

__all__ = ["build_hash", "key_class_map"]


def key_class_map(starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A direct map from flow keys to key classes (``starts`` sorted, ``starts[0] == 0``):
    per protocol ``p``, ``(offset, last)`` with ``last`` the highest position in the
    protocol's block where a class starts, and ``classes[offset + min(key & 0x1FFFF,
    last)]`` the class of a key of protocol ``p``. Classes above 65535 do not fit."""
    if len(starts) > 1 << 16:
        raise TooLarge(f"{len(starts)} key classes")
    starts = np.asarray(starts, np.int64)
    blocks = starts >> KEY_BITS
    layout = np.zeros((256, 2), np.int64)  # [offset, last]
    parts = []
    size = 0
    for protocol in range(256):
        inside = starts[blocks == protocol] - (protocol << KEY_BITS)
        last = int(inside.max()) if len(inside) else 0
        keys = (protocol << KEY_BITS) + np.arange(last + 1, dtype=np.int64)
        parts.append(np.searchsorted(starts, keys, side="right") - 1)
        layout[protocol] = (size, last)
        size += last + 1
    return layout, np.concatenate(parts).astype(np.uint16)


def build_hash(out: Compiled) -> None:
    """Open-addressing hash (multiplicative, linear probing) of point intervals, IPv4."""
    starts = out.v4_starts
    ends = np.append(starts[1:].astype(np.int64), 1 << 32)
    points = np.flatnonzero((ends - starts.astype(np.int64)) == 1)
    size = 1
    while size < 2 * max(len(points), 1):
        size <<= 1
    shift = 32 - size.bit_length() + 1
    keys = np.zeros(size, np.uint32)
    vals = np.full(size, -1, np.int32)
    mask = size - 1
    for idx in points.tolist():
        ip = int(starts[idx])
        h = ((ip * 2654435761) & 0xFFFFFFFF) >> shift if shift < 32 else 0
        while vals[h] != -1:
            h = (h + 1) & mask
        keys[h] = ip
        vals[h] = idx
    out.hash_keys = keys
    out.hash_vals = vals
    out.hash_shift = shift
