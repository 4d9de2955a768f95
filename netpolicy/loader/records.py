"""What the inventory converters produce besides model values, and the names Calico
gives to what it generates: the records the resolve stage turns into profiles and
effective labels."""

from __future__ import annotations

from typing import Mapping

import attrs

from ..model import Action, Endpoint, Origin, Tier, _frozen_labels

__all__ = [
    "NAMESPACE_LABEL",
    "ORCHESTRATOR_LABEL",
    "SERVICE_ACCOUNT_LABEL",
    "METADATA_NAME_LABEL",
    "SERVICE_NAME_LABEL",
    "BUILTIN_TIERS",
    "DEFAULT_ALLOW_PROFILE",
    "NamespaceRecord",
    "ServiceAccountRecord",
    "WorkloadRecord",
    "namespace_profile_name",
    "service_account_profile_name",
    "default_profiles",
]

NAMESPACE_LABEL = "projectcalico.org/namespace"
ORCHESTRATOR_LABEL = "projectcalico.org/orchestrator"
SERVICE_ACCOUNT_LABEL = "projectcalico.org/serviceaccount"
METADATA_NAME_LABEL = "kubernetes.io/metadata.name"
SERVICE_NAME_LABEL = "kubernetes.io/service-name"

#: Tiers Calico creates itself (v3.32+ names and the v3.31-and-earlier admin/baseline names).
BUILTIN_TIERS: tuple[Tier, ...] = (
    Tier("adminnetworkpolicy", 1000.0, Action.PASS),
    Tier("kube-admin", 1000.0, Action.PASS),
    Tier("default", 1_000_000.0, Action.DENY),
    Tier("kube-baseline", 10_000_000.0, Action.PASS),
    Tier("baselineadminnetworkpolicy", 10_000_000.0, Action.PASS),
)

#: The built-in profile that allows everything (auto-created host endpoints use it).
DEFAULT_ALLOW_PROFILE = "projectcalico-default-allow"


@attrs.frozen
class NamespaceRecord:
    """A Namespace, with ``kubernetes.io/metadata.name`` among its labels."""

    name: str
    labels: Mapping[str, str] = attrs.field(converter=_frozen_labels)
    origin: Origin | None = attrs.field(default=None, eq=False)


@attrs.frozen
class ServiceAccountRecord:
    namespace: str
    name: str
    labels: Mapping[str, str] = attrs.field(converter=_frozen_labels)
    origin: Origin | None = attrs.field(default=None, eq=False)


@attrs.frozen
class WorkloadRecord:
    """A workload endpoint before normalization. ``from_pod`` is True for Pods (whose
    ``pcns.``/``pcsa.`` labels are dropped and whose orchestrator is ``k8s``);
    ``orchestrator`` is a WorkloadEndpoint's ``spec.orchestrator``."""

    endpoint: Endpoint
    from_pod: bool
    orchestrator: str | None = "k8s"


def namespace_profile_name(namespace: str) -> str:
    return f"kns.{namespace}"


def service_account_profile_name(namespace: str, account: str) -> str:
    return f"ksa.{namespace}.{account}"


def default_profiles(endpoint: Endpoint) -> tuple[str, ...]:
    """The profiles a pod in ``endpoint.namespace`` has: ``kns.<ns>`` then
    ``ksa.<ns>.<sa>`` when it has a service account."""
    if endpoint.is_host or not endpoint.namespace:
        return ()
    names = [namespace_profile_name(endpoint.namespace)]
    if endpoint.service_account:
        names.append(service_account_profile_name(endpoint.namespace, endpoint.service_account))
    return tuple(names)
