"""Converters for every policy kind: Calico NetworkPolicy, GlobalNetworkPolicy, their
staged forms, StagedKubernetesNetworkPolicy, Tier and Profile; Kubernetes
NetworkPolicy; AdminNetworkPolicy and BaselineAdminNetworkPolicy; ClusterNetworkPolicy.

:data:`CONVERTERS` maps ``(API group, kind)`` to ``(converter, namespaced)`` for the
loader's registry. Calico kinds are read the same way from ``projectcalico.org/v3`` and
``crd.projectcalico.org/v1``.

Calico policies (calico-semantics §A.7, §B):

* ``tier`` defaults to ``default``; ``order`` is a number, absent = no order (last).
* ``types`` defaults from the rule lists (§B.2): Egress only when there are egress
  rules and no ingress rules, both when there are both, else Ingress. A direction not
  in ``types`` is ``None`` on the model policy.
* Effective selector of a NetworkPolicy in namespace N: ``(<selector>) &&
  projectcalico.org/namespace == 'N'`` (just the namespace term when the selector is
  empty), then ``&& <serviceAccountSelector with pcsa. labels>``. Of a
  GlobalNetworkPolicy: the selector, ``&& <namespaceSelector with pcns. labels>`` with
  every ``all()`` in the text replaced by ``has(projectcalico.org/namespace)``, then the
  service-account selector the same way with ``has(projectcalico.org/serviceaccount)``.
* ``global()`` is refused in ``selector``, ``serviceAccountSelector`` and (global
  policies) ``namespaceSelector``. preDNAT/doNotTrack/applyOnForward follow Calico's
  rules: not both preDNAT and doNotTrack; preDNAT has no egress rules and no Egress
  type; either needs applyOnForward.
* Names (§B.4): a NetworkPolicy name is a DNS label, optionally ``label.label`` (the
  pre-v3.32 ``<tier>.<name>`` form), or ``knp.default.``/``ossg.default.`` + a
  subdomain; a GlobalNetworkPolicy name is a DNS label with at most one dot. The name is
  kept as written.
* Staged kinds are kept as staged policies; ``stagedAction: Delete`` produces nothing
  (and every other spec field but ``tier`` must then be empty).
"""

from __future__ import annotations

import re
from typing import Any, Callable, Iterable, Mapping

from ..model import Action, Direction, Policy, PolicyRef, Profile, Tier
from ..selector import Selector
from ._fields import MISSING, Field
from .anp import convert_admin_network_policy, convert_baseline_admin_network_policy
from .cnp import convert_cluster_network_policy
from .k8s import check_dns_label, check_dns_subdomain, check_label_key, check_label_value
from .knp import convert_network_policy, convert_staged_network_policy
from .records import BUILTIN_TIERS as _BUILTIN_TIERS
from .registry import CALICO, NETWORKING, POLICY_NETWORKING, POLICY_NETWORKING_V1ALPHA2, Inventory, Meta
from .rules import NAMESPACE_LABEL, SERVICE_ACCOUNT_LABEL, RuleScope, convert_rules, parse_text, read_selector

__all__ = [
    "CONVERTERS",
    "BUILTIN_TIERS",
    "convert_calico_network_policy",
    "convert_global_network_policy",
    "convert_staged_calico_network_policy",
    "convert_staged_global_network_policy",
    "convert_tier",
    "convert_profile",
]

_LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_SUBDOMAIN = f"{_LABEL}(\\.{_LABEL})*"
_NP_NAME = re.compile(f"^(({_LABEL})(\\.{_LABEL})?|((?:knp|ossg)\\.default\\.({_SUBDOMAIN})))$")
_GNP_NAME = re.compile(f"^({_LABEL}\\.)?{_LABEL}$")
_STAGED_ACTIONS = ("Set", "Delete", "Learn", "Ignore")
_COMMON_FIELDS = ("tier", "order", "selector", "ingress", "egress", "types", "serviceAccountSelector",
                  "performanceHints")
