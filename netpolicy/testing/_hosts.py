"""Host endpoints and Services: HostEndpoints with the layers of global policies that
apply to them only (doNotTrack, preDNAT, applyOnForward), and EndpointSlices with the
``services`` clauses of rules that name them.

:func:`manifests` draws these after everything else, so that an example without them is
drawn as before: the policies already drawn then take the host layers and the services
clauses.
"""

from __future__ import annotations

import ipaddress
from typing import Any, Iterator, Sequence

from hypothesis import strategies as st

from ._labels import _vocab_labels
from ._rules import _calico_rule, _RuleContext
from ._selectors import _vocab_selector
from ._vocabulary import Manifest, Vocabulary, _api, _check_size, _check_vocab

__all__ = ["host_endpoints", "endpoint_slices"]

# Hosts get 10.0.2.N and fd00::2:N: inside the rules' CIDRs (10.0.0.0/8, fd00::/64),
# apart from pods, hand-built endpoints and the external addresses flows use.
_HOST_V4 = ipaddress.ip_network("10.0.2.0/24")
_HOST_V6 = ipaddress.ip_network("fd00::2:0/112")
_NODES = ("node1", "node2")  # WorkloadEndpoints run on node1
_GLOBAL_KINDS = ("GlobalNetworkPolicy", "StagedGlobalNetworkPolicy")
_POLICY_KINDS = ("NetworkPolicy", "GlobalNetworkPolicy", "StagedNetworkPolicy", "StagedGlobalNetworkPolicy")
_CALICO_APIS = ("projectcalico.org/v3", "crd.projectcalico.org/v1")
_SLICE_API = "discovery.k8s.io/v1"
_SERVICE_LABEL = "kubernetes.io/service-name"


@st.composite
def _host_endpoint(draw: st.DrawFn, vocab: Vocabulary, index: int, profile_names: Sequence[str], crd_forms: bool = False) -> Manifest:
    meta: dict[str, Any] = {"name": f"hep{index}"}
    labels = draw(_vocab_labels(vocab))
    if labels:
        meta["labels"] = labels
    spec: dict[str, Any] = {"node": draw(st.sampled_from(_NODES))}
    ips = [str(_HOST_V4[index + 1])]
    if vocab.ipv6 and draw(st.booleans()):
        ips.append(str(_HOST_V6[index + 1]))
    spec["expectedIPs"] = ips
    if draw(st.booleans()):
        spec["interfaceName"] = f"eth{index}"
    if bool(profile_names) and draw(st.integers(0, 2)) > 0:
        spec["profiles"] = draw(st.lists(st.sampled_from(tuple(profile_names)), min_size=1, max_size=2, unique=True))
    ports = draw(st.lists(st.sampled_from(vocab.port_names), max_size=2, unique=True))
    if ports:
        spec["ports"] = [{"name": n, "protocol": draw(st.sampled_from(("TCP", "UDP"))), "port": draw(st.sampled_from(vocab.ports))} for n in ports]
    return {"apiVersion": _api(draw, crd_forms), "kind": "HostEndpoint", "metadata": meta, "spec": spec}


def host_endpoints(vocab: Vocabulary | None = None, *, index: int = 0, profile_names: Sequence[str] = ()) -> st.SearchStrategy[Manifest]:
    """Calico HostEndpoints: labels, a node, expected IPs (10.0.2.N and sometimes
    fd00::2:N, N = index + 1), sometimes an interface, profiles from ``profile_names``
    and named ports."""
    _check_size("index", index, 0, 250)
    return _host_endpoint(_check_vocab(vocab), index, tuple(profile_names))


def _objects(documents: list[Manifest]) -> Iterator[Manifest]:
    for doc in documents:
        if isinstance(doc.get("items"), list):
            yield from _objects(doc["items"])
        else:
            yield doc


@st.composite
def _host_layers(draw: st.DrawFn, vocab: Vocabulary, documents: list[Manifest], hosts: Sequence[Manifest]) -> list[Manifest]:
    """Some global policies of ``documents`` become untracked (doNotTrack), preDNAT
    (ingress only) or forward (applyOnForward) policies, both of the first two with
    applyOnForward; half of them lose their selector, so that they apply to the host
    endpoints too. Returns more such policies, some for each of ``hosts``."""
    for doc in _objects(documents):
        if doc.get("kind") not in _GLOBAL_KINDS or doc.get("apiVersion") not in _CALICO_APIS:
            continue
        layer = draw(st.sampled_from((None, "applyOnForward", "doNotTrack", "preDNAT")))
        if layer is not None:
            _layer(doc["spec"], layer, drop_selector=draw(st.booleans()))
    added = []
    for index, host in enumerate(hosts):
        if draw(st.booleans()):
            continue
        labels = host["metadata"].get("labels", {})
        selector = draw(st.sampled_from(["all()", *(f"{k} == '{v}'" for k, v in labels.items()), *(f"has({k})" for k in labels)]))
        spec: dict[str, Any] = {"selector": selector, "order": draw(st.sampled_from((10, 100, 1000)))}
        layer = draw(st.sampled_from(("applyOnForward", "doNotTrack", "preDNAT", "doNotTrack", "preDNAT")))
        directions = ("ingress",) if layer == "preDNAT" else draw(st.sampled_from((("ingress",), ("egress",), ("ingress", "egress"))))
        for direction in directions:
            spec[direction] = draw(st.lists(_calico_rule(_RuleContext(vocab, direction, False)), min_size=1, max_size=2))
        spec["types"] = [d.capitalize() for d in directions]
        _layer(spec, layer, drop_selector=False)
        added.append({"apiVersion": _CALICO_APIS[0], "kind": "GlobalNetworkPolicy", "metadata": {"name": f"host{index}"}, "spec": spec})
    return added


