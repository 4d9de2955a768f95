"""The profiles Calico generates and the labels selectors see: profiles of namespaces
and service accounts, effective labels of endpoints and network sets, Services merged
from their EndpointSlices."""

from __future__ import annotations

from typing import Iterable, Mapping

from ..loader.records import (
    DEFAULT_ALLOW_PROFILE,
    METADATA_NAME_LABEL,
    NAMESPACE_LABEL,
    ORCHESTRATOR_LABEL,
    SERVICE_ACCOUNT_LABEL,
    NamespaceRecord,
    ServiceAccountRecord,
    default_profiles,
    namespace_profile_name,
    service_account_profile_name,
)
from ..model import Action, Endpoint, FrozenLabels, NetworkSet, Profile, Rule, ServiceBackends

__all__ = [
    "namespace_profile",
    "service_account_profile",
    "default_allow_profile",
    "effective_endpoint_labels",
    "network_set_labels",
    "merge_services",
]

_ALLOW_ALL = (Rule(action=Action.ALLOW),)
_ANTI_SPOOF = ("pcns.", "pcsa.")


def namespace_profile(namespace: NamespaceRecord) -> Profile:
    """``kns.<ns>``: lends ``pcns.<k>=<v>`` for every namespace label plus
    ``pcns.projectcalico.org/name``; allows everything both ways."""
    labels = {f"pcns.{key}": value for key, value in namespace.labels.items()}
    labels["pcns.projectcalico.org/name"] = namespace.name
    return Profile(namespace_profile_name(namespace.name), labels, _ALLOW_ALL, _ALLOW_ALL, origin=namespace.origin)


def service_account_profile(account: ServiceAccountRecord) -> Profile:
    """``ksa.<ns>.<sa>``: lends ``pcsa.<k>=<v>`` plus ``pcsa.projectcalico.org/name``;
    no rules."""
    labels = {f"pcsa.{key}": value for key, value in account.labels.items()}
    labels["pcsa.projectcalico.org/name"] = account.name
    return Profile(service_account_profile_name(account.namespace, account.name), labels, origin=account.origin)


def default_allow_profile() -> Profile:
    """The built-in ``projectcalico-default-allow``: allow all, both ways."""
    return Profile(DEFAULT_ALLOW_PROFILE, {}, _ALLOW_ALL, _ALLOW_ALL)


def _undeclared_namespace_labels(namespace: str) -> Mapping[str, str]:
    """What ``kns.<ns>`` lends for a namespace no document declares: its name, and the
    ``kubernetes.io/metadata.name`` label the API server would have set."""
    return {"pcns.projectcalico.org/name": namespace, f"pcns.{METADATA_NAME_LABEL}": namespace}


def _implied_labels(name: str, endpoint: Endpoint) -> Mapping[str, str]:
    """What a missing default profile would lend (a hand-built endpoint in a namespace
    the inventory does not hold behaves as in a real cluster)."""
    namespace = endpoint.namespace
    if namespace and name == namespace_profile_name(namespace):
        return _undeclared_namespace_labels(namespace)
    account = endpoint.service_account
    if namespace and account and name == service_account_profile_name(namespace, account):
        return {"pcsa.projectcalico.org/name": account}
    return {}


def effective_endpoint_labels(
    endpoint: Endpoint,
    profiles: Mapping[str, Profile],
    *,
    from_pod: bool = True,
    orchestrator: str | None = "k8s",
) -> Mapping[str, str]:
    """The labels selectors see on ``endpoint``.

    A workload endpoint with a namespace is treated like a pod there: its ``pcns.``/
    ``pcsa.`` labels are dropped (unless ``from_pod`` is False: a WorkloadEndpoint
    manifest), ``projectcalico.org/namespace``, ``/orchestrator`` and
    ``/serviceaccount`` are set, and its profiles default to ``kns.<ns>``,
    ``ksa.<ns>.<sa>``. Then every profile lends its ``labelsToApply``: own labels shadow
    inherited ones and the first profile with a key wins.
    """
    if endpoint.is_host or not endpoint.namespace:
        own = dict(endpoint.labels)
    else:
        if from_pod:
            own = {k: v for k, v in endpoint.labels.items() if not k.startswith(_ANTI_SPOOF)}
        else:
            own = dict(endpoint.labels)
        own[NAMESPACE_LABEL] = endpoint.namespace
        if orchestrator:
            own[ORCHESTRATOR_LABEL] = orchestrator
        if endpoint.service_account:
            own[SERVICE_ACCOUNT_LABEL] = endpoint.service_account
    chain = endpoint.profiles if endpoint.profiles is not None else default_profiles(endpoint)
    for name in chain:
        profile = profiles.get(name)
        lent = profile.labels_to_apply if profile is not None else _implied_labels(name, endpoint)
        for key, value in lent.items():
            own.setdefault(key, value)
    return FrozenLabels(own)


def network_set_labels(network_set: NetworkSet, profiles: Mapping[str, Profile]) -> Mapping[str, str]:
    """A NetworkSet's labels plus ``projectcalico.org/namespace``, then what ``kns.<ns>``
    lends; a GlobalNetworkSet has only its own labels."""
    labels = dict(network_set.labels)
    if network_set.namespace:
        labels[NAMESPACE_LABEL] = network_set.namespace
        profile = profiles.get(namespace_profile_name(network_set.namespace))
        lent = profile.labels_to_apply if profile is not None else _undeclared_namespace_labels(network_set.namespace)
        for key, value in lent.items():
            labels.setdefault(key, value)
    return FrozenLabels(labels)


def merge_services(slices: Iterable[ServiceBackends]) -> tuple[ServiceBackends, ...]:
    """One ServiceBackends per Service, from all its EndpointSlices."""
    merged: dict[tuple[str, str], ServiceBackends] = {}
    for item in slices:
        key = (item.namespace, item.name)
        seen = merged.get(key)
        if seen is None:
            merged[key] = item
        else:
            merged[key] = ServiceBackends(
                namespace=item.namespace,
                name=item.name,
                addresses=tuple(dict.fromkeys(seen.addresses + item.addresses)),
                ports=tuple(dict.fromkeys(seen.ports + item.ports)),
                origin=seen.origin,
            )
    return tuple(merged.values())
