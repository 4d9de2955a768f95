"""A pod's spec as the API server validates it and as Calico reads it: the service
account, whether it uses the node's network, and the named ports of its containers.

Shared by bare Pods without an address and by the pod templates of workloads
(:mod:`.workloads`). Calico's pod conversion declares a named port for every container
port with a name, in ``containers`` and in ``initContainers`` alike, with protocol TCP,
UDP or SCTP; so does this reader.
"""

from __future__ import annotations

from typing import Any

import attrs

from ..model import ContainerPort
from ._fields import MISSING, Field, short_repr
from .k8s import DNS1123_LABEL, check_dns_label, check_dns_subdomain, is_port_name

__all__ = ["PodSpec", "read_pod_spec", "POD_SPEC_FIELDS", "CONTAINER_FIELDS", "CONTAINER_PORT_FIELDS", "PORT_PROTOCOLS"]

#: Kubernetes' port protocols and their numbers.
PORT_PROTOCOLS = {"TCP": 6, "UDP": 17, "SCTP": 132}


@attrs.frozen
class PodSpec:
    """What policy needs of a pod spec."""

    service_account: str
    host_network: bool
    ports: tuple[ContainerPort, ...]
    node: str | None = None


def read_pod_spec(spec: Field, *, required: bool = True) -> PodSpec | None:
    """The pod spec at ``spec``, validated as the API server does (containers required,
    container names DNS labels and unique, port names IANA service names of at most 15
    characters and unique within a container); None after reporting a problem. A bare
    Pod's spec may be left out (``required=False``): it then has no container to read."""
    if spec.mapping(required=required, known=POD_SPEC_FIELDS) is MISSING:
        return None
    ok = True
    account_field = spec["serviceAccountName"] if spec["serviceAccountName"].present else spec["serviceAccount"]
    # Kubernetes' admission sets serviceAccountName to "default" when a pod names none.
    account = account_field.string(default="default") or "default"
    if account is MISSING or not check_dns_subdomain(account_field, account, "service account name"):
        ok = False
    host_network = spec["hostNetwork"].boolean()
    node = spec["nodeName"].string()
    if host_network is MISSING or node is MISSING:
        ok = False
    ports: list[ContainerPort] = []
    names: dict[str, str] = {}  # container name -> which list it is in
    port_names: dict[str, str] = {}  # port name -> container that declares it
    containers = spec["containers"]
    if isinstance(containers.value, list) and not containers.value:
        containers.problem("a pod needs at least one container")
        ok = False
    for key, needed in (("containers", required), ("initContainers", False)):
        ok = _read_containers(spec[key], needed, names, port_names, ports) and ok
    if not ok:
        return None
    return PodSpec(account, bool(host_network), tuple(ports), node or None)


def _read_containers(
    field: Field, required: bool, names: dict[str, str], port_names: dict[str, str], ports: list[ContainerPort]
) -> bool:
    ok = not field.present or isinstance(field.value, list)
    if not field.present and required:
        field.problem("required field is missing")
        return False
    for container in field.items():
        if container.mapping(required=True, known=CONTAINER_FIELDS) is MISSING:
            ok = False
            continue
        name_field = container["name"]
        name = name_field.string(required=True, allow_empty=False)
        if name is MISSING or not check_dns_label(name_field, name, "container name"):
            ok = False
            name = "?"
        elif name in names:
            name_field.problem(f"duplicate container name {name!r}")
            ok = False
        else:
            names[name] = field.path[-1]
        ok = _read_ports(container["ports"], name, port_names, ports) and ok
    return ok


