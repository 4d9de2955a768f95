"""Converters for the inventory kinds: what policies act on (calico-semantics §A.6, §B.6,
§F.1).

Namespace, Pod, ServiceAccount, Node (``v1``); WorkloadEndpoint, HostEndpoint,
NetworkSet, GlobalNetworkSet (Calico); EndpointSlice (``discovery.k8s.io/v1``). They
produce model values (Endpoint, NetworkSet, ServiceBackends) and the records of
:mod:`.records`;
:mod:`netpolicy.resolve` turns the records into profiles and effective labels.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from typing import Any, Iterable, Mapping

from ..model import PROTOCOL_NUMBERS, ContainerPort, Endpoint, IPAddress, IPNetwork, NetworkSet, ServiceBackends
from ._envelope import _DNS_SUBDOMAIN, check_dns_subdomain
from ._fields import MISSING, Field, short_repr
from .records import METADATA_NAME_LABEL, NAMESPACE_LABEL, SERVICE_NAME_LABEL, NamespaceRecord, ServiceAccountRecord, WorkloadRecord
from .registry import CALICO, CORE, DISCOVERY, Converter, Inventory, Meta, Node

__all__ = [
    "CONVERTERS",
    "parse_ip",
    "parse_cidr",
]

# -- addresses -------------------------------------------------------------------------


def parse_ip(field: Field) -> IPAddress | Any:
    """An IPv4 or IPv6 address (no zone, no leading zeros)."""
    value = field.string(required=True)
    if value is MISSING:
        return MISSING
    try:  # the C parser first (fast); it accepts a subset of what ipaddress does
        if ":" in value:
            return ipaddress.IPv6Address(socket.inet_pton(socket.AF_INET6, value))
        return ipaddress.IPv4Address(socket.inet_pton(socket.AF_INET, value))
    except (OSError, ValueError):
        pass
    try:
        if "%" in value:
            raise ValueError
        return ipaddress.ip_address(value)
    except ValueError:
        return field.problem(f"{short_repr(value)} is not an IP address")


def parse_cidr(field: Field) -> IPNetwork | Any:
    """A CIDR (or a bare address, as a host prefix). Host bits are accepted and masked,
    as the Kubernetes API does."""
    value = field.string(required=True)
    if value is MISSING:
        return MISSING
    try:
        if "%" in value or value != value.strip():
            raise ValueError
        return ipaddress.ip_network(value, strict=False)
    except ValueError:
        return field.problem(f"{short_repr(value)} is not a CIDR")


def _unique(values: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(dict.fromkeys(v for v in values if v is not MISSING))


# -- ports -----------------------------------------------------------------------------

_IANA_SVC_NAME = re.compile(r"(?=.*[a-z])[a-z0-9](?:-?[a-z0-9])*\Z")
_K8S_PROTOCOLS = {"TCP": 6, "UDP": 17, "SCTP": 132}
_PORT_PROTOCOLS = frozenset(_K8S_PROTOCOLS.values())


def _port_name(field: Field) -> str | Any:
    name = field.string(required=True, allow_empty=False)
    if name is MISSING:
        return MISSING
    if len(name) > 15 or not _IANA_SVC_NAME.match(name):
        return field.problem(
            f"port name {short_repr(name)} is not valid (at most 15 lower-case letters, digits and "
            "single '-', with at least one letter)"
        )
    return name


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
            name = _port_name(name_field)
            if protocol_name is MISSING or number is MISSING or name is MISSING:
                continue
            protocol = _K8S_PROTOCOLS.get(protocol_name)
            if protocol is None:
                port["protocol"].warn(f"named port {name!r} with protocol {short_repr(protocol_name)} ignored")
                continue
            ports.append(ContainerPort(name=name, protocol=protocol, port=number))


def _calico_ports(field: Field) -> tuple[ContainerPort, ...]:
    """``spec.ports`` of a WorkloadEndpoint or HostEndpoint."""
    ports = []
    for port in field.items():
        if port.mapping(known=("name", "protocol", "port", "hostPort", "hostIP")) is MISSING:
            continue
        name = _port_name(port["name"])
        number = port["port"].integer(required=True, low=1, high=65535)
        protocol = _calico_protocol(port["protocol"])
        if name is not MISSING and number is not MISSING and protocol is not MISSING:
            ports.append(ContainerPort(name=name, protocol=protocol, port=number))
    return tuple(ports)


def _calico_protocol(field: Field) -> int | Any:
    value = field.value
    if not field.present:
        return field.problem("required field is missing")
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, str):
        number = PROTOCOL_NUMBERS.get(value)
        if number is None:
            return field.problem(f"unknown protocol {short_repr(value)}")
    elif isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        return field.problem(f"expected a protocol name or number, got {short_repr(value)}")
    if number not in _PORT_PROTOCOLS:
        return field.problem(f"protocol {short_repr(field.value)} has no ports (TCP, UDP or SCTP)")
    return number


# -- converters ------------------------------------------------------------------------


def convert_namespace(root: Field, meta: Meta, inventory: Inventory) -> Iterable[object]:
    root["spec"].mapping(known=("finalizers",))
    labels = dict(meta.labels)
    labels[METADATA_NAME_LABEL] = meta.name  # set by the API server on every namespace
    return [NamespaceRecord(meta.name, labels, meta.origin)]


def convert_service_account(root: Field, meta: Meta, inventory: Inventory) -> Iterable[object]:
    return [ServiceAccountRecord(meta.namespace or "default", meta.name, meta.labels, meta.origin)]


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
    return [Node(meta.name, meta.labels, _unique(addresses), meta.origin)]


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
        ips=_unique(ips),
        service_account=account if isinstance(account, str) else None,
        named_ports=tuple(ports),
        kind="WorkloadEndpoint",
        profiles=None,
        node=spec["nodeName"].string() or None,
        origin=meta.origin,
    )
    return [WorkloadRecord(endpoint, True)]


def _plain_ip(value: Any) -> IPAddress | None:
    """``value`` as an address when the C parser takes it (as :func:`parse_ip` tries first)."""
    if type(value) is not str:
        return None
    try:
        if ":" in value:
            return ipaddress.IPv6Address(socket.inet_pton(socket.AF_INET6, value))
        return ipaddress.IPv4Address(socket.inet_pton(socket.AF_INET, value))
    except (OSError, ValueError):
        return None


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
            protocol = _K8S_PROTOCOLS.get(protocol_name)
            if protocol is None:
                return False
            name = port.get("name")
            if name is None:
                continue
            if type(name) is not str or not name or len(name) > 15 or not _IANA_SVC_NAME.match(name):
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
            address = _plain_ip(text)
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
        ips=_unique(ips),
        service_account=account if isinstance(account, str) else None,
        named_ports=_calico_ports(spec["ports"]),
        kind="WorkloadEndpoint",
        profiles=_unique(p for p in profiles),
        node=spec["node"].string() or None,
        interface=spec["interfaceName"].string() or None,
        origin=meta.origin,
    )
    return [WorkloadRecord(endpoint, False, orchestrator if isinstance(orchestrator, str) else None)]


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
        ips=_unique(ips),
        named_ports=_calico_ports(spec["ports"]),
        kind="HostEndpoint",
        profiles=_unique(profiles),
        node=spec["node"].string() or None,
        interface=interface or None,
        origin=meta.origin,
    )
    return [endpoint]


def _nets(spec: Field) -> tuple[IPNetwork, ...]:
    return _unique(parse_cidr(item) for item in spec["nets"].items())


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
        protocol = port["protocol"].choice(tuple(_K8S_PROTOCOLS), default="TCP")
        if number is not MISSING and number is not None and protocol is not MISSING:
            ports.append((_K8S_PROTOCOLS[protocol], number))
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
            addresses=_unique(addresses),
            ports=_unique(ports),
            origin=meta.origin,
        )
    ]


# -- known fields ----------------------------------------------------------------------

_POD_SPEC = frozenset(
    (
    "activeDeadlineSeconds", "affinity", "automountServiceAccountToken", "containers", "dnsConfig",
    "dnsPolicy", "enableServiceLinks", "ephemeralContainers", "hostAliases", "hostIPC", "hostNetwork",
    "hostPID", "hostUsers", "hostname", "hostnameOverride", "imagePullSecrets", "initContainers",
    "nodeName", "nodeSelector", "os", "overhead", "preemptionPolicy", "priority", "priorityClassName",
    "readinessGates", "resourceClaims", "resources", "restartPolicy", "runtimeClassName",
    "schedulerName", "schedulingGates", "securityContext", "serviceAccount", "serviceAccountName",
    "setHostnameAsFQDN", "shareProcessNamespace", "subdomain", "terminationGracePeriodSeconds",
    "tolerations", "topologySpreadConstraints", "volumes",
    )
)  # fmt: skip
_CONTAINER = frozenset(
    (
    "args", "command", "env", "envFrom", "image", "imagePullPolicy", "lifecycle", "livenessProbe",
    "name", "ports", "readinessProbe", "resizePolicy", "resources", "restartPolicy",
    "restartPolicyRules", "securityContext", "startupProbe", "stdin", "stdinOnce",
    "terminationMessagePath", "terminationMessagePolicy", "tty", "volumeDevices", "volumeMounts",
    "workingDir",
    )
)  # fmt: skip
_NODE_SPEC = frozenset(
    ("podCIDR", "podCIDRs", "providerID", "taints", "unschedulable", "configSource", "externalID")
)
_CONTAINER_PORT = frozenset(("containerPort", "hostIP", "hostPort", "name", "protocol"))
_WEP_SPEC = frozenset(
    (
    "orchestrator", "workload", "node", "containerID", "pod", "endpoint", "serviceAccountName",
    "ipNetworks", "ipNATs", "ipv4Gateway", "ipv6Gateway", "profiles", "interfaceName", "mac", "ports",
    "allowSpoofedSourcePrefixes", "qosControls", "awsElasticIPs",
    )
)  # fmt: skip
_SLICE_ENDPOINT = frozenset(
    ("addresses", "conditions", "hostname", "nodeName", "targetRef", "zone", "hints", "deprecatedTopology")
)


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
