"""Calico rules: conversion, effective selectors (§A.8/§A.9) and validation (§B.3)."""

from __future__ import annotations

import ipaddress

import pytest
from test_policies_support import canonical, convert

from netpolicy.model import Action, IcmpMatch, NamedPort, PortRange, ServiceRef

NS = "namespace"


def policy_text(rule: str, *, kind: str = "NetworkPolicy", direction: str = "ingress") -> str:
    namespace = f", namespace: {NS}" if kind in ("NetworkPolicy", "StagedNetworkPolicy") else ""
    return (f"apiVersion: projectcalico.org/v3\nkind: {kind}\nmetadata: {{name: p{namespace}}}\n"
            f"spec:\n  types: [Ingress, Egress]\n  {direction}:\n  - {rule}\n")


def rule(text: str, **kwargs: str):  # type: ignore[no-untyped-def]
    policy = convert(policy_text(text, **kwargs)).one
    direction = kwargs.get("direction", "ingress")
    (converted,) = policy.ingress if direction == "ingress" else policy.egress
    return converted


def errors(text: str, **kwargs: str) -> list[tuple[str, str]]:
    result = convert(policy_text(text, **kwargs))
    assert result.problems, "expected problems"
    return result.errors


def selector_text(side) -> str | None:  # type: ignore[no-untyped-def]
    return None if side.selector is None else str(side.selector)


# -- conversion ---------------------------------------------------------------------------


def test_full_rule_converts_every_field() -> None:
    r = rule("{action: Allow, ipVersion: 4, protocol: TCP, notProtocol: UDP,"
             " source: {nets: [10.100.10.1/32], notNets: [192.168.40.1/32], ports: [80], notPorts: [443]},"
             " destination: {nets: [10.100.1.1], notNets: [192.168.80.1], ports: [443, '8000:8080', http]},"
             " http: {methods: [GET, PUT], paths: [{exact: /bar}, {prefix: /foo1}]},"
             " metadata: {annotations: {fizz: buzz}}}")
    assert r.action is Action.ALLOW and r.ip_version == 4
    assert (r.protocol, r.not_protocol) == (6, 17)
    assert r.source.nets == (ipaddress.ip_network("10.100.10.1/32"),)
    assert r.source.not_nets == (ipaddress.ip_network("192.168.40.1/32"),)
    assert r.source.ports == (PortRange(80, 80),) and r.source.not_ports == (PortRange(443, 443),)
    assert r.destination.nets == (ipaddress.ip_network("10.100.1.1/32"),)
    assert r.destination.ports == (PortRange(443, 443), PortRange(8000, 8080), NamedPort("http"))
    assert r.http is True


@pytest.mark.parametrize("action", ["Allow", "Deny", "Log", "Pass"])
def test_actions(action: str) -> None:
    assert rule(f"{{action: {action}}}").action is Action(action)


@pytest.mark.parametrize("protocol, number", [
    ("TCP", 6), ("UDP", 17), ("ICMP", 1), ("ICMPv6", 58), ("SCTP", 132), ("UDPLite", 136),
    ("6", 6), ("'17'", 17), ("1", 1), ("255", 255)])
def test_protocols(protocol: str, number: int) -> None:
    assert rule(f"{{action: Allow, protocol: {protocol}}}").protocol == number


def test_ip_version_is_inferred_from_icmp_names_only() -> None:
    assert rule("{action: Allow, protocol: ICMP}").ip_version == 4
    assert rule("{action: Allow, protocol: ICMPv6}").ip_version == 6
    assert rule("{action: Allow, protocol: 1}").ip_version is None
    assert rule("{action: Allow, protocol: 58}").ip_version is None
    assert rule("{action: Allow, notProtocol: ICMP}").ip_version is None
    assert rule("{action: Allow, ipVersion: 6, protocol: TCP}").ip_version == 6


def test_icmp_fields() -> None:
    r = rule("{action: Allow, protocol: ICMP, icmp: {type: 8, code: 0}, notICMP: {type: 3}}")
    assert r.icmp == IcmpMatch(8, 0) and r.not_icmp == IcmpMatch(3, None)
    assert rule("{action: Allow, protocol: 58, icmp: {type: 128}}").icmp == IcmpMatch(128)


