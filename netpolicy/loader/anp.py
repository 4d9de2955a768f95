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

import ipaddress
from typing import Any, Iterable

import attrs

from ..model import PROTOCOL_NUMBERS, Action, EntityMatch, NamedPort, Policy, PolicyRef, PortRange, Rule, RulePort
from ..selector import Selector
from ._fields import MISSING, Field
from .k8s import check_dns_subdomain, label_selector_matches, label_selector_terms, read_cidr, read_port_number
from .knp import ORCHESTRATOR_TERM, merge_ports, namespace_selector_text, pod_selector_text
from .registry import Inventory, Meta
from .rules import NAMESPACE_LABEL, entity_selectors, parse_text

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
MAX_NETWORKS = 25
_PROTOCOLS = ("TCP", "UDP", "SCTP")


class _NoMatch:
    """A peer that matches no traffic."""


class _Unsupported:
    """A peer netpolicy cannot evaluate (fail closed by action)."""


NO_MATCH = _NoMatch()
UNSUPPORTED = _Unsupported()
_SELECTOR_KEYS = frozenset({"matchLabels", "matchExpressions"})
_POD_KEYS = frozenset({"namespaceSelector", "podSelector"})


def _unknown_keys(value: Any, *, pods: bool) -> bool:
    """Whether a peer's selector (or pods peer) holds fields this API version lacks,
    e.g. ``sameLabels`` or the older ``namespaceSelector`` nesting."""
    if not isinstance(value, dict):
        return False
    if not pods:
        return not _SELECTOR_KEYS.issuperset(value)
    if not _POD_KEYS.issuperset(value):
        return True
    return any(_unknown_keys(value.get(k), pods=False) for k in _POD_KEYS)


def _subject_selector(field: Field) -> Selector | Any:
    """The policy selector for ``spec.subject``, built as Calico builds a global
    policy's selector from ``selector`` and ``namespaceSelector`` (§A.7)."""
    body = field.mapping(required=True, known=("namespaces", "pods"))
    if body is MISSING:
        return MISSING
    given = [k for k in ("namespaces", "pods") if field[k].present]
    if len(given) != 1:
        return field.problem("exactly one of namespaces or pods must be set")
    if _unknown_keys(body[given[0]], pods=given[0] == "pods"):
        return field[given[0]].problem("subject holds fields this API version does not have "
                                       "(for example sameLabels); the pods it selects are unknown")
    if given[0] == "namespaces":
        pod_text: Any = ORCHESTRATOR_TERM
        ns_text = namespace_selector_text(field["namespaces"])
    else:
        pods = field["pods"]
        if pods.mapping(known=("namespaceSelector", "podSelector")) is MISSING:
            return MISSING
        if not pods["podSelector"].present:
            pods["podSelector"].problem("required field is missing")
            return MISSING
        pod_text = pod_selector_text(pods["podSelector"])
        ns_text = namespace_selector_text(pods["namespaceSelector"])
    if pod_text is MISSING or ns_text is MISSING:
        return MISSING
    ns_sel = parse_text(field, ns_text)
    if ns_sel is MISSING:
        return MISSING
    text = f"({pod_text}) && {ns_sel.prefixed('pcns.')}".replace("all()", f"has({NAMESPACE_LABEL})")
    return parse_text(field, text)


def _pod_peer(field: Field, pod_text: str, ns_text: str) -> EntityMatch | Any:
    pod_sel = parse_text(field, pod_text)
    ns_sel = parse_text(field, ns_text)
    if pod_sel is MISSING or ns_sel is MISSING:
        return MISSING
    selectors = entity_selectors(field, namespace=None, selector=(pod_text, pod_sel), not_selector=None,
                                 namespace_selector=(ns_text, ns_sel), sa_part=None)
    return MISSING if selectors is MISSING else EntityMatch(selector=selectors[0])


def _read_peer(field: Field, *, egress: bool, domain_names: bool, inventory: Inventory) -> Any:
    kinds = ("namespaces", "pods") + (("nodes", "networks") if egress else ()) + (("domainNames",) if domain_names else ())
    body = field.mapping(required=True, known=kinds)
    if body is MISSING:
        return MISSING
    given = [k for k in kinds if k in body]
    if not given:
        if body:
            field.warn("peer has no field netpolicy knows; treated as matching no traffic for Allow "
                       "rules and as Deny-all for Deny and Pass rules")
            return UNSUPPORTED
        return field.problem(f"exactly one of {', '.join(kinds)} must be set")
    if len(given) > 1:
        return field.problem(f"exactly one of {', '.join(kinds)} must be set, got {', '.join(given)}")
    kind = given[0]
    sub = field[kind]
    if kind in ("namespaces", "pods", "nodes") and _unknown_keys(body[kind], pods=kind == "pods"):
        sub.warn("peer holds fields this API version does not have (for example sameLabels); treated as "
                 "matching no traffic for Allow rules and as Deny-all for Deny and Pass rules")
        return UNSUPPORTED
    if kind == "namespaces":
        ns_text = namespace_selector_text(sub)
        return MISSING if ns_text is MISSING else _pod_peer(field, ORCHESTRATOR_TERM, ns_text)
    if kind == "pods":
        if sub.mapping(required=True, known=("namespaceSelector", "podSelector")) is MISSING:
            return MISSING
        if not sub["podSelector"].present:
            return sub["podSelector"].problem("required field is missing")
        pod_text = pod_selector_text(sub["podSelector"])
        ns_text = namespace_selector_text(sub["namespaceSelector"])
        if pod_text is MISSING or ns_text is MISSING:
            return MISSING
        return _pod_peer(field, pod_text, ns_text)
    if kind == "nodes":
        if label_selector_terms(sub) is MISSING:
            return MISSING
        selector = sub.value if isinstance(sub.value, dict) else {}
        addresses = sorted(
            {a for node in inventory.nodes.values() if label_selector_matches(selector, node.labels) for a in node.addresses},
            key=lambda a: (a.version, int(a)),
        )
        if not addresses:
            sub.warn("no Node given matches this nodes selector (or none has an address); the peer matches nothing")
            return NO_MATCH
        return EntityMatch(nets=tuple(ipaddress.ip_network(a) for a in addresses))
    if kind == "networks":
        items = sub.value if isinstance(sub.value, list) else None
        if items is not None and not 1 <= len(items) <= MAX_NETWORKS:
            return sub.problem(f"networks must hold 1-{MAX_NETWORKS} CIDRs, got {len(items)}")
        nets = []
        ok = True
        for item in sub.items(required=True):
            net = read_cidr(item)
            if net is MISSING:
                ok = False
            elif net not in nets:
                nets.append(net)
        if not ok or not isinstance(sub.value, list):
            return MISSING
        return EntityMatch(nets=tuple(nets))
    # domainNames
    for item in sub.items(required=True):
        item.string(required=True)
    sub.warn("domainNames peers are not resolved: the peer matches no traffic in an Allow rule "
             "and makes a Deny or Pass rule deny all traffic")
    return UNSUPPORTED


