"""The reachability matrix among endpoints for one protocol and port.

Built on the compiled tables: endpoints whose addresses fall in the same local and
address classes decide alike, so each distinct (source group, destination group) pair is
decided once and the matrix is filled by broadcasting.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Iterable

import numpy as np

from .compile import flow_key, source_key
from .errors import PolicyError
from .flow import Flow, protocol_number
from .model import Endpoint
from .verdict import Decision, Verdict

if TYPE_CHECKING:
    from .engine import Engine

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
        #: the endpoints, in order: row ``i`` is ``sources[i]``
        self.sources = endpoints
        #: the same endpoints: column ``j`` is ``destinations[j]``
        self.destinations = endpoints
        #: the IP protocol number of every cell's flow
        self.protocol = protocol
        #: the destination port of every cell's flow (None: no port)
        self.port = port
        #: ``allowed[i, j]``: whether ``sources[i]`` may reach ``destinations[j]`` (numpy bool array)
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
    if n:
        if c.all_fallback:
            _by_reference(engine, addresses, number, port, allowed, range(n))
        else:
            _from_tables(engine, addresses, number, port, key, sport_key, allowed)
        np.fill_diagonal(allowed, True)  # an endpoint reaches itself without evaluation
    return Matrix(engine, tuple(chosen), addresses, number, port, allowed)


_BLOCK = 1024  # rows per block when filling the matrix


def _from_tables(
    engine: Engine, addresses: list[tuple[int, int]], protocol: int, port: int | None,
    key: int, sport_key: int, allowed: np.ndarray,
) -> None:
    """Fills ``allowed`` from the tables. Egress depends only on (source's egress local
    class, destination's egress peer class) and ingress on (destination's ingress local
    class, source's ingress peer class): each distinct pair is decided once."""
    c = engine.compiled
    n = len(addresses)
    le, pi, li, pe = (np.empty(n, np.int64) for _ in range(4))
    family = np.array([a[0] for a in addresses], np.int8)
    for k, (fam, value) in enumerate(addresses):
        interval, table = _interval(c, fam, value)
        le[k], li[k] = int(table.local[0][interval]), int(table.local[1][interval])
        pe[k], pi[k] = int(table.peer[0][interval]), int(table.peer[1][interval])
    special = np.flatnonzero((le < 0) | (li < 0))  # shared addresses: the reference decides
    if len(special) == n:
        _by_reference(engine, addresses, protocol, port, allowed, range(n))
        return
    allow_of = np.append(c.out_allow.astype(np.bool_), False)
    sides = []
    for local, peer in ((le, pe), (li, pi)):
        u_local, local_idx = np.unique(np.maximum(local, 0 if local is le else c.n_local[0]), return_inverse=True)
        u_peer, peer_idx = np.unique(peer, return_inverse=True)
        out = np.empty((len(u_local), len(u_peer)), np.int32)
        for r0 in range(0, len(u_local), _BLOCK):
            rows = u_local[r0 : r0 + _BLOCK]
            ls = np.repeat(rows, len(u_peer)).astype(np.int32)
            ps = np.tile(u_peer, len(rows)).astype(np.int32)
            block = np.empty(len(ls), np.int32)
            m = len(ls)
            engine.matcher.decide_side(ls, ps, np.full(m, key, np.uint32), np.full(m, sport_key, np.uint32), block)
            out[r0 : r0 + len(rows)] = block.reshape(len(rows), len(u_peer))
        ok = allow_of[np.where(out >= 0, out, len(allow_of) - 1)]
        sides.append((ok, out < 0, local_idx.reshape(-1), peer_idx.reshape(-1)))
    (e_ok, e_fb, e_local, e_peer), (i_ok, i_fb, i_local, i_peer) = sides
    unsure: list[tuple[int, int]] = []
    for r0 in range(0, n, _BLOCK):
        r1 = min(r0 + _BLOCK, n)
        # rows: sources r0..r1; columns: every destination
        egress = e_ok[e_local[r0:r1]][:, e_peer]
        ingress = i_ok[i_local][:, i_peer[r0:r1]].T
        allowed[r0:r1] = egress & ingress & (family[r0:r1, None] == family[None, :])
        fallback = e_fb[e_local[r0:r1]][:, e_peer] | i_fb[i_local][:, i_peer[r0:r1]].T
        for i, j in zip(*np.nonzero(fallback)):
            unsure.append((r0 + int(i), int(j)))
    for i, j in unsure:
        allowed[i, j] = _decide(engine, addresses, i, j, protocol, port)
    _by_reference(engine, addresses, protocol, port, allowed, special.tolist())


def _decide(engine: Engine, addresses: list[tuple[int, int]], i: int, j: int, protocol: int, port: int | None) -> bool:
    if i == j:
        return True
    if addresses[i][0] != addresses[j][0]:
        return False  # no IP family in common: no connection
    try:
        return engine.evaluate(_flow(addresses, i, j, protocol, port)).allowed
    except PolicyError:  # no usable IP family for this protocol
        return False


def _by_reference(
    engine: Engine, addresses: list[tuple[int, int]], protocol: int, port: int | None,
    allowed: np.ndarray, rows: Iterable[int],
) -> None:
    """Decides the rows and columns of ``rows`` flow by flow."""
    n = len(addresses)
    for i in rows:
        for j in range(n):
            allowed[i, j] = _decide(engine, addresses, i, j, protocol, port)
            allowed[j, i] = _decide(engine, addresses, j, i, protocol, port)


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
