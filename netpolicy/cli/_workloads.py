"""Pods collapsed into fewer rows: workloads (the replicas of one controller) and
namespaces, for pictures too large to show one row per pod.

Replicas are recognised by their controller (``ownerReferences``) when the manifests
name it, else by what they share: namespace, service account and labels, less the labels
their controllers set per pod or per revision (``pod-template-hash`` and the like). Pods
that share these are alike to every selector, so they are usually decided alike; the
picture still counts the allowed pairs of every pod, so a group whose pods are decided
differently (an address-based rule, say) shows as partly allowed.
"""

from __future__ import annotations

import os
from typing import Callable, Sequence

import attrs

from ..model import Endpoint

__all__ = ["PER_POD_LABELS", "Group", "by_pod", "by_workload", "by_namespace", "LEVELS"]

#: Labels controllers set per pod or per revision: replicas differ only in these.
PER_POD_LABELS = frozenset(
    {
        "pod-template-hash",
        "pod-template-generation",
        "controller-revision-hash",
        "statefulset.kubernetes.io/pod-name",
        "apps.kubernetes.io/pod-index",
        "batch.kubernetes.io/job-completion-index",
        "controller-uid",
        "batch.kubernetes.io/controller-uid",
    }
)


@attrs.frozen
class Group:
    """One row (and column) of the picture: its label, its namespace and its pods (by
    their index in the pod list), the first of which stands for it in tooltips."""

    label: str
    namespace: str
    members: tuple[int, ...]


def by_pod(pods: Sequence[Endpoint]) -> list[Group]:
    """One group per pod."""
    return [Group(label=pod.key, namespace=pod.namespace or "", members=(index,)) for index, pod in enumerate(pods)]


def _workload_name(pods: Sequence[Endpoint]) -> str:
    """The replicas' common name: their names' common prefix up to a dash, without the
    revision's hash (``web-7d4b9c-x2k4p``, ``web-7d4b9c-x9z8m`` -> ``web``)."""
    names = [pod.name or "" for pod in pods]
    if len(names) == 1:
        return names[0]
    prefix = os.path.commonprefix(names)
    cut = prefix.rfind("-")  # the replicas' own suffixes may share a first letter or two
    prefix = prefix[:cut] if cut > 0 else prefix.rstrip("-.")
    revision = pods[0].labels.get("pod-template-hash")
    if revision and prefix.endswith("-" + revision):
        prefix = prefix[: -len(revision) - 1]
    return prefix or names[0]


def _controller(pod: Endpoint) -> str | None:
    """The name of the workload that owns ``pod`` (a Deployment's for the pods of its
    ReplicaSets), when the manifests say."""
    if pod.owner is None:
        return None
    kind, name = pod.owner
    revision = pod.labels.get("pod-template-hash")
    if kind == "ReplicaSet" and revision and name.endswith("-" + revision):
        return name[: -len(revision) - 1]
    return name


def by_workload(pods: Sequence[Endpoint]) -> list[Group]:
    """Pods of one controller, or else with the same namespace, service account and
    labels (less PER_POD_LABELS), in one group labelled ``namespace/name``."""
    found: dict[tuple[object, ...], list[int]] = {}
    for index, pod in enumerate(pods):
        controller = _controller(pod)
        if controller is not None:
            key: tuple[object, ...] = (pod.namespace or "", "owner", controller)
        else:
            labels = tuple(sorted((k, v) for k, v in pod.labels.items() if k not in PER_POD_LABELS))
            key = (pod.namespace or "", "alike", pod.service_account, labels)
        found.setdefault(key, []).append(index)
    groups = []
    for key, members in found.items():
        namespace = str(key[0])
        name = str(key[2]) if key[1] == "owner" else _workload_name([pods[i] for i in members])
        groups.append(Group(label=f"{namespace}/{name}", namespace=namespace, members=tuple(members)))
    return sorted(groups, key=lambda g: (g.namespace, g.label, g.members))


def by_namespace(pods: Sequence[Endpoint]) -> list[Group]:
    """One group per namespace."""
    found: dict[str, list[int]] = {}
    for index, pod in enumerate(pods):
        found.setdefault(pod.namespace or "", []).append(index)
    return [Group(label=namespace, namespace=namespace, members=tuple(members)) for namespace, members in sorted(found.items())]


#: The levels of the picture, finest first: (name, grouping).
LEVELS: tuple[tuple[str, Callable[[Sequence[Endpoint]], list[Group]]], ...] = (
    ("pods", by_pod),
    ("workloads", by_workload),
    ("namespaces", by_namespace),
)
