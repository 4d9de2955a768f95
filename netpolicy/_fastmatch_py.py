"""The pure-Python matcher twin: decides IPv4 flows on compiled tables with numpy.

Same API as the compiled twin ``netpolicy._fastmatch``: a :class:`Matcher` built from a
:class:`netpolicy._compile.Compiled`, with ``decide_v4`` (a batch, written into
caller-supplied arrays), ``decide_one_v4`` and ``decide_classes``. Codes: 0 deny, 1
allow, 2 ask the reference evaluator. Side outcomes: an outcome id, ``FALLBACK`` (-1) or
``NONE`` (-2). The tables are described in :mod:`netpolicy._compile`.
"""

from __future__ import annotations

import bisect
import ipaddress
from typing import Any, Callable

import numpy as np

from ._compile import KEY_BITS
from .model import Action
from .verdict import Verdict, _quick_verdict

__all__ = ["Matcher", "Single", "CODE_DENY", "CODE_ALLOW", "CODE_REFERENCE"]

CODE_DENY = 0
CODE_ALLOW = 1
CODE_REFERENCE = 2
_FALLBACK = -1
_NONE = -2


class Matcher:
    """Decides flows on the tables of one compiled PolicySet."""

    def __init__(self, compiled: Any) -> None:
        c = compiled
        c.check()
        self._starts = np.ascontiguousarray(c.v4_starts, np.uint32)
        self._ep = np.ascontiguousarray(c.v4_endpoint, np.int32)
        self._local_e = np.ascontiguousarray(c.v4_local[0], np.int32)
        self._local_i = np.ascontiguousarray(c.v4_local[1], np.int32)
        self._peer_e = np.ascontiguousarray(c.v4_peer[0], np.int32)  # as an egress destination
        self._peer_i = np.ascontiguousarray(c.v4_peer[1], np.int32)  # as an ingress source
        self._loc_row = np.ascontiguousarray(c.loc_row, np.int64)
        self._loc_tab = np.ascontiguousarray(c.loc_tab, np.int64)
        self._rows8 = np.ascontiguousarray(c.rows8, np.uint8)
        self._rows16 = np.ascontiguousarray(c.rows16, np.uint16)
        self._groups = np.ascontiguousarray(c.groups, np.int64)
        self._key_starts = np.ascontiguousarray(c.key_starts, np.uint32)
        self._tables_arr = np.ascontiguousarray(c.tables, np.int32)
        self._skey_starts = np.ascontiguousarray(c.skey_starts, np.uint32)
        self._stables = np.ascontiguousarray(c.stables, np.int32)
        self._n_keys = len(self._key_starts)
        self._n_skeys = len(self._skey_starts)
        self._n_local = int(c.n_local[0] + c.n_local[1])
        self._n_e, self._n_i = int(c.n_peer[0]), int(c.n_peer[1])
        self._n_egress = int(c.n_local[0])
        self._allow = np.ascontiguousarray(c.out_allow, np.uint8)
        # scalar path: plain lists are faster than numpy scalars
        self._l_starts = self._starts.tolist()
        self._l_ep = self._ep.tolist()
        self._l_local_e = self._local_e.tolist()
        self._l_local_i = self._local_i.tolist()
        self._l_peer_e = self._peer_e.tolist()
        self._l_peer_i = self._peer_i.tolist()
        self._l_key_starts = self._key_starts.tolist()
        self._l_skey_starts = self._skey_starts.tolist()
        self._l_allow = self._allow.tolist()

    # -- many flows (numpy) ------------------------------------------------------------------

    def _tables(self, local: np.ndarray, peer: np.ndarray) -> np.ndarray:
        """The table of each (local class, peer class) pair: the peer's group in the
        local class's row, then the group's table."""
        row = self._loc_row[local]
        narrow = row >= 0
        group = np.empty(len(local), np.int64)
        group[narrow] = self._rows8[row[narrow] + peer[narrow]]
        group[~narrow] = self._rows16[-1 - row[~narrow] + peer[~narrow]]
        tables: np.ndarray = self._groups[self._loc_tab[local] + group]
        return tables

    def _side(self, local: np.ndarray, peer: np.ndarray, keys: np.ndarray, skeys: np.ndarray) -> np.ndarray:
        out = np.where(local == -1, _NONE, _FALLBACK).astype(np.int32)
        has = np.flatnonzero(local >= 0)
        if len(has):
            out[has] = self._outcomes(self._tables(local[has], peer[has]), keys[has], skeys[has])
        return out

    def _outcomes(self, tables: np.ndarray, keys: np.ndarray, skeys: np.ndarray) -> np.ndarray:
        """The outcome of each (table, key, source key)."""
        kc = np.searchsorted(self._key_starts, keys, side="right") - 1
        found = self._tables_arr[tables * self._n_keys + kc]
        second = found <= -3  # a source-port table
        if second.any():
            skc = np.searchsorted(self._skey_starts, skeys[second], side="right") - 1
            found[second] = self._stables[(-3 - found[second].astype(np.int64)) * self._n_skeys + skc]
        return found

    def decide_v4(
        self, src: np.ndarray, dst: np.ndarray, keys: np.ndarray, skeys: np.ndarray | None,
        code: np.ndarray, eg: np.ndarray, ing: np.ndarray,
    ) -> None:
        """Decides ``len(src)`` IPv4 flows (uint32 addresses, uint32 keys and source
        keys, or None for no source ports) into ``code`` (uint8), ``eg`` and ``ing`` (int32)."""
        m = len(src)
        if skeys is None:  # no flow has a source port
            skeys = keys & np.uint32(~((1 << 17) - 1) & 0xFFFFFFFF)
        if any(len(a) != m for a in (dst, keys, skeys, code, eg, ing)):
            raise ValueError("all arrays must have the same length")
        si = np.searchsorted(self._starts, src, side="right") - 1
        di = np.searchsorted(self._starts, dst, side="right") - 1
        e = self._side(self._local_e[si], self._peer_e[di], keys, skeys)
        i = self._side(self._local_i[di], self._peer_i[si], keys, skeys)
        sep = self._ep[si]
        self_flow = (sep >= 0) & (sep == self._ep[di])
        e[self_flow] = _NONE  # an endpoint to itself: allowed without evaluation
        i[self_flow] = _NONE
        allow_e = np.where(e >= 0, self._allow[np.maximum(e, 0)], e == _NONE)
        allow_i = np.where(i >= 0, self._allow[np.maximum(i, 0)], i == _NONE)
        result = (allow_e & allow_i).astype(np.uint8)
        result[(e == _FALLBACK) | (i == _FALLBACK)] = CODE_REFERENCE
        code[:] = result
        eg[:] = e
        ing[:] = i

    def decide_side(
        self, local: np.ndarray, peer: np.ndarray, keys: np.ndarray, skeys: np.ndarray, out: np.ndarray
    ) -> None:
        """One direction only: the outcome (or FALLBACK) of each (local class, peer class,
        key, source key), for local classes of one direction (all egress or all ingress)
        with peers of that direction."""
        m = len(local)
        if any(len(a) != m for a in (peer, keys, skeys, out)):
            raise ValueError("all arrays must have the same length")
        if m == 0:
            return
        egress = int(local[0]) < self._n_egress
        lo, hi = (0, self._n_egress) if egress else (self._n_egress, self._n_local)
        width = self._n_e if egress else self._n_i
        if int(local.min()) < lo or int(local.max()) >= hi or int(peer.min()) < 0 or int(peer.max()) >= width:
            raise ValueError("class out of range")
        out[:] = self._outcomes(self._tables(local, peer), keys, skeys)

    # -- one flow ------------------------------------------------------------------------------

    def _table(self, local: int, peer: int) -> int:
        row = int(self._loc_row[local])
        group = int(self._rows8[row + peer]) if row >= 0 else int(self._rows16[-1 - row + peer])
        return int(self._groups[int(self._loc_tab[local]) + group])

    def _lookup(self, table: int, key: int, skey: int) -> int:
        found = int(self._tables_arr[table * self._n_keys + bisect.bisect_right(self._l_key_starts, key) - 1])
        if found <= -3:
            skc = bisect.bisect_right(self._l_skey_starts, skey) - 1
            found = int(self._stables[(-3 - found) * self._n_skeys + skc])
        return found

    def _find(self, ip: int) -> int:
        starts = self._l_starts
        lo, hi = 0, len(starts)
        while hi - lo > 1:
            mid = (lo + hi) >> 1
            if starts[mid] <= ip:
                lo = mid
            else:
                hi = mid
        return lo

    def decide_one_v4(self, src: int, dst: int, key: int, skey: int) -> tuple[int, int, int]:
        """One IPv4 flow: (code, egress outcome, ingress outcome)."""
        if not (0 <= src < (1 << 32) and 0 <= dst < (1 << 32)):
            raise OverflowError("IPv4 addresses are 0 to 2**32-1")
        si = self._find(src)
        di = self._find(dst)
        sep = self._l_ep[si]
        if sep >= 0 and sep == self._l_ep[di]:
            return CODE_ALLOW, _NONE, _NONE  # an endpoint to itself: allowed without evaluation
        return self.decide_classes(
            self._l_local_e[si], self._l_peer_i[si], self._l_local_i[di], self._l_peer_e[di], key, skey
        )

    def decide_one_v4_owners(self, src: int, dst: int, key: int, skey: int) -> tuple[int, int, int, int, int]:
        """One IPv4 flow: (code, egress outcome, ingress outcome, source endpoint,
        destination endpoint); an endpoint is its index, -1 for none, -3 for an address
        several endpoints share."""
        code, e, i = self.decide_one_v4(src, dst, key, skey)
        return code, e, i, self._l_ep[self._find(src)], self._l_ep[self._find(dst)]

    @staticmethod
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

    def single(self, owners: list[Any], other: Callable[[Any], Verdict], source: Callable[[], Any]) -> Single:
        """The one-flow path on these tables; see :class:`Single`."""
        return Single(self, owners, other, source)

    def decide_classes(
        self, local_e: int, peer_s: int, local_i: int, peer_d: int, key: int, skey: int
    ) -> tuple[int, int, int]:
        """One flow given its classes: the source's egress local class and ingress peer
        class, the destination's ingress local class and egress peer class (any family)."""
        if not (0 <= peer_s < self._n_i and 0 <= peer_d < self._n_e):
            raise ValueError("peer class out of range")
        if not (-2 <= local_e < self._n_egress and (local_i < 0 and local_i >= -2 or self._n_egress <= local_i < self._n_local)):
            raise ValueError("local class out of range")
        if not (0 <= key < (1 << 32) and 0 <= skey < (1 << 32)):
            raise ValueError("key out of range")
        if local_e >= 0:
            e = self._lookup(self._table(local_e, peer_d), key, skey)
        else:
            e = _NONE if local_e == -1 else _FALLBACK
        if local_i >= 0:
            i = self._lookup(self._table(local_i, peer_s), key, skey)
        else:
            i = _NONE if local_i == -1 else _FALLBACK
        if e == _FALLBACK or i == _FALLBACK:
            return CODE_REFERENCE, e, i
        allowed = (e < 0 or self._l_allow[e]) and (i < 0 or self._l_allow[i])
        return (CODE_ALLOW if allowed else CODE_DENY), e, i


