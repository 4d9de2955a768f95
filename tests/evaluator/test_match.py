"""§C.5, §A.9, §B.3 and §F: how one rule matches a packet. Each test puts the rule under
test first in an ingress policy of x/b, followed by nothing: a match decides by that rule,
no match ends the tier with Deny."""

from __future__ import annotations

from evalmodels import ALLOW, DENY, ICMP, ICMPV6, SCTP, TCP, UDP, gnp, netset, pod, policy_set, side
from netpolicy import Flow
from netpolicy.model import IcmpMatch, NamedPort, PortRange, Rule, ServiceBackends, ServiceRef
from netpolicy.verdict import Reason

A = pod("x", "a", "10.0.0.1", "fd00::1", labels={"app": "a"}, ports=[("http", TCP, 80), ("dns", UDP, 53)])
B = pod("x", "b", "10.0.0.2", "fd00::2", labels={"app": "b"}, ports=[("http", TCP, 8080), ("dns", UDP, 5353)])
C = pod("y", "c", "10.0.1.3", labels={"app": "c"}, ns_labels={"team": "blue"}, sa="builder", sa_labels={"role": "ci"})
OUTSIDE = "192.0.2.7"


def decided_by(rule: Rule, flow: Flow, *, network_sets=(), services=(), endpoints=(A, B, C)) -> bool:
    """True when ``rule`` matched (it decided the ingress of the destination), False when
    the tier ended without a match."""
    dst_app = {"x/a": "a", "x/b": "b", "y/c": "c", "10.0.0.2": "b", "fd00::2": "b", "10.0.1.3": "c"}[str(flow.dst)]
    ps = policy_set(
        endpoints=endpoints,
        network_sets=network_sets,
        services=services,
        policies=[gnp("p", f"app == '{dst_app}'", ingress=[rule])],
    )
    v = ps.evaluate(flow)
    if v.ingress.reason == Reason.RULE:
        assert (v.ingress.policy.name, v.ingress.rule, v.ingress.action) == ("p", 0, rule.action)
        return True
    assert v.ingress.reason == Reason.END_OF_TIER and not v.allowed
    return False


def tcp(src="x/a", dst="x/b", port=80, **kw) -> Flow:
    return Flow(src, dst, protocol="TCP", dst_port=port, **kw)


# -- protocol, ICMP --------------------------------------------------------------------------


def test_protocol_and_not_protocol() -> None:
    assert decided_by(Rule(ALLOW, protocol=TCP), tcp())
    assert not decided_by(Rule(ALLOW, protocol=UDP), tcp())
    assert not decided_by(Rule(ALLOW, not_protocol=TCP), tcp())
    assert decided_by(Rule(ALLOW, not_protocol=UDP), tcp())
    assert decided_by(Rule(ALLOW, protocol=SCTP), Flow("x/a", "x/b", protocol="SCTP", dst_port=80))
    assert decided_by(Rule(ALLOW, protocol=47), Flow("x/a", "x/b", protocol=47))


def test_icmp_type_and_code() -> None:
    ping = Flow("x/a", "x/b", protocol="ICMP", icmp_type=8, icmp_code=0)
    assert decided_by(Rule(ALLOW, protocol=ICMP, ip_version=4, icmp=IcmpMatch(8)), ping)
    assert decided_by(Rule(ALLOW, protocol=ICMP, ip_version=4, icmp=IcmpMatch(8, 0)), ping)
    assert not decided_by(Rule(ALLOW, protocol=ICMP, ip_version=4, icmp=IcmpMatch(8, 1)), ping)
    assert not decided_by(Rule(ALLOW, protocol=ICMP, ip_version=4, icmp=IcmpMatch(0)), ping)
    # a flow that gives no type matches no icmp clause, and every notICMP clause
    assert not decided_by(Rule(ALLOW, protocol=ICMP, icmp=IcmpMatch(8)), Flow("x/a", "x/b", protocol="ICMP"))
    assert decided_by(Rule(ALLOW, protocol=ICMP, not_icmp=IcmpMatch(8)), Flow("x/a", "x/b", protocol="ICMP"))


def test_not_icmp() -> None:
    ping = Flow("x/a", "x/b", protocol="ICMP", icmp_type=8, icmp_code=0)
    assert not decided_by(Rule(ALLOW, protocol=ICMP, not_icmp=IcmpMatch(8)), ping)
    assert decided_by(Rule(ALLOW, protocol=ICMP, not_icmp=IcmpMatch(8, 3)), ping)  # code differs: not rejected
    assert not decided_by(Rule(ALLOW, protocol=ICMP, not_icmp=IcmpMatch(8, 0)), ping)
    assert decided_by(Rule(ALLOW, protocol=ICMP, not_icmp=IcmpMatch(0)), ping)


