"""What the cluster-wide Kubernetes policy kinds share: AdminNetworkPolicy and
BaselineAdminNetworkPolicy (``policy.networking.k8s.io/v1alpha1``, :mod:`.anp`) and
ClusterNetworkPolicy (``v1alpha2``, :mod:`.cnp`).

Both name the pods a policy applies to with a ``subject`` (``namespaces`` or ``pods``),
and the other side of a rule with a list of peers of one kind each: ``namespaces``,
``pods``, and for egress ``networks``, ``nodes`` and ``domainNames``. Calico converts
either into a global policy whose rules are one Calico rule per (protocol × peer)
(calico-semantics §E).

A peer reads as an :class:`~netpolicy.model.EntityMatch`, or as one of three markers:

* :data:`NO_MATCH`: the peer matches no traffic (a ``nodes`` selector no Node matches);
* :data:`UNSUPPORTED`: netpolicy cannot evaluate the peer (``domainNames``, or fields of
  another API version). Upstream asks to fail closed: such a peer matches nothing in an
  Allow rule, and a Deny or Pass rule holding one denies all traffic;
* :data:`FAILED`: Calico cannot convert the peer, so it drops the whole rule; a Deny
  or Pass rule becomes a bare Deny (only when reproducing Calico's conversion).
"""

from __future__ import annotations

import ipaddress
from typing import Any, Callable, Sequence

import attrs

from ..model import Action, EntityMatch, Policy, PolicyRef, Rule, RulePort
from ..selector import Selector
from ._fields import MISSING, Field
from .k8s import label_selector_matches, label_selector_terms, read_cidr
from .knp import ORCHESTRATOR_TERM, namespace_selector_text, pod_selector_text
from .registry import Inventory, Meta
from .rules import NAMESPACE_LABEL, entity_selectors, parse_text

__all__ = [
    "NO_MATCH",
    "UNSUPPORTED",
    "FAILED",
    "MAX_NETWORKS",
    "PortGroups",
    "subject_selector",
    "read_peer",
    "read_rule_name",
    "check_peer_count",
    "check_named_ports",
    "expand_rule",
    "convert_rule_list",
    "admin_policy",
]

MAX_NETWORKS = 25

#: A rule's ports grouped by protocol (None: no protocol), in Calico's order.
PortGroups = list[tuple[int | None, tuple[RulePort, ...]]]


class _Marker:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


NO_MATCH: Any = _Marker("NO_MATCH")
UNSUPPORTED: Any = _Marker("UNSUPPORTED")
FAILED: Any = _Marker("FAILED")
_SELECTOR_KEYS = frozenset({"matchLabels", "matchExpressions"})
_POD_KEYS = frozenset({"namespaceSelector", "podSelector"})
_ADDRESS_PEERS = ("networks", "nodes", "domainNames")


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


def _pods_texts(field: Field) -> tuple[str, str] | Any:
    """A ``pods`` subject or peer (``podSelector`` required) as (pod, namespace)
    selector texts."""
    if field.mapping(required=True, known=_POD_KEYS) is MISSING:
        return MISSING
    if not field["podSelector"].present:
        return field["podSelector"].problem("required field is missing")
    pod_text = pod_selector_text(field["podSelector"])
    ns_text = namespace_selector_text(field["namespaceSelector"])
    return MISSING if pod_text is MISSING or ns_text is MISSING else (pod_text, ns_text)


def subject_selector(field: Field) -> Selector | Any:
    """The policy selector for ``spec.subject``, built as Calico builds a global
    policy's selector from ``selector`` and ``namespaceSelector`` (§A.7). A
    ``namespaces`` subject selects only pods (never host endpoints)."""
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
        ns_text = namespace_selector_text(field["namespaces"])
        texts: Any = MISSING if ns_text is MISSING else (ORCHESTRATOR_TERM, ns_text)
    else:
        texts = _pods_texts(field["pods"])
    if texts is MISSING:
        return MISSING
    ns_sel = parse_text(field, texts[1])
    if ns_sel is MISSING:
        return MISSING
    text = f"({texts[0]}) && {ns_sel.prefixed('pcns.')}".replace("all()", f"has({NAMESPACE_LABEL})")
    return parse_text(field, text)


