"""Kubernetes NetworkPolicy (``networking.k8s.io/v1``) and Calico's
StagedKubernetesNetworkPolicy, converted as Calico does (calico-semantics §D).

* The policy lands in tier ``default`` at order 1000 with kind
  ``KubernetesNetworkPolicy`` (``StagedKubernetesNetworkPolicy`` for the staged form).
* Its selector is ``projectcalico.org/orchestrator == 'k8s'`` and the podSelector's
  terms, restricted to the policy's namespace.
* ``policyTypes`` is defaulted the way the Kubernetes API server does it: when empty,
  ``Ingress``, plus ``Egress`` when there are egress rules.
* Every rule becomes one Allow rule per (protocol × peer): protocols sorted (no
  protocol, SCTP, TCP, UDP), then peers in order. Numeric ports of one protocol are
  merged into minimal ranges; a named port is matched with the port entry's protocol.
* Validation follows the Kubernetes API server: label selectors, peers (ipBlock alone;
  ``except`` a strict subset of ``cidr``), ports (protocol TCP/UDP/SCTP, 1-65535 or an
  IANA service name, ``endPort`` only with a numeric ``port`` and not below it).
"""

from __future__ import annotations

from typing import Any, Iterable

import attrs

from ..model import (
    PROTOCOL_NUMBERS,
    Action,
    EntityMatch,
    IPNetwork,
    NamedPort,
    Policy,
    PolicyRef,
    PortRange,
    Rule,
    RulePort,
)
from ._fields import MISSING, Field
from .k8s import check_dns_subdomain, is_port_name, label_selector_terms, read_cidr, read_port_number
from .registry import Inventory, Meta
from .rules import NAMESPACE_LABEL, entity_selectors, parse_text

__all__ = [
    "ORCHESTRATOR_TERM",
    "K8S_POLICY_ORDER",
    "convert_network_policy",
    "convert_staged_network_policy",
    "merge_ports",
    "namespace_selector_text",
    "pod_selector_text",
]

ORCHESTRATOR_TERM = "projectcalico.org/orchestrator == 'k8s'"
K8S_POLICY_ORDER = 1000.0
_PROTOCOLS = ("TCP", "UDP", "SCTP")
_STAGED_ACTIONS = ("Set", "Delete", "Learn", "Ignore")


def pod_selector_text(field: Field) -> str | Any:
    """A pod LabelSelector as Calico selector text: the orchestrator term, then the
    selector's terms."""
    terms = label_selector_terms(field)
    if terms is MISSING:
        return MISSING
    return " && ".join([ORCHESTRATOR_TERM, *terms])


def namespace_selector_text(field: Field) -> str | Any:
    """A namespace LabelSelector as Calico selector text; empty selects every
    namespace (``all()``)."""
    terms = label_selector_terms(field)
    if terms is MISSING:
        return MISSING
    return " && ".join(terms) or "all()"


def merge_ports(ports: Iterable[RulePort]) -> tuple[RulePort, ...]:
    """Numeric ports merged into minimal sorted ranges, then the named ports in order."""
    ports = list(ports)
    ranges = sorted((p for p in ports if isinstance(p, PortRange)), key=lambda p: (p.first, p.last))
    merged: list[PortRange] = []
    for port in ranges:
        if merged and port.first <= merged[-1].last + 1:
            last = merged[-1]
            merged[-1] = PortRange(last.first, max(last.last, port.last))
        else:
            merged.append(port)
    names: list[RulePort] = []
    for entry in ports:
        if isinstance(entry, NamedPort) and entry not in names:
            names.append(entry)
    return (*merged, *names)