def test_icmpv6_picks_ipv6_and_icmp_rules_exist_only_for_ipv4() -> None:
    ping6 = Flow("x/a", "x/b", protocol="ICMPv6", icmp_type=128)
    assert decided_by(Rule(ALLOW, protocol=ICMPV6, ip_version=6, icmp=IcmpMatch(128)), ping6)
    # the loader infers ip_version 4 for protocol ICMP: such a rule never exists for IPv6
    assert not decided_by(Rule(ALLOW, ip_version=4), ping6)


# -- §F.2 IP families ----------------------------------------------------------------------


def test_ip_version() -> None:
    assert decided_by(Rule(ALLOW, ip_version=4), tcp())
    assert not decided_by(Rule(ALLOW, ip_version=6), tcp())
    assert decided_by(Rule(ALLOW, ip_version=6), tcp("fd00::1", "fd00::2"))


def test_a_cidr_list_without_the_packets_family_removes_the_rule() -> None:
    v6 = tcp("fd00::1", "fd00::2")
    assert decided_by(Rule(ALLOW, source=side(nets=("10.0.0.0/8",))), tcp())
    assert not decided_by(Rule(ALLOW, source=side(nets=("10.0.0.0/8",))), v6)
    # notNets of one family never matches the other family (H.13), even a catch-all
    assert not decided_by(Rule(ALLOW, source=side(not_nets=("192.168.0.0/16",))), v6)
    assert not decided_by(Rule(ALLOW, destination=side(not_nets=("0.0.0.0/0",))), v6)
    assert decided_by(Rule(ALLOW, source=side(not_nets=("192.168.0.0/16",))), tcp())


def test_cidrs_of_the_other_family_are_ignored() -> None:
    rule = Rule(ALLOW, source=side(nets=("10.0.0.0/8", "2001:db8::/32")))
    assert decided_by(rule, tcp())
    assert not decided_by(rule, tcp("fd00::1", "fd00::2"))
    rule = Rule(ALLOW, source=side(nets=("10.9.0.0/16", "fd00::/64")))
    assert not decided_by(rule, tcp())
    assert decided_by(rule, tcp("fd00::1", "fd00::2"))


def test_selectors_compare_within_the_packets_family() -> None:
    rule = Rule(ALLOW, source=side(selector="app == 'a'"))
    assert decided_by(rule, tcp())
    assert decided_by(rule, tcp("fd00::1", "fd00::2"))


# -- nets, selectors (§A.9) ----------------------------------------------------------------


def test_nets_and_not_nets() -> None:
    assert decided_by(Rule(ALLOW, source=side(nets=("10.0.0.0/30",))), tcp())
    assert not decided_by(Rule(ALLOW, source=side(nets=("10.0.0.2/32",))), tcp())
    assert not decided_by(Rule(ALLOW, source=side(not_nets=("10.0.0.0/30",))), tcp())
    assert decided_by(Rule(ALLOW, source=side(nets=("10.0.0.0/8",), not_nets=("10.0.1.0/24",))), tcp())
    assert not decided_by(Rule(ALLOW, source=side(nets=("10.0.0.0/8",), not_nets=("10.0.1.0/24",))), tcp("y/c"))
    # an ipBlock-style CIDR matches any address in it, pods or not
    assert decided_by(Rule(ALLOW, source=side(nets=("192.0.2.0/24",))), tcp(OUTSIDE))
    assert decided_by(Rule(ALLOW, destination=side(nets=("10.0.0.2/32",))), tcp())


def test_positive_selector_matches_only_addresses_calico_knows() -> None:
    assert decided_by(Rule(ALLOW, source=side(selector="app == 'a'")), tcp())
    assert not decided_by(Rule(ALLOW, source=side(selector="app == 'c'")), tcp())
    assert not decided_by(Rule(ALLOW, source=side(selector="all()")), tcp(OUTSIDE))
    assert not decided_by(Rule(ALLOW, source=side(selector="!has(app)")), tcp(OUTSIDE))
    assert decided_by(Rule(ALLOW, source=side(selector="all()")), tcp("10.0.0.1"))


def test_not_selector_alone_matches_unknown_addresses() -> None:
    assert decided_by(Rule(ALLOW, source=side(not_selector="app == 'c'")), tcp(OUTSIDE))
    assert decided_by(Rule(ALLOW, source=side(not_selector="app == 'c'")), tcp())
    assert not decided_by(Rule(ALLOW, source=side(not_selector="app == 'a'")), tcp())