def test_host_bits_are_masked_and_bare_addresses_are_hosts() -> None:
    r = rule("{action: Allow, source: {nets: [10.1.2.3/8]}, ipVersion: 4}")
    assert r.source.nets == (ipaddress.ip_network("10.0.0.0/8"),)
    r = rule("{action: Allow, destination: {nets: ['fd00::1', 'fd00:1::5/16']}}")
    assert r.destination.nets == (ipaddress.ip_network("fd00::1/128"), ipaddress.ip_network("fd00::/16"))


def test_named_ports_need_no_protocol() -> None:
    r = rule("{action: Allow, destination: {ports: [http, metrics]}}")
    assert r.protocol is None and r.destination.ports == (NamedPort("http"), NamedPort("metrics"))


def test_services_clause() -> None:
    r = rule("{action: Allow, destination: {services: {name: kube-dns, namespace: kube-system}}}", direction="egress")
    assert r.destination.services == ServiceRef("kube-system", "kube-dns")
    assert r.destination.selector is None
    r = rule("{action: Allow, source: {services: {name: web, namespace: default}}}")
    assert r.source.services == ServiceRef("default", "web")


def test_service_without_namespace_in_a_namespaced_policy_warns() -> None:
    result = convert(policy_text("{action: Allow, destination: {services: {name: web}}}", direction="egress"))
    (r,) = result.one.egress
    assert r.destination.services == ServiceRef("", "web")
    assert any("services.namespace is empty" in w for w in result.warnings)


# -- effective selectors (§A.8, vectors from Calico's rules_test.go) -----------------------


def test_namespaced_selector_and_not_selector_fold() -> None:
    r = rule("{action: Allow, protocol: TCP, source: {selector: \"mylabel == 'value1'\", notSelector: has(label1)},"
             " destination: {notSelector: has(label2)}}")
    assert selector_text(r.source) == canonical(
        "((projectcalico.org/namespace == 'namespace2') && (mylabel == 'value1')) && (!(has(label1)))"
        .replace("namespace2", NS))
    assert r.source.not_selector is None
    # A notSelector alone still restricts the side to the policy's namespace, then folds.
    assert selector_text(r.destination) == canonical(f"(projectcalico.org/namespace == '{NS}') && (!(has(label2)))")
    assert r.destination.not_selector is None


def test_global_policy_namespace_selector_replaces_namespace_and_not_selector_stays_negative() -> None:
    r = rule("{action: Allow, source: {nets: [10.100.1.1], namespaceSelector: \"namespacelabel1 == 'value1'\","
             " notSelector: has(label2)}, destination: {notSelector: has(label1)}}", kind="GlobalNetworkPolicy")
    assert selector_text(r.source) == canonical('(pcns.namespacelabel1 == "value1") && (!(has(label2)))')
    # No positive selector: the notSelector is kept apart and matches unknown addresses too.
    assert r.destination.selector is None
    assert str(r.destination.not_selector) == "has(label1)"


def test_profile_rule_selector_is_unchanged() -> None:
    text = ("apiVersion: projectcalico.org/v3\nkind: Profile\nmetadata: {name: prof}\n"
            "spec:\n  ingress: [{action: Allow, source: {selector: has(foo)}, destination: {selector: has(foo)}}]\n")
    profile = convert(text).one
    assert selector_text(profile.ingress[0].source) == "has(foo)"
    assert selector_text(profile.ingress[0].destination) == "has(foo)"


def test_ports_and_nets_alone_do_not_restrict_to_the_namespace() -> None:
    r = rule("{action: Allow, protocol: TCP, source: {ports: [80]}, destination: {nets: [10.0.0.0/8], ports: [80]}}")
    assert r.source.selector is None and r.destination.selector is None


def test_selector_and_namespace_selector() -> None:
    r = rule("{action: Allow, source: {selector: \"projectcalico.org/orchestrator == 'k8s'\","
             " namespaceSelector: \"key == 'value'\"}}")
    assert selector_text(r.source) == canonical(
        "(pcns.key == \"value\") && (projectcalico.org/orchestrator == 'k8s')")


def test_complex_namespace_selector() -> None:
    r = rule("{action: Allow, source: {namespaceSelector: \"!has(key) || (has(key) && !key in {'value'})\"}}")
    assert selector_text(r.source) == canonical('(!has(pcns.key) || (has(pcns.key) && !pcns.key in {"value"}))')


