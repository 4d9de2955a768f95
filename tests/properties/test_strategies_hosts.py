"""The strategies draw HostEndpoints, the host layers of global policies (doNotTrack,
preDNAT, applyOnForward), EndpointSlices and rules that name their Services; flows aim at
host endpoints and their failsafe ports; the tables decide drawn Services rules as the
reference does."""

from __future__ import annotations

from typing import Any, Callable, Iterator

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import netpolicy
from netpolicy.engine import Engine
from netpolicy.reference import evaluate as reference
from netpolicy.testing import strategies as nps

from .support import draw_flows, first_drawn, heavy, load, requires_loader

pytestmark = requires_loader


#: Felix's default inbound failsafe ports for TCP.
FAILSAFE_INBOUND_TCP = (22, 179, 2379, 2380, 5473, 6443, 6666, 6667)


def _objects(documents: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for doc in documents:
        if isinstance(doc.get("items"), list):
            yield from _objects(doc["items"])
        else:
            yield doc


def _rules(documents: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for doc in _objects(documents):
        spec = doc.get("spec")
        if doc.get("apiVersion") == "projectcalico.org/v3" and isinstance(spec, dict):
            for direction in ("ingress", "egress"):
                yield from spec.get(direction) or ()


def _global(documents: list[dict[str, Any]], field: str) -> bool:
    return any(doc.get("kind") == "GlobalNetworkPolicy" and doc["spec"].get(field) for doc in _objects(documents))


DRAWN: list[tuple[str, Callable[[list[dict[str, Any]]], bool]]] = [
    ("a HostEndpoint", lambda docs: any(doc["kind"] == "HostEndpoint" for doc in _objects(docs))),
    ("a HostEndpoint with profiles and ports", lambda docs: any(
        doc["kind"] == "HostEndpoint" and doc["spec"].get("profiles") and doc["spec"].get("ports") for doc in _objects(docs))),
    ("an untracked policy", lambda docs: _global(docs, "doNotTrack")),
    ("a preDNAT policy", lambda docs: _global(docs, "preDNAT")),
    ("a forward policy", lambda docs: _global(docs, "applyOnForward") and not _global(docs, "doNotTrack") and not _global(docs, "preDNAT")),
    ("an EndpointSlice", lambda docs: any(doc["kind"] == "EndpointSlice" for doc in _objects(docs))),
    ("a rule naming a Service as its destination", lambda docs: any("services" in (r.get("destination") or {}) for r in _rules(docs))),
    ("a rule naming a Service as its source", lambda docs: any("services" in (r.get("source") or {}) for r in _rules(docs))),
    ("a Service rule with other tests", lambda docs: any(
        "services" in (r.get("destination") or {}) and ("protocol" in r or len(r) > 2) for r in _rules(docs))),
]


@pytest.mark.parametrize(("what", "predicate"), DRAWN, ids=[what for what, _ in DRAWN])
def test_manifests_draw(what: str, predicate: Callable[[list[dict[str, Any]]], bool]) -> None:
    found = first_drawn(nps.manifests(), predicate)
    netpolicy.from_objects(found)  # and it loads


def test_narrowing_the_inventory_leaves_them_out() -> None:
    @settings(max_examples=30, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @given(nps.manifests(inventory=["Profile", "Tier"]))
    def run(documents: list[dict[str, Any]]) -> None:
        kinds = {doc["kind"] for doc in _objects(documents)}
        assert not kinds & {"HostEndpoint", "EndpointSlice"}
        assert not any(doc["kind"] == "GlobalNetworkPolicy" and doc["spec"].get("preDNAT") for doc in _objects(documents))

    run()


def test_flows_aim_at_host_endpoints_and_their_failsafe_ports() -> None:
    ps = netpolicy.from_objects(first_drawn(nps.manifests(), DRAWN[0][1]))
    hosts = {ip for endpoint in ps.endpoints if endpoint.is_host for ip in endpoint.ips}
    failsafe = first_drawn(nps.flows(ps), lambda flow: flow.dst in hosts and flow.protocol == 6 and flow.dst_port in FAILSAFE_INBOUND_TCP, max_examples=2000)
    assert ps.evaluate(failsafe).ingress.reason == netpolicy.Reason.FAILSAFE


def test_host_endpoints_and_endpoint_slices_are_strategies_of_their_own() -> None:
    vocab = nps.Vocabulary(namespaces=("a",), port_names=("http",), ports=(80,))
    host = first_drawn(nps.host_endpoints(vocab, index=3), lambda doc: len(doc["spec"]["expectedIPs"]) == 2)
    assert host["spec"]["expectedIPs"] == ["10.0.2.4", "fd00::2:4"]
    slice_ = first_drawn(nps.endpoint_slices(vocab, service="db", addresses=("10.0.0.1",)), lambda doc: True)
    ps = netpolicy.from_objects([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}}, host, slice_])
    assert [e.key for e in ps.endpoints] == ["hep3"]
    assert [(s.namespace, s.name, [str(a) for a in s.addresses]) for s in ps.services] == [("a", "db", ["10.0.0.1"])]


def _twins() -> list[Any]:
    from netpolicy._fastmatch_py import Matcher as Pure

    try:
        from netpolicy._fastmatch import Matcher as Compiled
    except ImportError:  # the extension is not built here
        return [Pure]
    return [Pure, Compiled]


@pytest.mark.parametrize("twin", _twins(), ids=lambda m: m.__module__.rsplit(".", 1)[-1])
@heavy
@given(documents=nps.manifests(inventory=["EndpointSlice", "ServiceAccount", "NetworkSet"]), data=st.data())
def test_tables_decide_services_rules_as_the_reference(twin: Any, documents: list[dict[str, Any]], data: st.DataObject) -> None:
    ps = load(documents)
    engine = Engine(ps, lambda p, f: reference(p, f), twin)
    flows = draw_flows(data, ps, max_size=12)
    for flow in flows:
        assert engine.evaluate(flow) == reference(ps, flow)
    assert engine.evaluate_many(flows).allowed.tolist() == [reference(ps, flow).allowed for flow in flows]
