"""Flows aimed at a policy set's endpoints, CIDR edges, ports and ICMP types, and
hand-built Endpoints."""

from __future__ import annotations

import ipaddress
from typing import Any, Collection, Iterable

import attrs
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from .. import PolicySet
from ..errors import PolicyError
from ..flow import Flow, protocol_number
from ..model import PROTOCOL_NUMBERS, ContainerPort, Endpoint, NamedPort, PortRange
from ._labels import _vocab_labels
from ._vocabulary import _POD_V4, _POD_V6, Vocabulary, _check_bool, _pod_ips, _vocab_or_draw

__all__ = ["flows", "endpoints"]

_HANDMADE_V4 = ipaddress.ip_network("10.0.3.0/24")
_HANDMADE_V6 = ipaddress.ip_network("fd00::3:0/112")
_EXTERNAL = ("192.168.0.7", "8.8.8.8", "10.0.1.1", "2001:db8::7", "fd00:1::1")
#: Felix's default failsafe ports, inbound and outbound (TCP and UDP): flows to and from
#: host endpoints aim at them.
_FAILSAFE_PORTS = (22, 53, 67, 68, 179, 2379, 2380, 5473, 6443, 6666, 6667)



@attrs.frozen
class _FlowPlan:
    endpoints: dict[int, list[Any]]  # family -> endpoints (as namespace/pod or address)
    sides: dict[int, list[Any]]  # family -> other addresses
    ports: tuple[int, ...]
    icmp_types: tuple[int, ...]
    icmp_codes: tuple[int, ...]
    declared: dict[Any, tuple[tuple[int, int], ...]] = attrs.field(factory=dict)  # side -> (protocol, port) it declares
    handmade: dict[int, list[Any]] = attrs.field(factory=lambda: {4: [], 6: []})  # hand-built Endpoint sides
    hosts: dict[int, list[Any]] = attrs.field(factory=lambda: {4: [], 6: []})  # host endpoints' addresses


def _net_addresses(net: Any) -> list[Any]:
    """Addresses at the edges of a CIDR and just outside it."""
    out = [net.network_address, net.broadcast_address]
    if net.num_addresses > 2:
        out.append(net.network_address + 1)
    before = int(net.network_address) - 1
    after = int(net.broadcast_address) + 1
    cls = type(net.network_address)
    limit = 2**32 if net.version == 4 else 2**128
    if before >= 0:
        out.append(cls(before))
    if after < limit:
        out.append(cls(after))
    return out


def _walk_rules(ps: PolicySet) -> Iterable[Any]:
    for policy in tuple(ps.policies) + tuple(ps.staged_policies):
        for rules in (policy.ingress, policy.egress):
            yield from rules or ()
    for profile in ps.profiles.values():
        yield from profile.ingress
        yield from profile.egress


