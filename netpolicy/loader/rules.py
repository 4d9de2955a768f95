"""Calico rules (``projectcalico.org/v3`` Rule and EntityRule) to model :class:`Rule`s.

Shared by NetworkPolicy, GlobalNetworkPolicy, their staged forms and Profile. Every
check of calico-semantics §B.3 is made here, each problem reported at its field path;
a rule with a problem is left out (the loader refuses the whole input anyway).

Effective selectors follow §A.8: the service-account part (``pcsa.`` labels and
``projectcalico.org/serviceaccount in {...}``), the namespace part (``pcns.`` labels
with Calico's textual ``all()``/``global()`` rewriting, or the policy's own namespace)
and the endpoint selector are combined into one selector per side; a notSelector is
folded into it as ``(P) && (!(N))`` when a positive selector exists (§A.9).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from ..errors import PolicyError
from ..model import (
    PROTOCOL_NUMBERS,
    Action,
    Direction,
    EntityMatch,
    IcmpMatch,
    IPNetwork,
    NamedPort,
    PortRange,
    Rule,
    RulePort,
    ServiceRef,
)
from ..selector import Selector
from ._fields import MISSING, Field
from .k8s import DNS1123_SUBDOMAIN, read_cidr

__all__ = [
    "RuleScope",
    "SELECTOR_MAX_LENGTH",
    "convert_rules",
    "convert_rule",
    "read_selector",
    "parse_text",
    "namespace_part",
    "entity_selectors",
    "read_protocol",
    "read_port",
    "PORT_PROTOCOLS",
]

SELECTOR_MAX_LENGTH = 1024
MAX_RULES = 1024
MAX_NETS = 256
MAX_PORTS = 50
MAX_HTTP_ITEMS = 20

#: Protocols that have ports: TCP, UDP, SCTP (UDPLite does not count, §B.3).
PORT_PROTOCOLS = frozenset({6, 17, 132})

_ACTIONS = {a.value: a for a in Action}
_PORT_RANGE = re.compile(r"^([0-9]+):([0-9]+)$")
_NAMED_PORT = re.compile(r"^[a-zA-Z0-9_.-]{1,128}$")
_GLOBAL_ONLY = re.compile(r"^[ \t]*global\([ \t]*\)[ \t]*$")
_RULE_FIELDS = ("action", "ipVersion", "protocol", "notProtocol", "icmp", "notICMP", "source",
                "destination", "http", "metadata")
_ENTITY_FIELDS = ("nets", "notNets", "selector", "notSelector", "namespaceSelector", "ports",
                  "notPorts", "serviceAccounts", "services")
_CATCH_ALL = (ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0"))

NAMESPACE_LABEL = "projectcalico.org/namespace"
SERVICE_ACCOUNT_LABEL = "projectcalico.org/serviceaccount"


class RuleScope:
    """Where rules live: the policy's namespace (None for global policies and
    profiles), the rules' direction, whether the owner is global (a GlobalNetworkPolicy
    needs ``services.namespace``) and whether it is a profile (profiles have no
    direction-dependent checks)."""

    __slots__ = ("namespace", "direction", "is_global", "is_profile")

    def __init__(self, namespace: str | None, direction: Direction | None, *, is_global: bool,
                 is_profile: bool = False) -> None:
        self.namespace = namespace
        self.direction = direction
        self.is_global = is_global
        self.is_profile = is_profile


# -- selectors --------------------------------------------------------------------------


def parse_text(field: Field, text: str) -> Selector | Any:
    """Parse selector text built from already validated parts."""
    try:
        return Selector.parse(text)
    except PolicyError as err:
        return field.problem(f"selector {text!r} does not parse: {str(err).splitlines()[0]}")


def read_selector(field: Field, *, forbid_global: bool = False) -> tuple[str, Selector] | None | Any:
    """Read an optional Calico selector: ``None`` when absent or empty, MISSING after a
    problem, else ``(raw text, parsed selector)``."""
    raw = field.string()
    if raw is MISSING:
        return MISSING
    if raw is None or raw == "":
        return None
    if len(raw) > SELECTOR_MAX_LENGTH:
        return field.problem(f"selector is {len(raw)} characters long, at most {SELECTOR_MAX_LENGTH} allowed")
    if forbid_global and "global(" in raw:
        return field.problem("global() can only be used in an EntityRule namespaceSelector")
    try:
        parsed = Selector.parse(raw)
    except PolicyError as err:
        shown = raw if len(raw) <= 200 else raw[:200] + "..."
        return field.problem(f"invalid selector {shown!r}: {str(err).splitlines()[0]}")
    return raw, parsed


def namespace_part(selector: Selector) -> str:
    """§A.8 step 2: a namespace selector's labels prefixed with ``pcns.``, then the
    textual rewriting of ``all()`` and ``global()`` on the canonical text."""
    text = str(selector.prefixed("pcns."))
    text = text.replace("all()", f"has({NAMESPACE_LABEL})")
    return text.replace("global()", f"!has({NAMESPACE_LABEL})")


def _service_account_part(field: Field) -> str | None | Any:
    body = field.mapping(known=("names", "selector"))
    if body is MISSING:
        return MISSING
    ok = True
    parts: list[str] = []
    sel = read_selector(field["selector"])
    if sel is MISSING:
        ok = False
    elif sel is not None:
        parts.append(str(sel[1].prefixed("pcsa.")))
    names: list[str] = []
    seen: set[str] = set()
    for item in field["names"].items():
        name = item.string(required=True)
        if name is MISSING:
            ok = False
        elif len(name) > 253 or not DNS1123_SUBDOMAIN.match(name):
            item.problem(f"service account name {name!r} is not a valid DNS-1123 subdomain")
            ok = False
        elif name not in seen:
            seen.add(name)
            names.append(name)
    if names:
        quoted = ", ".join(f"'{n}'" for n in names)
        parsed = parse_text(field["names"], f"{SERVICE_ACCOUNT_LABEL} in {{ {quoted} }}")
        if parsed is MISSING:
            ok = False
        else:
            parts.append(str(parsed))
    if not ok:
        return MISSING
    if len(parts) == 2:
        return f"({parts[0]}) && ({parts[1]})"
    return parts[0] if parts else None


def entity_selectors(
    side: Field,
    *,
    namespace: str | None,
    selector: tuple[str, Selector] | None,
    not_selector: tuple[str, Selector] | None,
    namespace_selector: tuple[str, Selector] | None,
    sa_part: str | None,
) -> tuple[Selector | None, Selector | None] | Any:
    """Combine one side's selector fields into (effective selector, notSelector)
    exactly as §A.8/§A.9 describe. ``namespace`` is the policy's namespace."""
    ns_part: str | None = None
    if namespace_selector is not None:
        ns_part = namespace_part(namespace_selector[1])
    elif namespace:
        ns_part = f"{NAMESPACE_LABEL} == '{namespace}'"
    parts = [p for p in (sa_part, str(selector[1]) if selector else None) if p]
    endpoint = parts[0] if len(parts) == 1 else (f"({parts[0]}) && ({parts[1]})" if parts else "")
    combined = endpoint
    if ns_part and (endpoint or not_selector is not None or namespace_selector is not None):
        combined = f"({ns_part}) && ({endpoint})" if endpoint else ns_part
    not_text = str(not_selector[1]) if not_selector is not None else None
    if combined and not_text is not None:
        folded = parse_text(side, f"({combined}) && (!({not_text}))")
        return MISSING if folded is MISSING else (folded, None)
    if combined:
        positive = parse_text(side, combined)
        return MISSING if positive is MISSING else (positive, None)
    if not_text is not None:
        assert not_selector is not None
        return None, not_selector[1]
    return None, None