def test_selector_matches_network_set_members() -> None:
    corp = netset("corp", ("192.0.2.0/24",), {"zone": "corp"})
    assert decided_by(Rule(ALLOW, source=side(selector="zone == 'corp'")), tcp(OUTSIDE), network_sets=[corp])
    assert not decided_by(Rule(ALLOW, source=side(selector="zone == 'corp'")), tcp("198.51.100.1", "x/b"), network_sets=[corp])
    assert not decided_by(Rule(ALLOW, source=side(not_selector="zone == 'corp'")), tcp(OUTSIDE), network_sets=[corp])


def test_a_network_set_covering_a_pod_ip_makes_the_pod_match() -> None:
    # §A.9: IP-based membership: the pod's address is in IPS(zone == 'pods') via the set
    pods = netset("pods", ("10.0.0.0/24",), {"zone": "pods"})
    assert decided_by(Rule(ALLOW, source=side(selector="zone == 'pods'")), tcp(), network_sets=[pods])


def test_not_selector_folded_into_the_positive_selector() -> None:
    # H.7 / §A.9: set 10.0.0.0/24 matches N, pod 10.0.0.1 matches P and not N.
    # (P) && !(N) is tested per entity: the pod matches it, so the rule matches.
    tagged = netset("tagged", ("10.0.0.0/24",), {"blocked": "yes"})
    folded = Rule(ALLOW, source=side(selector="(app == 'a') && !(blocked == 'yes')"))
    assert decided_by(folded, tcp(), network_sets=[tagged])
    # without a positive selector, notSelector excludes the address
    alone = Rule(ALLOW, source=side(not_selector="blocked == 'yes'"))
    assert not decided_by(alone, tcp(), network_sets=[tagged])


def test_namespace_and_service_account_labels_through_selectors() -> None:
    rule = Rule(ALLOW, source=side(selector="pcns.team == 'blue' && pcsa.role == 'ci'"))
    assert decided_by(rule, tcp("y/c"))
    assert not decided_by(rule, tcp())
    rule = Rule(ALLOW, source=side(selector="projectcalico.org/serviceaccount in {'builder'}"))
    assert decided_by(rule, tcp("y/c"))


# -- ports and named ports (§B.3, §F.1) ------------------------------------------------------


def test_ports_ranges_and_not_ports() -> None:
    assert decided_by(Rule(ALLOW, protocol=TCP, destination=side(ports=(PortRange(80, 80),))), tcp())
    assert decided_by(Rule(ALLOW, protocol=TCP, destination=side(ports=(PortRange(1, 10), PortRange(70, 90)))), tcp())
    assert not decided_by(Rule(ALLOW, protocol=TCP, destination=side(ports=(PortRange(81, 90),))), tcp())
    assert not decided_by(Rule(ALLOW, protocol=TCP, destination=side(not_ports=(PortRange(80, 80),))), tcp())
    assert decided_by(Rule(ALLOW, protocol=TCP, destination=side(not_ports=(PortRange(81, 81),))), tcp())


def test_source_ports_match_the_source_port() -> None:
    rule = Rule(ALLOW, protocol=TCP, source=side(ports=(PortRange(1000, 2000),)))
    assert decided_by(rule, tcp(src_port=1500))
    assert not decided_by(rule, tcp(src_port=80))
    assert not decided_by(rule, tcp())  # no source port given: no port list matches


def test_named_ports_resolve_per_endpoint() -> None:
    # A declares http=80, B http=8080: B:80 and A:8080 do not match "http"
    rule = Rule(ALLOW, protocol=TCP, destination=side(ports=(NamedPort("http"),)))
    assert decided_by(rule, tcp(port=8080))
    assert not decided_by(rule, tcp(port=80))
    assert decided_by(rule, tcp("x/b", "x/a", port=80))
    assert not decided_by(rule, tcp("x/b", "x/a", port=8080))


def test_named_ports_need_the_declared_protocol() -> None:
    tcp_rule = Rule(ALLOW, protocol=TCP, destination=side(ports=(NamedPort("dns"),)))
    udp_rule = Rule(ALLOW, protocol=UDP, destination=side(ports=(NamedPort("dns"),)))
    any_rule = Rule(ALLOW, destination=side(ports=(NamedPort("dns"),)))
    dns = Flow("x/a", "x/b", protocol="UDP", dst_port=5353)
    assert not decided_by(tcp_rule, tcp(port=5353))  # B's dns is UDP
    assert decided_by(udp_rule, dns)
    assert decided_by(any_rule, dns)  # no protocol: the endpoint's declared protocol
    assert not decided_by(any_rule, tcp(port=5353))


