"""ClusterNetworkPolicy (``policy.networking.k8s.io/v1alpha2``) converted to a Calico
global policy as Calico 3.32 converts it (calico-semantics §E.2).

* ``spec.tier: Admin`` puts the policy in tier ``kube-admin`` (order 1000, default
  action Pass), ``Baseline`` in ``kube-baseline`` (order 10 000 000, Pass). Its order
  is ``spec.priority`` (0-1000) and its kind ``KubernetesClusterNetworkPolicy``, the
  kind Calico names it by (ties of order are broken by ``<name>//<kind>``, §C.1).
* Actions: Accept is Allow; Deny and Pass keep their names.
* The subject selects pods: ``namespaces`` gives ``projectcalico.org/orchestrator ==
  'k8s'`` in the selected namespaces (host endpoints are never selected); ``pods``
  adds the pod selector.
* Each rule expands to one Calico rule per (protocol × peer): protocols sorted (named
  ports, which carry no protocol, then SCTP, TCP, UDP), then the peers in order. A
  protocol's numeric ports are merged into one rule's ``ports``; without
  ``protocols`` the rule matches every protocol and port. Every expanded rule keeps the
  manifest rule's ``name`` and path (``egress[1]``), so a trace names both, while its
  index in the policy is the one Calico's flow logs show.
* ``destinationNamedPort`` is a named port without protocol: it matches the port and
  protocol the destination pod declares under that name (§F.1).
* ``types`` hold a direction when it has converted rules; a policy with none at all
  counts in both directions (Felix's fallback for empty types).

Where Calico departs from the upstream API, netpolicy follows the upstream API by
default, as for AdminNetworkPolicy; ``calico_exact`` reproduces Calico's conversion:

* ``nodes`` peers: upstream, the Nodes' addresses (netpolicy matches the addresses of
  the Nodes it was given). Calico cannot convert them: it drops the rule, and a Deny or
  Pass rule becomes a bare Deny that matches all traffic.
* ``domainNames`` peers: netpolicy does not resolve names; upstream's fail-closed
  reading makes the peer match nothing in an Accept rule and a Deny or Pass rule deny
  all traffic. Calico drops the rule as for ``nodes``.
* ``namespaces`` peers: upstream, the pods of those namespaces. Calico matches every
  endpoint in them, NetworkSets included (and, for selectors that a missing label
  satisfies, endpoints outside any namespace).
* ``destinationNamedPort: ""`` (which the CRD accepts): Calico makes the rule match
  every protocol and port; netpolicy fails closed (the entry matches nothing in an
  Accept rule, a Deny or Pass rule denies all traffic). A name Calico refuses as a
  port name fails the rule in Calico; upstream, no pod port has it.

Validation follows the v0.2.0 CRD, its CEL rules included: tier Admin or Baseline,
priority 0-1000, exactly one subject kind and one kind per peer and per protocol
entry, at most 25 rules, peers, protocols, networks and domain names per list,
``destinationPort`` with exactly one of ``number``/``range`` (``start < end``),
CIDRs of at most 43 characters, domain names of the CRD's pattern, no duplicates in
``networks`` and ``domainNames``, no ``destinationNamedPort`` in an egress rule with a
networks/nodes/domainNames peer, rule names of at most 100 characters.
"""

from __future__ import annotations

import re
from typing import Any, Iterable

from ..model import PROTOCOL_NUMBERS, Action, NamedPort, Policy, PortRange, Rule, RulePort
from ._fields import MISSING, Field, format_path
from .admin import (
    FAILED,
    UNSUPPORTED,
    PortGroups,
    check_named_ports,
    check_peer_count,
    admin_policy,
    convert_rule_list,
    expand_rule,
    read_peer,
    read_rule_name,
    subject_selector,
)
from .k8s import check_dns_subdomain, is_port_name, read_port_number
from .knp import merge_ports
from .registry import Inventory, Meta

__all__ = ["CNP_KIND", "CNP_TIERS", "MAX_ITEMS", "convert_cluster_network_policy", "cluster_network_policy"]