_GLOBAL_FIELDS = ("namespaceSelector", "doNotTrack", "preDNAT", "applyOnForward")

#: Tiers Calico creates itself, with the order and default action it locks them to.
BUILTIN_TIERS: Mapping[str, tuple[float, Action]] = {
    tier.name: (tier.order, tier.default_action) for tier in _BUILTIN_TIERS if tier.order is not None
}


def _check_policy_name(root: Field, meta: Meta, *, is_global: bool) -> None:
    field = root["metadata"]["name"]
    name = meta.name
    if len(name) > 253:
        field.problem(f"name is too long by {len(name) - 253} characters")
    elif not (_GNP_NAME if is_global else _NP_NAME).match(name):
        shape = "a DNS label with at most one dot" if is_global else (
            "a DNS label, optionally '<tier>.<name>', or 'knp.default.'/'ossg.default.' and a DNS subdomain")
        field.problem(f"name {name!r} must be {shape} (lower case alphanumerics and '-')")


def _read_order(field: Field) -> float | None | Any:
    """An optional ``order``: a finite number (None when absent)."""
    value = field.value
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 1e300:
        return field.problem(f"order {str(value)[:20]}... is too large")
    return field.number()


def _append_prefixed(current: str, selector: Selector, prefix: str) -> str:
    """Calico's ``prefixAndAppendSelector``."""
    prefixed = str(selector.prefixed(prefix))
    return f"({current}) && {prefixed}" if current else prefixed


def _read_types(field: Field) -> list[str] | Any:
    types: list[str] = []
    ok = True
    if isinstance(field.value, list) and len(field.value) > 2:
        field.problem("at most 2 types allowed")
        ok = False
    for item in field.items():
        value = item.choice(("Ingress", "Egress"), required=True)
        if value is MISSING:
            ok = False
        elif value in types:
            item.problem(f"{value!r} type specified more than once")
            ok = False
        else:
            types.append(value)
    return types if ok else MISSING


def _default_types(spec: Field) -> list[str]:
    """§B.2: what the API fills in when ``types`` is empty."""
    has_ingress = isinstance(spec["ingress"].value, list) and bool(spec["ingress"].value)
    has_egress = isinstance(spec["egress"].value, list) and bool(spec["egress"].value)
    if has_egress and has_ingress:
        return ["Ingress", "Egress"]
    return ["Egress"] if has_egress else ["Ingress"]


def _staged_delete(spec: Field, fields: Iterable[str]) -> None:
    """With stagedAction Delete every spec field but ``tier`` must be empty."""
    for key in fields:
        if key in ("tier", "stagedAction"):
            continue
        value = spec[key].value
        if spec[key].present and value not in ("", [], {}, False, 0):
            spec[key].problem("must be empty when stagedAction is Delete (only tier may be set)")


