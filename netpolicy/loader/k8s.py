"""Kubernetes building blocks shared by the NetworkPolicy and AdminNetworkPolicy
converters: names, label keys and values, label selectors (validated the way the
Kubernetes API server validates them, and turned into Calico selector text), CIDRs
and port numbers.

Every reader reports what is wrong at the field's path and returns ``MISSING`` (or a
partial result), so one pass finds every problem.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from typing import Any, Mapping

from ..model import IPNetwork
from ._fields import MISSING, Field

__all__ = [
    "DNS1123_LABEL",
    "DNS1123_SUBDOMAIN",
    "check_dns_label",
    "check_dns_subdomain",
    "check_label_key",
    "check_label_value",
    "label_selector_terms",
    "label_selector_matches",
    "read_cidr",
    "read_port_number",
    "is_port_name",
]

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_IANA_SVC_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
_CIDR = re.compile(r"^[0-9A-Fa-f:.]+/[0-9]{1,3}$")
_ADDRESS = re.compile(r"^[0-9A-Fa-f:.]+$")

#: Operators of a Kubernetes ``matchExpressions`` requirement.
SELECTOR_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


def check_dns_label(field: Field, value: str, what: str = "name") -> bool:
    """A DNS-1123 label (``[a-z0-9]([-a-z0-9]*[a-z0-9])?``, at most 63 characters)."""
    if len(value) > 63 or not DNS1123_LABEL.match(value):
        field.problem(f"{what} {value!r} must be a DNS-1123 label: lower case alphanumerics or '-', "
                      "starting and ending with an alphanumeric, at most 63 characters")
        return False
    return True


def check_dns_subdomain(field: Field, value: str, what: str = "name") -> bool:
    """A DNS-1123 subdomain (dot-separated labels, at most 253 characters)."""
    if len(value) > 253 or not DNS1123_SUBDOMAIN.match(value):
        field.problem(f"{what} {value!r} must be a DNS-1123 subdomain: lower case alphanumerics, '-' "
                      "or '.', starting and ending with an alphanumeric, at most 253 characters")
        return False
    return True


def check_label_key(field: Field, key: str) -> bool:
    """A qualified name as Kubernetes requires of label keys: ``[prefix/]name`` with a
    DNS subdomain prefix (≤253) and a name of at most 63 characters."""
    prefix, slash, name = key.rpartition("/")
    ok = True
    if slash:
        if not prefix:
            ok = False
        elif len(prefix) > 253 or not DNS1123_SUBDOMAIN.match(prefix):
            ok = False
        if "/" in prefix:
            ok = False
    if not name or len(name) > 63 or not _QUALIFIED_NAME.match(name):
        ok = False
    if not ok:
        field.problem(f"label key {key!r} is not a valid qualified name: an optional DNS subdomain prefix "
                      "and '/', then at most 63 alphanumerics, '-', '_' or '.', starting and ending "
                      "with an alphanumeric")
    return ok


def check_label_value(field: Field, value: str) -> bool:
    """A label value: empty, or at most 63 alphanumerics, '-', '_', '.', starting and
    ending with an alphanumeric."""
    if len(value) > 63 or not _LABEL_VALUE.match(value):
        field.problem(f"label value {value!r} is not valid: at most 63 alphanumerics, '-', '_' or '.', "
                      "starting and ending with an alphanumeric")
        return False
    return True


def _quote(value: str) -> str:
    # Validated label values hold neither quote character.
    return f"'{value}'"


def label_selector_terms(field: Field) -> list[str] | Any:
    """Validate a Kubernetes LabelSelector and return its Calico selector terms (to be
    joined with `` && ``): ``k == 'v'`` for each matchLabels entry (keys sorted), then
    each matchExpression in order (``k in { 'a', 'b' }``, ``k not in { ... }``,
    ``has(k)``, ``! has(k)``). An empty or absent selector gives no terms (selects
    everything). Returns MISSING when the selector is invalid."""
    body = field.mapping(known=("matchLabels", "matchExpressions"))
    if body is MISSING:
        return MISSING
    ok = True
    terms: list[str] = []
    labels_field = field["matchLabels"]
    labels = labels_field.string_map()
    if labels is MISSING:
        ok = False
    elif any(not isinstance(key, str) for key in labels):
        ok = False  # reported by the mapping reader
    else:
        for key in sorted(labels):
            good = check_label_key(labels_field[key], key)
            good = check_label_value(labels_field[key], labels[key]) and good
            if good:
                terms.append(f"{key} == {_quote(labels[key])}")
            ok = ok and good
    for expr in field["matchExpressions"].items():
        body = expr.mapping(required=True, known=("key", "operator", "values"))
        if body is MISSING:
            ok = False
            continue
        key = expr["key"].string(required=True)
        if key is not MISSING and not check_label_key(expr["key"], key):
            key = MISSING
        operator = expr["operator"].choice(SELECTOR_OPERATORS, required=True)
        values: list[str] = []
        values_ok = not expr["values"].present or isinstance(expr["values"].value, list)
        for item in expr["values"].items():
            value = item.string()
            if value is MISSING or value is None:
                values_ok = False
                if value is None:
                    item.problem("expected a string, got null")
            elif not check_label_value(item, value):
                values_ok = False
            else:
                values.append(value)
        if operator in ("In", "NotIn") and not expr["values"].value:
            expr["values"].problem(f"must be specified when operator is {operator!r}")
            values_ok = False
        if operator in ("Exists", "DoesNotExist") and expr["values"].value:
            expr["values"].problem(f"may not be specified when operator is {operator!r}")
            values_ok = False
        if key is MISSING or operator is MISSING or not values_ok:
            ok = False
            continue
        if operator == "In":
            terms.append(f"{key} in {{ {', '.join(_quote(v) for v in values)} }}")
        elif operator == "NotIn":
            terms.append(f"{key} not in {{ {', '.join(_quote(v) for v in values)} }}")
        elif operator == "Exists":
            terms.append(f"has({key})")
        else:
            terms.append(f"! has({key})")
    return terms if ok else MISSING


def label_selector_matches(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """Whether an already validated Kubernetes LabelSelector matches ``labels``."""
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, operator, values = expr["key"], expr["operator"], expr.get("values") or []
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and key in labels and labels[key] in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


def read_cidr(field: Field, *, allow_address: bool = False) -> IPNetwork | Any:
    """A CIDR such as ``10.0.0.0/8`` or ``fd00::/8``. Host bits may be set (they are
    masked off, as the Kubernetes API accepts them). With ``allow_address`` a bare
    address means a /32 or /128. Returns MISSING after reporting a problem."""
    value = field.string(required=True)
    if value is MISSING:
        return MISSING
    shape = _CIDR if not allow_address or "/" in value else _ADDRESS
    network = _network(value) if shape.match(value) else None
    if network is None:
        return field.problem(f"{value!r} is not a valid CIDR" + (" or IP address" if allow_address else ""))
    return network


@functools.lru_cache(maxsize=4096)
def _network(text: str) -> IPNetwork | None:
    """``text`` as a network with host bits masked, or None (cached: policies repeat CIDRs)."""
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def read_port_number(field: Field) -> int | Any:
    """A port number 1-65535 (an integer, not a string)."""
    value = field.value
    if isinstance(value, bool) or not isinstance(value, int):
        return field._wrong_type("an integer port number")
    if not 1 <= value <= 65535:
        return field.problem(f"port {value} is outside 1-65535")
    return value


def is_port_name(name: str) -> bool:
    """An IANA service name as Kubernetes requires of named ports: 1-15 lower case
    alphanumerics or '-', at least one letter, no leading, trailing or double '-'."""
    return (
        0 < len(name) <= 15
        and bool(_IANA_SVC_NAME.match(name))
        and "--" not in name
        and any(c.isalpha() for c in name)
    )