def test_service_account_match() -> None:
    r = rule("{action: Allow, source: {serviceAccounts: {names: [sa1, sa2], selector: \"key == 'value1'\"}},"
             " destination: {namespaceSelector: \"nskey == 'nsvalue'\","
             " serviceAccounts: {names: [sa3], selector: \"key == 'value2'\"}}}")
    assert selector_text(r.source) == canonical(
        "(projectcalico.org/namespace == 'namespace') && ((pcsa.key == \"value1\") && "
        "(projectcalico.org/serviceaccount in {\"sa1\", \"sa2\"}))")
    assert selector_text(r.destination) == canonical(
        "(pcns.nskey == \"nsvalue\") && ((pcsa.key == \"value2\") && (projectcalico.org/serviceaccount in {\"sa3\"}))")


def test_service_account_match_in_a_global_policy() -> None:
    r = rule("{action: Allow, source: {serviceAccounts: {names: [sa1, sa2], selector: \"key == 'value1'\"}}}",
             kind="GlobalNetworkPolicy")
    assert selector_text(r.source) == canonical(
        "(pcsa.key == \"value1\") && (projectcalico.org/serviceaccount in {\"sa1\", \"sa2\"})")


def test_empty_service_account_match_adds_nothing() -> None:
    assert rule("{action: Allow, source: {serviceAccounts: {}}}", kind="GlobalNetworkPolicy").source.selector is None


def test_service_accounts_with_selector_and_namespace_selector() -> None:
    r = rule("{action: Allow, destination: {namespaceSelector: \"nskey == 'nsvalue'\","
             " serviceAccounts: {names: [sa3], selector: \"key == 'value2'\"}, selector: has(label1)}}")
    assert selector_text(r.destination) == canonical(
        "(pcns.nskey == \"nsvalue\") && (((pcsa.key == \"value2\") && "
        "(projectcalico.org/serviceaccount in {\"sa3\"})) && (has(label1)))")


@pytest.mark.parametrize("ns_selector, expected", [
    ("namespace == 'red'", "(pcns.namespace == \"red\") && (has(label1))"),
    ("all()", "(has(projectcalico.org/namespace)) && (has(label1))"),
    ("global()", "(!has(projectcalico.org/namespace)) && (has(label1))"),
    ("global( )", "(!has(projectcalico.org/namespace)) && (has(label1))"),
])
def test_all_and_global_in_namespace_selectors(ns_selector: str, expected: str) -> None:
    r = rule(f"{{action: Allow, destination: {{namespaceSelector: \"{ns_selector}\", selector: has(label1)}}}}")
    assert selector_text(r.destination) == canonical(expected)


