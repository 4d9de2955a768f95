"""Kinds the loader does not read.

A repository, ``helm template`` output or ``kubectl get all -o yaml`` holds far more than
policies and what they act on: ConfigMaps, Secrets, RBAC, Ingresses, other projects'
custom resources... Those are skipped with one warning per kind. A kind the loader does
not know in one of the policy API groups (Calico's, ``policy.networking.k8s.io``, a
``...Policy`` of ``networking.k8s.io``), or a known kind under an apiVersion the loader
does not read, is most likely a typo or an unsupported version: it stays an error
unless ``strict=False``. Calico's configuration kinds (IPPool, BGPPeer,
FelixConfiguration...) do not act on flows and are skipped like the others.
"""

from __future__ import annotations

from typing import Collection

__all__ = ["POLICY_GROUPS", "CALICO_CONFIGURATION", "refused", "Skipped"]

#: API groups whose unknown kinds are errors in strict mode.
POLICY_GROUPS = frozenset({"projectcalico.org", "crd.projectcalico.org", "policy.networking.k8s.io"})

#: Calico kinds that configure the cluster rather than decide flows.
CALICO_CONFIGURATION = frozenset(
    {
        "BGPConfiguration", "BGPFilter", "BGPPeer", "BlockAffinity", "CalicoNodeStatus", "ClusterInformation",
        "FelixConfiguration", "IPAMBlock", "IPAMConfig", "IPAMConfiguration", "IPAMHandle", "IPPool",
        "IPReservation", "KubeControllersConfiguration", "Node",
    }
)  # fmt: skip


def _group(api_version: str) -> str:
    return api_version.rpartition("/")[0] if "/" in api_version else ""


def refused(api_version: str, kind: str, known_kinds: Collection[str]) -> bool:
    """Whether an unknown (apiVersion, kind) is an error in strict mode."""
    if kind in known_kinds:
        return True  # a kind the loader reads, under another apiVersion
    group = _group(api_version)
    if group in POLICY_GROUPS:
        return kind not in CALICO_CONFIGURATION or not group.endswith("projectcalico.org")
    return group == "networking.k8s.io" and kind.endswith("Policy")


class Skipped:
    """The documents skipped, counted per (apiVersion, kind), for one warning each."""

    def __init__(self) -> None:
        self._kinds: dict[tuple[str, str], list[str]] = {}

    def add(self, api_version: str, kind: str, place: str) -> None:
        self._kinds.setdefault((api_version, kind), []).append(place)

    def warnings(self) -> list[str]:
        lines = []
        for (api_version, kind), places in self._kinds.items():
            count = len(places)
            documents = f"{count} document{'s' if count != 1 else ''}"
            lines.append(
                f"{places[0]}: skipped {documents} of kind {kind!r} (apiVersion {api_version!r}): netpolicy does "
                "not read this kind"
            )
        return lines