# -- scalars ----------------------------------------------------------------------------


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


def _read_icmp(field: Field) -> IcmpMatch | None | Any:
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


def _read_nets(field: Field) -> list[IPNetwork] | Any:
    nets: list[IPNetwork] = []
    ok = True
    if isinstance(field.value, list) and len(field.value) > MAX_NETS:
        field.problem(f"{len(field.value)} CIDRs, at most {MAX_NETS} allowed")
        ok = False
    for item in field.items():
        net = read_cidr(item, allow_address=True)
        if net is MISSING:
            ok = False
        else:
            nets.append(net)
    return nets if ok else MISSING


def _read_ports(field: Field) -> list[RulePort] | Any:
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


# -- entity rules -----------------------------------------------------------------------


class _Side:
    """One side of a rule as read, before the cross-field checks."""

    __slots__ = ("field", "nets", "not_nets", "ports", "not_ports", "services", "match", "ok", "has")

    def __init__(self, field: Field) -> None:
        self.field = field
        self.nets: list[IPNetwork] = []
        self.not_nets: list[IPNetwork] = []
        self.ports: list[RulePort] = []
        self.not_ports: list[RulePort] = []
        self.services: ServiceRef | None = None
        self.match: EntityMatch | None = None
        self.ok = True
        self.has: set[str] = set()