# -- validation (§B.3) -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, path, message",
    [
        ("{}", "spec.ingress[0].action", "required field is missing"),
        ("{action: allow}", "spec.ingress[0].action", "action 'allow' is not one of Allow, Deny, Log, Pass"),
        ("{action: Reject}", "spec.ingress[0].action", "action 'Reject' is not one of"),
        ("{action: Allow, ipVersion: 5}", "spec.ingress[0].ipVersion", "ipVersion must be 4 or 6"),
        ("{action: Allow, ipVersion: '4'}", "spec.ingress[0].ipVersion", "ipVersion must be 4 or 6"),
        ("{action: Allow, protocol: tcp}", "spec.ingress[0].protocol", "protocol 'tcp' is not one of"),
        ("{action: Allow, protocol: 0}", "spec.ingress[0].protocol", "protocol number 0 is outside 1-255"),
        ("{action: Allow, protocol: 256}", "spec.ingress[0].protocol", "protocol number 256 is outside 1-255"),
        ("{action: Allow, notProtocol: Icmp}", "spec.ingress[0].notProtocol", "protocol 'Icmp' is not one of"),
        ("{action: Allow, protocol: ICMP, icmp: {type: 255}}", "spec.ingress[0].icmp.type", "255 is outside 0-254"),
        ("{action: Allow, protocol: ICMP, icmp: {type: 1, code: 256}}", "spec.ingress[0].icmp.code",
         "256 is outside 0-255"),
        ("{action: Allow, protocol: ICMP, icmp: {code: 1}}", "spec.ingress[0].icmp.code",
         "ICMP code specified without an ICMP type"),
        ("{action: Allow, protocol: ICMP, notICMP: {code: 1}}", "spec.ingress[0].notICMP.code",
         "ICMP code specified without an ICMP type"),
        ("{action: Allow, icmp: {type: 8}}", "spec.ingress[0].icmp", "ICMP fields require protocol to be ICMP or ICMPv6"),
        ("{action: Allow, protocol: TCP, icmp: {type: 8}}", "spec.ingress[0].icmp",
         "ICMP fields require protocol to be ICMP or ICMPv6"),
        ("{action: Allow, protocol: ICMP, ipVersion: 6}", "spec.ingress[0].protocol", "protocol ICMP requires ipVersion 4"),
        ("{action: Allow, protocol: 1, ipVersion: 6}", "spec.ingress[0].protocol", "protocol ICMP requires ipVersion 4"),
        ("{action: Allow, notProtocol: ICMPv6, ipVersion: 4}", "spec.ingress[0].notProtocol",
         "protocol ICMPv6 requires ipVersion 6"),
        ("{action: Allow, destination: {ports: [80]}}", "spec.ingress[0].destination.ports",
         "rules that specify ports must set protocol to TCP, UDP or SCTP (only named ports"),
        ("{action: Allow, source: {notPorts: ['1:2']}}", "spec.ingress[0].source.notPorts",
         "rules that specify ports must set protocol"),
        ("{action: Allow, protocol: ICMP, destination: {ports: [http]}}", "spec.ingress[0].destination.ports",
         "rules that specify ports must set protocol to TCP, UDP or SCTP"),
        ("{action: Allow, protocol: UDPLite, destination: {ports: [53]}}", "spec.ingress[0].destination.ports",
         "rules that specify ports must set protocol to TCP, UDP or SCTP"),
        ("{action: Allow, protocol: TCP, destination: {ports: [0]}}", "spec.ingress[0].destination.ports[0]",
         "port 0 is outside 1-65535"),
        ("{action: Allow, protocol: TCP, destination: {ports: [65536]}}", "spec.ingress[0].destination.ports[0]",
         "port 65536 is outside 1-65535"),
        ("{action: Allow, protocol: TCP, destination: {ports: ['90:80']}}", "spec.ingress[0].destination.ports[0]",
         "port range '90:80' is invalid: 90 is greater than 80"),
        ("{action: Allow, protocol: TCP, destination: {ports: ['1:70000']}}", "spec.ingress[0].destination.ports[0]",
         "port 70000 is outside 1-65535"),
        ("{action: Allow, protocol: TCP, destination: {ports: ['a b']}}", "spec.ingress[0].destination.ports[0]",
         "'a b' is not a port number"),
        ("{action: Allow, protocol: TCP, destination: {ports: [true]}}", "spec.ingress[0].destination.ports[0]",
         "expected a port number, range or name"),
        ("{action: Allow, source: {nets: [10.0.0.0/33]}}", "spec.ingress[0].source.nets[0]", "'10.0.0.0/33' is not a valid CIDR or IP address"),
        ("{action: Allow, source: {nets: [10.0.0.0/255.0.0.0]}}", "spec.ingress[0].source.nets[0]", "'10.0.0.0/255.0.0.0' is not a valid CIDR or IP address"),
        ("{action: Allow, source: {nets: [10.0.0.0/8, 'fd00::/8']}}", "spec.ingress[0].source.nets",
         "rule contains both IPv4 and IPv6 CIDRs"),
        ("{action: Allow, source: {nets: [10.0.0.0/8]}, destination: {notNets: ['fd00::/8']}}",
         "spec.ingress[0].destination.notNets", "rule contains both IPv4 and IPv6 CIDRs"),
        ("{action: Allow, ipVersion: 6, source: {nets: [10.0.0.0/8]}}", "spec.ingress[0].source.nets",
         "rule IP version doesn't match CIDR version"),
        ("{action: Allow, source: {notNets: [0.0.0.0/0]}}", "spec.ingress[0].source.notNets[0]",
         "0.0.0.0/0 in notNets would match nothing"),
        ("{action: Allow, destination: {notNets: ['::/0']}}", "spec.ingress[0].destination.notNets[0]",
         "::/0 in notNets would match nothing"),
        ("{action: Allow, destination: {notNets: [10.1.2.3/0]}}", "spec.ingress[0].destination.notNets[0]",
         "0.0.0.0/0 in notNets would match nothing"),
        ("{action: Allow, source: {selector: 'a =='}}", "spec.ingress[0].source.selector", "invalid selector 'a =='"),
        ("{action: Allow, source: {selector: \"a == 'b'\\n\"}}", "spec.ingress[0].source.selector", "invalid selector"),
        ("{action: Allow, source: {notSelector: '&&'}}", "spec.ingress[0].source.notSelector", "invalid selector"),
        ("{action: Allow, source: {namespaceSelector: '(('}}", "spec.ingress[0].source.namespaceSelector",
         "invalid selector"),
        ("{action: Allow, source: {serviceAccounts: {selector: '!'}}}", "spec.ingress[0].source.serviceAccounts.selector",
         "invalid selector"),
        ("{action: Allow, source: {selector: global()}}", "spec.ingress[0].source.selector",
         "global() can only be used in an EntityRule namespaceSelector"),
        ("{action: Allow, source: {namespaceSelector: 'global() && a == \"b\"'}}",
         "spec.ingress[0].source.namespaceSelector", "global() cannot be combined with other selectors"),
        ("{action: Allow, source: {serviceAccounts: {names: ['Bad!']}}}", "spec.ingress[0].source.serviceAccounts.names[0]",
         "service account name 'Bad!' is not a valid DNS-1123 subdomain"),
        ("{action: Allow, destination: {services: {name: web, namespace: d}}}", "spec.ingress[0].destination.services",
         "services are not allowed in an ingress rule's destination"),
        ("{action: Allow, source: {services: {namespace: d}}}", "spec.ingress[0].source.services.name",
         "services must specify a service name"),
        ("{action: Allow, source: {services: {name: web, namespace: d}, selector: has(a)}}",
         "spec.ingress[0].source.selector", "cannot specify Selector/NotSelector and Services on the same rule"),
        ("{action: Allow, source: {services: {name: web, namespace: d}, notSelector: has(a)}}",
         "spec.ingress[0].source.notSelector", "cannot specify Selector/NotSelector and Services on the same rule"),
        ("{action: Allow, source: {services: {name: web, namespace: d}, namespaceSelector: has(a)}}",
         "spec.ingress[0].source.namespaceSelector", "cannot specify NamespaceSelector and Services on the same rule"),
        ("{action: Allow, source: {services: {name: web, namespace: d}, serviceAccounts: {names: [a]}}}",
         "spec.ingress[0].source.serviceAccounts", "cannot specify ServiceAccounts and Services on the same rule"),
        ("{action: Allow, source: {services: {name: web, namespace: d}, nets: [10.0.0.0/8]}}",
         "spec.ingress[0].source.nets", "cannot specify Nets/NotNets and Services on the same rule"),
        ("{action: Deny, http: {methods: [GET]}}", "spec.ingress[0].http", "HTTP match is only valid on Allow rules"),
        ("{action: Allow, protocol: UDP, http: {methods: [GET]}}", "spec.ingress[0].protocol",
         "rules with HTTP match must have protocol TCP or unset"),
        ("{action: Allow, http: {methods: [GET, GET]}}", "spec.ingress[0].http.methods[1]",
         "method 'GET' is listed more than once"),
        ("{action: Allow, http: {paths: [{exact: /a, prefix: /b}]}}", "spec.ingress[0].http.paths[0]",
         "invalid path match: exactly one of 'exact' or 'prefix' must be set"),
        ("{action: Allow, http: {paths: [{}]}}", "spec.ingress[0].http.paths[0]", "invalid path match"),
        ("{action: Allow, http: {paths: [{exact: a}]}}", "spec.ingress[0].http.paths[0].exact",
         "invalid path 'a': must start with '/'"),
        ("{action: Allow, http: {paths: [{prefix: '/a?b'}]}}", "spec.ingress[0].http.paths[0].prefix", "invalid path"),
        ("{action: Allow, http: {paths: [{prefix: '/a b'}]}}", "spec.ingress[0].http.paths[0].prefix", "invalid path"),
    ],
)
def test_invalid_rules(text: str, path: str, message: str) -> None:
    found = errors(text)
    assert any(p == path and m.startswith(message) for p, m in found), found