def _plan(ps: PolicySet | None) -> _FlowPlan:
    sides: dict[int, list[Any]] = {4: [], 6: []}
    ports: list[int] = [80]
    icmp_types: list[int] = [8]
    icmp_codes: list[int] = [0]
    if ps is None:
        for text in _EXTERNAL + tuple(str(_POD_V4[i]) for i in (1, 2)) + tuple(str(_POD_V6[i]) for i in (1, 2)):
            address = ipaddress.ip_address(text)
            sides[address.version].append(address)
        return _FlowPlan({4: [], 6: []}, sides, (80, 443, 53, 8080), (0, 3, 8), (0, 1))
    named: dict[str, set[int]] = {}
    endpoints: dict[int, list[Any]] = {4: [], 6: []}
    declared: dict[Any, tuple[tuple[int, int], ...]] = {}
    handmade: dict[int, list[Any]] = {4: [], 6: []}
    hosts: dict[int, list[Any]] = {4: [], 6: []}
    for number, endpoint in enumerate(ps.endpoints):
        if endpoint.namespace and not endpoint.is_host:
            # A look-alike that is not in the inventory: same labels, namespace, service
            # account and named ports, at an address no one owns.
            for family, network in ((4, _HANDMADE_V4), (6, _HANDMADE_V6)):
                handmade[family].append(
                    attrs.evolve(endpoint, name=None, ips=(network[number + 1],), profiles=None, effective_labels=None, origin=None, node=None, interface=None)
                )
        pairs = tuple(dict.fromkeys((p.protocol, p.port) for p in endpoint.named_ports))
        if pairs:
            for value in (endpoint.key, *endpoint.ips):
                declared[value] = pairs
        if endpoint.name and not endpoint.is_host and endpoint.namespace:
            if any(ip.version == 4 for ip in endpoint.ips):
                endpoints[4].append(endpoint.key)
        for ip in endpoint.ips:
            endpoints[ip.version].append(ip)
            if endpoint.is_host:
                hosts[ip.version].append(ip)
        for port in endpoint.named_ports:
            named.setdefault(port.name, set()).add(port.port)
    nets: list[Any] = []
    for network_set in ps.network_sets:
        nets.extend(network_set.nets)
    for rule in _walk_rules(ps):
        for entity in (rule.source, rule.destination):
            nets.extend(entity.nets)
            nets.extend(entity.not_nets)
            for port in tuple(entity.ports) + tuple(entity.not_ports):
                if isinstance(port, PortRange):
                    ports.extend(p for p in (port.first, port.last, port.first - 1, port.last + 1) if 1 <= p <= 65535)
                elif isinstance(port, NamedPort):
                    ports.extend(sorted(named.get(port.name, ())))
        for icmp in (rule.icmp, rule.not_icmp):
            if icmp is not None:
                icmp_types.extend((icmp.type, (icmp.type + 1) % 255))
                if icmp.code is not None:
                    icmp_codes.extend((icmp.code, (icmp.code + 1) % 256))
    for values in named.values():
        ports.extend(values)
    if any(endpoint.is_host for endpoint in ps.endpoints):
        ports.extend(_FAILSAFE_PORTS)
    keys = {ip: endpoint.key for endpoint in ps.endpoints if endpoint.name for ip in endpoint.ips}
    for service in ps.services:
        ports.extend(port for _, port in service.ports)
        for address in service.addresses:  # a backend serves its Service's ports too
            for side in (address, keys.get(address)):
                if side is not None:
                    declared[side] = tuple(dict.fromkeys(declared.get(side, ()) + tuple(service.ports)))
    for net in dict.fromkeys(nets):
        for address in _net_addresses(net):
            sides[address.version].append(address)
    for text in _EXTERNAL:
        address = ipaddress.ip_address(text)
        sides[address.version].append(address)
    known = {value for values in endpoints.values() for value in values}
    return _FlowPlan(
        {family: list(dict.fromkeys(values)) for family, values in endpoints.items()},
        {family: [v for v in dict.fromkeys(values) if v not in known] for family, values in sides.items()},
        tuple(dict.fromkeys(ports)),
        tuple(dict.fromkeys(icmp_types)),
        tuple(dict.fromkeys(icmp_codes)),
        declared,
        handmade,
        hosts,
    )


_PROTOCOLS_V4 = ("TCP", "UDP", "ICMP", "TCP", "SCTP", "UDP", "UDPLite", 47)
_PROTOCOLS_V6 = ("TCP", "UDP", "ICMPv6", "TCP", "SCTP", "UDP", "UDPLite", 47)


def _side_choice(plan: _FlowPlan, family: int) -> st.SearchStrategy[Any]:
    endpoints, others, handmade = plan.endpoints[family], plan.sides[family], plan.handmade[family][:3]
    # a host endpoint one time in four, where there are any
    options = [st.sampled_from(values) for values in (endpoints, others, endpoints, plan.hosts[family]) if values]
    choice = st.one_of(options)
    if not handmade:
        return choice
    # One side in ten is a hand-built Endpoint.
    return st.integers(0, 9).flatmap(lambda n: st.sampled_from(handmade) if n == 9 else choice)