_EMPTY_MATCH = EntityMatch()


def _read_side(field: Field, scope: RuleScope) -> _Side:
    side = _Side(field)
    if field.value is MISSING or field.value is None:  # fast path: no restriction on this side
        side.match = _EMPTY_MATCH
        return side
    body = field.mapping(known=_ENTITY_FIELDS)
    if body is MISSING:
        side.ok = False
        return side
    side.has = {k for k, v in body.items() if v not in (None, "", [], {})} if isinstance(body, dict) else set()
    if "serviceAccounts" in body and body["serviceAccounts"] is not None:
        side.has.add("serviceAccounts")
    if "services" in body and body["services"] is not None:
        side.has.add("services")

    get = body.get
    nets = _read_nets(field["nets"]) if get("nets") is not None else []
    not_nets = _read_nets(field["notNets"]) if get("notNets") is not None else []
    ports = _read_ports(field["ports"]) if get("ports") is not None else []
    not_ports = _read_ports(field["notPorts"]) if get("notPorts") is not None else []
    for value in (nets, not_nets, ports, not_ports):
        if value is MISSING:
            side.ok = False
    side.nets = nets if nets is not MISSING else []
    side.not_nets = not_nets if not_nets is not MISSING else []
    side.ports = ports if ports is not MISSING else []
    side.not_ports = not_ports if not_ports is not MISSING else []
    for index, net in enumerate(side.not_nets):
        if net in _CATCH_ALL:
            field["notNets"][index].problem(f"{net} in notNets would match nothing; a catch-all CIDR "
                                            "is not allowed in notNets")
            side.ok = False

    selector = read_selector(field["selector"]) if get("selector") is not None else None
    if selector not in (None, MISSING) and "global(" in selector[0]:
        field["selector"].problem("global() can only be used in an EntityRule namespaceSelector")
        selector = MISSING
    not_selector = read_selector(field["notSelector"]) if get("notSelector") is not None else None
    ns_selector = read_selector(field["namespaceSelector"]) if get("namespaceSelector") is not None else None
    if ns_selector not in (None, MISSING) and "global(" in ns_selector[0] and not _GLOBAL_ONLY.match(ns_selector[0]):
        field["namespaceSelector"].problem("global() cannot be combined with other selectors")
        ns_selector = MISSING
    sa_part: Any = None
    if get("serviceAccounts") is not None:
        sa_part = _service_account_part(field["serviceAccounts"])

    if get("services") is not None:
        services_field = field["services"]
        services = services_field.mapping(known=("name", "namespace"))
        if services is not MISSING:
            name = services_field["name"].string(default="")
            namespace = services_field["namespace"].string(default="")
            if name is MISSING or namespace is MISSING:
                side.ok = False
            else:
                if not name:
                    services_field["name"].problem("services must specify a service name")
                    side.ok = False
                elif len(name) > 253 or not DNS1123_SUBDOMAIN.match(name):
                    services_field["name"].problem(f"service name {name!r} is not a valid DNS-1123 subdomain")
                    side.ok = False
                if namespace and (len(namespace) > 253 or not DNS1123_SUBDOMAIN.match(namespace)):
                    services_field["namespace"].problem(f"namespace {namespace!r} is not a valid DNS-1123 subdomain")
                    side.ok = False
                if not namespace and scope.is_global:
                    services_field["namespace"].problem("must specify a namespace")
                    side.ok = False
                elif not namespace:
                    services_field["namespace"].warn(
                        "services.namespace is empty: Calico looks the service up with an empty "
                        "namespace, so this clause matches no service")
                side.services = ServiceRef(namespace, name)
        else:
            side.ok = False
        for other, message in (
            ("namespaceSelector", "cannot specify NamespaceSelector and Services on the same rule"),
            ("selector", "cannot specify Selector/NotSelector and Services on the same rule"),
            ("notSelector", "cannot specify Selector/NotSelector and Services on the same rule"),
            ("serviceAccounts", "cannot specify ServiceAccounts and Services on the same rule"),
            ("nets", "cannot specify Nets/NotNets and Services on the same rule"),
            ("notNets", "cannot specify Nets/NotNets and Services on the same rule"),
        ):
            if other in side.has:
                field[other].problem(message)
                side.ok = False

    if MISSING in (selector, not_selector, ns_selector, sa_part) or not side.ok:
        side.ok = False
        return side
    selectors = entity_selectors(field, namespace=scope.namespace, selector=selector, not_selector=not_selector,
                                 namespace_selector=ns_selector, sa_part=sa_part)
    if selectors is MISSING:
        side.ok = False
        return side
    positive, negative = selectors
    side.match = EntityMatch(
        nets=tuple(side.nets),
        not_nets=tuple(side.not_nets),
        selector=positive,
        not_selector=negative,
        ports=tuple(side.ports),
        not_ports=tuple(side.not_ports),
        services=side.services,
    )
    return side