def test_services_direction() -> None:
    found = errors("{action: Allow, source: {services: {name: web, namespace: d}}}", direction="egress")
    assert ("spec.egress[0].source.services", "services are not allowed in an egress rule's source") in found


def test_http_not_allowed_in_egress_and_services_need_a_namespace_in_global_policies() -> None:
    found = errors("{action: Allow, http: {methods: [GET]}}", direction="egress")
    assert ("spec.egress[0].http", "HTTP match is not allowed in egress rules") in found
    found = errors("{action: Allow, destination: {services: {name: web}}}", kind="GlobalNetworkPolicy",
                   direction="egress")
    assert ("spec.egress[0].destination.services.namespace", "must specify a namespace") in found


def test_destination_services_cannot_take_ports() -> None:
    found = errors("{action: Allow, protocol: TCP, destination: {services: {name: w, namespace: d}, ports: [80]}}",
                   direction="egress")
    assert ("spec.egress[0].destination.ports", "ports and notPorts cannot be specified with services") in found


def test_selector_length_limit() -> None:
    long = "a == '" + "x" * 1020 + "'"
    found = errors(f"{{action: Allow, source: {{selector: \"{long}\"}}}}")
    assert found == [("spec.ingress[0].source.selector",
                      f"selector is {len(long)} characters long, at most 1024 allowed")]


