"""Workload kinds become endpoints: Deployment, StatefulSet, DaemonSet, ReplicaSet, Job,
CronJob, ReplicationController, and Pods without an address; their templates are
validated as the API server does."""

from __future__ import annotations

import textwrap
from typing import Any

import pytest
import yaml

import netpolicy
from netpolicy import ValidationError
from netpolicy.model import ContainerPort

TEMPLATE = {
    "metadata": {"labels": {"app": "web", "tier": "front"}},
    "spec": {
        "serviceAccountName": "web-sa",
        "initContainers": [{"name": "init", "image": "busybox", "ports": [{"name": "warmup", "containerPort": 9000}]}],
        "containers": [
            {"name": "app", "image": "nginx", "ports": [
                {"name": "http", "containerPort": 8080},
                {"name": "metrics", "containerPort": 9090, "protocol": "UDP"},
                {"containerPort": 7000},
            ]},
            {"name": "sidecar", "image": "envoy", "ports": [{"name": "admin", "containerPort": 15000, "protocol": "SCTP"}]},
        ],
    },
}
PORTS = (
    ContainerPort("http", 6, 8080),
    ContainerPort("metrics", 17, 9090),
    ContainerPort("admin", 132, 15000),
    ContainerPort("warmup", 6, 9000),
)
SELECTOR = {"matchLabels": {"app": "web"}}


def manifest(kind: str, spec: dict[str, Any], name: str = "web", namespace: str = "shop", api: str | None = None) -> dict[str, Any]:
    api = api or {"Job": "batch/v1", "CronJob": "batch/v1", "ReplicationController": "v1"}.get(kind, "apps/v1")
    return {"apiVersion": api, "kind": kind, "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def workload(kind: str, **extra: Any) -> dict[str, Any]:
    if kind == "CronJob":
        return manifest(kind, {"schedule": "*/5 * * * *", "jobTemplate": {"spec": {"template": TEMPLATE, **extra}}})
    if kind == "Job":
        return manifest(kind, {"template": TEMPLATE, **extra})
    if kind == "ReplicationController":
        return manifest(kind, {"selector": {"app": "web"}, "template": TEMPLATE, **extra})
    return manifest(kind, {"selector": SELECTOR, "template": TEMPLATE, **extra})


def only_endpoint(*objects: dict[str, Any]) -> netpolicy.Endpoint:
    (endpoint,) = netpolicy.from_objects(objects).endpoints
    return endpoint


def problems(*objects: dict[str, Any]) -> list[str]:
    with pytest.raises(ValidationError) as info:
        netpolicy.from_objects(objects)
    return [p.message + " @ " + p.path for p in info.value.problems]


KINDS = ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "ReplicationController"]


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_is_one_endpoint_from_its_pod_template(kind: str) -> None:
    endpoint = only_endpoint(workload(kind))
    assert endpoint.key == f"shop/web[{kind}]"
    assert (endpoint.namespace, endpoint.name, endpoint.workload) == ("shop", "web", kind)
    assert endpoint.labels["app"] == "web" and endpoint.labels["tier"] == "front"
    assert endpoint.service_account == "web-sa"
    assert endpoint.named_ports == PORTS  # containers, then init containers (Calico reads both)
    labels = endpoint.effective_labels
    assert labels is not None
    assert labels["projectcalico.org/namespace"] == "shop"
    assert labels["projectcalico.org/orchestrator"] == "k8s"
    assert labels["projectcalico.org/serviceaccount"] == "web-sa"
    assert labels["pcns.kubernetes.io/metadata.name"] == "shop"
    assert endpoint.profiles == ("kns.shop", "ksa.shop.web-sa")
    assert endpoint.running


def test_the_service_account_defaults_to_default() -> None:
    template = {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "a", "image": "x"}]}}
    endpoint = only_endpoint(manifest("Deployment", {"selector": SELECTOR, "template": template}))
    assert endpoint.service_account == "default"
    assert endpoint.profiles == ("kns.shop", "ksa.shop.default")


def test_job_pods_carry_the_job_name_labels() -> None:
    endpoint = only_endpoint(workload("Job"))
    assert endpoint.labels["job-name"] == "web"
    assert endpoint.labels["batch.kubernetes.io/job-name"] == "web"


@pytest.mark.parametrize(
    ("kind", "extra", "replicas"),
    [
        ("Deployment", {}, 1),
        ("Deployment", {"replicas": 3}, 3),
        ("Deployment", {"replicas": 0}, 0),
        ("StatefulSet", {"replicas": 0}, 0),
        ("ReplicaSet", {"replicas": 0}, 0),
        ("ReplicationController", {"replicas": 0}, 0),
        ("DaemonSet", {}, None),
        ("Job", {"parallelism": 0}, 0),
        ("Job", {"suspend": True}, 0),
        ("Job", {"parallelism": 4}, 4),
        ("CronJob", {}, None),
        ("CronJob", {"parallelism": 0}, 0),
    ],
)
def test_workloads_without_running_pods_are_listed_and_marked(kind: str, extra: dict[str, Any], replicas: int | None) -> None:
    endpoint = only_endpoint(workload(kind, **extra))
    assert endpoint.replicas == replicas
    assert endpoint.running is (replicas != 0)