def _pod_peer(field: Field, pod_text: str | None, ns_text: str) -> EntityMatch | Any:
    """A rule side selecting ``pod_text`` endpoints (any endpoint when None) in the
    namespaces ``ns_text`` selects."""
    pod: tuple[str, Selector] | None = None
    if pod_text is not None:
        pod_sel = parse_text(field, pod_text)
        if pod_sel is MISSING:
            return MISSING
        pod = (pod_text, pod_sel)
    ns_sel = parse_text(field, ns_text)
    if ns_sel is MISSING:
        return MISSING
    selectors = entity_selectors(field, namespace=None, selector=pod, not_selector=None,
                                 namespace_selector=(ns_text, ns_sel), sa_part=None)
    return MISSING if selectors is MISSING else EntityMatch(selector=selectors[0])


def _node_peer(sub: Field, inventory: Inventory) -> EntityMatch | Any:
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


def _networks_peer(sub: Field) -> EntityMatch | Any:
    items = sub.value if isinstance(sub.value, list) else None
    if items is not None and not 1 <= len(items) <= MAX_NETWORKS:
        return sub.problem(f"networks must hold 1-{MAX_NETWORKS} CIDRs, got {len(items)}")
    nets = []
    ok = isinstance(sub.value, list)
    for item in sub.items(required=True):
        net = read_cidr(item)
        if net is MISSING:
            ok = False
        elif net not in nets:
            nets.append(net)
    return EntityMatch(nets=tuple(nets)) if ok else MISSING


def read_peer(field: Field, kinds: Sequence[str], inventory: Inventory, *, accept: str = "Allow",
              exact: bool = False) -> Any:
    """One peer: an EntityMatch or a marker (see the module docstring); MISSING after a
    problem. ``accept`` names the kind's accepting action (for warnings); ``exact``
    converts as Calico does (``namespaces`` peers match every endpoint in those
    namespaces; ``nodes`` and ``domainNames`` peers fail the rule)."""
    body = field.mapping(required=True, known=kinds)
    if body is MISSING:
        return MISSING
    given = [k for k in kinds if k in body]
    fail_closed = (f"treated as matching no traffic for {accept} rules and as Deny-all for Deny and Pass rules"
                   if not exact else "Calico drops the rule (a Deny or Pass rule becomes Deny-all)")
    if not given:
        if body:
            field.warn(f"peer has no field netpolicy knows; {fail_closed}")
            return FAILED if exact else UNSUPPORTED
        return field.problem(f"exactly one of {', '.join(kinds)} must be set")
    if len(given) > 1:
        return field.problem(f"exactly one of {', '.join(kinds)} must be set, got {', '.join(given)}")
    kind = given[0]
    sub = field[kind]
    if kind in ("namespaces", "pods", "nodes") and _unknown_keys(body[kind], pods=kind == "pods"):
        sub.warn(f"peer holds fields this API version does not have (for example sameLabels); {fail_closed}")
        return FAILED if exact else UNSUPPORTED
    if kind == "namespaces":
        ns_text = namespace_selector_text(sub)
        return MISSING if ns_text is MISSING else _pod_peer(field, None if exact else ORCHESTRATOR_TERM, ns_text)
    if kind == "pods":
        texts = _pods_texts(sub)
        return MISSING if texts is MISSING else _pod_peer(field, *texts)
    if kind == "networks":
        return _networks_peer(sub)
    if kind == "nodes":
        if exact:
            return FAILED if label_selector_terms(sub) is not MISSING else MISSING
        return _node_peer(sub, inventory)
    ok = True  # domainNames: checked by the kind's reader, never resolved
    for item in sub.items(required=True):
        ok = item.string(required=True) is not MISSING and ok
    if not ok:
        return MISSING
    if exact:
        return FAILED
    sub.warn(f"domainNames peers are not resolved: the peer matches no traffic in an {accept} rule "
             "and makes a Deny or Pass rule deny all traffic")
    return UNSUPPORTED


