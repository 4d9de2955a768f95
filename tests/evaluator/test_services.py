"""Services: validated as the API server does; a flow to one is the flow after DNAT to
each backend, its port mapped to the backend's target port; Calico's ``services`` rule
clause matches through the selector when no EndpointSlice is given."""

from __future__ import annotations

from typing import Any

import pytest

import netpolicy
from netpolicy import Flow, PolicyError, ValidationError


def workload(name: str, labels: dict[str, str], ports: list[dict[str, Any]] | None = None, replicas: int = 1) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": "shop"},
        "spec": {"replicas": replicas, "selector": {"matchLabels": labels}, "template": {"metadata": {"labels": labels},
                 "spec": {"containers": [{"name": "c", "image": "x", "ports": ports or []}]}}},
    }


def service(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": "shop"}, "spec": spec}


def deny_ingress_except(port: int) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "api", "namespace": "shop"},
        "spec": {"podSelector": {"matchLabels": {"role": "api"}}, "ingress": [{"ports": [{"port": port}]}]},
    }


API = {"role": "api"}
OBJECTS = [
    workload("client", {"app": "client"}),
    workload("api-v1", {"role": "api", "v": "1"}, [{"name": "http", "containerPort": 8080}]),
    workload("api-v2", {"role": "api", "v": "2"}, [{"name": "http", "containerPort": 9090}]),
    workload("api-old", {"role": "api", "v": "0"}, [{"name": "http", "containerPort": 8080}], replicas=0),
    workload("api-bare", {"role": "api", "v": "3"}),
    service("api", {"selector": API, "ports": [
        {"name": "web", "port": 80, "targetPort": "http"},
        {"name": "admin", "port": 81, "targetPort": 7000},
        {"name": "dns", "port": 53, "protocol": "UDP"},
    ]}),
    deny_ingress_except(8080),
]


def test_a_flow_to_a_service_goes_to_each_backend_at_its_target_port() -> None:
    ps = netpolicy.from_objects(OBJECTS)
    result = ps.evaluate_each(Flow(src="deploy/client", dst="svc/api", dst_port=80))
    assert [(v.flow.dst, v.flow.dst_port, v.allowed) for v in result] == [
        ("shop/api-v1[Deployment]", 8080, True),
        ("shop/api-v2[Deployment]", 9090, False),
    ]
    assert result.summary == "some" and not result.allowed
    assert (result.src, result.dst) == ("shop/client[Deployment]", "shop/api[Service]")
    assert result.notes == (
        "shop/api-bare[Deployment] declares no container port 'http': not a backend of port 80",
        "shop/api-old[Deployment] matches the selector of shop/api[Service] but runs no pod",
    )
    assert result.describe() == "some: 1 of 2 flows from shop/client[Deployment] to shop/api[Service] allowed"
    assert "--- flow 2 of 2 ---" in result.explain()


def test_a_numeric_target_port_and_the_summaries() -> None:
    ps = netpolicy.from_objects(OBJECTS)
    admin = ps.evaluate_each(Flow(src="deploy/client", dst="svc/api", dst_port=81))
    assert {v.flow.dst_port for v in admin} == {7000}
    assert len(admin) == 3 and admin.summary == "none" and not admin.allowed
    dns = ps.evaluate_each(Flow(src="deploy/client", dst="svc/api", protocol="UDP"))  # the only UDP port
    assert {v.flow.dst_port for v in dns} == {53}


def test_all_allowed() -> None:
    ps = netpolicy.from_objects(OBJECTS[:2] + [service("v1", {"selector": {"v": "1"}, "ports": [{"port": 80, "targetPort": 8080}]})])
    result = ps.evaluate_each(Flow(src="deploy/client", dst="shop/svc/v1", dst_port=80))
    assert result.summary == "all" and result.allowed and len(result) == 1


@pytest.mark.parametrize(("flow", "message"), [
    (Flow(src="deploy/client", dst="svc/api"), r"shop/api\[Service\] has ports 80/TCP \(web\) -> http, 81/TCP \(admin\) -> 7000, "
                                                r"53/UDP \(dns\) -> 53: say which with dst_port \(--port\)"),
    (Flow(src="deploy/client", dst="svc/api", dst_port=8080), r"shop/api\[Service\] has no port 8080/TCP; its ports: "),
    (Flow(src="deploy/client", dst="svc/api", protocol="ICMP"), "a Service forwards TCP, UDP and SCTP"),
    (Flow(src="deploy/client", dst="svc/ext", dst_port=80), r"ExternalName Service \(a DNS name, db.example.com\)"),
    (Flow(src="deploy/client", dst="svc/manual", dst_port=80), "has no selector: its endpoints are managed by hand"),
])
def test_flows_to_services_that_cannot_be_followed(flow: Flow, message: str) -> None:
    ps = netpolicy.from_objects(OBJECTS + [
        service("ext", {"type": "ExternalName", "externalName": "db.example.com"}),
        service("manual", {"ports": [{"port": 80}]}),
    ])
    with pytest.raises(PolicyError, match=message):
        ps.evaluate_each(flow)


def test_one_verdict_on_a_service_is_refused() -> None:
    ps = netpolicy.from_objects(OBJECTS)
    with pytest.raises(PolicyError, match=r"'svc/api' is the Service shop/api\[Service\]: a flow to it goes to each"):
        ps.evaluate(Flow(src="deploy/client", dst="svc/api", dst_port=80))


