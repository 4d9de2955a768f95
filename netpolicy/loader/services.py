"""Services (``v1``): their selector and ports, validated as the API server does.

A Service with a selector stands for the endpoints it selects (its backends); its ports
map a Service port to a target port on each backend (a number, or a container port's
name), as kube-proxy does. The resolve stage turns that into backends, and into what a
Calico rule's ``services`` clause matches when no EndpointSlice of the Service is given.
ExternalName Services and Services without a selector have no backends to find here.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

import attrs

from ..model import Origin, _frozen_labels
from ._envelope import check_labels
from ._fields import MISSING, Field, short_repr
from .k8s import check_dns_label, check_dns_subdomain, is_port_name
from .podspec import PORT_PROTOCOLS
from .registry import CORE, Converter, Inventory, Meta

__all__ = ["CONVERTERS", "ServicePort", "ServiceRecord", "SERVICE_TYPES"]

SERVICE_TYPES = ("ClusterIP", "NodePort", "LoadBalancer", "ExternalName")


@attrs.frozen
class ServicePort:
    """One port of a Service: ``port`` on the Service, ``target`` on each backend (a
    number, or the name of a container port)."""

    name: str | None
    protocol: int
    port: int
    target: int | str


@attrs.frozen
class ServiceRecord:
    """A Service. ``selector`` is None for a Service without one (its endpoints are
    managed by hand), ``external_name`` is set for an ExternalName Service."""

    namespace: str
    name: str
    type: str
    selector: Mapping[str, str] | None = attrs.field(default=None)
    ports: tuple[ServicePort, ...] = ()
    headless: bool = False
    external_name: str | None = None
    origin: Origin | None = attrs.field(default=None, eq=False)

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}[Service]"


_SPEC = frozenset(
    (
    "allocateLoadBalancerNodePorts", "clusterIP", "clusterIPs", "externalIPs", "externalName",
    "externalTrafficPolicy", "healthCheckNodePort", "internalTrafficPolicy", "ipFamilies", "ipFamilyPolicy",
    "loadBalancerClass", "loadBalancerIP", "loadBalancerSourceRanges", "ports", "publishNotReadyAddresses",
    "selector", "sessionAffinity", "sessionAffinityConfig", "trafficDistribution", "type",
    )
)  # fmt: skip
_PORT = frozenset(("name", "protocol", "port", "targetPort", "nodePort", "appProtocol"))


def convert_service(root: Field, meta: Meta, inventory: Inventory) -> Iterable[object]:
    spec = root["spec"]
    if spec.mapping(required=True, known=_SPEC) is MISSING:
        return []
    kind = spec["type"].choice(SERVICE_TYPES, default="ClusterIP")
    headless = spec["clusterIP"].value == "None"
    external = None
    if kind == "ExternalName":
        external = spec["externalName"].string(required=True, allow_empty=False)
        if external is not MISSING:
            check_dns_subdomain(spec["externalName"], external.rstrip("."), "externalName")
    selector_field = spec["selector"]
    selector = check_labels(selector_field) if selector_field.present else None
    ports = _ports(spec["ports"], required=kind != "ExternalName" and not headless)
    if kind is MISSING or selector is MISSING or ports is MISSING or external is MISSING:
        return []
    return [
        ServiceRecord(
            namespace=meta.namespace or "default",
            name=meta.name,
            type=kind,
            selector=_frozen_labels(selector) if selector and kind != "ExternalName" else None,
            ports=tuple(ports),
            headless=headless,
            external_name=external,
            origin=meta.origin,
        )
    ]


def _ports(field: Field, *, required: bool) -> list[ServicePort] | Any:
    items = list(field.items())
    if required and not items and (not field.present or isinstance(field.value, list)):
        return field.problem("required: a Service needs at least one port")
    ok = not field.present or isinstance(field.value, list)
    ports: list[ServicePort] = []
    names: set[str] = set()
    seen: set[tuple[int, int]] = set()
    for item in items:
        if item.mapping(required=True, known=_PORT) is MISSING:
            ok = False
            continue
        number = item["port"].integer(required=True, low=1, high=65535)
        protocol = item["protocol"].choice(tuple(PORT_PROTOCOLS), default="TCP")
        item["nodePort"].integer(low=1, high=65535)
        name = item["name"].string(allow_empty=False) if item["name"].present else None
        if name is None and len(items) > 1:
            name = item["name"].problem("required when a Service has more than one port")
        elif name is not None and name is not MISSING:
            if not check_dns_label(item["name"], name, "port name"):
                name = MISSING
            elif name in names:
                name = item["name"].problem(f"duplicate port name {name!r}")
            else:
                names.add(name)
        target = _target(item["targetPort"], number)
        if number is MISSING or protocol is MISSING or name is MISSING or target is MISSING:
            ok = False
            continue
        key = (PORT_PROTOCOLS[protocol], number)
        if key in seen:
            item.problem(f"duplicate port {number}/{protocol}")
            ok = False
            continue
        seen.add(key)
        ports.append(ServicePort(name, PORT_PROTOCOLS[protocol], number, target))
    return ports if ok else MISSING


def _target(field: Field, port: Any) -> int | str | Any:
    """``targetPort``: a number 1-65535 or a container port's name; the port by default."""
    value = field.value
    if not field.present:
        return port
    if isinstance(value, bool):
        return field.problem(f"expected a port number or name, got {short_repr(value)}")
    if isinstance(value, int):
        return field.integer(low=1, high=65535)
    if isinstance(value, str):
        if value.isdigit():  # an int-or-string holding digits is a number
            return field.problem(f"targetPort {value!r} is a string of digits: write the number without quotes")
        if not is_port_name(value):
            return field.problem(
                f"targetPort name {short_repr(value)} is not valid (at most 15 lower-case letters, digits and "
                "single '-', with at least one letter)"
            )
        return value
    return field.problem(f"expected a port number or name, got {short_repr(value)}")


CONVERTERS: Mapping[tuple[str, str], tuple[Converter, bool]] = {
    (CORE, "Service"): (convert_service, True),
}
