"""Key classes: a flow's protocol, port and ICMP type/code as one integer key, and sets
of keys as sorted, disjoint, half-open intervals.

A table is dense over *key classes*: the key space cut at every key where some table's
answer changes (see :mod:`netpolicy.compile.layout`). The interval helpers here compute
which keys a rule accepts.
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

from ..model import PortRange, Rule

__all__ = [
    "ALL", "ICMP_CODES", "Intervals", "KEY_BITS", "KEY_LIMIT", "complement", "flow_key", "intersect",
    "named_iv", "pairs_iv", "port_ranges_iv", "rule_base_iv", "source_key", "union",
]

KEY_BITS = 17
KEY_LIMIT = 256 << KEY_BITS
_PORTED = (6, 17, 132, 136)
_ICMP_PROTOCOLS = (1, 58)
ICMP_CODES = 257  # code 0-255, plus "none" (0)

Intervals = list[tuple[int, int]]  # sorted, disjoint, half-open


def source_key(protocol: int, src_port: int | None) -> int:
    """The source-port key of a flow: protocol in the high bits, then the source port (0
    when absent). Tables of rules with source ports look it up second."""
    return (protocol << KEY_BITS) | (src_port or 0)


def flow_key(protocol: int, dst_port: int | None, icmp_type: int | None, icmp_code: int | None) -> int:
    """The table key of a flow: protocol in the high bits, then the destination port
    (0 when absent) or, for ICMP, ``(type+1)*257 + (code+1)`` (0 for an absent part)."""
    if icmp_type is not None:
        sub = (icmp_type + 1) * ICMP_CODES + (0 if icmp_code is None else icmp_code + 1)
    else:
        sub = dst_port or 0
    return (protocol << KEY_BITS) | sub


def union(parts: Iterable[tuple[int, int]]) -> Intervals:
    """The union of intervals, in any order, as sorted disjoint intervals."""
    out: Intervals = []
    for a, b in sorted(parts):
        if a >= b:
            continue
        if out and a <= out[-1][1]:
            if b > out[-1][1]:
                out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out


def complement(iv: Intervals) -> Intervals:
    """The keys not in ``iv``."""
    out: Intervals = []
    pos = 0
    for a, b in iv:
        if a > pos:
            out.append((pos, a))
        pos = b
    if pos < KEY_LIMIT:
        out.append((pos, KEY_LIMIT))
    return out


def intersect(x: Intervals, y: Intervals) -> Intervals:
    """The keys in both ``x`` and ``y``."""
    out: Intervals = []
    i = j = 0
    while i < len(x) and j < len(y):
        a = max(x[i][0], y[j][0])
        b = min(x[i][1], y[j][1])
        if a < b:
            out.append((a, b))
        if x[i][1] < y[j][1]:
            i += 1
        else:
            j += 1
    return out


ALL: Intervals = [(0, KEY_LIMIT)]


def _proto_iv(protocol: int) -> Intervals:
    return [(protocol << KEY_BITS, (protocol + 1) << KEY_BITS)]


def port_ranges_iv(ranges: Sequence[PortRange]) -> Intervals:
    """The keys of ``ranges`` under every protocol that has ports."""
    return union(
        ((p << KEY_BITS) | r.first, ((p << KEY_BITS) | r.last) + 1) for p in _PORTED for r in ranges
    )


def pairs_iv(pairs: Iterable[tuple[int, int]]) -> Intervals:
    """The keys of (protocol, port) pairs."""
    return union(((p << KEY_BITS) | port, ((p << KEY_BITS) | port) + 1) for p, port in pairs)


def _icmp_iv(match: Any) -> Intervals:
    base = (match.type + 1) * ICMP_CODES
    if match.code is None:
        lo, hi = base, base + ICMP_CODES
    else:
        lo, hi = base + match.code + 1, base + match.code + 2
    return [((p << KEY_BITS) | lo, (p << KEY_BITS) | hi) for p in _ICMP_PROTOCOLS]


def rule_base_iv(rule: Rule) -> Intervals:
    """Keys the rule's protocol and ICMP criteria accept."""
    iv = ALL
    if rule.protocol is not None:
        iv = intersect(iv, _proto_iv(rule.protocol))
    if rule.not_protocol is not None:
        iv = intersect(iv, complement(_proto_iv(rule.not_protocol)))
    if rule.icmp is not None:
        iv = intersect(iv, _icmp_iv(rule.icmp))
    if rule.not_icmp is not None:
        iv = intersect(iv, complement(_icmp_iv(rule.not_icmp)))
    return iv


def named_iv(pairs: frozenset[tuple[int, int]], protocol: int | None) -> Intervals:
    """Keys of resolved named ports, filtered by the rule's protocol (§F.1: UDP and SCTP
    as such, any other given protocol as TCP, none: the declared protocol)."""
    if protocol is None:
        chosen = pairs
    else:
        want = protocol if protocol in (17, 132) else 6
        chosen = frozenset(p for p in pairs if p[0] == want)
    return pairs_iv(chosen)