def test_a_service_as_the_source_sends_from_each_backend() -> None:
    ps = netpolicy.from_objects(OBJECTS)
    result = ps.evaluate_each(Flow(src="svc/api", dst="deploy/client", dst_port=443))
    assert [v.flow.src for v in result] == ["shop/api-v1[Deployment]", "shop/api-v2[Deployment]", "shop/api-bare[Deployment]"]
    assert {v.flow.dst_port for v in result} == {443}


def test_calico_services_clauses_match_through_the_selector() -> None:
    policy = {
        "apiVersion": "projectcalico.org/v3", "kind": "NetworkPolicy", "metadata": {"name": "to-api", "namespace": "shop"},
        "spec": {"selector": "app == 'client'", "types": ["Egress"],
                 "egress": [{"action": "Allow", "destination": {"services": {"name": "api", "namespace": "shop"}}}]},
    }
    ps = netpolicy.from_objects(OBJECTS[:6] + [policy])
    (backends,) = [s for s in ps.services if s.name == "api"]
    by_key = {e.key: e for e in ps.endpoints}
    running = ("shop/api-v1[Deployment]", "shop/api-v2[Deployment]", "shop/api-bare[Deployment]")
    assert set(backends.addresses) == {by_key[key].ips[0] for key in running}  # not api-old: it runs no pod
    assert set(backends.ports) == {(6, 8080), (6, 9090), (6, 7000), (17, 53)}
    allowed = ps.evaluate(Flow(src="deploy/client", dst="deploy/api-v1", dst_port=8080))
    denied = ps.evaluate(Flow(src="deploy/client", dst="deploy/api-v1", dst_port=8081))
    assert allowed.allowed and not denied.allowed
    assert not ps.evaluate(Flow(src="deploy/client", dst="deploy/api-old", dst_port=8080)).allowed  # runs no pod


def test_endpoint_slices_win_over_the_selector() -> None:
    slice_ = {
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"name": "api-x", "namespace": "shop", "labels": {"kubernetes.io/service-name": "api"}},
        "addressType": "IPv4", "endpoints": [{"addresses": ["10.9.9.9"]}], "ports": [{"port": 1234}],
    }
    ps = netpolicy.from_objects(OBJECTS[:6] + [slice_])
    (backends,) = [s for s in ps.services if s.name == "api"]
    assert [str(a) for a in backends.addresses] == ["10.9.9.9"]


@pytest.mark.parametrize(("spec", "expected"), [
    ({"selector": API}, "required: a Service needs at least one port @ spec.ports"),
    ({"selector": API, "ports": [{"name": "a", "port": 80}, {"port": 81}]},
     "required when a Service has more than one port @ spec.ports[1].name"),
    ({"selector": API, "ports": [{"name": "a", "port": 80}, {"name": "a", "port": 81}]}, "duplicate port name 'a' @ spec.ports[1].name"),
    ({"selector": API, "ports": [{"name": "a", "port": 80}, {"name": "b", "port": 80}]}, "duplicate port 80/TCP @ spec.ports[1]"),
    ({"selector": API, "ports": [{"port": 0}]}, "0 is outside 1-65535 @ spec.ports[0].port"),
    ({"selector": API, "ports": [{"port": 80, "targetPort": "a-very-long-port-name"}]},
     "targetPort name 'a-very-long-port-name' is not valid (at most 15 lower-case letters, digits and single '-', "
     "with at least one letter) @ spec.ports[0].targetPort"),
    ({"selector": API, "ports": [{"port": 80, "targetPort": "8080"}]},
     "targetPort '8080' is a string of digits: write the number without quotes @ spec.ports[0].targetPort"),
    ({"selector": API, "type": "Mesh", "ports": [{"port": 80}]},
     "'Mesh' is not one of ClusterIP, NodePort, LoadBalancer, ExternalName @ spec.type"),
    ({"type": "ExternalName"}, "required field is missing @ spec.externalName"),
    ({"selector": {"bad key": "x"}, "ports": [{"port": 80}]},
     "label key 'bad key': the name must be 1-63 characters of letters, digits, '-', '_' and '.', starting and ending "
     "with a letter or digit @ spec.selector.bad key"),
])
def test_bad_services(spec: dict[str, Any], expected: str) -> None:
    with pytest.raises(ValidationError) as info:
        netpolicy.from_objects([service("s", spec)])
    assert [p.message + " @ " + p.path for p in info.value.problems] == [expected]


def test_headless_and_node_port_services_load() -> None:
    ps = netpolicy.from_objects(OBJECTS[:2] + [
        service("headless", {"clusterIP": "None", "selector": {"app": "client"}}),
        service("np", {"type": "NodePort", "selector": {"app": "client"}, "ports": [{"port": 80, "nodePort": 30080}]}),
        service("lb", {"type": "LoadBalancer", "selector": {"app": "client"}, "ports": [{"port": 80}]}),
    ])
    assert {key for key in ps.names.services} == {"shop/headless[Service]", "shop/np[Service]", "shop/lb[Service]"}
    result = ps.evaluate_each(Flow(src="deploy/api-v1", dst="svc/np", dst_port=80))
    assert [v.flow.dst for v in result] == ["shop/client[Deployment]"]