# -- rules ------------------------------------------------------------------------------


def convert_rule(field: Field, scope: RuleScope) -> Rule | Any:
    """One Calico rule; MISSING after reporting its problems."""
    body = field.mapping(required=True, known=_RULE_FIELDS)
    if body is MISSING:
        return MISSING
    ok = True
    action_field = field["action"]
    action_text = action_field.string(required=True)
    action: Action | None = None
    if action_text is MISSING:
        ok = False
    elif action_text not in _ACTIONS:
        action_field.problem(f"action {action_text!r} is not one of Allow, Deny, Log, Pass")
        ok = False
    else:
        action = _ACTIONS[action_text]

    get = body.get
    ip_version = get("ipVersion")
    if ip_version is not None and (type(ip_version) is not int or ip_version not in (4, 6)):
        field["ipVersion"].problem(f"ipVersion must be 4 or 6, got {ip_version!r}")
        ok = False
        ip_version = MISSING

    protocol = read_protocol(field["protocol"]) if get("protocol") is not None else None
    not_protocol = read_protocol(field["notProtocol"]) if get("notProtocol") is not None else None
    icmp = _read_icmp(field["icmp"]) if get("icmp") is not None else None
    not_icmp = _read_icmp(field["notICMP"]) if get("notICMP") is not None else None
    ok = ok and MISSING not in (protocol, not_protocol, icmp, not_icmp)
    proto_number = protocol[0] if protocol not in (None, MISSING) else None

    if get("icmp") is not None and icmp is not MISSING and proto_number not in (1, 58):
        field["icmp"].problem("ICMP fields require protocol to be ICMP or ICMPv6")
        ok = False
    if ip_version not in (None, MISSING):
        for name, value in (("protocol", protocol), ("notProtocol", not_protocol)):
            if value in (None, MISSING):
                continue
            if value[0] == 1 and ip_version != 4:
                field[name].problem("protocol ICMP requires ipVersion 4")
                ok = False
            if value[0] == 58 and ip_version != 6:
                field[name].problem("protocol ICMPv6 requires ipVersion 6")
                ok = False

    source = _read_side(field["source"], scope)
    destination = _read_side(field["destination"], scope)
    ok = ok and source.ok and destination.ok

    # Ports need a protocol that has ports; named ports alone may go without one.
    for side in (source, destination):
        for name, ports in (("ports", side.ports), ("notPorts", side.not_ports)):
            if not ports:
                continue
            numeric = any(isinstance(p, PortRange) for p in ports)
            if proto_number in PORT_PROTOCOLS or (proto_number is None and not numeric and protocol is None):
                continue
            if protocol is MISSING:
                continue
            side.field[name].problem("rules that specify ports must set protocol to TCP, UDP or SCTP"
                                     + ("" if proto_number is not None else
                                        " (only named ports may be used without a protocol)"))
            ok = False

    # Address families: no v4/v6 mix in one rule, and ipVersion must agree.
    families: set[int] = set()
    for side in (source, destination):
        for name, nets in (("nets", side.nets), ("notNets", side.not_nets)):
            versions = {n.version for n in nets}
            if ip_version in (4, 6) and versions - {ip_version}:
                side.field[name].problem("rule IP version doesn't match CIDR version")
                ok = False
            if versions and (len(versions | families) > 1):
                side.field[name].problem("rule contains both IPv4 and IPv6 CIDRs")
                ok = False
            families |= versions

    # Services: direction and ports.
    if destination.services is not None or "services" in destination.has:
        if destination.ports or destination.not_ports:
            field["destination"]["ports" if destination.ports else "notPorts"].problem(
                "ports and notPorts cannot be specified with services")
            ok = False
        if scope.direction is Direction.INGRESS and not scope.is_profile:
            field["destination"]["services"].problem("services are not allowed in an ingress rule's destination")
            ok = False
    if "services" in source.has and scope.direction is Direction.EGRESS and not scope.is_profile:
        field["source"]["services"].problem("services are not allowed in an egress rule's source")
        ok = False

    http = _read_http(field["http"]) if get("http") is not None else False
    if http is MISSING:
        ok = False
    elif http:
        if action is not None and action is not Action.ALLOW:
            field["http"].problem("HTTP match is only valid on Allow rules")
            ok = False
        if protocol not in (None, MISSING) and protocol[0] != 6:
            field["protocol"].problem("rules with HTTP match must have protocol TCP or unset")
            ok = False
        if scope.direction is Direction.EGRESS and not scope.is_profile:
            field["http"].problem("HTTP match is not allowed in egress rules")
            ok = False
    if get("metadata") is not None:
        meta = field["metadata"].mapping(known=("annotations",))
        if meta is not MISSING and field["metadata"]["annotations"].string_map() is MISSING:
            ok = False

    if not ok or action is None:
        return MISSING
    assert source.match is not None and destination.match is not None
    effective_version = ip_version
    if effective_version is None and protocol not in (None, MISSING):
        effective_version = {"ICMP": 4, "ICMPv6": 6}.get(protocol[1] or "")
    return Rule(
        action=action,
        protocol=proto_number,
        not_protocol=not_protocol[0] if not_protocol else None,
        ip_version=effective_version,
        icmp=icmp,
        not_icmp=not_icmp,
        source=source.match,
        destination=destination.match,
        http=bool(http),
    )