def _layer(spec: dict[str, Any], layer: str, drop_selector: bool) -> None:
    spec["applyOnForward"] = True
    if drop_selector:
        spec.pop("selector", None)
    if layer == "doNotTrack":
        spec["doNotTrack"] = True
    elif layer == "preDNAT":
        spec["preDNAT"] = True
        spec.pop("egress", None)
        if "types" in spec:
            spec["types"] = ["Ingress"]


@st.composite
def _endpoint_slice(draw: st.DrawFn, vocab: Vocabulary, service: str, namespace: str, addresses: Sequence[str], index: int = 0) -> Manifest:
    family = draw(st.sampled_from(sorted({ipaddress.ip_address(a).version for a in addresses}))) if addresses else 4
    mine = [a for a in addresses if ipaddress.ip_address(a).version == family]
    backends = draw(st.lists(st.sampled_from(mine), min_size=1, max_size=2, unique=True)) if mine else ["10.0.0.250"]
    ports = []
    for name in draw(st.lists(st.sampled_from(vocab.port_names), min_size=1, max_size=2, unique=True)):
        port: dict[str, Any] = {"name": name, "port": draw(st.sampled_from(vocab.ports))}
        protocol = draw(st.sampled_from((None, "TCP", "UDP", "SCTP")))
        if protocol:
            port["protocol"] = protocol
        ports.append(port)
    meta = {"name": f"{service}-{index}", "namespace": namespace, "labels": {_SERVICE_LABEL: service}}
    return {
        "apiVersion": _SLICE_API, "kind": "EndpointSlice", "metadata": meta, "addressType": f"IPv{family}",
        "endpoints": [{"addresses": [address]} for address in backends], "ports": ports,
    }


def endpoint_slices(vocab: Vocabulary | None = None, *, service: str = "svc0", namespace: str | None = None,
                    addresses: Sequence[str] = ("10.0.0.1", "10.0.0.2")) -> st.SearchStrategy[Manifest]:
    """``discovery.k8s.io/v1`` EndpointSlices of Service ``service`` (in ``namespace``,
    drawn from the vocabulary unless given): backends among ``addresses`` (of one
    family), ports named and numbered from the vocabulary."""
    vocab = _check_vocab(vocab)
    if namespace is not None:
        return _endpoint_slice(vocab, service, namespace, tuple(addresses))
    return st.sampled_from(vocab.namespaces).flatmap(lambda ns: _endpoint_slice(vocab, service, ns, tuple(addresses)))


#: What a rule side cannot hold next to ``services`` (and, on the destination, ports).
_NOT_WITH_SERVICES = ("selector", "notSelector", "namespaceSelector", "nets", "notNets", "serviceAccounts")


@st.composite
def _services(draw: st.DrawFn, vocab: Vocabulary, documents: list[Manifest], addresses: Sequence[str], max_services: int = 2) -> list[Manifest]:
    """EndpointSlices of up to ``max_services`` Services over ``addresses``, and Calico
    policy rules in ``documents`` that name them (``destination.services`` in egress
    rules, ``source.services`` in ingress rules): some rules take the clause, some rule
    lists start with a rule that tests only that, and some Services get a
    GlobalNetworkPolicy of their own (returned with the slices)."""
    slices: list[Manifest] = []
    services: list[tuple[str, str]] = []
    for i in range(draw(st.integers(0, max_services))):
        namespace = draw(st.sampled_from(vocab.namespaces))
        services.append((f"svc{i}", namespace))
        slices.append(draw(_endpoint_slice(vocab, f"svc{i}", namespace, addresses)))
    if not services:
        return slices
    for doc in _objects(documents):
        if doc.get("kind") not in _POLICY_KINDS or doc.get("apiVersion") not in _CALICO_APIS:
            continue
        for direction, side in (("egress", "destination"), ("ingress", "source")):
            rules = doc["spec"].get(direction)
            if rules is None:
                continue
            for rule in rules:
                current = rule.get(side) or {}
                if any(key in current for key in _NOT_WITH_SERVICES):
                    continue
                if side == "destination" and ("ports" in current or "notPorts" in current):
                    continue
                if draw(st.booleans()):
                    rule[side] = {**current, "services": draw(_service_ref(services))}
            if draw(st.booleans()):  # first, where no other rule decides before it
                rules.insert(0, {"action": draw(_ACTIONS), side: {"services": draw(_service_ref(services))}})
    for index, (name, namespace) in enumerate(services):
        if draw(st.booleans()):  # a policy of its own, for the clients or for the backends
            direction, side = draw(st.sampled_from((("egress", "destination"), ("ingress", "source"))))
            selector = _vocab_selector(draw, vocab) if draw(st.booleans()) else "all()"
            spec: dict[str, Any] = {"selector": selector, "order": draw(st.sampled_from((10, 100, 1000))), "types": [direction.capitalize()]}
            spec[direction] = [{"action": draw(_ACTIONS), side: {"services": {"name": name, "namespace": namespace}}}]
            slices.append({"apiVersion": _CALICO_APIS[0], "kind": "GlobalNetworkPolicy", "metadata": {"name": f"svc{index}"}, "spec": spec})
    return slices


_ACTIONS = st.sampled_from(("Allow", "Deny", "Log", "Pass"))


def _service_ref(services: Sequence[tuple[str, str]]) -> st.SearchStrategy[dict[str, str]]:
    return st.sampled_from(tuple(services)).map(lambda s: {"name": s[0], "namespace": s[1]})
