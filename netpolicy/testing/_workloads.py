"""Workload manifests: Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs, CronJobs
and ReplicationControllers, whose pod templates are drawn as Pods are (labels of the
vocabulary, named container or init-container ports, a service account), without an
address: the loader gives each a synthetic one."""

from __future__ import annotations

from typing import Any, Sequence

from hypothesis import strategies as st

from ._inventory import _pod
from ._vocabulary import Manifest, Vocabulary, _check_size, _check_vocab

__all__ = ["WORKLOAD_KINDS", "workloads"]

#: The workload kinds drawn, with their apiVersion.
WORKLOAD_KINDS = {
    "Deployment": "apps/v1",
    "StatefulSet": "apps/v1",
    "DaemonSet": "apps/v1",
    "ReplicaSet": "apps/v1",
    "Job": "batch/v1",
    "CronJob": "batch/v1",
    "ReplicationController": "v1",
}

#: The label every drawn template carries, so that the selector it needs matches it.
_MARK = "workload"


@st.composite
def _workload(
    draw: st.DrawFn, vocab: Vocabulary, index: int, namespace: str | None = None,
    service_accounts: Sequence[str] = (), kinds: Sequence[str] = tuple(WORKLOAD_KINDS),
) -> Manifest:
    kind = draw(st.sampled_from(tuple(kinds)))
    pod = draw(_pod(vocab, index, namespace, service_accounts))
    name = f"w{index}"
    labels = {**pod["metadata"].get("labels", {}), _MARK: name}
    template = {"metadata": {"labels": labels}, "spec": pod["spec"]}
    spec: dict[str, Any]
    if kind in ("Job", "CronJob"):
        template["spec"]["restartPolicy"] = "Never"
        job: dict[str, Any] = {"template": template}
        if draw(st.integers(0, 3)) == 0:
            job["parallelism"] = draw(st.integers(0, 2))
        spec = job if kind == "Job" else {"schedule": "*/10 * * * *", "jobTemplate": {"spec": job}}
    elif kind == "ReplicationController":
        spec = {"selector": {_MARK: name}, "template": template}
    else:
        spec = {"selector": {"matchLabels": {_MARK: name}}, "template": template}
        if kind == "StatefulSet":
            spec["serviceName"] = name
    if kind not in ("DaemonSet", "Job", "CronJob") and draw(st.booleans()):
        spec["replicas"] = draw(st.integers(0, 3))
    meta = {"name": name, "namespace": pod["metadata"]["namespace"]}
    return {"apiVersion": WORKLOAD_KINDS[kind], "kind": kind, "metadata": meta, "spec": spec}


def workloads(
    vocab: Vocabulary | None = None, *, index: int = 0, service_accounts: Sequence[str] = ()
) -> st.SearchStrategy[Manifest]:
    """Workload manifests of every kind of :data:`WORKLOAD_KINDS`, named ``w<index>``,
    with a pod template drawn as :func:`pods` draws a Pod (no address)."""
    _check_size("index", index, 0, 250)
    return _workload(_check_vocab(vocab), index, None, tuple(service_accounts))
