"""A flow to decide: its two sides, protocol, ports and ICMP type/code."""

from __future__ import annotations

import ipaddress
from typing import Union

import attrs

from .errors import PolicyError
from .model import PROTOCOL_NUMBERS, Endpoint

__all__ = ["Flow", "Side", "protocol_number"]

#: A flow's side: ``"namespace/pod"``, ``"[namespace/]kind/name"`` (kubectl's names), an IP
#: address (text or value), or an Endpoint.
Side = Union[str, ipaddress.IPv4Address, ipaddress.IPv6Address, Endpoint]

_PORTED = frozenset({6, 17, 132, 136})  # TCP, UDP, SCTP, UDPLite
_ICMP = frozenset({1, 58})


_KNOWN_MAX = 1 << 16  # text values remembered (sides, protocol names), at most, each
_PROTOCOLS: dict[str, int] = {}  # protocol text -> number, as protocol_number found it
_SIDES: dict[str, Side] = {}  # side text -> what _side made of it


def protocol_number(protocol: str | int) -> int:
    """The IANA number of a protocol given by Calico name (case-insensitive here) or
    number (1-255). Raises PolicyError for anything else."""
    if type(protocol) is int and 1 <= protocol <= 255:  # the common cases first, at once
        return protocol
    if type(protocol) is str:
        number = _PROTOCOLS.get(protocol)
        if number is None:
            number = _protocol_number(protocol)  # raises for a bad one: never remembered
            if len(_PROTOCOLS) < _KNOWN_MAX:
                _PROTOCOLS[protocol] = number
        return number
    return _protocol_number(protocol)


def _protocol_number(protocol: str | int) -> int:
    if isinstance(protocol, bool):
        raise PolicyError(f"protocol must be a name or a number, not {protocol!r}")
    if isinstance(protocol, int):
        if 1 <= protocol <= 255:
            return protocol
        raise PolicyError(f"protocol number {protocol} is outside 1-255")
    if isinstance(protocol, str):
        text = protocol.strip()
        if text.isdigit():
            return protocol_number(int(text))
        for name, number in PROTOCOL_NUMBERS.items():
            if name.lower() == text.lower():
                return number
        raise PolicyError(f"unknown protocol {protocol!r}; use one of {', '.join(PROTOCOL_NUMBERS)} or a number 1-255")
    raise PolicyError(f"protocol must be a name or a number, not {type(protocol).__name__}")


def _side(value: object) -> Side:
    if type(value) is str:  # text seen before: what it was made into then (immutable)
        known = _SIDES.get(value)
        if known is None:
            known = _new_side(value)  # raises for a bad one: never remembered
            if len(_SIDES) < _KNOWN_MAX:
                _SIDES[value] = known
        return known
    return _new_side(value)


def _new_side(value: object) -> Side:
    if isinstance(value, (Endpoint, ipaddress.IPv4Address, ipaddress.IPv6Address)):
        return value
    if isinstance(value, str):
        if not value or value != value.strip():
            raise PolicyError(f"flow side {value!r} is neither 'namespace/pod' nor an IP address")
        if "/" in value:
            parts = value.split("/")
            if len(parts) > 3 or not all(parts):
                raise PolicyError(f"flow side {value!r} is not of the form 'namespace/pod' or '[namespace/]kind/name'")
            return value
        try:
            return ipaddress.ip_address(value)
        except ValueError:
            raise PolicyError(f"flow side {value!r} is neither 'namespace/pod' nor an IP address") from None
    raise PolicyError(f"flow side must be 'namespace/pod', an IP address or an Endpoint, not {type(value).__name__}")


def _check_number(name: str, value: object, low: int, high: int) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise PolicyError(f"{name} must be an integer, not {value!r}")
    if not low <= value <= high:
        raise PolicyError(f"{name} {value} is outside {low}-{high}")


@attrs.frozen
class Flow:
    """The first packet of a connection from ``src`` to ``dst``.

    ``src``/``dst`` are ``"namespace/pod"``, a workload or Service named as kubectl names
    it (``"shop/deploy/frontend"``, ``"sts/db"``, ``"shop/db[StatefulSet]"``), an IP
    address or an :class:`Endpoint`; an IP text is turned into an address value. ``protocol`` is kept as a number
    (``Flow(protocol="TCP").protocol == 6``). Ports are 1-65535 and only for TCP, UDP,
    SCTP and UDPLite; ICMP type 0-254 and code 0-255 only for ICMP and ICMPv6.
    """

    src: Side = attrs.field(converter=_side)
    dst: Side = attrs.field(converter=_side)
    protocol: int = attrs.field(default=6, converter=protocol_number)
    dst_port: int | None = None
    src_port: int | None = None
    icmp_type: int | None = None
    icmp_code: int | None = None

    def __attrs_post_init__(self) -> None:
        if self.icmp_type is None and self.icmp_code is None and self.src_port is None:  # the common cases at once
            port = self.dst_port
            if port is None or (type(port) is int and 1 <= port <= 65535 and self.protocol in _PORTED):
                return
        _check_number("dst_port", self.dst_port, 1, 65535)
        _check_number("src_port", self.src_port, 1, 65535)
        _check_number("icmp_type", self.icmp_type, 0, 254)
        _check_number("icmp_code", self.icmp_code, 0, 255)
        if (self.dst_port is not None or self.src_port is not None) and self.protocol not in _PORTED:
            raise PolicyError(f"protocol {self.protocol} has no ports; ports need TCP, UDP, SCTP or UDPLite")
        if (self.icmp_type is not None or self.icmp_code is not None) and self.protocol not in _ICMP:
            raise PolicyError("icmp_type and icmp_code need protocol ICMP or ICMPv6")
        if self.icmp_code is not None and self.icmp_type is None:
            raise PolicyError("icmp_code needs icmp_type")
