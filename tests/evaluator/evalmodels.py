"""Hand-built models for evaluator tests: what the loader produces, written out."""

from __future__ import annotations

import ipaddress
from typing import Iterable, Mapping

from netpolicy import Selector
from netpolicy.model import (
    Action,
    ContainerPort,
    EntityMatch,
    Endpoint,
    NetworkSet,
    Policy,
    PolicyRef,
    Profile,
    Rule,
    Tier,
)
from netpolicy.policyset import PolicySet

ALLOW, DENY, LOG, PASS = Action.ALLOW, Action.DENY, Action.LOG, Action.PASS
TCP, UDP, ICMP, ICMPV6, SCTP = 6, 17, 1, 58, 132

DEFAULT_TIER = Tier("default", 1_000_000.0, Action.DENY)


def sel(text: str) -> Selector:
    return Selector.parse(text)


def nets(*cidrs: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(c) for c in cidrs)


def pod(
    namespace: str,
    name: str,
    *ips: str,
    labels: Mapping[str, str] | None = None,
    ns_labels: Mapping[str, str] | None = None,
    sa: str | None = None,
    sa_labels: Mapping[str, str] | None = None,
    ports: Iterable[tuple[str, int, int]] = (),
    node: str | None = None,
) -> Endpoint:
    """A pod as a workload endpoint, with the effective labels §A.6 gives it."""
    own = dict(labels or {})
    effective = {k: v for k, v in own.items() if not k.startswith(("pcns.", "pcsa."))}
    effective["projectcalico.org/namespace"] = namespace
    effective["projectcalico.org/orchestrator"] = "k8s"
    profiles = [f"kns.{namespace}"]
    inherited = {f"pcns.{k}": v for k, v in (ns_labels or {}).items()}
    inherited["pcns.projectcalico.org/name"] = namespace
    if sa:
        effective["projectcalico.org/serviceaccount"] = sa
        profiles.append(f"ksa.{namespace}.{sa}")
        for k, v in (sa_labels or {}).items():
            inherited.setdefault(f"pcsa.{k}", v)
        inherited.setdefault("pcsa.projectcalico.org/name", sa)
    for k, v in inherited.items():
        effective.setdefault(k, v)
    return Endpoint(
        labels=own,
        namespace=namespace,
        name=name,
        ips=ips,
        service_account=sa,
        named_ports=tuple(ContainerPort(n, proto, port) for n, proto, port in ports),
        profiles=tuple(profiles),
        effective_labels=effective,
        node=node,
    )


def host(name: str, *ips: str, labels: Mapping[str, str] | None = None, profiles: tuple[str, ...] = (), node: str | None = None,
         ports: Iterable[tuple[str, int, int]] = ()) -> Endpoint:
    return Endpoint(
        labels=dict(labels or {}),
        name=name,
        ips=ips,
        kind="HostEndpoint",
        profiles=profiles,
        effective_labels=dict(labels or {}),
        node=node,
        named_ports=tuple(ContainerPort(n, proto, port) for n, proto, port in ports),
    )


def netset(name: str, cidrs: tuple[str, ...], labels: Mapping[str, str], namespace: str | None = None) -> NetworkSet:
    effective = dict(labels)
    if namespace:
        effective["projectcalico.org/namespace"] = namespace
        effective["pcns.projectcalico.org/name"] = namespace
    return NetworkSet(name, namespace, nets(*cidrs), labels, effective)


def kns(namespace: str) -> Profile:
    """The namespace profile: allow everything both ways."""
    return Profile(f"kns.{namespace}", {}, ingress=(Rule(ALLOW),), egress=(Rule(ALLOW),))


def gnp(name: str, selector: str, *, order: float | None = None, tier: str = "default", ingress=None, egress=None,
        staged: bool = False, **flags: bool) -> Policy:
    kind = "StagedGlobalNetworkPolicy" if staged else "GlobalNetworkPolicy"
    return Policy(PolicyRef(kind, None, name), tier, order, sel(selector),
                  tuple(ingress) if ingress is not None else None,
                  tuple(egress) if egress is not None else None, staged=staged, **flags)


def np(namespace: str, name: str, selector: str, *, order: float | None = None, tier: str = "default", ingress=None,
       egress=None, kind: str = "NetworkPolicy", staged: bool = False) -> Policy:
    text = f"({selector}) && projectcalico.org/namespace == '{namespace}'" if selector else f"projectcalico.org/namespace == '{namespace}'"
    return Policy(PolicyRef(kind, namespace, name), tier, order, sel(text),
                  tuple(ingress) if ingress is not None else None,
                  tuple(egress) if egress is not None else None, staged=staged)


def side(**kwargs: object) -> EntityMatch:
    if "selector" in kwargs and isinstance(kwargs["selector"], str):
        kwargs["selector"] = sel(kwargs["selector"])
    if "not_selector" in kwargs and isinstance(kwargs["not_selector"], str):
        kwargs["not_selector"] = sel(kwargs["not_selector"])
    for key in ("nets", "not_nets"):
        if key in kwargs:
            kwargs[key] = nets(*kwargs[key])  # type: ignore[misc]
    return EntityMatch(**kwargs)  # type: ignore[arg-type]


def policy_set(*, tiers=(), policies=(), endpoints=(), network_sets=(), profiles=None, services=()) -> PolicySet:
    endpoints = tuple(endpoints)
    if profiles is None:
        profiles = [kns(ns) for ns in sorted({e.namespace for e in endpoints if e.namespace})]
    return PolicySet(tiers=(DEFAULT_TIER, *tiers), policies=policies, profiles=profiles, endpoints=endpoints,
                     network_sets=network_sets, services=services)
