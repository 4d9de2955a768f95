"""Policy manifests: Calico Tiers, (Staged)(Global)NetworkPolicies and Profiles,
Kubernetes NetworkPolicies, AdminNetworkPolicies and the BaselineAdminNetworkPolicy."""

from __future__ import annotations

from typing import Any, Sequence

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from ._labels import _label_selector, _ns_label_selector, _vocab_labels
from ._rules import _calico_rule, _rule_lists, _RuleContext
from ._selectors import _vocab_selector
from ._vocabulary import _CALICO, _CIDRS_V4, _CIDRS_V6, Manifest, Vocabulary, _api, _check_size, _check_vocab

__all__ = [
    "tiers",
    "calico_network_policies",
    "global_network_policies",
    "profiles",
    "kubernetes_network_policies",
    "admin_network_policies",
    "baseline_admin_network_policies",
]

_ANP_API = "policy.networking.k8s.io/v1alpha1"
# (cidr, possible excepts) for Kubernetes ipBlocks
_IP_BLOCKS = (
    ("10.0.0.0/24", ("10.0.0.0/30", "10.0.0.2/32")),
    ("0.0.0.0/0", ("10.0.0.0/8", "192.168.0.0/24")),
    ("192.168.0.0/16", ("192.168.0.0/24",)),
    ("fd00::/64", ("fd00::/126",)),
    ("::/0", ("fd00::/64",)),
    ("10.0.0.1/24", ()),  # legacy non-canonical CIDR: masked when read
)
_RESERVED_TIERS = frozenset({"default", "kube-admin", "kube-baseline", "adminnetworkpolicy", "baselineadminnetworkpolicy"})


# -- Calico tiers -------------------------------------------------------------------------


@st.composite
def _tier(draw: st.DrawFn, name: str, crd_forms: bool = False) -> Manifest:
    spec: dict[str, Any] = {}
    order = draw(st.sampled_from((100, 2000, None, 1000, 500.5, 2e7)))
    if order is not None:
        spec["order"] = order
    action = draw(st.sampled_from(("Pass", "Deny", None)))
    if action:
        spec["defaultAction"] = action
    return {"apiVersion": _api(draw, crd_forms), "kind": "Tier", "metadata": {"name": name}, "spec": spec}


def tiers(*, name: str = "t1") -> st.SearchStrategy[Manifest]:
    """Calico Tiers: an order (or none) and a defaultAction (Deny, Pass or absent)."""
    if name in _RESERVED_TIERS:
        raise InvalidArgument(f"tier {name!r} is built in")
    return _tier(name)


# -- Calico policies ----------------------------------------------------------------------


@st.composite
def _calico_policy(draw: st.DrawFn, vocab: Vocabulary, kind: str, name: str, tiers: Sequence[str], max_rules: int, crd_forms: bool = False) -> Manifest:
    namespaced = kind in ("NetworkPolicy", "StagedNetworkPolicy")
    meta: dict[str, Any] = {"name": name}
    if namespaced:
        meta["namespace"] = draw(st.sampled_from(vocab.namespaces))
    spec: dict[str, Any] = {}
    tier = draw(st.sampled_from(("default",) + tuple(tiers)))
    if tier != "default" or draw(st.booleans()):
        spec["tier"] = tier
    order = draw(st.sampled_from((None, 100, 1000, 10, 1000.5, 2000)))
    if order is not None:
        spec["order"] = order
    if draw(st.booleans()):
        spec["selector"] = _vocab_selector(draw, vocab)
    if not namespaced and draw(st.integers(0, 3)) == 0:
        keys = vocab.label_keys + ("kubernetes.io/metadata.name",)
        spec["namespaceSelector"] = _vocab_selector(draw, vocab, 2, keys, vocab.selector_values + vocab.namespaces)
    if draw(st.integers(0, 4)) == 0:
        spec["serviceAccountSelector"] = _vocab_selector(draw, vocab, 2)
    ctx_in = _RuleContext(vocab, "ingress", namespaced)
    ctx_out = _RuleContext(vocab, "egress", namespaced)
    draw(_rule_lists(ctx_in, ctx_out, max_rules, spec))
    if kind.startswith("Staged"):
        if draw(st.booleans()):
            spec["stagedAction"] = "Set"
    return {"apiVersion": _api(draw, crd_forms), "kind": kind, "metadata": meta, "spec": spec}


