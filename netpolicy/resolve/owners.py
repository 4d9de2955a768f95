"""Real Pods and the workloads that own them.

When the input holds a workload and Pods it controls (``kubectl get deploy,rs,pods -o
yaml``), the workload stands for those Pods: asking for ``deploy/web`` asks for each of
its Pods, and the workload gets no endpoint of its own. A Pod's controller is found by
its ``ownerReferences``, then up the chain (a ReplicaSet's Deployment, a Job's CronJob);
when the link in between is not in the input, by the names controllers give (a
Deployment's ReplicaSet is ``<deployment>-<pod-template-hash>``, a CronJob's Job
``<cronjob>-<scheduled time>``). A workload whose own controller is in the input (an old
ReplicaSet of a Deployment) is folded into it.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import attrs

from ..loader.records import WorkloadRecord
from ..model import Endpoint

__all__ = ["Owners", "fold_owners"]


@attrs.frozen
class Owners:
    """``members`` maps a workload's key (``namespace/name[Kind]``) to the keys of the
    real Pods it stands for; ``folded`` maps the key of a workload folded into its
    controller to the controller's key."""

    members: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict)
    folded: Mapping[str, str] = attrs.field(factory=dict)


def _key(namespace: str | None, kind: str, name: str) -> str:
    return f"{namespace}/{name}[{kind}]"


def _guess(endpoint: Endpoint, kind: str, name: str, known: Mapping[str, Endpoint]) -> str | None:
    """The controller above a missing ReplicaSet or Job, by the names controllers give."""
    namespace = endpoint.namespace
    if kind == "ReplicaSet":
        digest = endpoint.labels.get("pod-template-hash")
        if digest and name.endswith(f"-{digest}"):
            key = _key(namespace, "Deployment", name[: -len(digest) - 1])
            return key if key in known else None
    if kind == "Job":
        stem, dash, stamp = name.rpartition("-")
        if dash and stamp.isdigit():
            key = _key(namespace, "CronJob", stem)
            return key if key in known else None
    return None


def _chain(endpoint: Endpoint, known: Mapping[str, Endpoint]) -> list[str]:
    """The keys of the controllers of ``endpoint`` in the input, nearest first."""
    chain: list[str] = []
    current = endpoint
    while current.owner is not None and len(chain) < 8:
        kind, name = current.owner
        key = _key(current.namespace, kind, name)
        above = known.get(key)
        if above is None:
            guessed = _guess(current, kind, name, known) if not chain else None
            if guessed is not None:
                chain.append(guessed)
            break
        chain.append(key)
        current = above
    return chain


def fold_owners(records: Sequence[WorkloadRecord]) -> tuple[list[WorkloadRecord], Owners]:
    """The records that stay endpoints, and who stands for whom."""
    known = {r.endpoint.key: r.endpoint for r in records if r.endpoint.workload is not None}
    if not known:
        return list(records), Owners()
    members: dict[str, list[str]] = {}
    folded: dict[str, str] = {}
    for record in records:
        endpoint = record.endpoint
        if endpoint.workload is None:
            for key in _chain(endpoint, known):
                members.setdefault(key, []).append(endpoint.key)
        elif endpoint.owner is not None:
            chain = _chain(endpoint, known)
            if chain:
                folded[endpoint.key] = chain[-1]
    for key in list(folded):
        if key in members:  # it has Pods of its own: they answer for it
            del folded[key]
    kept = [
        record for record in records
        if record.endpoint.key not in members and record.endpoint.key not in folded
    ]
    return kept, Owners({key: tuple(pods) for key, pods in members.items()}, folded)