#: The kind Calico gives the converted policy (its tie-break key and flow logs use it).
CNP_KIND = "KubernetesClusterNetworkPolicy"
#: ``spec.tier`` -> Calico tier.
CNP_TIERS = {"Admin": "kube-admin", "Baseline": "kube-baseline"}
MAX_ITEMS = 25
_ACTIONS = {"Accept": Action.ALLOW, "Deny": Action.DENY, "Pass": Action.PASS}
_PROTOCOL_KEYS = ("tcp", "udp", "sctp", "destinationNamedPort")
_INGRESS_PEERS = ("namespaces", "pods")
_EGRESS_PEERS = ("namespaces", "pods", "networks", "nodes", "domainNames")
_DOMAIN_NAME = re.compile(r"^(\*\.)?([a-zA-z0-9]([-a-zA-Z0-9_]*[a-zA-Z0-9])?\.)+[a-zA-z0-9]([-a-zA-Z0-9_]*[a-zA-Z0-9])?\.?$")
_CALICO_PORT_NAME = re.compile(r"^[a-zA-Z0-9_.-]{1,128}$")
_MAX_CIDR_LENGTH = 43


def _set_items(field: Field, what: str, *, count: bool) -> bool:
    """A ``listType=set`` list of strings: no duplicates (and 1-25 items, ``count``)."""
    items = field.value if isinstance(field.value, list) else None
    if items is None:
        return True  # reported by the reader
    if count and not 1 <= len(items) <= MAX_ITEMS:
        field.problem(f"{what} must hold 1-{MAX_ITEMS} entries, got {len(items)}")
        return False
    ok = True
    seen: set[str] = set()
    for item in field.items():
        if isinstance(item.value, str):
            if item.value in seen:
                item.problem(f"duplicate value {item.value!r}")
                ok = False
            seen.add(item.value)
    return ok


def _check_peer(field: Field) -> bool:
    """What the CRD checks of a peer's ``networks`` and ``domainNames`` beyond what
    the shared peer reader checks."""
    ok = True
    networks = field["networks"]
    if networks.present:
        ok = _set_items(networks, "networks", count=False)  # counted by the peer reader
        for item in networks.items():
            text = item.value
            if isinstance(text, str) and (len(text) > _MAX_CIDR_LENGTH or re.search(r"/0[0-9]", text)):
                item.problem(f"{text[:60]!r} is not a valid CIDR (Invalid CIDR format provided)")
                ok = False
    names = field["domainNames"]
    if names.present:
        ok = _set_items(names, "domainNames", count=True) and ok
        for item in names.items():  # non-strings are the peer reader's to report
            if isinstance(item.value, str) and not _DOMAIN_NAME.match(item.value):
                item.problem(f"{item.value[:60]!r} is not a domain name (optionally '*.' and a subdomain)")
                ok = False
    return ok


def _read_port(field: Field) -> PortRange | Any:
    """``destinationPort``: exactly one of ``number`` or ``range {start, end}``."""
    if field.mapping(required=True, known=("number", "range")) is MISSING:
        return MISSING
    given = [k for k in ("number", "range") if field[k].present]
    if len(given) != 1:
        return field.problem("exactly one of number or range must be set")
    if given[0] == "number":
        port = read_port_number(field["number"])
        return MISSING if port is MISSING else PortRange(port, port)
    span = field["range"]
    if span.mapping(required=True, known=("start", "end")) is MISSING:
        return MISSING
    bounds = [read_port_number(span[k]) if span[k].present else span[k].problem("required field is missing")
              for k in ("start", "end")]
    if MISSING in bounds:
        return MISSING
    if bounds[0] >= bounds[1]:
        return span.problem(f"start port {bounds[0]} must be less than end port {bounds[1]}")
    return PortRange(bounds[0], bounds[1])


