"""One flow on the tables: each side's address as the reference evaluator resolves it,
the lookup of a flow the matcher's ``Single`` does not take (IPv6, names), and the
Verdict built from the outcomes the tables point to."""

from __future__ import annotations

import bisect
import ipaddress
from typing import Any, Callable, Sequence

from ..compile import Compiled
from .._matcher import Matcher
from ..errors import PolicyError
from ..flow import Flow
from ..model import Action, Endpoint
from ..reference._packet import shared_family
from ..verdict import Decision, RuleRef, Verdict, _quick_verdict
from .results import _EXTERNAL, _Outcomes

__all__ = ["Address", "decide", "endpoint_address", "flow_side", "named", "owners", "settle", "table_verdict"]

#: one side of a flow on the tables: (IP family, address as an integer)
Address = tuple[int, int]

_ALLOW, _DENY = Action.ALLOW, Action.DENY


# -- sides -----------------------------------------------------------------------------


def endpoint_address(endpoint: Endpoint, family: int | None) -> Address | None:
    """An endpoint's first address of ``family`` (any family when None)."""
    for ip in endpoint.ips:
        if family is None or ip.version == family:
            return ip.version, int(ip)
    return None


def settle(src: Any, dst: Any, protocol: int) -> tuple[Address, Address] | None:
    """Both sides' (family, address) as the reference resolves them: each side is
    (family, address) or ("name", endpoint); an address fixes the family, else IPv4
    is preferred; ICMP is IPv4 only, ICMPv6 IPv6 only. None when the reference must
    decide (it raises when the sides share no family)."""
    families = []
    for side in (src, dst):
        if side[0] == "name":
            versions = {ip.version for ip in side[1].ips}
            if not versions:
                return None  # matched by identity
            families.append(versions)
        else:
            families.append({side[0]})
    family = shared_family(families[0], families[1], protocol)
    if family is None:
        return None  # no shared family: the reference raises
    s = src if src[0] != "name" else endpoint_address(src[1], family)
    d = dst if dst[0] != "name" else endpoint_address(dst[1], family)
    return s, d  # type: ignore[return-value]


def named(name: str, endpoint: Callable[[str], Endpoint]) -> tuple[str, Endpoint]:
    """The side ("name", endpoint) of ``namespace/pod``, looked up with ``endpoint``."""
    try:
        return ("name", endpoint(name))
    except KeyError:
        raise PolicyError(f"no pod or workload endpoint {name!r} in the policy set") from None


def flow_side(side: Any, endpoint: Callable[[str], Endpoint]) -> Any:
    """A :class:`Flow`'s side as (family, address) or ("name", endpoint); None for a
    hand-built Endpoint (the reference decides)."""
    if isinstance(side, str):
        return named(side, endpoint)
    if isinstance(side, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
        return side.version, int(side)
    return None


# -- deciding --------------------------------------------------------------------------


def decide(compiled: Compiled, matcher: Matcher, src: Address, dst: Address, key: int, skey: int) -> tuple[int, int, int]:
    """(code, egress outcome, ingress outcome) of one flow between two addresses of
    the same family."""
    if src[0] == 4:
        return matcher.decide_one_v4(src[1], dst[1], key, skey)
    c = compiled
    si = bisect.bisect_right(c.v6_starts, src[1]) - 1
    di = bisect.bisect_right(c.v6_starts, dst[1]) - 1
    sep = int(c.v6_endpoint[si])
    if sep >= 0 and sep == int(c.v6_endpoint[di]):
        return 1, -2, -2  # an endpoint to itself: allowed without evaluation
    return matcher.decide_classes(
        int(c.v6_local[0][si]), int(c.v6_peer[1][si]), int(c.v6_local[1][di]), int(c.v6_peer[0][di]), key, skey
    )


def owners(by_reference: Sequence[bool], outcomes: Sequence[_Outcomes]) -> list[_Outcomes | None]:
    """What the matcher's ``Single`` looks outcomes up in, by endpoint index + 3: the
    endpoint's outcomes, or None where the reference decides (the endpoint's verdicts
    have a pending part); first an address endpoints share (whose flows the tables leave
    to the reference anyway), an unused index, and an address of no endpoint."""
    found: list[_Outcomes | None] = [None, None, _EXTERNAL]
    found += [None if by_reference[eid] else mine for eid, mine in enumerate(outcomes)]
    return found


def table_verdict(
    outcomes: Sequence[_Outcomes], flow: Flow, code: int, e: int, i: int, sep: int, dep: int, ps: Any
) -> Verdict:
    """The Verdict from outcome ids (as the reference builds it: decisions name their
    endpoint; the destination's Log rules count only when egress allowed). ``ps`` goes
    with the verdict: explain() re-runs the reference on it."""
    egress: Decision | None = None
    ingress: Decision | None = None
    logged: tuple[RuleRef, ...] = ()
    if e >= 0:
        egress, logged, allowed = outcomes[sep][e]
    if i >= 0:
        ingress, more, _ = outcomes[dep][i]
        if e < 0 or allowed:
            logged += more
    return _quick_verdict(flow, _ALLOW if code == 1 else _DENY, egress, ingress, logged, ps)