def calico_network_policies(vocab: Vocabulary | None = None, *, name: str = "cnp0", tiers: Sequence[str] = (), max_rules: int = 3, staged: bool = False) -> st.SearchStrategy[Manifest]:
    """Calico (Staged)NetworkPolicies: tier (``default`` or one of ``tiers``), order,
    selector, serviceAccountSelector, types and rules with every action and field."""
    _check_size("max_rules", max_rules, 0, 50)
    return _calico_policy(_check_vocab(vocab), "StagedNetworkPolicy" if staged else "NetworkPolicy", name, tuple(tiers), max_rules)


def global_network_policies(vocab: Vocabulary | None = None, *, name: str = "gnp0", tiers: Sequence[str] = (), max_rules: int = 3, staged: bool = False) -> st.SearchStrategy[Manifest]:
    """Calico (Staged)GlobalNetworkPolicies, as :func:`calico_network_policies` plus
    namespaceSelector."""
    _check_size("max_rules", max_rules, 0, 50)
    return _calico_policy(_check_vocab(vocab), "StagedGlobalNetworkPolicy" if staged else "GlobalNetworkPolicy", name, tuple(tiers), max_rules)


@st.composite
def _profile(draw: st.DrawFn, vocab: Vocabulary, name: str, max_rules: int, crd_forms: bool = False) -> Manifest:
    spec: dict[str, Any] = {}
    actions = ("Deny", "Allow", "Log")  # Pass in a profile differs between dataplanes (iptables, eBPF)
    for direction in ("ingress", "egress"):
        rules = draw(st.lists(_calico_rule(_RuleContext(vocab, direction, False, actions, profile=True)), min_size=min(1, max_rules), max_size=max_rules))
        if rules:
            spec[direction] = rules
    labels = draw(_vocab_labels(vocab, 2))
    if labels:
        spec["labelsToApply"] = labels
    return {"apiVersion": _api(draw, crd_forms), "kind": "Profile", "metadata": {"name": name}, "spec": spec}


def profiles(vocab: Vocabulary | None = None, *, name: str = "prof0", max_rules: int = 2) -> st.SearchStrategy[Manifest]:
    """Calico Profiles: labelsToApply and Allow/Deny/Log rules."""
    _check_size("max_rules", max_rules, 0, 50)
    return _profile(_check_vocab(vocab), name, max_rules)


# -- Kubernetes NetworkPolicy -------------------------------------------------------------


@st.composite
def _k8s_peer(draw: st.DrawFn, vocab: Vocabulary) -> dict[str, Any]:
    choice = draw(st.sampled_from(("pod", "namespace", "both", "ipBlock")))
    if choice == "ipBlock":
        blocks = [b for b in _IP_BLOCKS if vocab.ipv6 or ":" not in b[0]]
        cidr, excepts = draw(st.sampled_from(blocks))
        block: dict[str, Any] = {"cidr": cidr}
        chosen = draw(st.lists(st.sampled_from(excepts), max_size=len(excepts), unique=True)) if excepts else []
        if chosen:
            block["except"] = chosen
        return {"ipBlock": block}
    peer: dict[str, Any] = {}
    if choice in ("pod", "both"):
        peer["podSelector"] = draw(_label_selector(vocab.label_keys, vocab.label_values))
    if choice in ("namespace", "both"):
        peer["namespaceSelector"] = draw(_ns_label_selector(vocab))
    return peer


@st.composite
def _k8s_port(draw: st.DrawFn, vocab: Vocabulary) -> dict[str, Any]:
    port: dict[str, Any] = {}
    protocol = draw(st.sampled_from((None, "TCP", "UDP", "SCTP")))
    if protocol:
        port["protocol"] = protocol
    kind = draw(st.sampled_from(("number", "name", "range", "none")))
    if kind == "number":
        port["port"] = draw(st.sampled_from(vocab.ports))
    elif kind == "name":
        port["port"] = draw(st.sampled_from(vocab.port_names))
    elif kind == "range":
        start = draw(st.sampled_from(vocab.ports))
        port["port"] = start
        port["endPort"] = min(65535, start + draw(st.sampled_from((0, 1, 1000))))
    return port