def _calico_policy(root: Field, meta: Meta, *, kind: str, is_global: bool, staged: bool) -> Policy | None:
    _check_policy_name(root, meta, is_global=is_global)
    namespace = None if is_global else (meta.namespace or "default")
    spec = root["spec"]
    known = _COMMON_FIELDS + (_GLOBAL_FIELDS if is_global else ()) + (("stagedAction",) if staged else ())
    if spec.mapping(known=known) is MISSING:
        return None
    if staged:
        action = spec["stagedAction"].choice(_STAGED_ACTIONS, default="Set")
        if action == "Delete":
            _staged_delete(spec, known)
            return None
        if action is MISSING:
            return None

    tier = spec["tier"].string(default="default")
    if tier == "":
        tier = "default"
    if tier is not MISSING and not check_dns_label(spec["tier"], tier, "tier"):
        tier = MISSING
    order = _read_order(spec["order"])
    selector = read_selector(spec["selector"], forbid_global=True)
    sa_selector = read_selector(spec["serviceAccountSelector"], forbid_global=True)
    ns_selector = read_selector(spec["namespaceSelector"], forbid_global=True) if is_global else None
    types = _read_types(spec["types"])
    ingress = convert_rules(spec["ingress"], RuleScope(namespace, Direction.INGRESS, is_global=is_global))
    egress = convert_rules(spec["egress"], RuleScope(namespace, Direction.EGRESS, is_global=is_global))
    hints: list[str] = []
    for item in spec["performanceHints"].items():
        hint = item.choice(("AssumeNeededOnEveryNode",), required=True)
        if hint is not MISSING and hint in hints:
            item.problem(f"{hint!r} is listed more than once")
        hints.append(hint)

    do_not_track = pre_dnat = apply_on_forward = False
    if is_global:
        do_not_track = spec["doNotTrack"].boolean()
        pre_dnat = spec["preDNAT"].boolean()
        apply_on_forward = spec["applyOnForward"].boolean()
        if do_not_track is True and pre_dnat is True:
            spec["preDNAT"].problem("preDNAT and doNotTrack cannot both be true")
        if pre_dnat is True:
            if isinstance(spec["egress"].value, list) and spec["egress"].value:
                spec["egress"].problem("preDNAT policy cannot have any egress rules")
            if types is not MISSING and "Egress" in types:
                spec["types"].problem("preDNAT policy cannot have 'Egress' type")
        if (do_not_track is True or pre_dnat is True) and apply_on_forward is False:
            spec["applyOnForward"].problem("applyOnForward must be true if either preDNAT or doNotTrack is true")

    if MISSING in (tier, order, selector, sa_selector, ns_selector, types, ingress, egress,
                   do_not_track, pre_dnat, apply_on_forward):
        return None
    if not types:
        types = _default_types(spec)

    if is_global:
        text = selector[0] if selector is not None and selector[0].strip() else ""
        if ns_selector is not None:
            text = _append_prefixed(text, ns_selector[1], "pcns.").replace("all()", f"has({NAMESPACE_LABEL})")
        if sa_selector is not None:
            text = _append_prefixed(text, sa_selector[1], "pcsa.").replace("all()", f"has({SERVICE_ACCOUNT_LABEL})")
        effective = parse_text(spec["selector"], text or "all()")
    else:
        ns_term = f"{NAMESPACE_LABEL} == '{namespace}'"
        text = f"({selector[1]}) && {ns_term}" if selector is not None else ns_term
        if sa_selector is not None:
            text = _append_prefixed(text, sa_selector[1], "pcsa.")
        effective = parse_text(spec["selector"], text)
    if effective is MISSING:
        return None
    return Policy(
        ref=PolicyRef(kind, namespace, meta.name),
        tier=tier,
        order=order,
        selector=effective,
        ingress=ingress if "Ingress" in types else None,
        egress=egress if "Egress" in types else None,
        staged=staged,
        do_not_track=do_not_track,
        pre_dnat=pre_dnat,
        apply_on_forward=apply_on_forward,
        origin=meta.origin,
    )


def _single(policy: Policy | None) -> list[object]:
    return [policy] if policy is not None else []


def convert_calico_network_policy(root: Field, meta: Meta, inventory: Inventory) -> Iterable[object]:
    """Calico (namespaced) NetworkPolicy."""
    return _single(_calico_policy(root, meta, kind="NetworkPolicy", is_global=False, staged=False))


def convert_global_network_policy(root: Field, meta: Meta, inventory: Inventory) -> Iterable[object]:
    """Calico GlobalNetworkPolicy."""
    return _single(_calico_policy(root, meta, kind="GlobalNetworkPolicy", is_global=True, staged=False))


def convert_staged_calico_network_policy(root: Field, meta: Meta, inventory: Inventory) -> Iterable[object]:
    """Calico StagedNetworkPolicy (nothing when stagedAction is Delete)."""
    return _single(_calico_policy(root, meta, kind="StagedNetworkPolicy", is_global=False, staged=True))


