"""Converters for the workloads: Pod (``v1``) and WorkloadEndpoint (Calico). Each gives
a :class:`~netpolicy.loader.records.WorkloadRecord`; a pod that is not an endpoint (host
network, finished, no address yet) gives nothing.

Ordinary pods, most of a cluster, are read straight from the parsed body
(:func:`_ordinary_pod`); anything unusual is read field by field, which reports it.
"""

from __future__ import annotations

from typing import Any, Iterable

from ..model import ContainerPort, Endpoint, IPAddress
from ._endpoint_values import IANA_SVC_NAME, K8S_PROTOCOLS, calico_ports, parse_cidr, parse_ip, plain_ip, port_name, unique
from ._envelope import _DNS_SUBDOMAIN, check_dns_subdomain
from ._fields import MISSING, Field, short_repr
from .podspec import CONTAINER_FIELDS as _CONTAINER
from .podspec import CONTAINER_PORT_FIELDS as _CONTAINER_PORT
from .podspec import POD_SPEC_FIELDS as _POD_SPEC
from .records import WorkloadRecord
from .registry import Inventory, Meta

__all__ = ["convert_pod", "convert_workload_endpoint"]


def convert_pod(root: Field, meta: Meta, inventory: Inventory) -> Iterable[object]:
    ordinary = _ordinary_pod(root.value, meta)
    if ordinary is not None:
        return ordinary
    spec = root["spec"]
    if spec.mapping(known=_POD_SPEC) is MISSING:
        return []
    account_field = spec["serviceAccountName"] if spec["serviceAccountName"].present else spec["serviceAccount"]
    # Kubernetes' admission sets serviceAccountName to "default" when a pod names none.
    account = account_field.string(default="default") or "default"
    if account is not MISSING:
        check_dns_subdomain(account_field, account, "service account")
    host_network = spec["hostNetwork"].boolean()
    ports: list[ContainerPort] = []
    _container_ports(spec["containers"], ports)
    _container_ports(spec["initContainers"], ports)

    status = root["status"]
    ips: list[Any] = []
    phase = None
    if status.mapping() is not MISSING:
        phase = status["phase"].string()
        for item in status["podIPs"].items():
            if item.mapping(known=("ip",)) is not MISSING:
                ips.append(parse_ip(item["ip"]))
        if status["podIP"].present:
            ips.append(parse_ip(status["podIP"]))
    if host_network is True:
        return []  # shares the node's network: not a workload endpoint (§A.6)
    if phase in ("Succeeded", "Failed"):
        return []  # a finished pod has no IPs, and Calico has no endpoint for it
    if not ips:
        status.warn(f"Pod {meta.namespace}/{meta.name} has no IP address yet (status.podIP): not an endpoint")
        return []
    endpoint = Endpoint(
        labels=meta.labels,
        namespace=meta.namespace,
        name=meta.name,
        ips=unique(ips),
        service_account=account if isinstance(account, str) else None,
        named_ports=tuple(ports),
        kind="WorkloadEndpoint",
        profiles=None,
        node=spec["nodeName"].string() or None,
        origin=meta.origin,
    )
    return [WorkloadRecord(endpoint, True)]


def _container_ports(containers: Field, ports: list[ContainerPort]) -> None:
    for container in containers.items():
        if container.mapping(known=_CONTAINER) is MISSING:
            continue
        for port in container["ports"].items():
            if port.mapping(known=_CONTAINER_PORT) is MISSING:
                continue
            number = port["containerPort"].integer(required=True, low=1, high=65535)
            protocol_name = port["protocol"].string(default="TCP")
            name_field = port["name"]
            if not name_field.present:
                continue
            name = port_name(name_field)
            if protocol_name is MISSING or number is MISSING or name is MISSING:
                continue
            protocol = K8S_PROTOCOLS.get(protocol_name)
            if protocol is None:
                port["protocol"].warn(f"named port {name!r} with protocol {short_repr(protocol_name)} ignored")
                continue
            ports.append(ContainerPort(name=name, protocol=protocol, port=number))


def _plain_ports(containers: Any, ports: list[ContainerPort]) -> bool:
    """:func:`_container_ports` for a list of containers where nothing is to be reported
    (False as soon as something is unusual)."""
    if containers is None:
        return True
    if type(containers) is not list:
        return False
    for container in containers:
        if type(container) is not dict or not _CONTAINER.issuperset(container):
            return False
        items = container.get("ports")
        if items is None:
            continue
        if type(items) is not list:
            return False
        for port in items:
            if type(port) is not dict or not _CONTAINER_PORT.issuperset(port):
                return False
            number = port.get("containerPort")
            if type(number) is not int or not 1 <= number <= 65535:
                return False
            protocol_name = port.get("protocol")
            if protocol_name is None:
                protocol_name = "TCP"
            elif type(protocol_name) is not str:
                return False
            protocol = K8S_PROTOCOLS.get(protocol_name)
            if protocol is None:
                return False
            name = port.get("name")
            if name is None:
                continue
            if type(name) is not str or not name or len(name) > 15 or not IANA_SVC_NAME.match(name):
                return False
            key = (name, protocol, number)
            shared = _SHARED_PORTS.get(key)
            if shared is None:
                shared = ContainerPort(name=name, protocol=protocol, port=number)
                if len(_SHARED_PORTS) < 10_000:
                    _SHARED_PORTS[key] = shared
            ports.append(shared)
    return True