def _read_ports(field: Field, container: str, port_names: dict[str, str], ports: list[ContainerPort]) -> bool:
    ok = not field.present or isinstance(field.value, list)
    own: set[str] = set()
    for port in field.items():
        if port.mapping(required=True, known=CONTAINER_PORT_FIELDS) is MISSING:
            ok = False
            continue
        number = port["containerPort"].integer(required=True, low=1, high=65535)
        protocol_name = port["protocol"].choice(tuple(PORT_PROTOCOLS), default="TCP")
        port["hostPort"].integer(low=1, high=65535)
        name_field = port["name"]
        name = name_field.string(allow_empty=False) if name_field.present else None
        if name is not None and name is not MISSING:
            if not is_port_name(name):
                name_field.problem(
                    f"port name {short_repr(name)} is not valid (at most 15 lower-case letters, digits and "
                    "single '-', with at least one letter)"
                )
                name = MISSING
            elif name in own:
                name_field.problem(f"duplicate port name {name!r} in container {container!r}")
                name = MISSING
            else:
                own.add(name)
                other = port_names.get(name)
                if other is not None and other != container:
                    name_field.warn(
                        f"port name {name!r} is also declared by container {other!r}: named ports must be "
                        "unique within a pod; Calico keeps both"
                    )
                port_names.setdefault(name, container)
        if number is MISSING or protocol_name is MISSING or name is MISSING:
            ok = False
            continue
        if name is not None:
            ports.append(_shared(name, PORT_PROTOCOLS[protocol_name], number))
    return ok


def _shared(name: str, protocol: int, number: int) -> ContainerPort:
    """Container ports repeat across a cluster's workloads: one object each."""
    key = (name, protocol, number)
    port = _PORTS.get(key)
    if port is None:
        port = ContainerPort(name=name, protocol=protocol, port=number)
        if len(_PORTS) < 10_000:
            _PORTS[key] = port
    return port


_PORTS: dict[tuple[str, int, int], ContainerPort] = {}


def plain_ports(containers: Any, ports: list[ContainerPort], names: set[str]) -> bool:
    """:func:`read_pod_spec`'s reading of a container list where it has nothing to
    report, read straight from the parsed value; False as soon as anything is unusual
    (the field by field reading then reports it). ``names`` collects container names."""
    if type(containers) is not list:
        return containers is None
    for container in containers:
        if type(container) is not dict or not CONTAINER_FIELDS.issuperset(container):
            return False
        name = container.get("name")
        if type(name) is not str or name in names or not _is_label(name):
            return False
        names.add(name)
        items = container.get("ports")
        if items is None:
            continue
        if type(items) is not list:
            return False
        own: set[str] = set()
        for port in items:
            if type(port) is not dict or not CONTAINER_PORT_FIELDS.issuperset(port):
                return False
            number = port.get("containerPort")
            if type(number) is not int or not 1 <= number <= 65535:
                return False
            host_port = port.get("hostPort")
            if host_port is not None and (type(host_port) is not int or not 1 <= host_port <= 65535):
                return False
            protocol_name = port.get("protocol", "TCP")
            protocol = PORT_PROTOCOLS.get(protocol_name) if type(protocol_name) is str else None
            if protocol is None:
                return False
            name = port.get("name")
            if name is None:
                continue
            if type(name) is not str or name in own or not is_port_name(name):
                return False
            own.add(name)
            ports.append(_shared(name, protocol, number))
    return True


def _is_label(name: str) -> bool:
    return 0 < len(name) <= 63 and DNS1123_LABEL.match(name) is not None


POD_SPEC_FIELDS = frozenset(
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
CONTAINER_FIELDS = frozenset(
    (
    "args", "command", "env", "envFrom", "image", "imagePullPolicy", "lifecycle", "livenessProbe",
    "name", "ports", "readinessProbe", "resizePolicy", "resources", "restartPolicy",
    "restartPolicyRules", "securityContext", "startupProbe", "stdin", "stdinOnce",
    "terminationMessagePath", "terminationMessagePolicy", "tty", "volumeDevices", "volumeMounts",
    "workingDir",
    )
)  # fmt: skip
CONTAINER_PORT_FIELDS = frozenset(("containerPort", "hostIP", "hostPort", "name", "protocol"))