def _read_http(field: Field) -> bool | Any:
    if not field.present:
        return False
    body = field.mapping(known=("methods", "paths"))
    if body is MISSING:
        return MISSING
    ok = True
    for name in ("methods", "paths"):
        items = field[name].value
        if isinstance(items, list) and len(items) > MAX_HTTP_ITEMS:
            field[name].problem(f"{len(items)} items, at most {MAX_HTTP_ITEMS} allowed")
            ok = False
    seen: set[str] = set()
    for item in field["methods"].items():
        method = item.string(required=True)
        if method is MISSING:
            ok = False
        elif method in seen:
            item.problem(f"method {method!r} is listed more than once")
            ok = False
        else:
            seen.add(method)
    for item in field["paths"].items():
        body = item.mapping(required=True, known=("exact", "prefix"))
        if body is MISSING:
            ok = False
            continue
        given = [k for k in ("exact", "prefix") if item[k].present]
        if len(given) != 1:
            item.problem("invalid path match: exactly one of 'exact' or 'prefix' must be set")
            ok = False
            continue
        path = item[given[0]].string()
        if path is MISSING:
            ok = False
        elif len(path) > 1024:
            item[given[0]].problem("path is longer than 1024 characters")
            ok = False
        elif not path.startswith("/") or any(c in path for c in "? #"):
            item[given[0]].problem(f"invalid path {path!r}: must start with '/' and not contain '?', '#' or space")
            ok = False
    return True if ok else MISSING


def convert_rules(field: Field, scope: RuleScope) -> tuple[Rule, ...] | Any:
    """A list of Calico rules (``spec.ingress`` / ``spec.egress``). Returns the rules
    that are valid; MISSING when any is not (its problems are reported)."""
    too_many = isinstance(field.value, list) and len(field.value) > MAX_RULES
    if too_many:
        field.problem(f"{len(field.value)} rules, at most {MAX_RULES} allowed")
    rules = field.convert_each(lambda item: convert_rule(item, scope))
    return MISSING if too_many or rules is MISSING else tuple(rules)