#: Container ports are immutable and repeat across a deployment's pods: one object each.
_SHARED_PORTS: dict[tuple[str, int, int], ContainerPort] = {}


def _ordinary_pod(body: Any, meta: Meta) -> list[object] | None:
    """What :func:`convert_pod` gives for a pod where it has nothing to report, read
    straight from the parsed body; None when anything is unusual (missing, mistyped or
    unknown fields, addresses the C parser refuses, no address...), which the field by
    field reading then handles and reports."""
    spec = body.get("spec") if type(body) is dict else None
    if type(spec) is not dict or not _POD_SPEC.issuperset(spec):
        return None
    account = spec.get("serviceAccountName")
    if account is None:
        account = spec.get("serviceAccount")
    if account is not None and type(account) is not str:
        return None
    account = account or "default"
    if len(account) > 253 or not _DNS_SUBDOMAIN.match(account):
        return None
    host_network = spec.get("hostNetwork", False)
    node = spec.get("nodeName")
    if type(host_network) is not bool or host_network or (node is not None and type(node) is not str):
        return None
    ports: list[ContainerPort] = []
    if not _plain_ports(spec.get("containers"), ports) or not _plain_ports(spec.get("initContainers"), ports):
        return None
    status = body.get("status")
    if type(status) is not dict or not all(type(key) is str for key in status):
        return None
    phase = status.get("phase")
    if (phase is not None and type(phase) is not str) or phase in ("Succeeded", "Failed"):
        return None
    texts = []
    items = status.get("podIPs")
    if items is not None:
        if type(items) is not list:
            return None
        for item in items:
            if type(item) is not dict or len(item) != 1 or "ip" not in item:
                return None
            texts.append(item["ip"])
    if status.get("podIP") is not None:
        texts.append(status["podIP"])
    addresses: dict[str, IPAddress] = {}  # podIP repeats podIPs[0]: parsed once
    for text in texts:
        if type(text) is not str:
            return None
        if text not in addresses:
            address = plain_ip(text)
            if address is None:
                return None
            addresses[text] = address
    if not addresses:
        return None
    ips = tuple(addresses.values())
    endpoint = Endpoint(
        labels=meta.labels,
        namespace=meta.namespace,
        name=meta.name,
        ips=ips if len(ips) == 1 else tuple(dict.fromkeys(ips)),
        service_account=account,
        named_ports=tuple(ports),
        kind="WorkloadEndpoint",
        profiles=None,
        node=node or None,
        origin=meta.origin,
    )
    return [WorkloadRecord(endpoint, True)]


def convert_workload_endpoint(root: Field, meta: Meta, inventory: Inventory) -> Iterable[object]:
    spec = root["spec"]
    if spec.mapping(known=_WEP_SPEC) is MISSING:
        return []
    networks = [parse_cidr(item) for item in spec["ipNetworks"].items()]
    ips = []
    for item, network in zip(spec["ipNetworks"].items(), networks):
        if network is MISSING:
            continue
        if network.num_addresses != 1:
            item.warn(f"ipNetworks entry {network} is not a single address; its first address is used")
        ips.append(network.network_address)
    profiles = [item.string(required=True, allow_empty=False) for item in spec["profiles"].items()]
    account = spec["serviceAccountName"].string() or None
    pod = spec["pod"].string() or None
    orchestrator = spec["orchestrator"].string() or None
    endpoint = Endpoint(
        labels=meta.labels,
        namespace=meta.namespace,
        name=pod or meta.name,
        ips=unique(ips),
        service_account=account if isinstance(account, str) else None,
        named_ports=calico_ports(spec["ports"]),
        kind="WorkloadEndpoint",
        profiles=unique(p for p in profiles),
        node=spec["node"].string() or None,
        interface=spec["interfaceName"].string() or None,
        origin=meta.origin,
    )
    return [WorkloadRecord(endpoint, False, orchestrator if isinstance(orchestrator, str) else None)]


# -- known fields ----------------------------------------------------------------------

_WEP_SPEC = frozenset(
    (
    "orchestrator", "workload", "node", "containerID", "pod", "endpoint", "serviceAccountName",
    "ipNetworks", "ipNATs", "ipv4Gateway", "ipv6Gateway", "profiles", "interfaceName", "mac", "ports",
    "allowSpoofedSourcePrefixes", "qosControls", "awsElasticIPs",
    )
)  # fmt: skip
