"""Calico rules (``projectcalico.org/v3`` Rule) to model :class:`Rule`s.

Shared by NetworkPolicy, GlobalNetworkPolicy, their staged forms and Profile. Every
check of calico-semantics §B.3 is made here, each problem reported at its field path;
a rule with a problem is left out (the loader refuses the whole input anyway). Each
side (an EntityRule) is read in :mod:`.entity`, protocols, ports and ICMP in
:mod:`.ports`; this module checks what spans the fields of a rule.
"""

from __future__ import annotations

from typing import Any

from ..model import Action, Direction, PortRange, Rule
from ._fields import MISSING, Field
from .entity import (
    NAMESPACE_LABEL,
    SELECTOR_MAX_LENGTH,
    SERVICE_ACCOUNT_LABEL,
    entity_selectors,
    namespace_part,
    parse_text,
    read_selector,
    read_side,
)
from .ports import PORT_PROTOCOLS, read_icmp, read_port, read_protocol

__all__ = [
    "RuleScope",
    "NAMESPACE_LABEL",
    "SERVICE_ACCOUNT_LABEL",
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

MAX_RULES = 1024
MAX_HTTP_ITEMS = 20

_ACTIONS = {a.value: a for a in Action}
_RULE_FIELDS = ("action", "ipVersion", "protocol", "notProtocol", "icmp", "notICMP", "source",
                "destination", "http", "metadata")


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
    icmp = read_icmp(field["icmp"]) if get("icmp") is not None else None
    not_icmp = read_icmp(field["notICMP"]) if get("notICMP") is not None else None
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

    source = read_side(field["source"], namespace=scope.namespace, is_global=scope.is_global)
    destination = read_side(field["destination"], namespace=scope.namespace, is_global=scope.is_global)
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
