"""Converters for what policies see by address besides workloads: Node (``v1``),
HostEndpoint, NetworkSet and GlobalNetworkSet (Calico), and EndpointSlice
(``discovery.k8s.io/v1``, the backends of a Service)."""

from __future__ import annotations

from typing import Any, Iterable

from ..model import Endpoint, IPNetwork, NetworkSet, ServiceBackends
from ._endpoint_values import K8S_PROTOCOLS, calico_ports, parse_cidr, parse_ip, unique
from ._fields import MISSING, Field
from .records import NAMESPACE_LABEL, SERVICE_NAME_LABEL
from .registry import Inventory, Meta, Node

__all__ = [
    "convert_node",
    "convert_host_endpoint",
    "convert_network_set",
    "convert_global_network_set",
    "convert_endpoint_slice",
]


def convert_node(root: Field, meta: Meta, inventory: Inventory) -> Iterable[object]:
    root["spec"].mapping(known=_NODE_SPEC)
    addresses = []
    for item in root["status"]["addresses"].items():
        if item.mapping() is MISSING:
            continue
        kind = item["type"].string(required=True)
        if kind in ("InternalIP", "ExternalIP"):
            address = parse_ip(item["address"])
            if address is not MISSING:
                addresses.append(address)
    return [Node(meta.name, meta.labels, unique(addresses), meta.origin)]


def convert_host_endpoint(root: Field, meta: Meta, inventory: Inventory) -> Iterable[object]:
    spec = root["spec"]
    if spec.mapping(required=True, known=("node", "interfaceName", "expectedIPs", "profiles", "ports")) is MISSING:
        return []
    interface = spec["interfaceName"].string()
    ips = [parse_ip(item) for item in spec["expectedIPs"].items()]
    if not interface and not ips and interface is not MISSING:
        spec.problem("a HostEndpoint needs interfaceName or expectedIPs")
    profiles = [item.string(required=True, allow_empty=False) for item in spec["profiles"].items()]
    endpoint = Endpoint(
        labels=meta.labels,
        namespace=None,
        name=meta.name,
        ips=unique(ips),
        named_ports=calico_ports(spec["ports"]),
        kind="HostEndpoint",
        profiles=unique(profiles),
        node=spec["node"].string() or None,
        interface=interface or None,
        origin=meta.origin,
    )
    return [endpoint]


def _nets(spec: Field) -> tuple[IPNetwork, ...]:
    return unique(parse_cidr(item) for item in spec["nets"].items())


def convert_network_set(root: Field, meta: Meta, inventory: Inventory) -> Iterable[object]:
    if NAMESPACE_LABEL in meta.labels:
        root["metadata"]["labels"][NAMESPACE_LABEL].problem(
            f"the label {NAMESPACE_LABEL!r} is reserved: Calico sets it to the NetworkSet's namespace"
        )
    spec = root["spec"]
    if spec.mapping(known=("nets",)) is MISSING:
        return []
    return [NetworkSet(name=meta.name, namespace=meta.namespace, nets=_nets(spec), labels=meta.labels, origin=meta.origin)]


def convert_global_network_set(root: Field, meta: Meta, inventory: Inventory) -> Iterable[object]:
    spec = root["spec"]
    if spec.mapping(known=("nets",)) is MISSING:
        return []
    return [NetworkSet(name=meta.name, namespace=None, nets=_nets(spec), labels=meta.labels, origin=meta.origin)]


def convert_endpoint_slice(root: Field, meta: Meta, inventory: Inventory) -> Iterable[object]:
    service = meta.labels.get(SERVICE_NAME_LABEL)
    address_type = root["addressType"].choice(("IPv4", "IPv6", "FQDN"), required=True)
    addresses: list[Any] = []
    for endpoint in root["endpoints"].items():
        if endpoint.mapping(known=_SLICE_ENDPOINT) is MISSING:
            continue
        for item in endpoint["addresses"].items(required=True):
            if address_type == "FQDN":
                item.string(required=True)
            else:
                address = parse_ip(item)
                if address is not MISSING and f"IPv{address.version}" != address_type:
                    item.problem(f"{address} is not an {address_type} address")
                addresses.append(address)
    ports: list[tuple[int, int]] = []
    for port in root["ports"].items():
        if port.mapping(known=("name", "port", "protocol", "appProtocol")) is MISSING:
            continue
        number = port["port"].integer(low=1, high=65535)
        protocol = port["protocol"].choice(tuple(K8S_PROTOCOLS), default="TCP")
        if number is not MISSING and number is not None and protocol is not MISSING:
            ports.append((K8S_PROTOCOLS[protocol], number))
    if service is None:
        root["metadata"]["labels"].warn(
            f"EndpointSlice without the {SERVICE_NAME_LABEL!r} label belongs to no Service; ignored"
        )
        return []
    if address_type == "FQDN":
        return []
    return [
        ServiceBackends(
            namespace=meta.namespace or "default",
            name=service,
            addresses=unique(addresses),
            ports=unique(ports),
            origin=meta.origin,
        )
    ]


_NODE_SPEC = frozenset(
    ("podCIDR", "podCIDRs", "providerID", "taints", "unschedulable", "configSource", "externalID")
)
_SLICE_ENDPOINT = frozenset(
    ("addresses", "conditions", "hostname", "nodeName", "targetRef", "zone", "hints", "deprecatedTopology")
)
