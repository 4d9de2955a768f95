"""Synthetic addresses for endpoints the manifests give none (workloads, Pods not yet
scheduled).

Calico decides by address: selectors stand for sets of addresses, and ``nets`` test
them. So every such endpoint gets one address from a pool: the one asked for
(``pod_cidr``), or else the first of :data:`CANDIDATES` that no CIDR of the input
mentions (rules' nets and notNets, network sets, real endpoint and Service backend
addresses; a CIDR that holds the whole pool, such as ``0.0.0.0/0``, does not count: it
treats every address of the pool alike). Addresses are handed out in the order of the
endpoints' keys, skipping addresses real endpoints use, so they stay the same from one
load to the next. The endpoints are marked ``synthetic``; a verdict that a test on such
an address decided says so.
"""

from __future__ import annotations

import ipaddress
import math
from typing import Iterable, Iterator, Sequence

from ..errors import PolicyError
from ..model import Endpoint, EntityMatch, IPAddress, IPNetwork, NetworkSet, Policy, Profile, ServiceBackends

__all__ = ["CANDIDATES", "parse_pod_cidr", "mentioned_networks", "choose_pool", "assign_synthetic", "give_addresses"]

#: Where the default pool is looked for, in order: the common pod CIDRs (kubeadm's and
#: flannel's 10.244.0.0/16, k3s's 10.42.0.0/16), then the rest of the private ranges.
CANDIDATES: tuple[IPNetwork, ...] = (
    ipaddress.ip_network("10.244.0.0/16"),
    ipaddress.ip_network("10.42.0.0/16"),
    ipaddress.ip_network("10.0.0.0/8"),
    ipaddress.ip_network("172.16.0.0/12"),
    ipaddress.ip_network("192.168.0.0/16"),
    ipaddress.ip_network("100.64.0.0/10"),
)


def parse_pod_cidr(value: str | IPNetwork) -> IPNetwork:
    """``pod_cidr`` as a network; PolicyError for anything else."""
    if isinstance(value, (ipaddress.IPv4Network, ipaddress.IPv6Network)):
        return value
    if not isinstance(value, str):
        raise PolicyError(f"pod_cidr must be a CIDR such as '10.244.0.0/16', not {type(value).__name__}")
    try:
        return ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        raise PolicyError(f"pod_cidr {value!r} is not a CIDR such as '10.244.0.0/16'") from None


def _rule_nets(side: EntityMatch) -> Iterator[IPNetwork]:
    yield from side.nets
    yield from side.not_nets


def mentioned_networks(
    policies: Iterable[Policy], profiles: Iterable[Profile], network_sets: Iterable[NetworkSet],
    endpoints: Iterable[Endpoint], services: Iterable[ServiceBackends],
) -> set[IPNetwork]:
    """Every CIDR and address the input mentions."""
    found: set[IPNetwork] = set()
    owners: list[Iterable[object]] = []
    for policy in policies:
        owners.append(policy.ingress or ())
        owners.append(policy.egress or ())
    for profile in profiles:
        owners.extend((profile.ingress, profile.egress))
    for rules in owners:
        for rule in rules:
            found.update(_rule_nets(rule.source))  # type: ignore[attr-defined]
            found.update(_rule_nets(rule.destination))  # type: ignore[attr-defined]
    for network_set in network_sets:
        found.update(network_set.nets)
    for endpoint in endpoints:
        found.update(ipaddress.ip_network(ip) for ip in endpoint.ips)
    for service in services:
        found.update(ipaddress.ip_network(ip) for ip in service.addresses)
    return found


def _blocks(candidate: IPNetwork, prefix: int) -> Iterator[IPNetwork]:
    if candidate.prefixlen >= prefix:
        yield candidate
    else:
        yield from candidate.subnets(new_prefix=prefix)


def choose_pool(needed: int, mentioned: Iterable[IPNetwork]) -> tuple[IPNetwork, bool]:
    """A pool of at least ``needed`` addresses no CIDR of ``mentioned`` lies in or cuts
    across: (pool, True); when every candidate is mentioned, the first: (pool, False)."""
    bits = max(8, math.ceil(math.log2(needed + 2)))  # the network and broadcast addresses are not used
    prefix = 32 - bits
    cuts = [net for net in mentioned if net.version == 4 and net.prefixlen > 0]
    for candidate in CANDIDATES:
        if candidate.prefixlen > prefix:
            continue
        for block in _blocks(candidate, min(prefix, 16)):
            if not any(_cuts(net, block) for net in cuts):
                return block, True
    fallback = next(c for c in CANDIDATES if c.prefixlen <= prefix) if prefix >= 10 else None
    if fallback is None:
        raise PolicyError(f"{needed} endpoints need synthetic addresses: more than an IPv4 pool holds; give pod_cidr")
    return next(_blocks(fallback, min(prefix, 16))), False


def _cuts(net: IPNetwork, block: IPNetwork) -> bool:
    """Whether ``net`` tells addresses of ``block`` apart: it overlaps the block without
    holding all of it."""
    return net.overlaps(block) and not block.subnet_of(net)  # type: ignore[arg-type]


def assign_synthetic(endpoints: Sequence[Endpoint], pool: IPNetwork, taken: Iterable[IPAddress]) -> None:
    """Give each endpoint of ``endpoints`` (made by this load, not shared yet) the next
    free address of ``pool``, in the order of their keys, and mark it synthetic."""
    used = {ip for ip in taken if ip in pool}
    hosts = pool.hosts() if pool.num_addresses > 2 else iter(pool)
    for endpoint in sorted(endpoints, key=lambda e: e.key):
        for address in hosts:
            if address not in used:
                break
        else:
            raise PolicyError(
                f"the pool {pool} has too few free addresses for the {len(endpoints)} endpoints without one; "
                "give a larger pod_cidr"
            )
        object.__setattr__(endpoint, "ips", (address,))
        object.__setattr__(endpoint, "synthetic", True)


def give_addresses(
    workloads: Sequence[Endpoint], real: Sequence[Endpoint], policies: Iterable[Policy], profiles: Iterable[Profile],
    network_sets: Iterable[NetworkSet], services: Iterable[ServiceBackends], pod_cidr: str | IPNetwork | None,
) -> tuple[IPNetwork | None, str | None]:
    """Synthetic addresses for the endpoints of ``workloads`` that have none: the pool
    used (None when no endpoint needed one and none was asked for) and a line saying
    which, for the load's warnings."""
    needing = [endpoint for endpoint in workloads if not endpoint.ips and not endpoint.is_host]
    asked = parse_pod_cidr(pod_cidr) if pod_cidr is not None else None
    if not needing:
        return asked, None
    taken = [ip for endpoint in real for ip in endpoint.ips]
    if asked is not None:
        pool, why = asked, "the pod CIDR asked for"
    else:
        mentioned = mentioned_networks(policies, profiles, network_sets, real, services)
        pool, clean = choose_pool(len(needing), mentioned)
        why = "a range no rule mentions" if clean else "though the input mentions addresses in it"
        why += "; pod_cidr or --pod-cidr chooses another"
    assign_synthetic(needing, pool, taken)
    count = f"{len(needing)} endpoint{'s' if len(needing) != 1 else ''}"
    note = (
        f"{count} without an address in the manifests (workloads, Pods not scheduled yet) "
        f"{'get' if len(needing) != 1 else 'gets'} synthetic addresses from {pool} ({why}); "
        "a verdict that depends on one says so"
    )
    return pool, note