def test_a_suspended_cronjob_runs_no_pod() -> None:
    cron = workload("CronJob")
    cron["spec"]["suspend"] = True
    endpoint = only_endpoint(cron)
    assert endpoint.replicas == 0 and not endpoint.running


def test_the_fast_and_the_field_by_field_readings_agree() -> None:
    plain = only_endpoint(workload("Deployment", replicas=2))
    unusual = workload("Deployment", replicas=2)  # a matchExpressions selector: read field by field
    unusual["spec"]["selector"] = {"matchExpressions": [{"key": "app", "operator": "In", "values": ["web"]}]}
    slow = only_endpoint(unusual)
    assert slow == plain
    assert (slow.replicas, slow.owner, slow.service_account) == (plain.replicas, plain.owner, plain.service_account)


def test_a_replicaset_and_a_job_know_their_controller() -> None:
    rs = workload("ReplicaSet")
    rs["metadata"]["ownerReferences"] = [
        {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": "1", "controller": True}
    ]
    assert only_endpoint(rs).owner == ("Deployment", "web")
    job = workload("Job")
    job["metadata"]["ownerReferences"] = [{"apiVersion": "batch/v1", "kind": "CronJob", "name": "nightly", "uid": "2"}]
    assert only_endpoint(job).owner is None  # not the controller


# -- Pods -----------------------------------------------------------------------------------


def pod(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "namespace": "shop", "labels": {"app": "p"}},
        "spec": {"containers": [{"name": "a", "image": "x", "ports": [{"name": "http", "containerPort": 80}]}], **spec},
    }


def test_a_pod_without_an_address_is_an_endpoint() -> None:
    ps = netpolicy.from_objects([pod()])
    (endpoint,) = ps.endpoints
    assert endpoint.key == "shop/p" and endpoint.workload is None
    assert endpoint.named_ports == (ContainerPort("http", 6, 80),)
    assert not any("no IP address" in warning for warning in ps.warnings)


@pytest.mark.parametrize("phase", ["Pending", "Succeeded", "Failed"])
def test_a_pod_from_a_cluster_without_an_address_is_still_no_endpoint(phase: str) -> None:
    observed = pod()
    observed["status"] = {"phase": phase}
    assert netpolicy.from_objects([observed]).endpoints == ()


def test_a_bare_pod_needs_no_spec() -> None:
    bare = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "shop"}}
    (endpoint,) = netpolicy.from_objects([bare]).endpoints
    assert (endpoint.key, endpoint.service_account, endpoint.named_ports) == ("shop/p", "default", ())


def test_a_pod_knows_its_controller() -> None:
    owned = pod()
    owned["metadata"]["ownerReferences"] = [
        {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-5d4f", "uid": "1", "controller": True}
    ]
    owned["status"] = {"podIP": "10.1.2.3"}
    (endpoint,) = netpolicy.from_objects([owned]).endpoints
    assert endpoint.owner == ("ReplicaSet", "web-5d4f")
    assert [str(ip) for ip in endpoint.ips] == ["10.1.2.3"]


@pytest.mark.parametrize("with_address", [True, False])
def test_a_host_network_pod_is_skipped_with_a_warning(with_address: bool) -> None:
    host = pod(hostNetwork=True)
    if with_address:
        host["status"] = {"podIP": "192.0.2.7"}
    ps = netpolicy.from_objects([host])
    assert ps.endpoints == ()
    (warning,) = ps.warnings
    assert "Pod shop/p uses the node's network (hostNetwork: true): it is not a Calico endpoint" in warning
    assert "spec.hostNetwork" in warning


def test_a_host_network_workload_is_skipped_with_a_warning() -> None:
    template = {"metadata": {"labels": {"app": "web"}}, "spec": {"hostNetwork": True, "containers": [{"name": "a"}]}}
    ps = netpolicy.from_objects([manifest("DaemonSet", {"selector": SELECTOR, "template": template})])
    assert ps.endpoints == ()
    (warning,) = ps.warnings
    assert "DaemonSet shop/web uses the node's network (hostNetwork: true)" in warning
    assert "spec.template.spec.hostNetwork" in warning


# -- bad templates ------------------------------------------------------------------------------


def broken(kind: str, change: Any) -> dict[str, Any]:
    import copy

    obj = copy.deepcopy(workload(kind))
    change(obj["spec"] if kind != "CronJob" else obj["spec"]["jobTemplate"]["spec"])
    return obj


@pytest.mark.parametrize(
    ("kind", "change", "expected"),
    [
        ("Deployment", lambda s: s.update(selector={"matchLabels": {"app": "other"}}),
         "selector does not match template labels @ spec.template.metadata.labels"),
        ("StatefulSet", lambda s: s.pop("selector"), "required field is missing @ spec.selector"),
        ("DaemonSet", lambda s: s.update(selector={}), "empty selector is invalid for a DaemonSet @ spec.selector"),
        ("ReplicaSet", lambda s: s.update(selector={"matchExpressions": [{"key": "app", "operator": "Maybe"}]}),
         "'Maybe' is not one of In, NotIn, Exists, DoesNotExist @ spec.selector.matchExpressions[0].operator"),
        ("ReplicationController", lambda s: s.update(selector={"app": "other"}),
         "selector does not match template labels @ spec.template.metadata.labels"),
        ("Job", lambda s: s.update(manualSelector=True), "required field is missing @ spec.selector"),
        ("Deployment", lambda s: s.update(replicas=-1), "-1 is outside 0-2147483647 @ spec.replicas"),
        ("Deployment", lambda s: s.pop("template"), "required field is missing @ spec.template"),
        ("Deployment", lambda s: s["template"]["metadata"]["labels"].update({"bad key": "x"}),
         "label key 'bad key': the name must be 1-63 characters of letters, digits, '-', '_' and '.', starting and "
         "ending with a letter or digit @ spec.template.metadata.labels.bad key"),
    ],
)
def test_bad_workload_specs(kind: str, change: Any, expected: str) -> None:
    assert problems(broken(kind, change)) == [expected]


def ports_of(*ports: dict[str, Any]) -> dict[str, Any]:
    template = {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "a", "ports": list(ports)}]}}
    return manifest("Deployment", {"selector": SELECTOR, "template": template})


