"""The pure twin's one flow, one Verdict: ``Single`` (compiled twin:
``_fastmatch_single.pxi``)."""

from __future__ import annotations

import ipaddress
from typing import Any, Callable, Protocol

from .compile import KEY_BITS
from .model import Action
from .verdict import Verdict, _quick_verdict

__all__ = ["Single"]

_V4 = ipaddress.IPv4Address
_ALLOW, _DENY = Action.ALLOW, Action.DENY
_CODE_ALLOW, _CODE_REFERENCE = 1, 2  # the Matcher's CODE_ALLOW and CODE_REFERENCE


class _Tables(Protocol):
    """What Single reads of the pure twin's Matcher (whose module imports this one)."""

    _l_ep: list[int]  # per address interval: its endpoint

    def decide_one_v4_owners(self, src: int, dst: int, key: int, skey: int) -> tuple[int, int, int, int, int]: ...


class Single:
    """One flow decided and its Verdict built in one call: the common case of
    ``Engine.evaluate``, a flow between two IPv4 addresses that the
    tables decide. Every other flow goes to ``other(flow)``.

    ``owners[endpoint + 3]`` is what the tables' outcome ids mean for an endpoint (a
    mapping from outcome id to (Decision, Log rules, allows)), or None where the
    reference evaluator decides; index 0 stands for an address endpoints share, 2 for an
    address of no endpoint. ``source()`` is the PolicySet a verdict explains from.

    ``names`` maps a side given as text (``"namespace/pod"``) to the IPv4 address the
    reference evaluator would use for it (its endpoint's first), as an integer; it is
    filled by the engine as it resolves names, and a name not in it goes to ``other``.
    Every IPv4 flow but ICMPv6 uses IPv4 on a side that can (see ``shared_family``).
    """

    def __init__(self, matcher: _Tables, owners: list[Any], other: Callable[[Any], Verdict], source: Callable[[], Any],
                 names: dict[str, int] | None = None) -> None:
        if len(owners) < 3 + max(matcher._l_ep, default=-1) + 1:
            raise ValueError("owners must hold three entries, then one per endpoint")
        self._decide = matcher.decide_one_v4_owners
        self._owners = owners
        self._other = other
        self._source = source
        self._names = {} if names is None else names

    def evaluate(self, flow: Any) -> Verdict:
        src, dst = flow.src, flow.dst
        protocol = flow.protocol
        if protocol == 58:
            return self._other(flow)
        if type(src) is _V4:
            s = src._ip  # type: ignore[attr-defined]  # int(address), without the call
        elif type(src) is not str or (s := self._names.get(src)) is None:
            return self._other(flow)
        if type(dst) is _V4:
            d = dst._ip  # type: ignore[attr-defined]
        elif type(dst) is not str or (d := self._names.get(dst)) is None:
            return self._other(flow)
        high = protocol << KEY_BITS
        icmp_type = flow.icmp_type
        if icmp_type is None:
            key = high | (flow.dst_port or 0)
        else:
            icmp_code = flow.icmp_code
            key = high | ((icmp_type + 1) * 257 + (0 if icmp_code is None else icmp_code + 1))
        code, e, i, sep, dep = self._decide(s, d, key, high | (flow.src_port or 0))
        src_outcomes = self._owners[sep + 3]
        dst_outcomes = self._owners[dep + 3]
        if code == _CODE_REFERENCE or src_outcomes is None or dst_outcomes is None:
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
        return _quick_verdict(flow, _ALLOW if code == _CODE_ALLOW else _DENY, egress, ingress, logged, self._source())
