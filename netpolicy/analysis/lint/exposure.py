"""Exposure: endpoints that every external address, or an endpoint of every other namespace,
may open connections to, per protocol and port range, read exactly off the compiled
tables (:class:`~netpolicy.analysis.reach.Reach`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from ...compile.keys import KEY_LIMIT, Intervals, intersect, union
from ...model import Direction, Endpoint
from ..connections import summary_text
from ..keyspace import Ports, ports_of
from ..reach import Reach
from .coverage import _workload
from .findings import Finding

if TYPE_CHECKING:
    from ...resolve import Snapshot

__all__ = ["exposed_external", "exposed_namespaces"]

_TOP = {4: 1 << 32, 6: 1 << 128}


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


def exposed_namespaces(ps: Snapshot, reach: Reach, limit: int = 200_000) -> list[Finding]:
    """Endpoints that some endpoint of every other namespace may reach on the same keys
    (from any source port); skipped when more than ``limit`` pairs of classes would be
    read."""
    namespaces: dict[str, list[Endpoint]] = {}
    classes: dict[object, Endpoint] = {}
    for endpoint in ps.endpoints:
        if endpoint.namespace and not endpoint.is_host:
            namespaces.setdefault(endpoint.namespace, []).append(endpoint)
            classes.setdefault((endpoint.namespace, reach.place(endpoint).signature), endpoint)
    groups = _groups(ps, reach)
    if len(namespaces) < 2 or len(classes) * len(groups) > limit:
        return []
    sources: Sequence[Endpoint] = list(classes.values())
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
    out = []
    for (name, members), found in zip(groups, per_ns):
        others = len(namespaces) - (members[0].namespace in namespaces)
        if not others or len(found) < others:
            continue
        common: Intervals = [(0, KEY_LIMIT)]
        for keys in found.values():
            common = intersect(common, union(keys))
        if not ports_of(common):
            continue
        texts = _texts(common, members[0])
        out.append(Finding(
            "exposed-all-namespaces", "note", f"{name} is open to every other namespace on {'; '.join(texts)}", subject=name,
            origin=members[0].origin, evidence=tuple(e.key for e in members[:5] if e.key != name)))
    return out

