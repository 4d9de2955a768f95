"""Differential property: an endpoint made from a workload decides every flow as a Pod
with the same template and the same address does."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, strategies as st

import netpolicy
from netpolicy import Flow
from netpolicy.loader.controllers import JOB_NAME_LABELS
from netpolicy.testing import strategies as nps

KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job", "CronJob", "Pod")
MARK = "workload.example.com/under-test"
INVENTORY = ("ServiceAccount", "NetworkSet", "GlobalNetworkSet", "Tier", "Profile")  # no WorkloadEndpoint of the pod


def _flatten(documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    flat = []
    for document in documents:
        if document.get("kind") == "List":
            flat.extend(document.get("items") or [])
        else:
            flat.append(document)
    return flat


def _workload(kind: str, pod: dict[str, Any], labels: dict[str, str]) -> dict[str, Any]:
    meta = {"name": pod["metadata"]["name"], "namespace": pod["metadata"]["namespace"]}
    spec = copy.deepcopy(pod["spec"])
    if kind == "Pod":  # a Pod without an address: the pool gives it the same one
        return {"apiVersion": "v1", "kind": "Pod", "metadata": {**meta, "labels": labels}, "spec": spec}
    template = {"metadata": {"labels": labels}, "spec": spec}
    api = {"Job": "batch/v1", "CronJob": "batch/v1", "ReplicationController": "v1"}.get(kind, "apps/v1")
    if kind == "CronJob":
        body: dict[str, Any] = {"schedule": "@hourly", "jobTemplate": {"spec": {"template": template}}}
    elif kind == "Job":
        body = {"template": template}
    elif kind == "ReplicationController":
        body = {"selector": {MARK: "yes"}, "template": template}
    else:
        body = {"selector": {"matchLabels": {MARK: "yes"}}, "template": template}
    return {"apiVersion": api, "kind": kind, "metadata": meta, "spec": body}


def _same(a: netpolicy.Verdict, b: netpolicy.Verdict) -> tuple[Any, ...]:
    def side(decision: Any) -> Any:
        if decision is None:
            return None
        return (decision.action, decision.reason, decision.tier, decision.policy, decision.rule, decision.profile, decision.layer)

    def whole(v: netpolicy.Verdict) -> Any:
        pending = v.pending.action if v.pending is not None else None
        return (v.action, side(v.egress), side(v.ingress), v.logged, pending)

    return whole(a), whole(b)


@given(nps.manifests(ipv6=False, wrap=False, inventory=INVENTORY), st.sampled_from(KINDS), st.data())
def test_a_workload_decides_as_a_pod_with_its_template_and_address(
    documents: list[dict[str, Any]], kind: str, data: st.DataObject
) -> None:
    documents = _flatten(documents)
    pods = [d for d in documents if d.get("kind") == "Pod"]
    pod = copy.deepcopy(data.draw(st.sampled_from(pods), label="pod"))
    labels = {**pod["metadata"].get("labels", {}), MARK: "yes"}
    if kind == "Job":
        labels.update(dict.fromkeys(JOB_NAME_LABELS, pod["metadata"]["name"]))
    pod["metadata"]["labels"] = labels
    address = pod["status"]["podIP"]
    pod["status"] = {"phase": "Running", "podIP": address}
    others = [d for d in documents if d is not _original(documents, pod)]
    as_pod = netpolicy.from_objects(others + [pod])
    as_workload = netpolicy.from_objects(others + [_workload(kind, pod, labels)], pod_cidr=f"{address}/32")

    name = f"{pod['metadata']['namespace']}/{pod['metadata']['name']}"
    workload = name if kind == "Pod" else f"{name}[{kind}]"
    endpoint = as_workload.endpoint(workload)
    assert endpoint.synthetic and [str(ip) for ip in endpoint.ips] == [address]
    peers = [e.key for e in as_pod.endpoints if e.key != name] + ["192.0.2.7", "10.0.0.250"]
    for peer in data.draw(st.lists(st.sampled_from(peers), min_size=1, max_size=3, unique=True), label="peers"):
        protocol = data.draw(st.sampled_from(["TCP", "UDP", "ICMP"]), label="protocol")
        port = None if protocol == "ICMP" else data.draw(st.sampled_from([None, 53, 80, 443, 5432, 8080]), label="port")
        for src, dst in ((name, peer), (peer, name)):
            def at(side: str) -> str:
                return workload if side == name else side

            expected = as_pod.evaluate(Flow(src=src, dst=dst, protocol=protocol, dst_port=port))
            got = as_workload.evaluate(Flow(src=at(src), dst=at(dst), protocol=protocol, dst_port=port))
            mine, theirs = _same(expected, got)
            assert mine == theirs, (src, dst, protocol, port)


def _original(documents: list[dict[str, Any]], pod: dict[str, Any]) -> dict[str, Any]:
    for document in documents:
        if document.get("kind") == "Pod" and document["metadata"]["name"] == pod["metadata"]["name"] \
                and document["metadata"].get("namespace") == pod["metadata"]["namespace"]:
            return document
    raise AssertionError("the drawn pod is not among the documents")