def test_every_problem_of_a_rule_is_reported() -> None:
    found = errors("{action: Nope, protocol: XTP, source: {nets: [bad]}, destination: {ports: [0]}}")
    assert [p for p, _ in found] == [
        "spec.ingress[0].action",
        "spec.ingress[0].protocol",
        "spec.ingress[0].source.nets[0]",
        "spec.ingress[0].destination.ports[0]",
    ]


def test_range_looking_named_port_warns() -> None:
    result = convert(policy_text("{action: Allow, destination: {ports: ['80-90']}}"))
    assert result.one.ingress[0].destination.ports == (NamedPort("80-90"),)
    assert any("is a named port, not a range" in w for w in result.warnings)


def test_unknown_rule_field_warns() -> None:
    result = convert(policy_text("{action: Allow, destinaton: {ports: [80]}}"))
    assert result.one.ingress[0].destination.is_empty
    assert any("unknown field 'destinaton'" in w for w in result.warnings)


@pytest.mark.parametrize("text, path, message", [
    ("{action: Allow, protocol: '" + "9" * 5000 + "'}", "spec.ingress[0].protocol", "protocol number 999999999999... is outside"),
    ("{action: Allow, protocol: TCP, destination: {ports: ['" + "9" * 5000 + "']}}", "spec.ingress[0].destination.ports[0]",
     "port 999999999999... is outside 1-65535"),
    ("{action: Allow, protocol: TCP, destination: {ports: ['1:" + "9" * 5000 + "']}}",
     "spec.ingress[0].destination.ports[0]", "port 999999999999... is outside 1-65535"),
])
def test_huge_numbers_are_reported_not_raised(text: str, path: str, message: str) -> None:
    found = errors(text)
    assert any(p == path and m.startswith(message) for p, m in found), found


def test_list_limits() -> None:
    nets = ", ".join(f"10.0.{i // 256}.{i % 256}" for i in range(257))
    assert ("spec.ingress[0].source.nets", "257 CIDRs, at most 256 allowed") in errors(
        f"{{action: Allow, source: {{nets: [{nets}]}}}}")
    ports = ", ".join(str(p) for p in range(1, 52))
    assert ("spec.ingress[0].destination.ports", "51 ports, at most 50 allowed") in errors(
        f"{{action: Allow, protocol: TCP, destination: {{ports: [{ports}]}}}}")
    methods = ", ".join(f"M{i}" for i in range(21))
    assert ("spec.ingress[0].http.methods", "21 items, at most 20 allowed") in errors(
        f"{{action: Allow, http: {{methods: [{methods}]}}}}")
    assert ("spec.ingress[0].http.paths[0].exact", "path is longer than 1024 characters") in errors(
        "{action: Allow, http: {paths: [{exact: /" + "a" * 1024 + "}]}}")


def test_too_many_rules() -> None:
    text = policy_text("{action: Allow}").replace("  - {action: Allow}\n", "".join("  - {action: Allow}\n" for _ in range(1025)))
    result = convert(text)
    assert ("spec.ingress", "1025 rules, at most 1024 allowed") in result.errors


@pytest.mark.parametrize("services, path, message", [
    ("{name: Web_1, namespace: d}", "spec.egress[0].destination.services.name", "service name 'Web_1' is not a valid"),
    ("{name: web, namespace: D}", "spec.egress[0].destination.services.namespace", "namespace 'D' is not a valid"),
    ("{name: web, namespace: d, port: 80}", None, None),
])
def test_service_names(services: str, path: str | None, message: str | None) -> None:
    result = convert(policy_text(f"{{action: Allow, destination: {{services: {services}}}}}", direction="egress"))
    if path is None:
        assert result.one.egress[0].destination.services is not None
        assert any("unknown field 'port'" in w for w in result.warnings)
    else:
        assert any(p == path and m.startswith(message or "") for p, m in result.errors), result.errors
