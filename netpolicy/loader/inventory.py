"""The inventory kinds: what policies act on (calico-semantics §A.6, §B.6, §F.1).

Namespace, Pod, ServiceAccount, Node (``v1``); WorkloadEndpoint, HostEndpoint,
NetworkSet, GlobalNetworkSet (Calico); EndpointSlice (``discovery.k8s.io/v1``). They
produce model values (Endpoint, NetworkSet, ServiceBackends) and the records of
:mod:`.records`; :mod:`netpolicy.resolve` turns the records into profiles and effective
labels. Pods and WorkloadEndpoints are read in :mod:`.workloads`, the others that have
addresses in :mod:`.hosts`; :data:`CONVERTERS` maps each kind to its converter.
"""

from __future__ import annotations

from typing import Iterable, Mapping

from .hosts import convert_endpoint_slice, convert_global_network_set, convert_host_endpoint, convert_network_set, convert_node
from ._fields import Field
from .records import METADATA_NAME_LABEL, NamespaceRecord, ServiceAccountRecord
from .registry import CALICO, CORE, DISCOVERY, Converter, Inventory, Meta
from .workloads import convert_pod, convert_workload_endpoint

__all__ = ["CONVERTERS", "convert_namespace", "convert_service_account"]


def convert_namespace(root: Field, meta: Meta, inventory: Inventory) -> Iterable[object]:
    root["spec"].mapping(known=("finalizers",))
    labels = dict(meta.labels)
    labels[METADATA_NAME_LABEL] = meta.name  # set by the API server on every namespace
    return [NamespaceRecord(meta.name, labels, meta.origin)]


def convert_service_account(root: Field, meta: Meta, inventory: Inventory) -> Iterable[object]:
    return [ServiceAccountRecord(meta.namespace or "default", meta.name, meta.labels, meta.origin)]


#: (API group, kind) -> (converter, namespaced), for the loader's table of kinds.
CONVERTERS: Mapping[tuple[str, str], tuple[Converter, bool]] = {
    (CORE, "Namespace"): (convert_namespace, False),
    (CORE, "Pod"): (convert_pod, True),
    (CORE, "ServiceAccount"): (convert_service_account, True),
    (CORE, "Node"): (convert_node, False),
    (CALICO, "WorkloadEndpoint"): (convert_workload_endpoint, True),
    (CALICO, "HostEndpoint"): (convert_host_endpoint, False),
    (CALICO, "NetworkSet"): (convert_network_set, True),
    (CALICO, "GlobalNetworkSet"): (convert_global_network_set, False),
    (DISCOVERY, "EndpointSlice"): (convert_endpoint_slice, True),
}
