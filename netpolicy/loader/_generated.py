"""The profiles Calico generates, and Profile manifests that would take their place.

Calico gives every namespace a profile ``kns.<namespace>`` (it lends the namespace's
labels, as ``pcns.<key>``, and allows everything), every service account a profile
``ksa.<namespace>.<account>`` (it lends the account's labels as ``pcsa.<key>``), and has
the built-in ``projectcalico-default-allow``.

With the Kubernetes datastore (the default, ``datastore="kubernetes"``) these profiles are
derived from the Namespaces and ServiceAccounts each time they are read; they are not
stored and cannot be written. A Profile manifest of one of their names cannot exist in
such a cluster, and loading it would put its labels and rules in place of the derived
ones (a Profile ``kns.prod`` could lend namespace ``prod`` labels it does not have, and
so make a ``namespaceSelector`` match where Calico's would not): it is an error naming
both documents.

With the etcd datastore (``datastore="etcd"``) profiles are stored objects:
calico-kube-controllers writes the ``kns.`` and ``ksa.`` profiles from the Namespaces and
ServiceAccounts, and what the datastore holds is what Felix uses. A Profile manifest
then stands for the stored profile and replaces the one that would be generated.
"""

from __future__ import annotations

from typing import Any, Collection, Iterable, Mapping, Protocol

from ._endpoints import place
from ._fields import Document
from .records import (
    DEFAULT_ALLOW_PROFILE,
    NamespaceRecord,
    ServiceAccountRecord,
    WorkloadRecord,
    namespace_profile_name,
    service_account_profile_name,
)
from .registry import Meta, Registration

__all__ = ["DATASTORES", "KUBERNETES", "ETCD", "check_datastore", "generated_sources", "check_profile_names"]

KUBERNETES = "kubernetes"
ETCD = "etcd"
#: Where a cluster keeps Calico's data; it decides whether generated profiles can be written.
DATASTORES = (KUBERNETES, ETCD)


class _Entry(Protocol):
    doc: Document
    registration: Registration
    meta: Meta
    outputs: list[object]


def check_datastore(datastore: Any) -> str:
    """``datastore`` when it is one of :data:`DATASTORES`; ValueError otherwise."""
    if datastore not in DATASTORES:
        raise ValueError(f"datastore must be 'kubernetes' or 'etcd', got {datastore!r}")
    return str(datastore)


def generated_sources(entries: Iterable[_Entry], names: Collection[str]) -> dict[str, str]:
    """Of the profiles ``names``, those Calico generates for the loaded objects, with
    what each is generated from (for messages)."""
    sources: dict[str, str] = {}
    if DEFAULT_ALLOW_PROFILE in names:
        sources[DEFAULT_ALLOW_PROFILE] = "Calico's built-in profile that allows everything"
    used: dict[str, str] = {}  # namespace -> the first object in it
    from_pods: dict[str, str] = {}
    for entry in entries:
        meta = entry.meta
        namespace = meta.namespace
        if entry.registration.inventory and namespace is not None and namespace not in used:
            if namespace_profile_name(namespace) in names:
                used[namespace] = f"{meta.kind} {namespace}/{meta.name} at {place(meta.origin)}"
        for output in entry.outputs:
            if isinstance(output, NamespaceRecord):
                name = namespace_profile_name(output.name)
                if name in names:
                    sources[name] = f"Namespace {output.name} at {place(output.origin)}"
            elif isinstance(output, ServiceAccountRecord):
                name = service_account_profile_name(output.namespace, output.name)
                if name in names:
                    sources[name] = f"ServiceAccount {output.namespace}/{output.name} at {place(output.origin)}"
            elif isinstance(output, WorkloadRecord) and output.from_pod:
                endpoint = output.endpoint
                if endpoint.namespace and endpoint.service_account:
                    name = service_account_profile_name(endpoint.namespace, endpoint.service_account)
                    if name in names and name not in from_pods:
                        from_pods[name] = (
                            f"service account {endpoint.namespace}/{endpoint.service_account} of {meta.kind} "
                            f"{endpoint.namespace}/{meta.name} at {place(meta.origin)}"
                        )
    for namespace, first in used.items():
        sources.setdefault(namespace_profile_name(namespace), f"namespace {namespace} of {first}")
    for name, source in from_pods.items():
        sources.setdefault(name, source)
    return sources


def check_profile_names(profiles: Mapping[str, tuple[Any, Document]], sources: Mapping[str, str]) -> None:
    """Report every Profile manifest whose name is one Calico generates (the Kubernetes
    datastore's rule; see the module docstring)."""
    for name, (_, doc) in profiles.items():
        source = sources.get(name)
        if source is None:
            continue
        what = source if name == DEFAULT_ALLOW_PROFILE else f"the profile Calico generates from {source}"
        doc.problem(
            ("metadata", "name"),
            f"Profile {name} would replace {what}: with the Kubernetes datastore such profiles are derived, "
            "not stored, and cannot be written; if the cluster keeps Calico's data in etcd, load with "
            "datastore='etcd' (--datastore etcd on the command line)",
        )