def _read_port(field: Field) -> tuple[str, RulePort | None] | Any:
    """One NetworkPolicyPort: (protocol name, port or None for every port)."""
    body = field.mapping(required=True, known=("protocol", "port", "endPort"))
    if body is MISSING:
        return MISSING
    protocol = field["protocol"].string(default="TCP")
    if protocol is not MISSING and protocol not in _PROTOCOLS:
        field["protocol"].problem(f"protocol {protocol!r} is not supported: must be TCP, UDP or SCTP")
        protocol = MISSING
    port_field, end_field = field["port"], field["endPort"]
    port: Any = None
    if port_field.present:
        value = port_field.value
        if isinstance(value, str):
            port = NamedPort(value) if is_port_name(value) else port_field.problem(
                f"port {value!r} must be a number or an IANA service name (1-15 lower case "
                "alphanumerics or '-', with at least one letter)")
        else:
            number = read_port_number(port_field)
            port = MISSING if number is MISSING else PortRange(number, number)
    if end_field.present:
        end = read_port_number(end_field)
        if not port_field.present:
            end_field.problem("may not be specified when `port` is not specified")
            end = MISSING
        elif isinstance(port, NamedPort):
            end_field.problem("may not be specified when `port` is non-numeric")
            end = MISSING
        elif isinstance(port, PortRange) and end is not MISSING:
            if end < port.first:
                end_field.problem(f"endPort {end} must be greater than or equal to `port` {port.first}")
                end = MISSING
            else:
                port = PortRange(port.first, end)
        if end is MISSING:
            port = MISSING
    if protocol is MISSING or port is MISSING:
        return MISSING
    return protocol, port


def _read_ports(field: Field) -> list[tuple[int | None, tuple[RulePort, ...]]] | Any:
    """The ``ports`` of a rule grouped by protocol, sorted like Calico sorts them."""
    groups: dict[str, list[RulePort] | None] = {}
    ok = True
    for item in field.items():
        entry = _read_port(item)
        if entry is MISSING:
            ok = False
            continue
        protocol, port = entry
        if port is None:
            groups[protocol] = None  # every port of this protocol
        elif protocol not in groups:
            groups[protocol] = [port]
        elif groups[protocol] is not None:
            groups[protocol].append(port)  # type: ignore[union-attr]
    if not ok:
        return MISSING
    if not groups:
        return [(None, ())]
    return [
        (PROTOCOL_NUMBERS[name], merge_ports(ports) if ports is not None else ())
        for name, ports in sorted(groups.items())
    ]


def _read_ip_block(field: Field) -> EntityMatch | Any:
    body = field.mapping(known=("cidr", "except"))
    if body is MISSING:
        return MISSING
    cidr = read_cidr(field["cidr"])
    excepts: list[IPNetwork] = []
    ok = cidr is not MISSING
    for item in field["except"].items():
        net = read_cidr(item)
        if net is MISSING:
            ok = False
        elif cidr is not MISSING and (
            net.version != cidr.version or not net.subnet_of(cidr) or net.prefixlen <= cidr.prefixlen  # type: ignore[arg-type]
        ):
            item.problem(f"{item.value!r} must be a strict subset of `cidr` {field['cidr'].value!r}")
            ok = False
        else:
            excepts.append(net)
    if not ok:
        return MISSING
    return EntityMatch(nets=(cidr,), not_nets=tuple(excepts))


def _read_peer(field: Field, namespace: str) -> EntityMatch | Any:
    body = field.mapping(required=True, known=("podSelector", "namespaceSelector", "ipBlock"))
    if body is MISSING:
        return MISSING
    given = [k for k in ("podSelector", "namespaceSelector", "ipBlock") if field[k].present]
    if not given:
        return field.problem("must specify a peer: podSelector, namespaceSelector or ipBlock")
    if "ipBlock" in given:
        if len(given) > 1:
            return field.problem("may not specify both ipBlock and another peer")
        return _read_ip_block(field["ipBlock"])
    pod_text = pod_selector_text(field["podSelector"]) if field["podSelector"].present else ORCHESTRATOR_TERM
    ns_text: Any = None
    if field["namespaceSelector"].present:
        ns_text = namespace_selector_text(field["namespaceSelector"])
    if pod_text is MISSING or ns_text is MISSING:
        return MISSING
    pod_sel = parse_text(field, pod_text)
    ns_sel = parse_text(field, ns_text) if ns_text is not None else None
    if pod_sel is MISSING or ns_sel is MISSING:
        return MISSING
    selectors = entity_selectors(
        field,
        namespace=namespace,
        selector=(pod_text, pod_sel),
        not_selector=None,
        namespace_selector=(ns_text, ns_sel) if ns_sel is not None else None,
        sa_part=None,
    )
    if selectors is MISSING:
        return MISSING
    return EntityMatch(selector=selectors[0])


