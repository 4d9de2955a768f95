"""The flow keys as people read them: protocols, port ranges, ICMP types and codes.

The compiled tables cut the space of flow keys (:func:`netpolicy.compile.flow_key`:
protocol in the high bits, then the destination port, or for ICMP ``(type+1)*257 +
(code+1)``) into key classes. Not every key stands for a packet: key 0 under TCP is "no
port given", an ICMP key without a code is "no code given". A packet always carries
them, so the analyses speak only of the *real* keys: ports 1-65535 for TCP, UDP, SCTP and
UDPLite; ICMP and ICMPv6 types 0-254 with codes 0-255; the bare protocol for every other
one. Source ports likewise are 1-65535 for the protocols that have ports, and absent
for the others.

Here: the real keys as intervals, and the conversions from key intervals to
:class:`Ports` (what one protocol allows) and back to one flow's fields.
"""

from __future__ import annotations

import bisect
from typing import Iterable, Sequence

import attrs

from ..compile.keys import ICMP_CODES, KEY_BITS, KEY_LIMIT, Intervals, intersect, union
from ..model import PROTOCOL_NAMES

__all__ = [
    "PORTED", "ICMP", "family_keys", "Ports", "real_keys", "real_source_keys", "protocol_keys", "ports_of",
    "key_fields", "first_real_key", "ports_text", "protocol_text", "range_text",
]

PORTED = (6, 17, 132, 136)  #: the protocols with ports: TCP, UDP, SCTP, UDPLite
ICMP = (1, 58)  #: ICMP (IPv4 only) and ICMPv6 (IPv6 only)
_LOW = (1 << KEY_BITS) - 1
_ICMP_TYPES = 255  # 0-254
_ICMP_NUMBERS = _ICMP_TYPES * 256  # type * 256 + code


def protocol_keys(protocol: int) -> Intervals:
    """Every key of ``protocol``."""
    return [(protocol << KEY_BITS, (protocol + 1) << KEY_BITS)]


def _real(protocol: int) -> Intervals:
    base = protocol << KEY_BITS
    if protocol in PORTED:
        return [(base | 1, base | 65536)]
    if protocol in ICMP:
        return [(base + (t + 1) * ICMP_CODES + 1, base + (t + 2) * ICMP_CODES) for t in range(_ICMP_TYPES)]
    return [(base, base + 1)]


_REAL: Intervals = [iv for protocol in range(1, 256) for iv in _real(protocol)]


def real_keys() -> Intervals:
    """The keys that stand for a packet (see the module docstring)."""
    return list(_REAL)


_REAL_ENDS = [hi for _, hi in _REAL]
_NOT_ICMPV6: Intervals = [(0, 58 << KEY_BITS), (59 << KEY_BITS, KEY_LIMIT)]
_NOT_ICMP: Intervals = [(0, 1 << KEY_BITS), (2 << KEY_BITS, KEY_LIMIT)]
_ICMPV6 = protocol_keys(58)


def family_keys(family: int, shared: frozenset[int]) -> Intervals:
    """The keys whose packets go over ``family`` between two sides that share the
    families ``shared``: ICMP needs IPv4 and ICMPv6 IPv6; any other protocol goes over
    IPv4 when both sides have it, else over IPv6 (as a flow between two named endpoints)."""
    if family not in shared:
        return []
    if family == 4:
        return list(_NOT_ICMPV6)
    return list(_ICMPV6 if 4 in shared else _NOT_ICMP)


def real_source_keys(protocol: int) -> Intervals:
    """The source keys (:func:`netpolicy.compile.source_key`) a packet of ``protocol``
    may carry: ports 1-65535, or none (0) for a protocol without ports."""
    base = protocol << KEY_BITS
    return [(base | 1, base | 65536)] if protocol in PORTED else [(base, base + 1)]


def first_real_key(lo: int, hi: int) -> int | None:
    """The lowest real key in ``[lo, hi)``, or None."""
    at = bisect.bisect_right(_REAL_ENDS, lo)
    if at == len(_REAL):
        return None
    key = max(lo, _REAL[at][0])
    return key if key < hi else None


def key_fields(key: int) -> tuple[int, int | None, int | None, int | None]:
    """(protocol, destination port, ICMP type, ICMP code) of a real key."""
    protocol, sub = key >> KEY_BITS, key & _LOW
    if protocol in ICMP:
        return protocol, None, sub // ICMP_CODES - 1, sub % ICMP_CODES - 1
    if protocol in PORTED:
        return protocol, sub, None, None
    return protocol, None, None, None