def test_named_ports_use_the_sides_positive_selector() -> None:
    rule = Rule(ALLOW, protocol=TCP, destination=side(selector="app == 'a'", ports=(NamedPort("http"),)))
    assert not decided_by(rule, tcp(port=8080))  # B is not app == 'a'
    egress = Rule(ALLOW, protocol=TCP, destination=side(ports=(NamedPort("http"),)))
    ps = policy_set(endpoints=[A, B], policies=[gnp("out", "app == 'a'", egress=[egress])])
    assert ps.evaluate(tcp(port=8080)).egress.reason == Reason.RULE
    assert ps.evaluate(tcp(port=80)).egress.reason == Reason.END_OF_TIER
    # a named port never matches an address Calico does not know
    assert ps.evaluate(tcp("x/a", "198.51.100.9", port=8080)).egress.reason == Reason.END_OF_TIER


def test_named_ports_in_not_ports() -> None:
    rule = Rule(ALLOW, protocol=TCP, destination=side(not_ports=(NamedPort("http"),)))
    assert not decided_by(rule, tcp(port=8080))
    assert decided_by(rule, tcp(port=80))


def test_a_flow_without_port_matches_no_port_list() -> None:
    assert not decided_by(Rule(ALLOW, protocol=TCP, destination=side(ports=(PortRange(1, 65535),))), tcp(port=None))
    assert decided_by(Rule(ALLOW, protocol=TCP, destination=side(not_ports=(PortRange(80, 80),))), tcp(port=None))


# -- services (§B.3), http (§C.5) --------------------------------------------------------------


def test_destination_service_matches_backend_addresses_and_ports() -> None:
    web = ServiceBackends("x", "web", addresses=("10.0.0.2",), ports=((TCP, 8080),))
    rule = Rule(ALLOW, destination=side(services=ServiceRef("x", "web")))
    ps = policy_set(endpoints=[A, B], services=[web], policies=[gnp("out", "app == 'a'", egress=[rule])])
    assert ps.evaluate(tcp(port=8080)).egress.reason == Reason.RULE
    assert ps.evaluate(tcp(port=80)).egress.reason == Reason.END_OF_TIER
    unknown = Rule(ALLOW, destination=side(services=ServiceRef("x", "nope")))
    ps = policy_set(endpoints=[A, B], services=[web], policies=[gnp("out", "app == 'a'", egress=[unknown])])
    assert ps.evaluate(tcp(port=8080)).egress.reason == Reason.END_OF_TIER


def test_source_service_matches_backend_addresses_any_port() -> None:
    web = ServiceBackends("x", "web", addresses=("10.0.0.1",), ports=((TCP, 8080),))
    rule = Rule(ALLOW, source=side(services=ServiceRef("x", "web")))
    assert decided_by(rule, tcp(port=9999), services=[web])
    assert not decided_by(rule, tcp("y/c", port=9999), services=[web])


def test_http_clauses_do_not_restrict_at_layer_4() -> None:
    assert decided_by(Rule(ALLOW, protocol=TCP, http=True), tcp())


def test_all_criteria_are_anded() -> None:
    rule = Rule(ALLOW, protocol=TCP, source=side(selector="app == 'a'"), destination=side(ports=(PortRange(80, 80),)))
    assert decided_by(rule, tcp())
    assert not decided_by(rule, tcp(port=81))
    assert not decided_by(rule, tcp("y/c"))


def test_deny_rule_matching_the_same_way() -> None:
    assert decided_by(Rule(DENY, source=side(nets=("10.0.0.0/8",))), tcp())


def test_negative_selector_terms_match_entities_without_the_label() -> None:
    # H.3/H.4 inside a rule: != and !has match known entities lacking the label
    assert decided_by(Rule(ALLOW, source=side(selector="tier != 'x'")), tcp())
    assert decided_by(Rule(ALLOW, source=side(selector="!tier == 'x'")), tcp())
    assert not decided_by(Rule(ALLOW, source=side(selector="has(tier)")), tcp())
    assert not decided_by(Rule(ALLOW, source=side(selector="tier != 'x'")), tcp(OUTSIDE))


def test_services_see_post_dnat_addresses_not_the_cluster_ip() -> None:
    # H.14: a flow to the ClusterIP does not match the service's destination rule
    web = ServiceBackends("x", "web", addresses=("10.0.0.2",), ports=((TCP, 8080),))
    rule = Rule(ALLOW, destination=side(services=ServiceRef("x", "web")))
    ps = policy_set(endpoints=[A, B], services=[web], policies=[gnp("out", "app == 'a'", egress=[rule])])
    assert ps.evaluate(tcp("x/a", "10.96.0.10", port=80)).egress.reason == Reason.END_OF_TIER
    assert ps.evaluate(tcp("x/a", "10.0.0.2", port=8080)).egress.reason == Reason.RULE
