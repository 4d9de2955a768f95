"""Flow sides named kubectl style: ``[NAMESPACE/]KIND/NAME`` with kubectl's resource
names and short names, ``namespace/name[Kind]``; ``NAMESPACE/NAME`` stays a pod; unknown
and ambiguous names list the nearest candidates."""

from __future__ import annotations

from typing import Any

import pytest

import netpolicy
from netpolicy import Flow, PolicyError
from netpolicy.resolve.names import KIND_NAMES


def template(app: str) -> dict[str, Any]:
    return {"metadata": {"labels": {"app": app}}, "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "x"}]}}


def obj(kind: str, name: str, namespace: str = "shop") -> dict[str, Any]:
    api = {"Job": "batch/v1", "CronJob": "batch/v1", "ReplicationController": "v1", "Pod": "v1", "Service": "v1"}.get(kind, "apps/v1")
    meta = {"name": name, "namespace": namespace}
    if kind == "Pod":
        return {"apiVersion": api, "kind": kind, "metadata": {**meta, "labels": {"app": name}}, "status": {"podIP": f"10.0.{len(name)}.{len(namespace)}"}}
    if kind == "Service":
        return {"apiVersion": api, "kind": kind, "metadata": meta, "spec": {"selector": {"app": name}, "ports": [{"port": 80}]}}
    if kind == "CronJob":
        spec: dict[str, Any] = {"schedule": "@daily", "jobTemplate": {"spec": {"template": template(name)}}}
    elif kind == "Job":
        spec = {"template": template(name)}
    elif kind == "ReplicationController":
        spec = {"selector": {"app": name}, "template": template(name)}
    else:
        spec = {"selector": {"matchLabels": {"app": name}}, "template": template(name)}
    return {"apiVersion": api, "kind": kind, "metadata": meta, "spec": spec}


KINDS = {"Deployment": "web", "StatefulSet": "db", "DaemonSet": "agent", "ReplicaSet": "cache", "Job": "migrate",
         "CronJob": "report", "ReplicationController": "legacy", "Pod": "tool"}


@pytest.fixture(scope="module")
def ps() -> netpolicy.PolicySet:
    objects = [obj(kind, name) for kind, name in KINDS.items()]
    objects += [obj("Deployment", "web", "other"), obj("Pod", "web", "deploy"), obj("Service", "web")]
    return netpolicy.from_objects(objects)


@pytest.mark.parametrize(("kind", "words"), [
    ("Deployment", ["deployment", "deployments", "deploy", "deployment.apps", "Deployments.apps"]),
    ("StatefulSet", ["statefulset", "statefulsets", "sts", "statefulset.apps"]),
    ("DaemonSet", ["daemonset", "daemonsets", "ds"]),
    ("ReplicaSet", ["replicaset", "replicasets", "rs"]),
    ("Job", ["job", "jobs", "job.batch"]),
    ("CronJob", ["cronjob", "cronjobs", "cj", "cronjob.batch"]),
    ("ReplicationController", ["replicationcontroller", "replicationcontrollers", "rc"]),
    ("Pod", ["pod", "pods", "po"]),
])
def test_every_kubectl_name_of_every_kind(ps: netpolicy.PolicySet, kind: str, words: list[str]) -> None:
    name = KINDS[kind]
    key = f"shop/{name}" if kind == "Pod" else f"shop/{name}[{kind}]"
    for word in words:
        assert ps.endpoint(f"shop/{word}/{name}").key == key
    assert ps.endpoint(key).key == key  # the name output gives reads back


def test_every_kind_name_is_known() -> None:
    assert {"svc", "service", "services", "po", "cj", "rc", "sts", "ds", "rs", "deploy"} <= set(KIND_NAMES)


def test_a_kind_and_name_without_namespace_is_looked_for_everywhere(ps: netpolicy.PolicySet) -> None:
    assert ps.endpoint("sts/db").key == "shop/db[StatefulSet]"
    with pytest.raises(PolicyError, match=r"'deployment/web' is ambiguous: it names other/deploy/web, shop/deploy/web; "
                                          "give the namespace and kind"):
        ps.endpoint("deployment/web")  # a Deployment web in two namespaces
    # a pod of that name in a namespace called deploy is what NAMESPACE/NAME names
    assert ps.endpoint("deploy/web").key == "deploy/web"


def test_namespace_slash_name_stays_a_pod(ps: netpolicy.PolicySet) -> None:
    assert ps.endpoint("shop/tool").key == "shop/tool"
    with pytest.raises(PolicyError, match=r"no pod, workload or Service 'shop/web' in the policy set; did you mean "
                                          r"deploy/web, shop/deploy/web, shop/svc/web, other/deploy/web\?"):
        ps.endpoint("shop/web")  # a Deployment and a Service are named web there, but no pod


def test_unknown_names_list_the_nearest(ps: netpolicy.PolicySet) -> None:
    with pytest.raises(PolicyError, match=r"no pod, workload or Service 'shop/deploy/wbe' in the policy set; did you mean "
                                          r"shop/deploy/web"):
        ps.endpoint("shop/deploy/wbe")
    with pytest.raises(PolicyError, match=r"'shop/widget/x': 'widget' is not a kind a flow side may name"):
        ps.endpoint("shop/widget/x")


def test_flow_accepts_every_form() -> None:
    for side in ("shop/deploy/web", "deploy/web", "shop/web[Deployment]", "shop/pod"):
        assert Flow(src=side, dst="10.0.0.1").src == side
    for bad in ("a/b/c/d", "a//b", "/a", "a/"):
        with pytest.raises(PolicyError, match="is not of the form 'namespace/pod' or '\\[namespace/\\]kind/name'"):
            Flow(src=bad, dst="10.0.0.1")


@pytest.mark.parametrize("side", ["shop/sts/db", "sts/db", "shop/db[StatefulSet]", "shop/statefulset.apps/db"])
def test_names_work_in_flows_on_every_path(ps: netpolicy.PolicySet, side: str) -> None:
    from netpolicy.reference import evaluate

    expected = evaluate(ps, Flow(src="shop/db[StatefulSet]", dst="shop/tool", dst_port=80))
    flow = Flow(src=side, dst="shop/po/tool", dst_port=80)
    assert evaluate(ps, flow).action is expected.action
    assert ps.evaluate(flow).action is expected.action
    assert bool(ps.evaluate_many([flow]).allowed[0]) is expected.allowed
    assert ps.evaluate_each(flow).verdicts[0].action is expected.action


def test_names_work_in_columns(ps: netpolicy.PolicySet) -> None:
    from netpolicy.reference import evaluate

    expected = evaluate(ps, Flow(src="shop/db[StatefulSet]", dst="shop/tool", dst_port=80)).allowed
    columns = {"src": ["shop/sts/db", "sts/db", "shop/db[StatefulSet]"], "dst": ["shop/po/tool"] * 3,
               "protocol": ["TCP"] * 3, "dst_port": [80] * 3}
    assert ps.evaluate_many(columns).allowed.tolist() == [expected] * 3
    with pytest.raises(PolicyError, match="is not of the form 'namespace/pod' or '\\[namespace/\\]kind/name'"):
        ps.evaluate_many({"src": ["a/b/c/d"], "dst": ["shop/tool"], "protocol": ["TCP"], "dst_port": [80]})