def _read_protocols(field: Field, *, exact: bool) -> tuple[PortGroups, Any] | Any:
    """``protocols`` as port groups, and a marker when an entry makes the rule fail
    (FAILED) or fail closed (UNSUPPORTED), else None. Absent: no protocol, no port."""
    if not field.present:
        return [(None, ())], None
    if isinstance(field.value, list) and not 1 <= len(field.value) <= MAX_ITEMS:
        return field.problem(f"protocols must hold 1-{MAX_ITEMS} entries, got {len(field.value)}")
    groups: dict[str, list[RulePort]] = {}
    marker = None
    every = False
    ok = isinstance(field.value, list)
    for item in field.items():
        if item.mapping(required=True, known=_PROTOCOL_KEYS) is MISSING:
            ok = False
            continue
        given = [k for k in _PROTOCOL_KEYS if item[k].present]
        if len(given) != 1:
            item.problem(f"exactly one of {', '.join(_PROTOCOL_KEYS)} must be set")
            ok = False
            continue
        kind = given[0]
        sub = item[kind]
        if kind != "destinationNamedPort":
            port = MISSING
            if sub.mapping(required=True, known=("destinationPort",)) is MISSING:
                pass
            elif not sub["destinationPort"].present:
                sub["destinationPort"].problem("required field is missing")
            else:
                port = _read_port(sub["destinationPort"])
            if port is MISSING:
                ok = False
            else:
                groups.setdefault(kind.upper(), []).append(port)
            continue
        name = sub.string(required=True)
        if name is MISSING:
            ok = False
        elif name == "":
            if exact:  # Calico reads it as no protocol entry at all
                sub.warn("an empty destinationNamedPort makes Calico match every protocol and port")
                every = True
                continue
            sub.warn("an empty destinationNamedPort selects no port: the entry matches nothing in an "
                     "Accept rule and makes a Deny or Pass rule deny all traffic")
            marker = marker or UNSUPPORTED
        elif exact and not _CALICO_PORT_NAME.match(name):
            sub.warn(f"Calico refuses {name[:60]!r} as a port name and drops the rule "
                     "(a Deny or Pass rule becomes Deny-all)")
            marker = marker if every else FAILED  # Calico stops reading at an empty entry
        else:
            if not is_port_name(name):
                sub.warn(f"{name[:60]!r} is not a valid container port name: no pod port matches it")
            groups.setdefault("", []).append(NamedPort(name))
    if not ok:
        return MISSING
    if every:
        return [(None, ())], marker
    order = sorted(groups.items())
    return [(PROTOCOL_NUMBERS[name] if name else None, merge_ports(ports)) for name, ports in order], marker


def _convert_rule(field: Field, *, egress: bool, inventory: Inventory, exact: bool) -> list[Rule] | Any:
    peers_key = "to" if egress else "from"
    body = field.mapping(required=True, known=("name", "action", peers_key, "protocols"))
    if body is MISSING:
        return MISSING
    name = read_rule_name(field["name"])
    action_text = field["action"].choice(tuple(_ACTIONS), required=True)
    peers_field = field[peers_key]
    ok = check_peer_count(peers_field, peers_key, MAX_ITEMS)
    kinds = _EGRESS_PEERS if egress else _INGRESS_PEERS
    peers = []
    for item in peers_field.items():
        checked = _check_peer(item) if egress else True
        peer = read_peer(item, kinds, inventory, accept="Accept", exact=exact)
        peers.append(peer if checked else MISSING)
    protocols = _read_protocols(field["protocols"], exact=exact)
    if egress:
        ok = check_named_ports(peers_field, field["protocols"], "destinationNamedPort") and ok
    if not ok or MISSING in (name, action_text, protocols) or MISSING in peers:
        return MISSING
    groups, marker = protocols
    if marker is not None:
        peers.append(marker)
    return expand_rule(_ACTIONS[action_text], groups, peers, egress=egress, name=name,
                       from_rule=format_path(field.path[1:]))


def cluster_network_policy(root: Field, meta: Meta, inventory: Inventory, *, exact: bool = False) -> Policy | None:
    """The Calico form of one ClusterNetworkPolicy (None after a problem). ``exact``
    reproduces Calico's conversion where it departs from the upstream API."""
    check_dns_subdomain(root["metadata"]["name"], meta.name)
    spec = root["spec"]
    if spec.mapping(required=True, known=("tier", "priority", "subject", "ingress", "egress")) is MISSING:
        return None
    tier = spec["tier"].choice(tuple(CNP_TIERS), required=True)
    priority = spec["priority"].integer(required=True, low=0, high=1000)
    selector = subject_selector(spec["subject"])
    ingress = convert_rule_list(spec["ingress"], MAX_ITEMS, lambda item: _convert_rule(
        item, egress=False, inventory=inventory, exact=exact))
    egress = convert_rule_list(spec["egress"], MAX_ITEMS, lambda item: _convert_rule(
        item, egress=True, inventory=inventory, exact=exact))
    if MISSING in (tier, priority, selector, ingress, egress):
        return None
    return admin_policy(CNP_KIND, meta, CNP_TIERS[tier], float(priority), selector, ingress, egress)


def convert_cluster_network_policy(root: Field, meta: Meta, inventory: Inventory) -> Iterable[object]:
    """ClusterNetworkPolicy → a global policy in tier ``kube-admin`` or
    ``kube-baseline``."""
    policy = cluster_network_policy(root, meta, inventory, exact=inventory.conversion.calico_exact)
    return [policy] if policy is not None else []
