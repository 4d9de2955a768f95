"""Exposure: endpoints that every external address, or an endpoint of every other namespace,
may open connections to, per protocol and port range, read exactly off the compiled
tables (:class:`~netpolicy.analysis.reach.Reach`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import numpy as np

from ...compile import NONE
from ...compile.keys import KEY_BITS, KEY_LIMIT, Intervals, intersect, union
from ...model import Direction, Endpoint
from ..connections import summary_text
from ..keyspace import Ports, ports_of, protocol_keys, real_keys
from ..reach import Reach
from .coverage import _workload
from .findings import Finding

if TYPE_CHECKING:
    from ...resolve import Snapshot

__all__ = ["exposed_external", "exposed_namespaces"]

_TOP = {4: 1 << 32, 6: 1 << 128}
#: the keys of flows between two endpoints over IPv4: every real key but ICMPv6's
_V4_REAL: Intervals = intersect(real_keys(), [(0, 58 << KEY_BITS), (59 << KEY_BITS, KEY_LIMIT)])


def _texts(keys: Intervals, endpoint: Endpoint) -> tuple[str, ...]:
    families = frozenset(ip.version for ip in endpoint.ips) or frozenset({4, 6})
    return (summary_text([Ports(protocol, ranges) for protocol, ranges in ports_of(keys).items()], families),)


def _groups(ps: Snapshot, reach: Reach) -> list[tuple[str, list[Endpoint]]]:
    """Endpoints by workload and by how the tables decide them."""
    groups: dict[tuple[str, object], list[Endpoint]] = {}
    for endpoint in ps.endpoints:
        if endpoint.is_host:
            continue
        groups.setdefault((_workload(endpoint), reach.place(endpoint).signature), []).append(endpoint)
    return [(name, members) for (name, _), members in sorted(groups.items(), key=lambda item: item[0][0])]


def _from_every_external(reach: Reach, endpoint: Endpoint) -> Intervals:
    """The keys every external address (of some family the endpoint has) may use, from
    any source port, towards ``endpoint``."""
    found: Intervals = []
    by_family: dict[int, list[tuple[Intervals, list[tuple[int, int]]]]] = {}
    for family, grants, ranges in reach.external(endpoint, outbound=False):
        keys = union([iv for grant in grants if grant.source is None for iv in grant.keys])
        by_family.setdefault(family, []).append((keys, ranges))
    for family, answers in by_family.items():
        if union([r for _, ranges in answers for r in ranges]) != [(0, _TOP[family])]:
            continue  # some external addresses get nothing
        common: Intervals = [(0, KEY_LIMIT)]
        for keys, _ in answers:
            common = intersect(common, keys)
        found = union(found + common)
    return found


def exposed_external(ps: Snapshot, reach: Reach) -> list[Finding]:
    out = []
    for name, members in _groups(ps, reach):
        keys = _from_every_external(reach, members[0])
        if not ports_of(keys):
            continue
        texts = _texts(keys, members[0])
        policed = bool(ps.policies_for(members[0], Direction.INGRESS))
        out.append(Finding(
            "exposed-external", "warning", f"{name} is open to every external address on {'; '.join(texts)}"
            + ("" if policed else " (no ingress policy applies)"), subject=name, origin=members[0].origin,
            evidence=tuple(e.key for e in members[:5] if e.key != name)))
    return out


def _maybe_open(reach: Reach, sources: Sequence[Endpoint], targets: Sequence[Endpoint]) -> list[bool | Intervals]:
    """Per target, the keys open from a source of every other namespace, read off both
    directions' tables a key class at a time for the IPv4 address of every side: twice,
    once counting a key class some table leaves to the source port or to the reference
    (and ICMPv6, which goes over IPv6) as allowed, once as denied. False when even the
    first finds nothing; the keys when both agree (exact); True when they differ, or
    when some side has no IPv4 address or is not decided by the tables (then the
    target is to be read in full). Sides are taken once per pair of classes the tables
    read, namespace by namespace, and a target nothing is open to is dropped early."""
    c = reach.compiled
    nk = len(c.key_starts)
    places = [reach.place(s) for s in (*sources, *targets)]
    if not all(p.decided and p.spot(4) is not None for p in places):
        return [True] * len(targets)
    spots = [p.spot(4) for p in places]
    by_ns: dict[str, set[tuple[int, int]]] = {}
    for source, spot in zip(sources, spots):
        assert spot is not None
        by_ns.setdefault(source.namespace or "", set()).add((spot.local[0], spot.peer[1]))
    keys_of: dict[tuple[int, int], int] = {}
    t_class = []
    for spot in spots[len(sources):]:
        assert spot is not None
        t_class.append(keys_of.setdefault((spot.peer[0], spot.local[1]), len(keys_of)))
    t_peer = np.array([k[0] for k in keys_of], np.int64)
    t_local = np.array([k[1] for k in keys_of], np.int64)
    # a class's namespaces: a target class is judged without the sources of its own namespace
    own: list[set[str]] = [set() for _ in keys_of]
    for target, k in zip(targets, t_class):
        own[k].add(target.namespace or "")
    starts_k = c.key_starts.astype(np.int64)
    ends_k = np.append(starts_k[1:], KEY_LIMIT)
    (lo6, hi6), = protocol_keys(58)
    icmpv6 = (starts_k < hi6) & (ends_k > lo6)  # decided on IPv6 addresses: not bounded here
    if not any(6 in p.families for p in places):
        icmpv6[:] = False  # no IPv6 address: no ICMPv6 flow
    masks: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def allowed(tables: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        unique, inverse = np.unique(tables, return_inverse=True)
        highs, lows = [], []
        for table in unique.tolist():
            found = masks.get(table)
            if found is None:
                if table < 0:
                    found = (np.ones(nk, np.bool_), np.full(nk, table == NONE, np.bool_))
                else:
                    row = c.tables[table * nk : (table + 1) * nk].astype(np.int64)
                    plain = (row >= 0) & c.out_allow[np.maximum(row, 0)].astype(np.bool_)
                    found = (plain | (row < 0) | icmpv6, plain & ~icmpv6)
                masks[table] = found
            highs.append(found[0])
            lows.append(found[1])
        shape = tables.shape
        return np.stack(highs)[inverse.reshape(shape)], np.stack(lows)[inverse.reshape(shape)]

    real = _key_mask(starts_k, ends_k, _V4_REAL) | icmpv6
    count = len(keys_of)
    high = np.tile(real, (count, 1))
    low = high.copy()
    alive = np.arange(count)
    for namespace, pairs in sorted(by_ns.items()):
        if not len(alive):
            break
        s_local = np.array([p[0] for p in pairs], np.int64)
        s_peer = np.array([p[1] for p in pairs], np.int64)
        n = len(pairs)
        egress = reach.reader.tables_at(np.tile(s_local, len(alive)), np.repeat(t_peer[alive], n)).reshape(len(alive), n)
        ingress = reach.reader.tables_at(np.repeat(t_local[alive], n), np.tile(s_peer, len(alive))).reshape(len(alive), n)
        (eh, el), (ih, il) = allowed(egress), allowed(ingress)
        skip = np.array([namespace in own[k] for k in alive.tolist()], np.bool_)[:, None]
        high[alive] &= np.where(skip, True, (eh & ih).any(axis=1))
        low[alive] &= np.where(skip, True, (el & il).any(axis=1))
        alive = alive[high[alive].any(axis=1)]
    result: list[bool | Intervals] = []
    for target, k in zip(targets, t_class):
        others = [ns for ns in by_ns if ns != (target.namespace or "")]
        if not others or not high[k].any():
            result.append(False)
        elif own[k] != {target.namespace or ""}:
            result.append(True)  # its class spans namespaces: read it in full
        elif (low[k] == high[k]).all():
            result.append([(int(starts_k[j]), int(ends_k[j])) for j in np.flatnonzero(high[k]).tolist()])
        else:
            result.append(True)
    return result


def _key_mask(starts: np.ndarray, ends: np.ndarray, keys: Intervals) -> np.ndarray:
    mask = np.zeros(len(starts), np.bool_)
    for lo, hi in keys:
        mask |= (starts < hi) & (ends > lo)
    return mask


def exposed_namespaces(ps: Snapshot, reach: Reach) -> list[Finding]:
    """Endpoints that some endpoint of every other namespace may reach on the same keys
    (from any source port). Only the endpoints whose ingress tables alone allow that
    (:func:`_maybe_open`) are read in full, pair by pair."""
    namespaces: dict[str, list[Endpoint]] = {}
    classes: dict[object, Endpoint] = {}
    for endpoint in ps.endpoints:
        if endpoint.namespace and not endpoint.is_host:
            namespaces.setdefault(endpoint.namespace, []).append(endpoint)
            classes.setdefault((endpoint.namespace, reach.place(endpoint).signature), endpoint)
    if len(namespaces) < 2:
        return []
    sources: Sequence[Endpoint] = list(classes.values())
    every = _groups(ps, reach)
    maybe = _maybe_open(reach, sources, [members[0] for _, members in every])
    made: list[Finding | None] = [
        _finding(name, members, intersect(keys, _V4_REAL)) for (name, members), keys in zip(every, maybe)
        if isinstance(keys, list)]
    groups = [g for g, keep in zip(every, maybe) if keep is True]
    targets = [members[0] for _, members in groups]
    per_ns: list[dict[str, Intervals]] = [{} for _ in targets]
    for src, row in zip(sources, reach.rows(sources, targets)):
        assert src.namespace is not None
        for n, grants in enumerate(row):
            if targets[n].namespace == src.namespace:
                continue
            keys = [iv for grant in grants if grant.source is None for iv in grant.keys]
            if keys:
                mine = per_ns[n].setdefault(src.namespace, [])
                mine.extend(keys)
    for (name, members), found in zip(groups, per_ns):
        others = len(namespaces) - (members[0].namespace in namespaces)
        if not others or len(found) < others:
            continue
        common: Intervals = [(0, KEY_LIMIT)]
        for keys in found.values():
            common = intersect(common, union(keys))
        made.append(_finding(name, members, common))
    out = [f for f in made if f is not None]
    out.sort(key=lambda f: f.subject or "")
    return out


def _finding(name: str, members: list[Endpoint], keys: Intervals) -> Finding | None:
    if not ports_of(keys):
        return None
    texts = _texts(keys, members[0])
    return Finding(
        "exposed-all-namespaces", "note", f"{name} is open to every other namespace on {'; '.join(texts)}", subject=name,
        origin=members[0].origin, evidence=tuple(e.key for e in members[:5] if e.key != name))