@attrs.frozen(order=True)
class Ports:
    """What one protocol allows. ``ranges`` are inclusive: destination ports for TCP,
    UDP, SCTP and UDPLite; for ICMP and ICMPv6 numbers ``type * 256 + code``; for any
    other protocol ``((0, 0),)``, the protocol itself. ``source_ports`` are the source
    ports it holds for (None: any)."""

    protocol: int
    ranges: tuple[tuple[int, int], ...]
    source_ports: tuple[tuple[int, int], ...] | None = None

    @property
    def everything(self) -> bool:
        """Whether every packet of the protocol is allowed (whatever its source port)."""
        return self.source_ports is None and self.ranges == _FULL.get(self.protocol, ((0, 0),))

    def __str__(self) -> str:
        return ports_text(self)


_FULL = {**{p: ((1, 65535),) for p in PORTED}, **{p: ((0, _ICMP_NUMBERS - 1),) for p in ICMP}}


def _merge(ranges: Iterable[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """Inclusive ranges merged where they touch."""
    out: list[tuple[int, int]] = []
    for a, b in sorted(ranges):
        if out and a <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return tuple(out)


_ICMP_FIRST, _ICMP_LAST = ICMP_CODES + 1, _ICMP_TYPES * ICMP_CODES + ICMP_CODES - 1  # type 0 code 0 .. type 254 code 255


def ports_of(keys: Intervals) -> dict[int, tuple[tuple[int, int], ...]]:
    """Key intervals as each protocol's inclusive ranges of real keys (see
    :class:`Ports`)."""
    found: dict[int, list[tuple[int, int]]] = {}
    for lo, hi in union(keys):
        protocol = lo >> KEY_BITS
        while lo < hi and protocol < 256:
            base = protocol << KEY_BITS
            end = min(hi, base + (1 << KEY_BITS))
            a, b = lo - base, end - 1 - base  # the subkeys, inclusive
            if protocol in PORTED:
                a, b = max(a, 1), min(b, 65535)
                if a <= b:
                    found.setdefault(protocol, []).append((a, b))
            elif protocol in ICMP:  # the keys without a code stand for no packet: the rest are contiguous
                a, b = max(a, _ICMP_FIRST), min(b, _ICMP_LAST)
                if a <= b:
                    t1, c1 = divmod(a, ICMP_CODES)
                    t2, c2 = divmod(b, ICMP_CODES)
                    first = (t1 - 1) * 256 + (c1 - 1 if c1 else 0)
                    last = (t2 - 1) * 256 + c2 - 1 if c2 else (t2 - 1) * 256 - 1
                    if first <= last:
                        found.setdefault(protocol, []).append((first, last))
            elif protocol and a == 0:
                found.setdefault(protocol, []).append((0, 0))
            lo, protocol = end, protocol + 1
    return {protocol: _merge(ranges) for protocol, ranges in sorted(found.items())}


# -- text ---------------------------------------------------------------------------------


def protocol_text(protocol: int) -> str:
    """``TCP``, ``ICMPv6``, or ``proto 47``."""
    return PROTOCOL_NAMES.get(protocol, f"proto {protocol}")


def range_text(protocol: int, first: int, last: int) -> str:
    """One range: ``443``, ``8080-8090``; for ICMP ``8`` (type 8, any code), ``8/0``,
    ``3/1-4``, ``0-8`` (types 0 to 8, any code)."""
    if protocol not in ICMP:
        return str(first) if first == last else f"{first}-{last}"
    t1, c1 = divmod(first, 256)
    t2, c2 = divmod(last, 256)
    if c1 == 0 and c2 == 255:
        return str(t1) if t1 == t2 else f"{t1}-{t2}"
    if t1 == t2:
        return f"{t1}/{c1}" if c1 == c2 else f"{t1}/{c1}-{c2}"
    return f"{t1}/{c1}-{t2}/{c2}"


def _ranges_text(protocol: int, ranges: Sequence[tuple[int, int]]) -> str:
    if ranges == _FULL.get(protocol):
        return "all types" if protocol in ICMP else "all ports"
    return ",".join(range_text(protocol, a, b) for a, b in ranges)


def ports_text(ports: Ports) -> str:
    """``TCP 443,8080-8090``, ``UDP all ports``, ``ICMP 8/0``, ``proto 47``, with
    ``(source ports 1024-65535)`` when it holds for some source ports only."""
    text = protocol_text(ports.protocol)
    if ports.protocol in PORTED or ports.protocol in ICMP:
        text += " " + _ranges_text(ports.protocol, ports.ranges)
    if ports.source_ports is not None:
        text += f" (source ports {','.join(range_text(6, a, b) for a, b in ports.source_ports)})"
    return text