def _read_ports(field: Field) -> list[tuple[int | None, tuple[RulePort, ...]]] | Any:
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
    ok = True
    name = field["name"].string()
    if name is MISSING:
        ok = False
    elif name is not None and len(name) > 100:
        field["name"].problem(f"rule name is {len(name)} characters long, at most 100 allowed")
        ok = False
    action_text = field["action"].choice(actions, required=True)
    peers_field = field[peers_key]
    if not peers_field.present:
        peers_field.problem("required field is missing")
        ok = False
    elif isinstance(peers_field.value, list) and not 1 <= len(peers_field.value) <= MAX_ITEMS:
        peers_field.problem(f"{peers_key} must hold 1-{MAX_ITEMS} peers, got {len(peers_field.value)}")
        ok = False
    peers = [
        _read_peer(item, egress=egress, domain_names=domain_names, inventory=inventory)
        for item in peers_field.items()
    ]
    groups = _read_ports(field["ports"])
    if groups is not MISSING and any(protocol is None and ports for protocol, ports in groups):
        for index, item in enumerate(peers_field.items()):
            if isinstance(item.value, dict) and any(k in item.value for k in ("networks", "nodes", "domainNames")):
                item.problem("networks/nodes/domainNames peers cannot be used with namedPort ports: "
                             "only pods have named ports")
                ok = False
    if not ok or action_text is MISSING or groups is MISSING or MISSING in peers:
        return MISSING
    action = Action(action_text)
    if UNSUPPORTED in peers and action is not Action.ALLOW:
        return [Rule(Action.DENY, name=name)]
    matches = [p for p in peers if isinstance(p, EntityMatch)]
    rules = []
    for protocol, ports in groups:
        for peer in matches:
            if egress:
                rules.append(Rule(action, protocol=protocol, destination=attrs.evolve(peer, ports=ports), name=name))
            else:
                rules.append(Rule(action, protocol=protocol, source=peer, destination=EntityMatch(ports=ports),
                                  name=name))
    return rules


def _convert_rules(field: Field, **kwargs: Any) -> list[Rule] | Any:
    if isinstance(field.value, list) and len(field.value) > MAX_ITEMS:
        field.problem(f"at most {MAX_ITEMS} rules allowed, got {len(field.value)}")
        return MISSING
    return field.convert_each(lambda item: _convert_rule(item, **kwargs), flatten=True)


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
    selector = _subject_selector(spec["subject"])
    actions = ("Allow", "Deny") if baseline else ("Allow", "Deny", "Pass")
    ingress = _convert_rules(spec["ingress"], egress=False, actions=actions, domain_names=False, inventory=inventory)
    egress = _convert_rules(spec["egress"], egress=True, actions=actions, domain_names=not baseline,
                            inventory=inventory)
    if MISSING in (order, selector, ingress, egress):
        return None
    both = not ingress and not egress
    return Policy(
        ref=PolicyRef("BaselineAdminNetworkPolicy" if baseline else "AdminNetworkPolicy", None, meta.name),
        tier=BANP_TIER if baseline else ANP_TIER,
        order=float(order),
        selector=selector,
        ingress=tuple(ingress) if ingress or both else None,
        egress=tuple(egress) if egress or both else None,
        origin=meta.origin,
    )


def convert_admin_network_policy(root: Field, meta: Meta, inventory: Inventory) -> Iterable[object]:
    """AdminNetworkPolicy → a global policy in tier ``adminnetworkpolicy``."""
    policy = _policy(root, meta, inventory, baseline=False)
    return [policy] if policy is not None else []


def convert_baseline_admin_network_policy(root: Field, meta: Meta, inventory: Inventory) -> Iterable[object]:
    """BaselineAdminNetworkPolicy → a global policy in tier ``baselineadminnetworkpolicy``."""
    policy = _policy(root, meta, inventory, baseline=True)
    return [policy] if policy is not None else []
