"""The ends of connections as people name them: an endpoint, the pods of one workload,
or external addresses.

Pods that one controller owns (``Endpoint.owner``; a ReplicaSet named after its
Deployment and the pods' ``pod-template-hash`` stands for the Deployment) are one
*workload*, named ``namespace/name[Kind]``, when the tables decide them all alike (equal
signatures): then every flow of one is a flow of each. Pods of a controller that are
decided differently (an address-based rule that names some of them) stay apart.
"""

from __future__ import annotations

from typing import Callable, Sequence

import attrs

from ..model import Endpoint, IPNetwork
from .places import blocks_text, cidr_blocks

__all__ = ["Party", "Member", "controller", "group_endpoints", "external_party"]


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


def _single(endpoint: Endpoint) -> Member:
    party = Party(endpoint.key, "endpoint", endpoint.namespace, (endpoint.key,))
    return party, (endpoint,)


def group_endpoints(
    endpoints: Sequence[Endpoint], signature: Callable[[Endpoint], object], collapse: bool = True
) -> list[Member]:
    """The parties of ``endpoints``: pods of one controller with equal ``signature``
    collapsed into a workload (when ``collapse``), every other endpoint on its own;
    ordered by namespace and name."""
    groups: dict[tuple[str, str, str], list[Endpoint]] = {}
    members: list[Member] = []
    for endpoint in endpoints:
        owner = controller(endpoint) if collapse and endpoint.workload is None else None
        if owner is None:
            members.append(_single(endpoint))
        else:
            groups.setdefault((endpoint.namespace or "", owner[0], owner[1]), []).append(endpoint)
    for (namespace, kind, name), pods in groups.items():
        label = f"{namespace}/{name}[{kind}]"
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
