"""From what the loader produced to the normalized contents of a Snapshot: the profiles
Calico generates, the effective labels of every endpoint and network set, the workloads
that stand for real Pods (:mod:`.owners`), synthetic addresses for the endpoints the
manifests give none (:mod:`.addresses`), and the Services' backends (:mod:`.services`)."""

from __future__ import annotations

from typing import Any, Mapping

import attrs

from ..loader._build import Loaded
from ..loader.records import DEFAULT_ALLOW_PROFILE, NamespaceRecord, ServiceAccountRecord, service_account_profile_name
from ..model import Endpoint, IPNetwork, Profile
from .addresses import give_addresses, parse_pod_cidr
from .names import Names
from .owners import fold_owners
from .services import selector_backends, services_by_key
from .profiles import (
    default_allow_profile,
    effective_endpoint_labels,
    merge_services,
    namespace_profile,
    network_set_labels,
    service_account_profile,
)

__all__ = ["normalize"]


def normalize(loaded: Loaded, *, pod_cidr: str | IPNetwork | None = None) -> dict[str, Any]:
    """The keyword arguments of a Snapshot (and so of a PolicySet) for ``loaded``.
    ``pod_cidr`` is the pool of synthetic addresses (see :mod:`.addresses`)."""
    profiles = _profiles(loaded)
    services = merge_services(loaded.slices)
    records, owners = fold_owners(loaded.workloads)
    made = [record.endpoint for record in records if record.from_pod and not record.endpoint.ips]
    real = [record.endpoint for record in records if record.endpoint.ips] + list(loaded.hosts)
    pool, note = give_addresses(
        made, real, loaded.policies, profiles.values(), loaded.network_sets, services, pod_cidr
    )
    endpoints = []
    for record in records:
        orchestrator = "k8s" if record.from_pod else record.orchestrator
        labels = effective_endpoint_labels(record.endpoint, profiles, from_pod=record.from_pod, orchestrator=orchestrator)
        endpoints.append(_complete(record.endpoint, labels))
    for endpoint in loaded.hosts:
        endpoints.append(_complete(endpoint, effective_endpoint_labels(endpoint, profiles)))
    sets = [attrs.evolve(item, effective_labels=network_set_labels(item, profiles)) for item in loaded.network_sets]
    return {
        "tiers": loaded.tiers,
        "policies": loaded.policies,
        "profiles": profiles.values(),
        "endpoints": endpoints,
        "network_sets": sets,
        "services": services + tuple(selector_backends(loaded.kube_services, endpoints, services)),
        "warnings": loaded.warnings + ((note,) if note else ()),
        "address_pool": pool,
        "pod_cidr": parse_pod_cidr(pod_cidr) if pod_cidr is not None else None,
        "names": Names(owners, services_by_key(loaded.kube_services)),
        "calico_version": loaded.calico_version,
    }


def _profiles(loaded: Loaded) -> Mapping[str, Profile]:
    """Generated for namespaces and service accounts, then what the manifests define (a
    Profile document replaces a generated one of its name)."""
    profiles: dict[str, Profile] = {DEFAULT_ALLOW_PROFILE: default_allow_profile()}
    for name, labels in loaded.namespaces.items():
        profile = namespace_profile(NamespaceRecord(name, labels))
        profiles[profile.name] = profile
    for account in loaded.accounts:
        profile = service_account_profile(account)
        profiles[profile.name] = profile
    for record in loaded.workloads:
        endpoint = record.endpoint
        if record.from_pod and endpoint.namespace and endpoint.service_account:
            name = service_account_profile_name(endpoint.namespace, endpoint.service_account)
            if name not in profiles:
                profiles[name] = service_account_profile(ServiceAccountRecord(endpoint.namespace, endpoint.service_account, {}))
    profiles.update((profile.name, profile) for profile in loaded.profiles)
    return profiles


def _complete(endpoint: Endpoint, labels: Mapping[str, str]) -> Endpoint:
    """Fill in the effective labels. The endpoint was made by this load and is not shared
    yet, so it is completed in place rather than copied (which would run every attrs
    converter again)."""
    object.__setattr__(endpoint, "effective_labels", labels)
    return endpoint