def convert_staged_global_network_policy(root: Field, meta: Meta, inventory: Inventory) -> Iterable[object]:
    """Calico StagedGlobalNetworkPolicy (nothing when stagedAction is Delete)."""
    return _single(_calico_policy(root, meta, kind="StagedGlobalNetworkPolicy", is_global=True, staged=True))


def convert_tier(root: Field, meta: Meta, inventory: Inventory) -> Iterable[object]:
    """Calico Tier: a DNS-label name, ``order`` (absent = last) and ``defaultAction``
    (Deny, the default, or Pass). Built-in tiers keep the order and action Calico locks
    them to."""
    name_ok = check_dns_label(root["metadata"]["name"], meta.name, "tier name")
    spec = root["spec"]
    if spec.mapping(known=("order", "defaultAction")) is MISSING:
        return []
    order = _read_order(spec["order"])
    action_text = spec["defaultAction"].choice(("Deny", "Pass"))
    if order is MISSING or action_text is MISSING or not name_ok:
        return []
    action = Action(action_text) if action_text is not None else None
    builtin = BUILTIN_TIERS.get(meta.name)
    if builtin is not None:
        if order is not None and order != builtin[0]:
            spec["order"].problem(f"the {meta.name} tier's order must be {builtin[0]:g}")
            return []
        if action is not None and action is not builtin[1]:
            spec["defaultAction"].problem(f"the {meta.name} tier's defaultAction must be {builtin[1]}")
            return []
        order, action = builtin
    return [Tier(meta.name, order, action or Action.DENY, origin=meta.origin)]


def convert_profile(root: Field, meta: Meta, inventory: Inventory) -> Iterable[object]:
    """Calico Profile: ``labelsToApply`` and ingress/egress rules."""
    name_ok = check_dns_subdomain(root["metadata"]["name"], meta.name)
    spec = root["spec"]
    if spec.mapping(known=("ingress", "egress", "labelsToApply")) is MISSING:
        return []
    labels_field = spec["labelsToApply"]
    labels = labels_field.string_map()
    if labels is not MISSING and any(not isinstance(key, str) for key in labels):
        labels = MISSING  # reported by the mapping reader
    if labels is not MISSING:
        for key, value in labels.items():
            good = check_label_key(labels_field[key], key)
            if not check_label_value(labels_field[key], value) or not good:
                labels = MISSING
    ingress = convert_rules(spec["ingress"], RuleScope(None, Direction.INGRESS, is_global=False, is_profile=True))
    egress = convert_rules(spec["egress"], RuleScope(None, Direction.EGRESS, is_global=False, is_profile=True))
    if MISSING in (labels, ingress, egress) or not name_ok:
        return []
    return [Profile(meta.name, labels, ingress, egress, origin=meta.origin)]


Converter = Callable[[Field, Meta, Inventory], Iterable[object]]

#: (API group, kind) -> (converter, namespaced), read by the loader's registry.
CONVERTERS: Mapping[tuple[str, str], tuple[Converter, bool]] = {
    (NETWORKING, "NetworkPolicy"): (convert_network_policy, True),
    (CALICO, "NetworkPolicy"): (convert_calico_network_policy, True),
    (CALICO, "GlobalNetworkPolicy"): (convert_global_network_policy, False),
    (CALICO, "StagedNetworkPolicy"): (convert_staged_calico_network_policy, True),
    (CALICO, "StagedGlobalNetworkPolicy"): (convert_staged_global_network_policy, False),
    (CALICO, "StagedKubernetesNetworkPolicy"): (convert_staged_network_policy, True),
    (CALICO, "Tier"): (convert_tier, False),
    (CALICO, "Profile"): (convert_profile, False),
    (POLICY_NETWORKING, "AdminNetworkPolicy"): (convert_admin_network_policy, False),
    (POLICY_NETWORKING, "BaselineAdminNetworkPolicy"): (convert_baseline_admin_network_policy, False),
    (POLICY_NETWORKING_V1ALPHA2, "ClusterNetworkPolicy"): (convert_cluster_network_policy, False),
}
