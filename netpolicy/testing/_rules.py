"""Calico rules: every action, protocol, ICMP and entity field."""

from __future__ import annotations

from typing import Any, Collection

import attrs
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from ._selectors import _vocab_selector
from ._vocabulary import Vocabulary, _check_bool, _check_kinds, _check_vocab

__all__ = ["calico_rules"]

_ICMP_TYPES = (8, 0, 3, 128, 129)
_ICMP_CODES = (0, 1)
_PORTED_PROTOCOLS = ("TCP", "UDP", "SCTP", 6, 17, 132)



@attrs.frozen
class _RuleContext:
    vocab: Vocabulary
    direction: str  # "ingress" | "egress"
    namespaced: bool
    allowed_actions: tuple[str, ...] = ("Allow", "Deny", "Pass", "Log", "Pass", "Deny")
    profile: bool = False


def _protocol_family_ok(protocol: object, family: int | None) -> bool:
    if family is None:
        return True
    if protocol in ("ICMP", 1) and family == 6:
        return False
    if protocol in ("ICMPv6", 58) and family == 4:
        return False
    return True


@st.composite
def _ports(draw: st.DrawFn, vocab: Vocabulary, numeric: bool) -> list[Any]:
    options: list[st.SearchStrategy[Any]] = [st.sampled_from(vocab.port_names)]
    if numeric:
        options.insert(0, st.sampled_from(vocab.ports))
        options.append(st.builds(lambda p, w: f"{p}:{min(65535, p + w)}", st.sampled_from(vocab.ports), st.sampled_from((0, 1, 100))))
        options.append(st.sampled_from(vocab.ports).map(str))
    return draw(st.lists(st.one_of(options), min_size=1, max_size=2))


@st.composite
def _entity(draw: st.DrawFn, ctx: _RuleContext, family: int, ports: str) -> dict[str, Any]:
    """One side of a Calico rule. ``ports``: 'none', 'named' or 'any'."""
    vocab = ctx.vocab
    out: dict[str, Any] = {}
    fields = draw(st.lists(st.sampled_from(("selector", "nets", "ports", "namespaceSelector", "notSelector", "notNets", "notPorts", "serviceAccounts")), max_size=2, unique=True))
    for field in fields:
        if field == "nets":
            out["nets"] = draw(st.lists(st.sampled_from(vocab.cidrs(family)), min_size=1, max_size=2, unique=True))
        elif field == "notNets":
            out["notNets"] = draw(st.lists(st.sampled_from([c for c in vocab.cidrs(family) if not c.endswith("/0")]), min_size=1, max_size=2, unique=True))
        elif field == "selector":
            out["selector"] = _vocab_selector(draw, vocab)
        elif field == "notSelector":
            out["notSelector"] = _vocab_selector(draw, vocab)
        elif field == "namespaceSelector":
            choice = draw(st.sampled_from(("expr", "all()", "global()")))
            if choice == "expr":
                keys = vocab.label_keys + ("kubernetes.io/metadata.name",)
                out["namespaceSelector"] = _vocab_selector(draw, vocab, 2, keys, vocab.selector_values + vocab.namespaces, allow_all=False)
            else:
                out["namespaceSelector"] = choice
        elif field == "serviceAccounts":
            accounts: dict[str, Any] = {}
            if draw(st.booleans()):
                accounts["names"] = draw(st.lists(st.sampled_from(vocab.service_accounts), min_size=1, max_size=2, unique=True))
            if draw(st.booleans()):
                accounts["selector"] = _vocab_selector(draw, vocab, 2)
            out["serviceAccounts"] = accounts
        elif field in ("ports", "notPorts") and ports != "none":
            out[field] = draw(_ports(vocab, numeric=ports == "any"))
    return out