def read_rule_name(field: Field) -> str | None | Any:
    """A rule's optional ``name`` (at most 100 characters)."""
    name = field.string()
    if isinstance(name, str) and len(name) > 100:
        return field.problem(f"rule name is {len(name)} characters long, at most 100 allowed")
    return name


def check_peer_count(field: Field, key: str, limit: int) -> bool:
    """``from``/``to``: required, 1 to ``limit`` peers."""
    if not field.present:
        field.problem("required field is missing")
        return False
    if isinstance(field.value, list) and not 1 <= len(field.value) <= limit:
        field.problem(f"{key} must hold 1-{limit} peers, got {len(field.value)}")
        return False
    return True


def check_named_ports(peers: Field, ports: Field, key: str) -> bool:
    """The CRD's rule that no ``ports``/``protocols`` entry sets ``key`` (the named
    port) in a rule with a networks, nodes or domainNames peer."""
    entries = ports.value if isinstance(ports.value, list) else []
    if not any(isinstance(item, dict) and item.get(key) is not None for item in entries):
        return True
    ok = True
    for item in peers.items():
        if isinstance(item.value, dict) and any(k in item.value for k in _ADDRESS_PEERS):
            item.problem(f"networks/nodes/domainNames peers cannot be used with {key} ports: "
                         "only pods have named ports")
            ok = False
    return ok


def expand_rule(action: Action, groups: PortGroups, peers: Sequence[Any], *, egress: bool, name: str | None,
                from_rule: str) -> list[Rule]:
    """A rule as Calico rules: one per (protocol × peer), protocols first. A FAILED peer
    drops the rule (a Deny or Pass rule becomes a bare Deny); an UNSUPPORTED one does
    the same to a Deny or Pass rule and matches nothing in an Allow rule."""
    failed = FAILED in peers or (UNSUPPORTED in peers and action is not Action.ALLOW)
    if failed:
        return [] if action is Action.ALLOW else [Rule(Action.DENY, name=name, from_rule=from_rule)]
    matches = [p for p in peers if isinstance(p, EntityMatch)]
    rules = []
    for protocol, ports in groups:
        for peer in matches:
            if egress:
                rules.append(Rule(action, protocol=protocol, destination=attrs.evolve(peer, ports=ports), name=name,
                                  from_rule=from_rule))
            else:
                rules.append(Rule(action, protocol=protocol, source=peer, destination=EntityMatch(ports=ports),
                                  name=name, from_rule=from_rule))
    return rules


def convert_rule_list(field: Field, limit: int, convert: Callable[[Field], list[Rule] | Any]) -> list[Rule] | Any:
    """``ingress``/``egress``: at most ``limit`` rules, each converted by ``convert``
    into Calico rules, joined."""
    if isinstance(field.value, list) and len(field.value) > limit:
        return field.problem(f"at most {limit} rules allowed, got {len(field.value)}")
    return field.convert_each(convert, flatten=True)


def admin_policy(kind: str, meta: Meta, tier: str, order: float, selector: Selector, ingress: Sequence[Rule],
                 egress: Sequence[Rule]) -> Policy:
    """The global policy: a direction is in its types when it has rules; with none at
    all, both are (Felix's fallback for empty types)."""
    both = not ingress and not egress
    return Policy(
        ref=PolicyRef(kind, None, meta.name),
        tier=tier,
        order=order,
        selector=selector,
        ingress=tuple(ingress) if ingress or both else None,
        egress=tuple(egress) if egress or both else None,
        origin=meta.origin,
    )
