"""AdminNetworkPolicy and BaselineAdminNetworkPolicy
(``policy.networking.k8s.io/v1alpha1``) converted to Calico global policies
(calico-semantics §E.1).

* An AdminNetworkPolicy becomes a global policy of kind ``AdminNetworkPolicy`` in tier
  ``adminnetworkpolicy`` (order 1000, default action Pass) with order
  ``spec.priority`` (0-1000). A BaselineAdminNetworkPolicy (which must be named
  ``default``) becomes one of kind ``BaselineAdminNetworkPolicy`` in tier
  ``baselineadminnetworkpolicy`` (order 10 000 000, Pass) at order 1000.
* Rule actions keep their names (ANP: Allow, Deny, Pass; BANP: Allow, Deny). Each rule
  expands to one Calico rule per (protocol × peer), all with the same action and the
  rule's ``name``.
* The subject selects pods: ``namespaces`` gives ``projectcalico.org/orchestrator ==
  'k8s'`` in the selected namespaces; ``pods`` adds the pod selector.
* ``types`` hold a direction when the converted policy has rules for it; a policy with
  no rules at all counts in both directions (Felix's fallback for empty types).

Where Calico departs from the upstream AdminNetworkPolicy API, netpolicy follows the
upstream API, as its documentation promises:

* **nodes peers.** Calico cannot convert an egress rule with a ``nodes`` peer (a Deny or
  Pass rule becomes a bare Deny that matches all traffic; an Allow rule is dropped).
  Upstream, the peer selects Nodes by label and matches the IPs in their
  ``status.addresses``. netpolicy resolves the selector against the Nodes it was given
  and matches their addresses; when no Node matches, the peer matches nothing.
* **namedPort.** Calico does not match ANP named ports as written (the entry is
  dropped and the rule then matches any port). Upstream, a named port matches the
  destination pod's container port of that name; netpolicy converts it to a named port
  with no protocol, which matches the port and protocol the destination pod declares
  under that name (§F.1).
* **namespaces peers.** Calico matches every endpoint in the selected namespaces,
  NetworkSets included. Upstream, the peer selects the pods of those namespaces;
  netpolicy adds ``projectcalico.org/orchestrator == 'k8s'`` so that only pods match.
* **domainNames peers** (AdminNetworkPolicy egress only; upstream supports them for
  Allow rules only). netpolicy does not resolve DNS names. In an Allow rule such a peer
  matches nothing (upstream's "fail closed" for Allow rules) while the rule's other
  peers still apply; Calico drops the whole rule. In a Deny or Pass rule, which
  upstream does not support, the rule becomes a bare Deny matching all traffic, as in
  Calico and as upstream's "fail closed" for Deny and Pass rules prescribes. A warning
  is given either way. A peer holding only fields netpolicy does not know, or selector
  fields of another API version (``sameLabels``, ``notSameLabels``, a nested
  ``namespaceSelector``), is handled the same way, as upstream asks of implementations
  that meet a peer they do not understand; such fields in the subject are an error.

Validation follows the upstream CRD: priority 0-1000, exactly one subject and one peer
kind per peer, at least one peer per rule, at most 100 rules, peers and ports per list,
ports with exactly one of portNumber/portRange/namedPort (protocol TCP, UDP or SCTP,
default TCP; ranges need start < end), networks 1-25 CIDRs, no named port together with
networks/nodes/domainNames peers, rule names of at most 100 characters.
"""

from __future__ import annotations

from typing import Any, Iterable

