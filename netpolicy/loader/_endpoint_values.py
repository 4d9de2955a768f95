"""IP addresses, CIDRs and ports as the inventory kinds declare them: pod and
WorkloadEndpoint addresses, HostEndpoint ``expectedIPs``, network set CIDRs, container
and Calico endpoint ports."""

from __future__ import annotations

import ipaddress
import re
import socket
from typing import Any, Iterable

from ..model import PROTOCOL_NUMBERS, ContainerPort, IPAddress, IPNetwork
from ._fields import MISSING, Field, short_repr

__all__ = [
    "IANA_SVC_NAME",
    "K8S_PROTOCOLS",
    "parse_ip",
    "parse_cidr",
    "plain_ip",
    "unique",
    "port_name",
    "calico_ports",
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


def unique(values: Iterable[Any]) -> tuple[Any, ...]:
    """``values`` in order, without repeats and without the MISSING ones."""
    return tuple(dict.fromkeys(v for v in values if v is not MISSING))


def plain_ip(value: Any) -> IPAddress | None:
    """``value`` as an address when the C parser takes it (as :func:`parse_ip` tries first)."""
    if type(value) is not str:
        return None
    try:
        if ":" in value:
            return ipaddress.IPv6Address(socket.inet_pton(socket.AF_INET6, value))
        return ipaddress.IPv4Address(socket.inet_pton(socket.AF_INET, value))
    except (OSError, ValueError):
        return None


# -- ports -----------------------------------------------------------------------------

IANA_SVC_NAME = re.compile(r"(?=.*[a-z])[a-z0-9](?:-?[a-z0-9])*\Z")
K8S_PROTOCOLS = {"TCP": 6, "UDP": 17, "SCTP": 132}
_PORT_PROTOCOLS = frozenset(K8S_PROTOCOLS.values())


def port_name(field: Field) -> str | Any:
    name = field.string(required=True, allow_empty=False)
    if name is MISSING:
        return MISSING
    if len(name) > 15 or not IANA_SVC_NAME.match(name):
        return field.problem(
            f"port name {short_repr(name)} is not valid (at most 15 lower-case letters, digits and "
            "single '-', with at least one letter)"
        )
    return name


def calico_ports(field: Field) -> tuple[ContainerPort, ...]:
    """``spec.ports`` of a WorkloadEndpoint or HostEndpoint."""
    ports = []
    for port in field.items():
        if port.mapping(known=("name", "protocol", "port", "hostPort", "hostIP")) is MISSING:
            continue
        name = port_name(port["name"])
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