def _convert_rule(field: Field, namespace: str, ingress: bool) -> list[Rule] | Any:
    peers_key = "from" if ingress else "to"
    body = field.mapping(required=True, known=(peers_key, "ports"))
    if body is MISSING:
        return MISSING
    peers: list[EntityMatch] = []
    ok = True
    for item in field[peers_key].items():
        peer = _read_peer(item, namespace)
        if peer is MISSING:
            ok = False
        else:
            peers.append(peer)
    groups = _read_ports(field["ports"])
    if not ok or groups is MISSING:
        return MISSING
    if not peers:
        peers = [EntityMatch()]
    rules = []
    for protocol, ports in groups:
        for peer in peers:
            if ingress:
                rules.append(Rule(Action.ALLOW, protocol=protocol, source=peer, destination=EntityMatch(ports=ports)))
            else:
                rules.append(Rule(Action.ALLOW, protocol=protocol, destination=attrs.evolve(peer, ports=ports)))
    return rules


def _convert_rules(field: Field, namespace: str, ingress: bool) -> tuple[Rule, ...] | Any:
    rules = field.convert_each(lambda item: _convert_rule(item, namespace, ingress), flatten=True)
    return MISSING if rules is MISSING else tuple(rules)


def _policy(root: Field, meta: Meta, *, kind: str, staged: bool) -> Policy | None:
    check_dns_subdomain(root["metadata"]["name"], meta.name)
    namespace = meta.namespace or "default"
    spec = root["spec"]
    known = ("podSelector", "policyTypes", "ingress", "egress") + (("stagedAction",) if staged else ())
    body = spec.mapping(known=known)
    if body is MISSING:
        return None
    if staged:
        action = spec["stagedAction"].choice(_STAGED_ACTIONS, default="Set")
        if action == "Delete":
            for key in ("podSelector", "policyTypes", "ingress", "egress"):
                if spec[key].present and spec[key].value not in ({}, []):
                    spec[key].problem("spec fields must all be empty when stagedAction is Delete")
            return None
        if action is MISSING:
            return None

    selector_text = pod_selector_text(spec["podSelector"])
    types: list[str] = []
    for item in spec["policyTypes"].items():
        value = item.choice(("Ingress", "Egress"), required=True)
        if value is not MISSING:
            types.append(value)
    if isinstance(spec["policyTypes"].value, list) and len(spec["policyTypes"].value) > 2:
        spec["policyTypes"].problem("may not specify more than two policyTypes")
    ingress = _convert_rules(spec["ingress"], namespace, True)
    egress = _convert_rules(spec["egress"], namespace, False)
    if not types:
        types = ["Ingress"]
        if isinstance(spec["egress"].value, list) and spec["egress"].value:
            types.append("Egress")
    if MISSING in (selector_text, ingress, egress):
        return None
    selector = parse_text(spec["podSelector"], f"({selector_text}) && {NAMESPACE_LABEL} == '{namespace}'")
    if selector is MISSING:
        return None
    return Policy(
        ref=PolicyRef(kind, namespace, meta.name),
        tier="default",
        order=K8S_POLICY_ORDER,
        selector=selector,
        ingress=ingress if "Ingress" in types else None,
        egress=egress if "Egress" in types else None,
        staged=staged,
        origin=meta.origin,
    )


def convert_network_policy(root: Field, meta: Meta, inventory: Inventory) -> Iterable[object]:
    """``networking.k8s.io/v1`` NetworkPolicy → a ``KubernetesNetworkPolicy``."""
    policy = _policy(root, meta, kind="KubernetesNetworkPolicy", staged=False)
    return [policy] if policy is not None else []


def convert_staged_network_policy(root: Field, meta: Meta, inventory: Inventory) -> Iterable[object]:
    """``projectcalico.org/v3`` StagedKubernetesNetworkPolicy → a staged policy
    (nothing when its stagedAction is Delete)."""
    policy = _policy(root, meta, kind="StagedKubernetesNetworkPolicy", staged=True)
    return [policy] if policy is not None else []