from ..model import PROTOCOL_NUMBERS, Action, NamedPort, Policy, PortRange, Rule, RulePort
from ._fields import MISSING, Field, format_path
from .admin import (
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
from .k8s import check_dns_subdomain, read_port_number
from .knp import merge_ports
from .registry import Inventory, Meta

__all__ = [
    "ANP_TIER",
    "BANP_TIER",
    "BANP_ORDER",
    "convert_admin_network_policy",
    "convert_baseline_admin_network_policy",
]

ANP_TIER = "adminnetworkpolicy"
BANP_TIER = "baselineadminnetworkpolicy"
BANP_ORDER = 1000.0
MAX_ITEMS = 100
_PROTOCOLS = ("TCP", "UDP", "SCTP")


def _read_ports(field: Field) -> PortGroups | Any:
    """``ports`` grouped by protocol: named ports (no protocol) first, then SCTP, TCP,
    UDP. Absent means a single group with no protocol and no port."""
    if not field.present:
        return [(None, ())]
    items = field.value if isinstance(field.value, list) else None
    if items is not None and not 1 <= len(items) <= MAX_ITEMS:
        return field.problem(f"ports must hold 1-{MAX_ITEMS} entries, got {len(items)}")
    groups: dict[str, list[RulePort]] = {}
    ok = True
    for item in field.items():
        body = item.mapping(required=True, known=("portNumber", "portRange", "namedPort"))
        if body is MISSING:
            ok = False
            continue
        given = [k for k in ("portNumber", "portRange", "namedPort") if item[k].present]
        if len(given) != 1:
            item.problem("exactly one of portNumber, portRange or namedPort must be set")
            ok = False
            continue
        kind = given[0]
        sub = item[kind]
        if kind == "namedPort":
            name = sub.string(required=True, allow_empty=False)
            if name is MISSING:
                ok = False
            else:
                groups.setdefault("", []).append(NamedPort(name))
            continue
        known = ("protocol", "port") if kind == "portNumber" else ("protocol", "start", "end")
        if sub.mapping(required=True, known=known) is MISSING:
            ok = False
            continue
        protocol = sub["protocol"].string(default="TCP")
        if protocol is not MISSING and protocol not in _PROTOCOLS:
            sub["protocol"].problem(f"protocol {protocol!r} is not supported: must be TCP, UDP or SCTP")
            protocol = MISSING
        if kind == "portNumber":
            port = read_port_number(sub["port"]) if sub["port"].present else sub["port"].problem("required field is missing")
            entry: Any = MISSING if port is MISSING else PortRange(port, port)
        else:
            start = read_port_number(sub["start"]) if sub["start"].present else sub["start"].problem("required field is missing")
            end = read_port_number(sub["end"]) if sub["end"].present else sub["end"].problem("required field is missing")
            entry = MISSING
            if start is not MISSING and end is not MISSING:
                if start >= end:
                    sub.problem(f"start port {start} must be less than end port {end}")
                else:
                    entry = PortRange(start, end)
        if protocol is MISSING or entry is MISSING:
            ok = False
            continue
        groups.setdefault(protocol, []).append(entry)
    if not ok:
        return MISSING
    return [(PROTOCOL_NUMBERS[name] if name else None, merge_ports(ports)) for name, ports in sorted(groups.items())]


def _convert_rule(field: Field, *, egress: bool, actions: tuple[str, ...], domain_names: bool,
                  inventory: Inventory) -> list[Rule] | Any:
    peers_key = "to" if egress else "from"
    body = field.mapping(required=True, known=("name", "action", peers_key, "ports"))
    if body is MISSING:
        return MISSING
    name = read_rule_name(field["name"])
    action_text = field["action"].choice(actions, required=True)
    peers_field = field[peers_key]
    ok = check_peer_count(peers_field, peers_key, MAX_ITEMS)
    kinds = ("namespaces", "pods") + (("nodes", "networks") if egress else ()) + (("domainNames",) if domain_names else ())
    peers = [read_peer(item, kinds, inventory) for item in peers_field.items()]
    groups = _read_ports(field["ports"])
    ok = check_named_ports(peers_field, field["ports"], "namedPort") and ok
    if not ok or MISSING in (name, action_text, groups) or MISSING in peers:
        return MISSING
    return expand_rule(Action(action_text), groups, peers, egress=egress, name=name,
                       from_rule=format_path(field.path[1:]))


def _policy(root: Field, meta: Meta, inventory: Inventory, *, baseline: bool) -> Policy | None:
    check_dns_subdomain(root["metadata"]["name"], meta.name)
    if baseline and meta.name != "default":
        root["metadata"]["name"].problem("a BaselineAdminNetworkPolicy must be named 'default'")
    spec = root["spec"]
    known = ("subject", "ingress", "egress") + (() if baseline else ("priority",))
    if spec.mapping(required=True, known=known) is MISSING:
        return None
    order: Any = BANP_ORDER
    if not baseline:
        order = spec["priority"].integer(required=True, low=0, high=1000)
    selector = subject_selector(spec["subject"])
    actions = ("Allow", "Deny") if baseline else ("Allow", "Deny", "Pass")
    ingress = convert_rule_list(spec["ingress"], MAX_ITEMS, lambda item: _convert_rule(
        item, egress=False, actions=actions, domain_names=False, inventory=inventory))
    egress = convert_rule_list(spec["egress"], MAX_ITEMS, lambda item: _convert_rule(
        item, egress=True, actions=actions, domain_names=not baseline, inventory=inventory))
    if MISSING in (order, selector, ingress, egress):
        return None
    kind = "BaselineAdminNetworkPolicy" if baseline else "AdminNetworkPolicy"
    return admin_policy(kind, meta, BANP_TIER if baseline else ANP_TIER, float(order), selector, ingress, egress)


def convert_admin_network_policy(root: Field, meta: Meta, inventory: Inventory) -> Iterable[object]:
    """AdminNetworkPolicy → a global policy in tier ``adminnetworkpolicy``."""
    policy = _policy(root, meta, inventory, baseline=False)
    return [policy] if policy is not None else []


def convert_baseline_admin_network_policy(root: Field, meta: Meta, inventory: Inventory) -> Iterable[object]:
    """BaselineAdminNetworkPolicy → a global policy in tier ``baselineadminnetworkpolicy``."""
    policy = _policy(root, meta, inventory, baseline=True)
    return [policy] if policy is not None else []