@st.composite
def _flow(draw: st.DrawFn, plan: _FlowPlan, ipv6: bool, protocols: tuple[Any, ...] | None) -> Flow:
    families = [f for f in (4, 6) if (plan.sides[f] or plan.endpoints[f]) and (f == 4 or ipv6)]
    if not families:
        raise InvalidArgument("the policy set has no addresses to make flows between")
    family = draw(st.sampled_from(families + [4] if 4 in families else families))
    src = draw(_side_choice(plan, family))
    dst = draw(_side_choice(plan, family))
    if dst == src and bool(plan.sides[family]) and draw(st.integers(0, 3)) > 0:
        dst = draw(st.sampled_from(plan.sides[family]))  # traffic to itself is never policed
    protocol = draw(st.sampled_from(protocols or (_PROTOCOLS_V4 if family == 4 else _PROTOCOLS_V6)))
    number = protocol_number(protocol)
    kwargs: dict[str, Any] = {}
    declared = [p for p in plan.declared.get(dst, ()) if protocols is None or p[0] in {protocol_number(x) for x in protocols}]
    if bool(declared) and draw(st.booleans()):
        # To a port the destination declares, with its protocol.
        number, kwargs["dst_port"] = draw(st.sampled_from(declared))
        protocol = number
        if draw(st.booleans()):
            kwargs["src_port"] = draw(st.one_of(st.sampled_from(plan.ports), st.integers(1, 65535)))
    elif number in (6, 17, 132, 136):
        kwargs["dst_port"] = draw(st.one_of(st.sampled_from(plan.ports), st.integers(1, 65535), st.sampled_from(plan.ports)))
        if draw(st.booleans()):
            kwargs["src_port"] = draw(st.one_of(st.sampled_from(plan.ports), st.integers(1, 65535)))
    elif number in (1, 58) and draw(st.integers(0, 3)) > 0:
        kwargs["icmp_type"] = draw(st.sampled_from(plan.icmp_types))
        if draw(st.booleans()):
            kwargs["icmp_code"] = draw(st.sampled_from(plan.icmp_codes))
    return Flow(src=src, dst=dst, protocol=protocol, **kwargs)


def flows(ps: PolicySet | None = None, *, ipv6: bool = True, protocols: Collection[str | int] | None = None) -> st.SearchStrategy[Flow]:
    """Flows between the endpoints of ``ps`` (as ``namespace/pod`` or by address), the
    members and edges of the CIDRs its sets and rules mention, and external addresses;
    to the ports its rules mention (named ports resolved through the endpoints), its
    Services' ports, the failsafe ports where it has host endpoints, and others; ICMP
    types and codes its rules mention; both IP families.

    Without ``ps``, flows between a fixed handful of addresses. ``protocols`` narrows the
    protocols (names or numbers); ``ipv6=False`` keeps to IPv4.
    """
    _check_bool("ipv6", ipv6)
    chosen: tuple[Any, ...] | None = None
    if protocols is not None:
        if isinstance(protocols, (str, int)):
            raise InvalidArgument("protocols must be a collection of protocol names or numbers")
        chosen = tuple(protocols)
        if not chosen:
            raise InvalidArgument("protocols must not be empty")
        for protocol in chosen:
            try:
                protocol_number(protocol)
            except PolicyError as error:
                raise InvalidArgument(str(error)) from None
    if ps is not None and not hasattr(ps, "endpoints"):
        raise InvalidArgument(f"ps must be a PolicySet, not {type(ps).__name__}")
    return st.deferred(lambda: _flow(_plan(ps), ipv6, chosen))


@st.composite
def _endpoint(draw: st.DrawFn, vocab: Vocabulary | None) -> Any:
    vocab = _vocab_or_draw(draw, vocab)
    index = draw(st.integers(0, 9))
    ports = tuple(
        ContainerPort(name, PROTOCOL_NUMBERS[draw(st.sampled_from(("TCP", "UDP", "SCTP")))], draw(st.sampled_from(vocab.ports)))
        for name in draw(st.lists(st.sampled_from(vocab.port_names), max_size=2, unique=True))
    )
    return Endpoint(
        labels=draw(_vocab_labels(vocab)),
        namespace=draw(st.sampled_from(vocab.namespaces)),
        ips=_pod_ips(200 + index, vocab.ipv6 and draw(st.booleans())),
        service_account=draw(st.sampled_from((None,) + vocab.service_accounts)),
        named_ports=ports,
    )


def endpoints(vocab: Vocabulary | None = None) -> st.SearchStrategy[Any]:
    """Hand-built :class:`netpolicy.Endpoint` values (a flow side that is not in the
    inventory): labels, namespace, addresses, service account and named ports."""
    return _endpoint(vocab)
