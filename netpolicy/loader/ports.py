"""What Calico rules say about protocols and ports: ``protocol``/``notProtocol``,
``icmp``/``notICMP``, and the ``ports``/``notPorts`` of an EntityRule (numbers, ``min:max``
ranges and port names)."""

from __future__ import annotations

import re
from typing import Any

from ..model import PROTOCOL_NUMBERS, IcmpMatch, NamedPort, PortRange, RulePort
from ._fields import MISSING, Field

__all__ = ["PORT_PROTOCOLS", "MAX_PORTS", "read_protocol", "read_port", "read_ports", "read_icmp"]

MAX_PORTS = 50

#: Protocols that have ports: TCP, UDP, SCTP (UDPLite does not count, §B.3).
PORT_PROTOCOLS = frozenset({6, 17, 132})

_PORT_RANGE = re.compile(r"^([0-9]+):([0-9]+)$")
_NAMED_PORT = re.compile(r"^[a-zA-Z0-9_.-]{1,128}$")


def read_protocol(field: Field) -> tuple[int, str | None] | None | Any:
    """A Calico protocol: a name (case-sensitive) or 1-255; a numeric string is a
    number. Returns (number, name or None), None when absent, MISSING after a problem."""
    value = field.value
    if not field.present:
        return None
    if isinstance(value, bool):
        return field._wrong_type("a protocol name or number")
    if isinstance(value, str) and value.isascii() and value.isdigit():
        if len(value) > 6:
            return field.problem(f"protocol number {value[:12]}... is outside 1-255")
        value = int(value)
    if isinstance(value, int):
        if not 1 <= value <= 255:
            return field.problem(f"protocol number {value} is outside 1-255")
        return value, None
    if isinstance(value, str):
        if value in PROTOCOL_NUMBERS:
            return PROTOCOL_NUMBERS[value], value
        return field.problem(f"protocol {value!r} is not one of {', '.join(PROTOCOL_NUMBERS)} "
                             "or a number 1-255 (names are case-sensitive)")
    return field._wrong_type("a protocol name or number")


def _port_number(field: Field, text: str) -> int | Any:
    if len(text) > 6:
        return field.problem(f"port {text[:12]}... is outside 1-65535")
    number = int(text)
    if not 1 <= number <= 65535:
        return field.problem(f"port {number} is outside 1-65535")
    return number


def read_port(field: Field) -> RulePort | Any:
    """A Calico port: an integer, a string of digits, ``"min:max"`` or a port name."""
    value = field.value
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        return field._wrong_type("a port number, range or name")
    if isinstance(value, int):
        return PortRange(value, value) if 1 <= value <= 65535 else field.problem(f"port {value} is outside 1-65535")
    if value.isascii() and value.isdigit():
        number = _port_number(field, value)
        return MISSING if number is MISSING else PortRange(number, number)
    match = _PORT_RANGE.match(value)
    if match:
        first = _port_number(field, match.group(1))
        last = _port_number(field, match.group(2))
        if first is MISSING or last is MISSING:
            return MISSING
        if first > last:
            return field.problem(f"port range {value!r} is invalid: {first} is greater than {last}")
        return PortRange(first, last)
    if _NAMED_PORT.match(value):
        if re.fullmatch(r"[0-9]+-[0-9]+", value):
            field.warn(f"{value!r} is a named port, not a range (write ranges as \"min:max\")")
        return NamedPort(value)
    return field.problem(f"{value!r} is not a port number, a \"min:max\" range or a port name "
                         "(1-128 of a-z A-Z 0-9 _ . -)")


def read_icmp(field: Field) -> IcmpMatch | None | Any:
    body = field.mapping(known=("type", "code"))
    if body is MISSING:
        return MISSING
    if not field.present:
        return None
    icmp_type = field["type"].integer(low=0, high=254)
    code = field["code"].integer(low=0, high=255)
    if icmp_type is MISSING or code is MISSING:
        return MISSING
    if code is not None and icmp_type is None:
        return field["code"].problem("ICMP code specified without an ICMP type")
    if icmp_type is None:
        return None
    return IcmpMatch(icmp_type, code)


def read_ports(field: Field) -> list[RulePort] | Any:
    ports: list[RulePort] = []
    ok = True
    if isinstance(field.value, list) and len(field.value) > MAX_PORTS:
        field.problem(f"{len(field.value)} ports, at most {MAX_PORTS} allowed")
        ok = False
    for item in field.items():
        port = read_port(item)
        if port is MISSING:
            ok = False
        else:
            ports.append(port)
    return ports if ok else MISSING
