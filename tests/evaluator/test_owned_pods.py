"""Real Pods whose controller is in the input: asked for by workload, the workload stands
for its Pods; it gets no endpoint of its own."""

from __future__ import annotations

from typing import Any

import pytest

import netpolicy
from netpolicy import Flow, PolicyError


def deployment(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": "shop"},
        "spec": {"selector": {"matchLabels": {"app": name}}, "template": {"metadata": {"labels": {"app": name}},
                 "spec": {"containers": [{"name": "c", "image": "x"}]}}},
    }


def replica_set(name: str, owner: str | None, replicas: int = 1) -> dict[str, Any]:
    app = owner or name
    manifest: dict[str, Any] = {
        "apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": name, "namespace": "shop"},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": app}},
                 "template": {"metadata": {"labels": {"app": app}}, "spec": {"containers": [{"name": "c", "image": "x"}]}}},
    }
    if owner:
        manifest["metadata"]["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": "Deployment", "name": owner, "uid": "u", "controller": True}]
    return manifest


def pod(name: str, ip: str, owner: tuple[str, str] | None, app: str, digest: str | None = None) -> dict[str, Any]:
    labels = {"app": app}
    if digest:
        labels["pod-template-hash"] = digest
    manifest: dict[str, Any] = {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "shop", "labels": labels},
        "spec": {"containers": [{"name": "c", "image": "x"}]}, "status": {"phase": "Running", "podIP": ip},
    }
    if owner:
        kind, owner_name = owner
        manifest["metadata"]["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": kind, "name": owner_name, "uid": "u", "controller": True}]
    return manifest


def cluster(*extra: dict[str, Any]) -> netpolicy.PolicySet:
    return netpolicy.from_objects([
        deployment("web"), replica_set("web-5d4f", "web"), replica_set("web-1a2b", "web", replicas=0),
        pod("web-5d4f-aaaaa", "10.1.0.1", ("ReplicaSet", "web-5d4f"), "web", "5d4f"),
        pod("web-5d4f-bbbbb", "10.1.0.2", ("ReplicaSet", "web-5d4f"), "web", "5d4f"),
        deployment("db"), *extra,
    ])


def test_a_workload_with_pods_in_the_input_stands_for_them() -> None:
    ps = cluster()
    keys = sorted(e.key for e in ps.endpoints)
    # the Deployment and its ReplicaSets get no endpoint: the Pods answer for them; db has no Pod
    assert keys == ["shop/db[Deployment]", "shop/web-5d4f-aaaaa", "shop/web-5d4f-bbbbb"]
    assert ps.names.owners.members["shop/web[Deployment]"] == ("shop/web-5d4f-aaaaa", "shop/web-5d4f-bbbbb")
    assert ps.names.owners.members["shop/web-5d4f[ReplicaSet]"] == ("shop/web-5d4f-aaaaa", "shop/web-5d4f-bbbbb")
    assert ps.names.owners.folded == {"shop/web-1a2b[ReplicaSet]": "shop/web[Deployment]"}


@pytest.mark.parametrize(("name", "shown"), [
    ("deploy/web", "shop/web[Deployment]"),
    ("shop/deployment/web", "shop/web[Deployment]"),
    ("shop/web[Deployment]", "shop/web[Deployment]"),
    ("rs/web-5d4f", "shop/web-5d4f[ReplicaSet]"),
    ("rs/web-1a2b", "shop/web-1a2b[ReplicaSet]"),  # an old ReplicaSet: its Deployment's Pods answer
])
def test_asked_by_workload_every_pod_is_decided(name: str, shown: str) -> None:
    ps = cluster()
    result = ps.evaluate_each(Flow(src=name, dst="deploy/db", dst_port=80))
    assert [v.flow.src for v in result] == ["shop/web-5d4f-aaaaa", "shop/web-5d4f-bbbbb"]
    assert result.summary == "all" and result.allowed
    assert (result.src, result.dst) == (shown, "shop/db[Deployment]")


def test_one_verdict_for_a_workload_of_several_pods_is_refused() -> None:
    ps = cluster()
    with pytest.raises(PolicyError, match=r"'deploy/web' stands for 2 pods \(shop/web-5d4f-aaaaa, shop/web-5d4f-bbbbb\); "
                                          r"decide each with PolicySet.evaluate_each\(flow\)"):
        ps.evaluate(Flow(src="deploy/web", dst="deploy/db"))


def test_the_deployment_is_found_through_the_pod_template_hash_when_the_replicaset_is_missing() -> None:
    ps = netpolicy.from_objects([
        deployment("web"), pod("web-5d4f-aaaaa", "10.1.0.1", ("ReplicaSet", "web-5d4f"), "web", "5d4f"),
    ])
    assert [e.key for e in ps.endpoints] == ["shop/web-5d4f-aaaaa"]
    assert ps.endpoint("deploy/web").key == "shop/web-5d4f-aaaaa"


def test_a_cronjob_stands_for_the_pods_of_its_jobs() -> None:
    cron = {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "nightly", "namespace": "shop"},
            "spec": {"schedule": "0 0 * * *", "jobTemplate": {"spec": {"template": {"metadata": {"labels": {"app": "n"}},
                     "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "x"}]}}}}}}
    running = pod("nightly-28000000-x1", "10.1.0.9", ("Job", "nightly-28000000"), "n")
    ps = netpolicy.from_objects([cron, running])
    assert ps.endpoint("cj/nightly").key == "shop/nightly-28000000-x1"


def test_pods_of_a_controller_not_in_the_input_stay_pods() -> None:
    ps = netpolicy.from_objects([pod("x-1", "10.1.0.1", ("ReplicaSet", "x-77"), "x", "77")])
    assert [e.key for e in ps.endpoints] == ["shop/x-1"]
    assert ps.names.owners.members == {}
