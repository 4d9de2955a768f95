"""The reachability matrix among endpoints for one protocol and port.

Built on the compiled tables: endpoints whose addresses fall in the same local and
address classes decide alike, so each distinct (source group, destination group) pair is
decided once and the matrix is filled by broadcasting.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Iterable

import numpy as np

from ._compile import flow_key, source_key
from .errors import PolicyError
from .flow import Flow, protocol_number
from .model import Endpoint
from .verdict import Decision, Verdict

if TYPE_CHECKING:
    from .batch import Engine

__all__ = ["Matrix", "reachability"]


class Matrix:
    """Who may open a connection to whom.

    ``sources`` and ``destinations`` are the endpoints (the same list), ``allowed[i, j]``
    says whether ``sources[i]`` may reach ``destinations[j]`` (an endpoint always reaches
    itself). :meth:`verdict` gives the Verdict of one cell, :meth:`decisions` the deciding
    egress and ingress Decisions.
    """

    def __init__(
        self, engine: Engine, endpoints: tuple[Endpoint, ...], addresses: list[tuple[int, int]],
        protocol: int, port: int | None, allowed: np.ndarray,
    ) -> None:
        self._engine = engine
        self._addresses = addresses
        self.sources = endpoints
        self.destinations = endpoints
        self.protocol = protocol
        self.port = port
        self.allowed = allowed

    def flow(self, i: int, j: int) -> Flow:
        """The flow cell ``(i, j)`` stands for: between the endpoints' addresses of the
        family the reference picks (IPv4 first, IPv6 first for ICMPv6)."""
        return _flow(self._addresses, i, j, self.protocol, self.port)

    def verdict(self, i: int, j: int) -> Verdict:
        """The Verdict of cell ``(i, j)``."""
        return self._engine.evaluate(self.flow(i, j))

    def decisions(self, i: int, j: int) -> tuple[Decision | None, Decision | None]:
        """The (egress, ingress) Decisions of cell ``(i, j)``."""
        verdict = self.verdict(i, j)
        return verdict.egress, verdict.ingress


def reachability(
    engine: Engine, protocol: str | int = "TCP", port: int | None = None, namespaces: Iterable[str] | None = None
) -> Matrix:
    """The matrix among the PolicySet's workload endpoints (those in ``namespaces`` when
    given) for ``protocol`` and destination ``port``."""
    number = protocol_number(protocol)
    Flow("0.0.0.0", "0.0.0.0", number, port)  # validates protocol and port together
    key = flow_key(number, port, None, None)
    sport_key = source_key(number, None)
    wanted = set(namespaces) if namespaces is not None else None
    c = engine.compiled
    chosen: list[Endpoint] = []
    addresses: list[tuple[int, int]] = []
    for endpoint in c.endpoints:
        if endpoint.is_host or not endpoint.ips or (wanted is not None and endpoint.namespace not in wanted):
            continue
        # the reference's family choice: IPv4 first; ICMP IPv4 only, ICMPv6 IPv6 only
        if number == 1:
            address = engine.endpoint_address(endpoint, 4)
        elif number == 58:
            address = engine.endpoint_address(endpoint, 6)
        else:
            address = engine.endpoint_address(endpoint, 4) or engine.endpoint_address(endpoint, 6)
        if address is None:
            address = engine.endpoint_address(endpoint, None)  # no usable family: never reached
        assert address is not None
        chosen.append(endpoint)
        addresses.append(address)
    n = len(chosen)
    allowed = np.zeros((n, n), np.bool_)
    if n == 0:
        return Matrix(engine, tuple(chosen), addresses, number, port, allowed)
    # group endpoints by what decides them on each side
    src_keys: dict[tuple[int, ...], int] = {}
    dst_keys: dict[tuple[int, ...], int] = {}
    src_group = np.empty(n, np.int64)
    dst_group = np.empty(n, np.int64)
    src_rep: list[int] = []
    dst_rep: list[int] = []
    for k, (family, value) in enumerate(addresses):
        interval, table = _interval(c, family, value)
        skey = (family, int(table.local[0][interval]), int(table.peer[1][interval]))
        dkey = (family, int(table.local[1][interval]), int(table.peer[0][interval]))
        if skey[1] < 0 or c.all_fallback:
            skey = (family, -2, k)  # decided alone
        if dkey[1] < 0 or c.all_fallback:
            dkey = (family, -2, k)
        src_group[k] = src_keys.setdefault(skey, len(src_keys))
        if src_group[k] == len(src_rep):
            src_rep.append(k)
        dst_group[k] = dst_keys.setdefault(dkey, len(dst_keys))
        if dst_group[k] == len(dst_rep):
            dst_rep.append(k)
    ns, nd = len(src_rep), len(dst_rep)
    block = np.zeros((ns, nd), np.bool_)
    reps_s = np.repeat(np.arange(ns), nd)
    reps_d = np.tile(np.arange(nd), ns)
    s_idx = np.array(src_rep)[reps_s]
    d_idx = np.array(dst_rep)[reps_d]
    fam = np.array([a[0] for a in addresses])
    val4 = np.array([a[1] if a[0] == 4 else 0 for a in addresses], np.uint32)
    both4 = (fam[s_idx] == 4) & (fam[d_idx] == 4)
    code = np.full(len(s_idx), 2, np.uint8)
    if both4.any() and not c.all_fallback:
        sel = np.flatnonzero(both4)
        out_c = np.empty(len(sel), np.uint8)
        out_e = np.empty(len(sel), np.int32)
        out_i = np.empty(len(sel), np.int32)
        keys = np.full(len(sel), key, np.uint32)
        engine.matcher.decide_v4(
            np.ascontiguousarray(val4[s_idx[sel]]), np.ascontiguousarray(val4[d_idx[sel]]), keys,
            np.full(len(sel), sport_key, np.uint32), out_c, out_e, out_i,
        )
        code[sel] = out_c
    for m in np.flatnonzero(s_idx == d_idx).tolist():
        # the representative pair is one endpoint: decide the classes directly (other
        # members of the two groups are distinct endpoints)
        i = int(s_idx[m])
        code[m] = 2
        if not c.all_fallback:
            interval, table = _interval(c, addresses[i][0], addresses[i][1])
            got = engine.matcher.decide_classes(
                int(table.local[0][interval]), int(table.peer[1][interval]),
                int(table.local[1][interval]), int(table.peer[0][interval]), key, sport_key,
            )
            code[m] = got[0]
        if code[m] == 2:
            code[m] = _by_reference_pair(engine, chosen, addresses, src_group, dst_group, reps_s[m], reps_d[m], number, port)
    for m in np.flatnonzero(code == 2).tolist():
        i, j = int(s_idx[m]), int(d_idx[m])
        if addresses[i][0] != addresses[j][0]:
            code[m] = 0  # no IP family in common: no connection
            continue
        try:
            code[m] = 1 if engine.evaluate(_flow(addresses, i, j, number, port)).allowed else 0
        except PolicyError:  # no usable IP family for this protocol: no connection
            code[m] = 0
    block |= (code == 1).reshape(ns, nd)
    allowed = block[src_group][:, dst_group]
    np.fill_diagonal(allowed, True)
    return Matrix(engine, tuple(chosen), addresses, number, port, allowed)


def _flow(addresses: list[tuple[int, int]], i: int, j: int, protocol: int, port: int | None) -> Flow:
    def ip(k: int) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
        family, value = addresses[k]
        return ipaddress.IPv4Address(value) if family == 4 else ipaddress.IPv6Address(value)

    return Flow(ip(i), ip(j), protocol, port)


class _Family:
    def __init__(self, local: np.ndarray, peer: np.ndarray) -> None:
        self.local = local
        self.peer = peer


def _interval(c: object, family: int, value: int) -> tuple[int, _Family]:
    import bisect

    if family == 4:
        starts = c.v4_starts  # type: ignore[attr-defined]
        idx = int(np.searchsorted(starts, value, side="right") - 1)
        return idx, _Family(c.v4_local, c.v4_peer)  # type: ignore[attr-defined]
    idx = bisect.bisect_right(c.v6_starts, value) - 1  # type: ignore[attr-defined]
    return idx, _Family(c.v6_local, c.v6_peer)  # type: ignore[attr-defined]


def _by_reference_pair(
    engine: Engine, chosen: list[Endpoint], addresses: list[tuple[int, int]],
    src_group: np.ndarray, dst_group: np.ndarray, gs: int, gd: int, protocol: int, port: int | None,
) -> bool:
    """A group pair whose representatives coincide: decide with two distinct members if
    there are any (else the only pair is an endpoint to itself: allowed)."""
    members_s = np.flatnonzero(src_group == gs)
    members_d = np.flatnonzero(dst_group == gd)
    for i in members_s[:2].tolist():
        for j in members_d[:2].tolist():
            if i != j:
                try:
                    return engine.evaluate(_flow(addresses, i, j, protocol, port)).allowed
                except PolicyError:  # no usable IP family for this protocol
                    return False
    return True