@st.composite
def _calico_rule(draw: st.DrawFn, ctx: _RuleContext) -> dict[str, Any]:
    vocab = ctx.vocab
    rule: dict[str, Any] = {"action": draw(st.sampled_from(ctx.allowed_actions))}
    if draw(st.integers(0, 2)) == 0:
        return rule  # matches everything: decides for every flow that reaches it
    # Repeated entries weigh the draw towards rules that match often.
    protocol = draw(st.sampled_from((None, None, None, "TCP", "TCP", "UDP", "ICMP", "ICMPv6", "SCTP", 6, 17, 1, 58, "UDPLite", 132, "17", 47)))
    ip_version = draw(st.sampled_from((None, 4, 6) if vocab.ipv6 else (None, 4)))
    if not _protocol_family_ok(protocol, ip_version):
        ip_version = None
    family = ip_version or (6 if protocol in ("ICMPv6", 58) else 4 if protocol in ("ICMP", 1) else draw(st.sampled_from(vocab.families)))
    if ip_version is not None:
        rule["ipVersion"] = ip_version
    if protocol is not None:
        rule["protocol"] = protocol
    if draw(st.integers(0, 5)) == 0:
        not_protocol = draw(st.sampled_from(("UDP", "TCP", "ICMP", "ICMPv6", 6, 1)))
        if _protocol_family_ok(not_protocol, ip_version):
            rule["notProtocol"] = not_protocol
    if protocol in ("ICMP", "ICMPv6", 1, 58):
        for field in ("icmp", "notICMP"):
            if draw(st.booleans()):
                icmp: dict[str, Any] = {"type": draw(st.sampled_from(_ICMP_TYPES))}
                if draw(st.booleans()):
                    icmp["code"] = draw(st.sampled_from(_ICMP_CODES))
                rule[field] = icmp
    ports = "any" if protocol in _PORTED_PROTOCOLS or protocol == "17" else "named" if protocol is None else "none"
    for side in ("source", "destination"):
        if draw(st.booleans()):
            entity = draw(_entity(ctx, family, ports))
            if entity:
                rule[side] = entity
    if rule["action"] == "Allow" and ctx.direction == "ingress" and protocol in (None, "TCP", 6) and not ctx.profile and draw(st.integers(0, 5)) == 0:
        rule["http"] = {"methods": ["GET"], "paths": [{"exact": "/a"}, {"prefix": "/b"}]}
    return rule


def calico_rules(vocab: Vocabulary | None = None, *, direction: str = "ingress", namespaced: bool = True, actions: Collection[str] | None = None) -> st.SearchStrategy[dict[str, Any]]:
    """Valid Calico rules using every field: action, ipVersion, protocol/notProtocol,
    icmp/notICMP, and source/destination with nets, notNets, selector, notSelector,
    namespaceSelector (including ``global()``), ports/notPorts (numbers, ranges, names),
    serviceAccounts; ``http`` on ingress Allow rules."""
    if direction not in ("ingress", "egress"):
        raise InvalidArgument(f"direction={direction!r} must be 'ingress' or 'egress'")
    _check_bool("namespaced", namespaced)
    chosen = tuple(sorted(_check_kinds(actions, frozenset({"Allow", "Deny", "Pass", "Log"}), "actions")))
    if not chosen:
        raise InvalidArgument("actions must not be empty")
    return _calico_rule(_RuleContext(_check_vocab(vocab), direction, namespaced, chosen))


@st.composite
def _rule_lists(draw: st.DrawFn, ctx_in: _RuleContext, ctx_out: _RuleContext, max_rules: int, spec: dict[str, Any], types_optional: bool = True) -> None:
    directions = draw(st.sampled_from((("ingress",), ("egress",), ("ingress", "egress"))))
    for direction in directions:
        ctx = ctx_in if direction == "ingress" else ctx_out
        spec[direction] = draw(st.lists(_calico_rule(ctx), min_size=min(1, max_rules) if draw(st.integers(0, 4)) else 0, max_size=max_rules))
    if not types_optional or draw(st.booleans()):
        spec["types"] = [d.capitalize() for d in directions]
