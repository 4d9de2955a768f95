"""One side of a Calico rule (an EntityRule) to an :class:`~netpolicy.model.EntityMatch`:
the selectors, with the effective selector built as calico-semantics §A.8/§A.9 say (the
service-account part with ``pcsa.`` labels, the namespace part with ``pcns.`` labels and
Calico's textual ``all()``/``global()`` rewriting, or the policy's own namespace, and a
notSelector folded in as ``(P) && (!(N))`` when a positive selector exists), the CIDRs,
the ports and the service.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from ..errors import PolicyError
from ..model import EntityMatch, IPNetwork, RulePort, ServiceRef
from ..selector import Selector
from ._fields import MISSING, Field
from .k8s import DNS1123_SUBDOMAIN, read_cidr
from .ports import read_ports

__all__ = [
    "NAMESPACE_LABEL",
    "SERVICE_ACCOUNT_LABEL",
    "SELECTOR_MAX_LENGTH",
    "MAX_NETS",
    "Side",
    "read_side",
    "read_selector",
    "read_nets",
    "parse_text",
    "namespace_part",
    "entity_selectors",
]

SELECTOR_MAX_LENGTH = 1024
MAX_NETS = 256

NAMESPACE_LABEL = "projectcalico.org/namespace"
SERVICE_ACCOUNT_LABEL = "projectcalico.org/serviceaccount"

_GLOBAL_ONLY = re.compile(r"^[ \t]*global\([ \t]*\)[ \t]*$")
_ENTITY_FIELDS = ("nets", "notNets", "selector", "notSelector", "namespaceSelector", "ports",
                  "notPorts", "serviceAccounts", "services")
_CATCH_ALL = (ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0"))


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


def read_nets(field: Field) -> list[IPNetwork] | Any:
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


# -- entity rules -----------------------------------------------------------------------


class Side:
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


def read_side(field: Field, *, namespace: str | None, is_global: bool) -> Side:
    side = Side(field)
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
    nets = read_nets(field["nets"]) if get("nets") is not None else []
    not_nets = read_nets(field["notNets"]) if get("notNets") is not None else []
    ports = read_ports(field["ports"]) if get("ports") is not None else []
    not_ports = read_ports(field["notPorts"]) if get("notPorts") is not None else []
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
                if not namespace and is_global:
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
    selectors = entity_selectors(field, namespace=namespace, selector=selector, not_selector=not_selector,
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