@st.composite
def _k8s_rule(draw: st.DrawFn, vocab: Vocabulary, peers_field: str) -> dict[str, Any]:
    rule: dict[str, Any] = {}
    shape = draw(st.sampled_from(("peers", "absent", "empty")))
    if shape == "peers":
        rule[peers_field] = draw(st.lists(_k8s_peer(vocab), min_size=1, max_size=3))
    elif shape == "empty":
        rule[peers_field] = []
    if draw(st.booleans()):
        rule["ports"] = draw(st.lists(_k8s_port(vocab), max_size=2))
    return rule


@st.composite
def _k8s_policy_spec(draw: st.DrawFn, vocab: Vocabulary, max_rules: int) -> dict[str, Any]:
    spec: dict[str, Any] = {"podSelector": draw(_label_selector(vocab.label_keys, vocab.label_values))}
    types = draw(st.sampled_from((("Ingress",), ("Egress",), ("Ingress", "Egress"), None)))
    if types is not None:
        spec["policyTypes"] = list(types)
    counted = [t.lower() for t in (types or ("Ingress",))]
    for direction, peers in (("ingress", "from"), ("egress", "to")):
        if direction in counted and draw(st.integers(0, 4)):
            spec[direction] = draw(st.lists(_k8s_rule(vocab, peers), min_size=min(1, max_rules), max_size=max_rules))
        elif draw(st.booleans()):
            spec[direction] = draw(st.lists(_k8s_rule(vocab, peers), max_size=max_rules))
    return spec


@st.composite
def _k8s_policy(draw: st.DrawFn, vocab: Vocabulary, name: str, max_rules: int, staged: bool = False) -> Manifest:
    meta = {"name": name, "namespace": draw(st.sampled_from(vocab.namespaces))}
    spec = draw(_k8s_policy_spec(vocab, max_rules))
    if staged:
        if draw(st.booleans()):
            spec["stagedAction"] = "Set"
        return {"apiVersion": _CALICO, "kind": "StagedKubernetesNetworkPolicy", "metadata": meta, "spec": spec}
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": meta, "spec": spec}


def kubernetes_network_policies(vocab: Vocabulary | None = None, *, name: str = "np0", max_rules: int = 3, staged: bool = False) -> st.SearchStrategy[Manifest]:
    """``networking.k8s.io/v1`` NetworkPolicies (or StagedKubernetesNetworkPolicies):
    podSelector with matchLabels/matchExpressions, policyTypes (or none), rules with
    absent, empty or listed peers (podSelector, namespaceSelector, both, ipBlock with
    except) and ports (protocol, number, name, endPort)."""
    _check_size("max_rules", max_rules, 0, 50)
    return _k8s_policy(_check_vocab(vocab), name, max_rules, staged)


# -- AdminNetworkPolicy / BaselineAdminNetworkPolicy --------------------------------------


@st.composite
def _anp_subject(draw: st.DrawFn, vocab: Vocabulary) -> dict[str, Any]:
    if draw(st.booleans()):
        return {"namespaces": draw(_ns_label_selector(vocab))}
    return {"pods": {"namespaceSelector": draw(_ns_label_selector(vocab)), "podSelector": draw(_label_selector(vocab.label_keys, vocab.label_values))}}


@st.composite
def _anp_peer(draw: st.DrawFn, vocab: Vocabulary, egress: bool) -> dict[str, Any]:
    choice = draw(st.sampled_from(("namespaces", "pods", "networks") if egress else ("namespaces", "pods")))
    if choice == "networks":
        pool = _CIDRS_V4 + (_CIDRS_V6 if vocab.ipv6 else ())
        return {"networks": draw(st.lists(st.sampled_from(pool), min_size=1, max_size=2, unique=True))}
    return draw(_anp_subject(vocab).filter(lambda s: choice in s))