def _first(found: np.ndarray) -> int:
    return int(np.argmax(found)) if found.any() else -1


_V4 = ipaddress.IPv4Address
_ALLOW, _DENY = Action.ALLOW, Action.DENY


class Single:
    """One flow decided and its Verdict built in one call: the common case of
    ``netpolicy.batch.Engine.evaluate``, a flow between two IPv4 addresses that the
    tables decide. Every other flow goes to ``other(flow)``.

    ``owners[endpoint + 3]`` is what the tables' outcome ids mean for an endpoint (a
    mapping from outcome id to (Decision, Log rules, allows)), or None where the
    reference evaluator decides; index 0 stands for an address endpoints share, 2 for an
    address of no endpoint. ``source()`` is the PolicySet a verdict explains from.
    """

    def __init__(self, matcher: Matcher, owners: list[Any], other: Callable[[Any], Verdict], source: Callable[[], Any]) -> None:
        if len(owners) < 3 + max(matcher._l_ep, default=-1) + 1:
            raise ValueError("owners must hold three entries, then one per endpoint")
        self._decide = matcher.decide_one_v4_owners
        self._owners = owners
        self._other = other
        self._source = source

    def evaluate(self, flow: Any) -> Verdict:
        src, dst = flow.src, flow.dst
        protocol = flow.protocol
        if type(src) is not _V4 or type(dst) is not _V4 or protocol == 58:
            return self._other(flow)
        high = protocol << KEY_BITS
        icmp_type = flow.icmp_type
        if icmp_type is None:
            key = high | (flow.dst_port or 0)
        else:
            icmp_code = flow.icmp_code
            key = high | ((icmp_type + 1) * 257 + (0 if icmp_code is None else icmp_code + 1))
        s, d = src._ip, dst._ip  # type: ignore[attr-defined]  # int(address), without the call
        code, e, i, sep, dep = self._decide(s, d, key, high | (flow.src_port or 0))
        src_outcomes = self._owners[sep + 3]
        dst_outcomes = self._owners[dep + 3]
        if code == CODE_REFERENCE or src_outcomes is None or dst_outcomes is None:
            return self._other(flow)
        if e >= 0:
            egress, logged, allowed = src_outcomes[e]
            if i >= 0:
                ingress, more, _ = dst_outcomes[i]
                if more and allowed:  # the packet got there
                    logged += more
            else:
                ingress = None
        elif i >= 0:
            egress = None
            ingress, logged, _ = dst_outcomes[i]
        else:
            egress = ingress = None
            logged = ()
        # explain() re-runs the reference on the source
        return _quick_verdict(flow, _ALLOW if code == CODE_ALLOW else _DENY, egress, ingress, logged, self._source())