@pytest.mark.parametrize(
    ("ports", "expected"),
    [
        ([{"name": "averyveryverylongname", "containerPort": 80}],
         "port name 'averyveryverylongname' is not valid (at most 15 lower-case letters, digits and single '-', "
         "with at least one letter) @ spec.template.spec.containers[0].ports[0].name"),
        ([{"name": "http", "containerPort": 80}, {"name": "http", "containerPort": 81}],
         "duplicate port name 'http' in container 'a' @ spec.template.spec.containers[0].ports[1].name"),
        ([{"name": "http", "containerPort": 0}], "0 is outside 1-65535 @ spec.template.spec.containers[0].ports[0].containerPort"),
        ([{"name": "http"}], "required field is missing @ spec.template.spec.containers[0].ports[0].containerPort"),
        ([{"name": "http", "containerPort": 80, "protocol": "ICMP"}],
         "'ICMP' is not one of TCP, UDP, SCTP @ spec.template.spec.containers[0].ports[0].protocol"),
        ([{"name": "1234", "containerPort": 80}],
         "port name '1234' is not valid (at most 15 lower-case letters, digits and single '-', with at least one "
         "letter) @ spec.template.spec.containers[0].ports[0].name"),
    ],
)
def test_bad_container_ports(ports: list[dict[str, Any]], expected: str) -> None:
    assert problems(ports_of(*ports)) == [expected]


def test_containers_are_required_and_named_uniquely() -> None:
    template = {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": []}}
    assert problems(manifest("Deployment", {"selector": SELECTOR, "template": template})) == [
        "a pod needs at least one container @ spec.template.spec.containers"
    ]
    template["spec"] = {"containers": [{"name": "a"}], "initContainers": [{"name": "a"}]}
    assert problems(manifest("Deployment", {"selector": SELECTOR, "template": template})) == [
        "duplicate container name 'a' @ spec.template.spec.initContainers[0].name"
    ]


def test_a_port_name_in_two_containers_is_a_warning() -> None:
    template = {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [
        {"name": "a", "ports": [{"name": "http", "containerPort": 80}]},
        {"name": "b", "ports": [{"name": "http", "containerPort": 81}]},
    ]}}
    ps = netpolicy.from_objects([manifest("Deployment", {"selector": SELECTOR, "template": template})])
    warning, synthetic = ps.warnings
    assert "port name 'http' is also declared by container 'a'" in warning
    assert "synthetic addresses" in synthetic
    assert [p.port for p in ps.endpoints[0].named_ports] == [80, 81]


def test_problems_name_file_line_and_field() -> None:
    text = textwrap.dedent(
        """\
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web, namespace: shop}
        spec:
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec:
              containers:
              - name: app
                ports:
                - {name: this-name-is-too-long, containerPort: 80}
        """
    )
    with pytest.raises(ValidationError) as info:
        netpolicy.loads(text)
    (problem,) = info.value.problems
    assert (problem.line, problem.column) == (12, 18)
    assert problem.path == "spec.template.spec.containers[0].ports[0].name"
    assert problem.kind == "Deployment" and problem.name == "web"


def test_the_round_trip_through_yaml_loads_the_same() -> None:
    objects = [workload(kind) for kind in KINDS]
    for index, obj in enumerate(objects):
        obj["metadata"]["name"] = f"w{index}"
    from_text = netpolicy.loads(yaml.safe_dump_all(objects))
    assert from_text.endpoints == netpolicy.from_objects(objects).endpoints
