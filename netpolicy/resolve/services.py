"""Services and their backends, as kube-proxy sees them: the endpoints of the Service's
namespace whose labels its selector matches (workloads that run no pod are no
backends), and each Service port's target port on each backend (a number, or the
backend's container port of that name and protocol; a backend without it is no
backend of that port).

A Calico rule's ``services`` clause matches a Service's EndpointSlices; for a Service
with a selector and no EndpointSlice in the input, :func:`selector_backends` gives what
the slices would hold.
"""

from __future__ import annotations

from typing import Iterable, Mapping, Sequence

from ..loader.services import ServicePort, ServiceRecord
from ..model import Endpoint, ServiceBackends

__all__ = ["backends_of", "target_port", "selector_backends", "describe_port"]


def backends_of(service: ServiceRecord, endpoints: Iterable[Endpoint]) -> tuple[list[Endpoint], list[Endpoint]]:
    """(the backends, the endpoints the selector matches that run no pod)."""
    selector = service.selector
    running: list[Endpoint] = []
    idle: list[Endpoint] = []
    if not selector:
        return running, idle
    for endpoint in endpoints:
        if endpoint.is_host or endpoint.namespace != service.namespace:
            continue
        labels = endpoint.labels
        if all(labels.get(key) == value for key, value in selector.items()):
            (running if endpoint.running else idle).append(endpoint)
    return running, idle


def target_port(port: ServicePort, endpoint: Endpoint) -> int | None:
    """The port a connection to ``port`` reaches on ``endpoint`` (None: the backend
    declares no container port of that name and protocol)."""
    if isinstance(port.target, int):
        return port.target
    for declared in endpoint.named_ports:
        if declared.name == port.target and declared.protocol == port.protocol:
            return declared.port
    return None


def describe_port(port: ServicePort) -> str:
    protocol = {6: "TCP", 17: "UDP", 132: "SCTP"}.get(port.protocol, str(port.protocol))
    name = f" ({port.name})" if port.name else ""
    return f"{port.port}/{protocol}{name} -> {port.target}"


def selector_backends(
    services: Sequence[ServiceRecord], endpoints: Sequence[Endpoint], slices: Iterable[ServiceBackends]
) -> list[ServiceBackends]:
    """What the EndpointSlices of each Service with a selector and no slice in the
    input would hold: its backends' addresses and target ports."""
    sliced = {(item.namespace, item.name) for item in slices}
    by_namespace: dict[str | None, list[Endpoint]] = {}
    for endpoint in endpoints:
        by_namespace.setdefault(endpoint.namespace, []).append(endpoint)
    made: list[ServiceBackends] = []
    for service in services:
        if service.selector is None or (service.namespace, service.name) in sliced:
            continue
        backends, _ = backends_of(service, by_namespace.get(service.namespace, ()))
        addresses: dict[object, None] = {}
        ports: dict[tuple[int, int], None] = {}
        for endpoint in backends:
            reached = [(port.protocol, target_port(port, endpoint)) for port in service.ports]
            found = [(protocol, number) for protocol, number in reached if number is not None]
            if not found:
                continue
            ports.update(dict.fromkeys(found))
            addresses.update(dict.fromkeys(endpoint.ips))
        made.append(
            ServiceBackends(
                namespace=service.namespace, name=service.name, addresses=tuple(addresses),
                ports=tuple(ports), origin=service.origin,
            )
        )
    return made


def services_by_key(services: Iterable[ServiceRecord]) -> Mapping[str, ServiceRecord]:
    return {service.key: service for service in services}
