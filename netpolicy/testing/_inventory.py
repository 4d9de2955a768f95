"""Inventory manifests: Namespaces, ServiceAccounts, Pods, (Global)NetworkSets and
WorkloadEndpoints."""

from __future__ import annotations

from typing import Any, Sequence

from hypothesis import strategies as st

from ._labels import _vocab_labels
from ._vocabulary import _CIDRS_V4, _CIDRS_V6, Manifest, Vocabulary, _api, _check_size, _check_vocab, _pod_ips

__all__ = ["namespaces", "service_accounts", "pods", "network_sets", "global_network_sets", "workload_endpoints"]



@st.composite
def _namespace(draw: st.DrawFn, vocab: Vocabulary, name: str) -> Manifest:
    labels = draw(_vocab_labels(vocab))
    labels["kubernetes.io/metadata.name"] = name
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def namespaces(vocab: Vocabulary | None = None) -> st.SearchStrategy[Manifest]:
    """``v1`` Namespaces named from the vocabulary, with labels (including
    ``kubernetes.io/metadata.name``)."""
    vocab = _check_vocab(vocab)
    return st.sampled_from(vocab.namespaces).flatmap(lambda name: _namespace(vocab, name))


@st.composite
def _service_account(draw: st.DrawFn, vocab: Vocabulary, namespace: str, name: str) -> Manifest:
    meta: dict[str, Any] = {"name": name, "namespace": namespace}
    labels = draw(_vocab_labels(vocab, 2))
    if labels:
        meta["labels"] = labels
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta}


def service_accounts(vocab: Vocabulary | None = None) -> st.SearchStrategy[Manifest]:
    """``v1`` ServiceAccounts with labels."""
    vocab = _check_vocab(vocab)
    return st.tuples(st.sampled_from(vocab.namespaces), st.sampled_from(vocab.service_accounts)).flatmap(lambda t: _service_account(vocab, *t))


@st.composite
def _container_ports(draw: st.DrawFn, vocab: Vocabulary) -> list[dict[str, Any]]:
    out = []
    for name in draw(st.lists(st.sampled_from(vocab.port_names), max_size=2, unique=True)):
        port: dict[str, Any] = {"name": name, "containerPort": draw(st.sampled_from(vocab.ports))}
        protocol = draw(st.sampled_from((None, "TCP", "UDP", "SCTP")))
        if protocol:
            port["protocol"] = protocol
        out.append(port)
    return out


@st.composite
def _pod(draw: st.DrawFn, vocab: Vocabulary, index: int, namespace: str | None = None, service_accounts: Sequence[str] = ()) -> Manifest:
    namespace = namespace or draw(st.sampled_from(vocab.namespaces))
    meta: dict[str, Any] = {"name": f"p{index}", "namespace": namespace}
    labels = draw(_vocab_labels(vocab))
    if labels:
        meta["labels"] = labels
    spec: dict[str, Any] = {}
    containers: list[dict[str, Any]] = [{"name": "c0", "image": "app"}]
    ports = draw(_container_ports(vocab))
    if ports:
        if draw(st.booleans()):
            containers[0]["ports"] = ports
        else:
            spec["initContainers"] = [{"name": "init", "image": "app", "ports": ports}]
    spec["containers"] = containers
    if bool(service_accounts) and draw(st.booleans()):
        spec["serviceAccountName"] = draw(st.sampled_from(service_accounts))
    ips = _pod_ips(index, vocab.ipv6 and draw(st.booleans()))
    status: dict[str, Any] = {"phase": "Running", "podIP": ips[0]}
    if len(ips) > 1 or draw(st.booleans()):
        status["podIPs"] = [{"ip": ip} for ip in ips]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec, "status": status}


def pods(vocab: Vocabulary | None = None, *, index: int = 0, service_accounts: Sequence[str] = ()) -> st.SearchStrategy[Manifest]:
    """``v1`` Pods: labels, IPs (10.0.0.N and sometimes fd00::N, N = index + 1), named
    container or init-container ports, and a service account from ``service_accounts``."""
    _check_size("index", index, 0, 250)
    return _pod(_check_vocab(vocab), index, None, tuple(service_accounts))


@st.composite
def _network_set(draw: st.DrawFn, vocab: Vocabulary, name: str, namespace: str | None, crd_forms: bool = False) -> Manifest:
    meta: dict[str, Any] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    labels = draw(_vocab_labels(vocab))
    if labels:
        meta["labels"] = labels
    pool = _CIDRS_V4 + (_CIDRS_V6 if vocab.ipv6 else ())
    nets = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=2, unique=True))
    kind = "NetworkSet" if namespace else "GlobalNetworkSet"
    return {"apiVersion": _api(draw, crd_forms), "kind": kind, "metadata": meta, "spec": {"nets": nets}}


def network_sets(vocab: Vocabulary | None = None, *, name: str = "set0") -> st.SearchStrategy[Manifest]:
    """Calico NetworkSets: labels and CIDRs that overlap pod addresses."""
    vocab = _check_vocab(vocab)
    return st.sampled_from(vocab.namespaces).flatmap(lambda ns: _network_set(vocab, name, ns))


def global_network_sets(vocab: Vocabulary | None = None, *, name: str = "gset0") -> st.SearchStrategy[Manifest]:
    """Calico GlobalNetworkSets: labels and CIDRs that overlap pod addresses."""
    return _network_set(_check_vocab(vocab), name, None)


@st.composite
def _workload_endpoint(draw: st.DrawFn, vocab: Vocabulary, index: int, profile_names: Sequence[str], crd_forms: bool = False) -> Manifest:
    namespace = draw(st.sampled_from(vocab.namespaces))
    pod = f"w{index}"
    meta: dict[str, Any] = {"name": f"node1-k8s-{pod}-eth0", "namespace": namespace}
    labels = draw(_vocab_labels(vocab))
    if labels:
        meta["labels"] = labels
    ips = _pod_ips(index, vocab.ipv6 and draw(st.booleans()))
    spec: dict[str, Any] = {
        "orchestrator": "k8s",
        "node": "node1",
        "pod": pod,
        "endpoint": "eth0",
        "interfaceName": f"cali{index}",
        "ipNetworks": [f"{ip}/{32 if ':' not in ip else 128}" for ip in ips],
        "profiles": draw(st.lists(st.sampled_from(profile_names), min_size=min(1, draw(st.integers(0, 3))), max_size=2, unique=True)) if profile_names else [],
    }
    ports = draw(st.lists(st.sampled_from(vocab.port_names), max_size=2, unique=True))
    if ports:
        spec["ports"] = [{"name": n, "protocol": draw(st.sampled_from(("TCP", "UDP", "SCTP"))), "port": draw(st.sampled_from(vocab.ports))} for n in ports]
    return {"apiVersion": _api(draw, crd_forms), "kind": "WorkloadEndpoint", "metadata": meta, "spec": spec}


def workload_endpoints(vocab: Vocabulary | None = None, *, index: int = 100, profile_names: Sequence[str] = ()) -> st.SearchStrategy[Manifest]:
    """Calico WorkloadEndpoints with explicit profiles (none, or from ``profile_names``)."""
    _check_size("index", index, 0, 250)
    return _workload_endpoint(_check_vocab(vocab), index, tuple(profile_names))