@st.composite
def _anp_port(draw: st.DrawFn, vocab: Vocabulary) -> dict[str, Any]:
    kind = draw(st.sampled_from(("portNumber", "portRange", "namedPort")))
    protocol = draw(st.sampled_from(("TCP", "UDP", "SCTP")))
    if kind == "portNumber":
        return {"portNumber": {"protocol": protocol, "port": draw(st.sampled_from(vocab.ports))}}
    if kind == "portRange":
        start, width = draw(st.sampled_from(vocab.ports)), draw(st.sampled_from((1, 100)))
        start = min(start, 65535 - width)  # start must be below end
        return {"portRange": {"protocol": protocol, "start": start, "end": start + width}}
    return {"namedPort": draw(st.sampled_from(vocab.port_names))}


@st.composite
def _anp_rules(draw: st.DrawFn, vocab: Vocabulary, actions: Sequence[str], max_rules: int, spec: dict[str, Any],
               ports_key: str = "ports", port: st.SearchStrategy[dict[str, Any]] | None = None,
               named_key: str = "namedPort") -> None:
    """Rules of an admin kind: AdminNetworkPolicy's ``ports`` by default; another kind
    gives its ports field, port strategy and named-port key (ClusterNetworkPolicy)."""
    port = port if port is not None else _anp_port(vocab)
    for direction, peers in (("ingress", "from"), ("egress", "to")):
        if draw(st.booleans()):
            rules = []
            for i in range(draw(st.integers(min(1, max_rules), max_rules))):
                rule: dict[str, Any] = {"name": f"{direction[:2]}{i}", "action": draw(st.sampled_from(actions))}
                rule[peers] = draw(st.lists(_anp_peer(vocab, direction == "egress"), min_size=1, max_size=2))
                if draw(st.booleans()):
                    ports = draw(st.lists(port, min_size=1, max_size=2))
                    if any("networks" in peer for peer in rule[peers]):
                        # only pods have named ports: upstream rejects named ports next to networks peers
                        ports = [p for p in ports if named_key not in p]
                    if ports:
                        rule[ports_key] = ports
                rules.append(rule)
            spec[direction] = rules


@st.composite
def _anp(draw: st.DrawFn, vocab: Vocabulary, name: str, priority: int, max_rules: int) -> Manifest:
    spec: dict[str, Any] = {"priority": priority, "subject": draw(_anp_subject(vocab))}
    draw(_anp_rules(vocab, ("Allow", "Deny", "Pass"), max_rules, spec))
    return {"apiVersion": _ANP_API, "kind": "AdminNetworkPolicy", "metadata": {"name": name}, "spec": spec}


@st.composite
def _banp(draw: st.DrawFn, vocab: Vocabulary, max_rules: int) -> Manifest:
    spec: dict[str, Any] = {"subject": draw(_anp_subject(vocab))}
    draw(_anp_rules(vocab, ("Allow", "Deny"), max_rules, spec))
    return {"apiVersion": _ANP_API, "kind": "BaselineAdminNetworkPolicy", "metadata": {"name": "default"}, "spec": spec}


def admin_network_policies(vocab: Vocabulary | None = None, *, name: str = "anp0", priority: int | None = None, max_rules: int = 3) -> st.SearchStrategy[Manifest]:
    """AdminNetworkPolicies: priority, subject (namespaces or pods), Allow/Deny/Pass rules
    with namespaces/pods/networks peers and portNumber/portRange/namedPort ports."""
    _check_size("max_rules", max_rules, 0, 100)
    vocab = _check_vocab(vocab)
    if priority is not None:
        _check_size("priority", priority, 0, 1000)
        return _anp(vocab, name, priority, max_rules)
    return st.integers(0, 1000).flatmap(lambda p: _anp(vocab, name, p, max_rules))


def baseline_admin_network_policies(vocab: Vocabulary | None = None, *, max_rules: int = 3) -> st.SearchStrategy[Manifest]:
    """The BaselineAdminNetworkPolicy (always named ``default``): Allow/Deny rules."""
    _check_size("max_rules", max_rules, 0, 100)
    return _banp(_check_vocab(vocab), max_rules)
