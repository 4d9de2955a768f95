"""The ends of connections as people name them: an endpoint, the pods of one workload,
or external addresses.

Pods that one workload owns are one *workload* party, named ``namespace/name[Kind]``,
when the tables decide them all alike (equal signatures): then every flow of one is a
flow of each. The owner is the topmost workload of the input that stands for the pod
(``PolicySet.names``), else the pod's controller (``Endpoint.owner``; a ReplicaSet named
after its Deployment and the pod's ``pod-template-hash`` stands for the Deployment).
Pods of a workload that are decided differently (an address-based rule that names some
of them) stay apart.
"""

from __future__ import annotations

from typing import Callable, Mapping, Sequence

import attrs

from ..model import Endpoint, IPNetwork
from .places import blocks_text, cidr_blocks

__all__ = ["Party", "Member", "controller", "owning_workloads", "group_endpoints", "external_party"]


@attrs.frozen(order=True)
class Party:
    """One end of a connection. ``kind`` is ``endpoint`` (a pod or another workload
    endpoint), ``workload`` (the pods of one controller, decided alike) or ``external``
    (addresses no endpoint owns). ``name`` is the endpoint's key, the workload's
    ``namespace/name[Kind]``, or for external addresses their CIDR blocks in words
    (``0.0.0.0/0 except 10.0.0.0/8``). ``endpoints`` are the keys of the endpoints it
    stands for; ``networks`` the external CIDR blocks (endpoints' own addresses in them
    are not external)."""

    name: str
    kind: str
    namespace: str | None = None
    endpoints: tuple[str, ...] = ()
    networks: tuple[IPNetwork, ...] = attrs.field(default=(), order=False)

    def __str__(self) -> str:
        return self.name


#: a party with the endpoints it stands for (the first one decides for all)
Member = tuple[Party, tuple[Endpoint, ...]]


def controller(endpoint: Endpoint) -> tuple[str, str] | None:
    """The (kind, name) of the workload owning ``endpoint``: its controller, or the
    Deployment behind a ReplicaSet that carries the pod's ``pod-template-hash``."""
    if endpoint.owner is None:
        return None
    kind, name = endpoint.owner
    revision = endpoint.labels.get("pod-template-hash")
    if kind == "ReplicaSet" and revision and name.endswith("-" + revision):
        return "Deployment", name[: -len(revision) - 1]
    return kind, name


_INNER = {"ReplicaSet": 1, "Job": 1}  # kinds another workload usually owns


def owning_workloads(members: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """Per pod key, the topmost workload standing for it, from a map of workload keys
    (``namespace/name[Kind]``) to the pods each stands for (a Deployment and its
    ReplicaSet both list the pods: the one with most pods, the outer kind on a tie)."""
    best: dict[str, tuple[int, int, str]] = {}
    for key, pods in members.items():
        kind = key[key.rfind("[") + 1 : -1]
        rank = (-len(pods), _INNER.get(kind, 0), key)
        for pod in pods:
            if pod not in best or rank < best[pod]:
                best[pod] = rank
    return {pod: rank[2] for pod, rank in best.items()}


def _single(endpoint: Endpoint) -> Member:
    party = Party(endpoint.key, "endpoint", endpoint.namespace, (endpoint.key,))
    return party, (endpoint,)


def group_endpoints(
    endpoints: Sequence[Endpoint], signature: Callable[[Endpoint], object], collapse: bool = True,
    owners: Mapping[str, str] | None = None,
) -> list[Member]:
    """The parties of ``endpoints``: pods of one workload (``owners``: pod key to
    workload key, see :func:`owning_workloads`; else :func:`controller`) with equal
    ``signature`` collapsed into a workload (when ``collapse``), every other endpoint
    on its own; ordered by namespace and name."""
    groups: dict[tuple[str, str], list[Endpoint]] = {}
    members: list[Member] = []
    for endpoint in endpoints:
        label = None
        if collapse and endpoint.workload is None and endpoint.namespace:
            label = (owners or {}).get(endpoint.key)
            owner = controller(endpoint) if label is None else None
            if owner is not None:
                label = f"{endpoint.namespace}/{owner[1]}[{owner[0]}]"
        if label is None:
            members.append(_single(endpoint))
        else:
            groups.setdefault((endpoint.namespace or "", label), []).append(endpoint)
    for (namespace, label), pods in groups.items():
        if len({signature(pod) for pod in pods}) > 1:
            members.extend(_single(pod) for pod in pods)  # decided differently: each its own
            continue
        keys = tuple(sorted(pod.key for pod in pods))
        members.append((Party(label, "workload", namespace or None, keys), tuple(pods)))
    members.sort(key=lambda m: (m[0].namespace or "", m[0].name))
    return members


def external_party(family: int, ranges: list[tuple[int, int]]) -> Party:
    """The external addresses in ``ranges`` (half-open, of one family)."""
    networks = tuple(cidr_blocks(family, ranges))
    return Party(blocks_text(family, ranges), "external", None, (), networks)
