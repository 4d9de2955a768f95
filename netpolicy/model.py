"""The normalized model every evaluator works on: tiers, ordered policies, ordered rules,
and the endpoints and network sets they act on.

The loader turns manifests of every supported kind into these values; Kubernetes
NetworkPolicy, AdminNetworkPolicy and BaselineAdminNetworkPolicy arrive here already in
their Calico form. All values are frozen and hashable.

Conventions:

* Protocols are IANA numbers (TCP 6, UDP 17, ICMP 1, ICMPv6 58, SCTP 132, UDPLite 136).
* Every selector held here is *effective*: namespace scoping, ``pcns.``/``pcsa.`` prefixing,
  service-account clauses and notSelector folding are already applied.
* ``order`` of ``None`` means "no order": after every ordered tier or policy.
"""

from __future__ import annotations

import enum
import ipaddress
from typing import TYPE_CHECKING, Iterable, Mapping, Union

import attrs

if TYPE_CHECKING:
    from .selector import Selector

__all__ = [
    "Action",
    "Direction",
    "IPNetwork",
    "IPAddress",
    "Origin",
    "PortRange",
    "NamedPort",
    "RulePort",
    "ContainerPort",
    "IcmpMatch",
    "ServiceRef",
    "EntityMatch",
    "Rule",
    "PolicyRef",
    "Policy",
    "Tier",
    "Profile",
    "Endpoint",
    "NetworkSet",
    "ServiceBackends",
    "PROTOCOL_NUMBERS",
    "PROTOCOL_NAMES",
]

IPNetwork = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]
IPAddress = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]

#: Calico's protocol names and their numbers.
PROTOCOL_NUMBERS: Mapping[str, int] = {
    "ICMP": 1,
    "TCP": 6,
    "UDP": 17,
    "ICMPv6": 58,
    "SCTP": 132,
    "UDPLite": 136,
}
PROTOCOL_NAMES: Mapping[int, str] = {number: name for name, number in PROTOCOL_NUMBERS.items()}


class Action(enum.Enum):
    """A rule's action; a verdict is always ``ALLOW`` or ``DENY``."""

    ALLOW = "Allow"
    DENY = "Deny"
    LOG = "Log"
    PASS = "Pass"

    def __str__(self) -> str:
        return self.value


class Direction(enum.Enum):
    """Ingress is traffic to an endpoint, egress traffic from it."""

    INGRESS = "Ingress"
    EGRESS = "Egress"

    def __str__(self) -> str:
        return self.value


def _frozen_labels(labels: Mapping[str, str] | None) -> Mapping[str, str]:
    if type(labels) is FrozenLabels:
        return labels
    return FrozenLabels(labels or {})


class FrozenLabels(dict[str, str]):
    """A read-only, hashable label map (a dict, so it is cheap to read and to pickle)."""

    __slots__ = ()

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(frozenset(self.items()))

    def _readonly(self, *args: object, **kwargs: object) -> None:
        raise TypeError("labels are read-only")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _readonly  # type: ignore[assignment]

    def __reduce__(self) -> tuple[type, tuple[dict[str, str]]]:
        return (type(self), (dict(self),))


@attrs.frozen
class Origin:
    """Where an object came from: file (None for strings and objects), 1-based document
    index and 1-based line and column of the document's start."""

    file: str | None = None
    document: int | None = None
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        text = self.file or "<input>"
        if self.line is not None:
            text += f":{self.line}"
        return text


@attrs.frozen
class PortRange:
    """An inclusive range of port numbers; a single port has ``first == last``."""

    first: int
    last: int

    def __contains__(self, port: object) -> bool:
        return isinstance(port, int) and self.first <= port <= self.last

    def __str__(self) -> str:
        return str(self.first) if self.first == self.last else f"{self.first}:{self.last}"


@attrs.frozen
class NamedPort:
    """A named port in a rule, resolved per endpoint."""

    name: str

    def __str__(self) -> str:
        return self.name


RulePort = Union[PortRange, NamedPort]


@attrs.frozen
class ContainerPort:
    """A named port an endpoint declares: name, protocol number and port."""

    name: str
    protocol: int
    port: int


@attrs.frozen
class IcmpMatch:
    """ICMP type and, optionally, code."""

    type: int
    code: int | None = None


@attrs.frozen
class ServiceRef:
    """A Calico ``services`` clause: a Kubernetes Service by namespace and name."""

    namespace: str
    name: str


@attrs.frozen
class EntityMatch:
    """One side (source or destination) of a rule.

    ``selector`` is the effective positive selector with notSelector folded in when both
    exist; ``not_selector`` is set only when there is no positive selector.
    Empty tuples and ``None`` mean "no restriction".
    """

    nets: tuple[IPNetwork, ...] = ()
    not_nets: tuple[IPNetwork, ...] = ()
    selector: Selector | None = None
    not_selector: Selector | None = None
    ports: tuple[RulePort, ...] = ()
    not_ports: tuple[RulePort, ...] = ()
    services: ServiceRef | None = None

    @property
    def is_empty(self) -> bool:
        return self == _EMPTY_ENTITY


_EMPTY_ENTITY = EntityMatch()


@attrs.frozen
class Rule:
    """One Calico rule; every present criterion must hold.

    ``ip_version`` is the effective family: as written, or inferred from the protocol
    names ICMP (4) and ICMPv6 (6). ``http`` records that the rule had an HTTP
    clause, which does not restrict at layer 4. ``name`` is informational, and so is
    ``from_rule``: for a rule converted from a Kubernetes kind whose rules expand into
    several Calico rules, the path of the manifest rule it came from (``ingress[0]``).
    """

    action: Action
    protocol: int | None = None
    not_protocol: int | None = None
    ip_version: int | None = None
    icmp: IcmpMatch | None = None
    not_icmp: IcmpMatch | None = None
    source: EntityMatch = _EMPTY_ENTITY
    destination: EntityMatch = _EMPTY_ENTITY
    http: bool = False
    name: str | None = None
    from_rule: str | None = attrs.field(default=None, eq=False)


@attrs.frozen(order=True)
class PolicyRef:
    """What names a policy: kind, namespace (None for global kinds) and name.

    ``kind`` is one of ``NetworkPolicy``, ``GlobalNetworkPolicy``, ``StagedNetworkPolicy``,
    ``StagedGlobalNetworkPolicy``, ``StagedKubernetesNetworkPolicy``,
    ``KubernetesNetworkPolicy``, ``AdminNetworkPolicy``, ``BaselineAdminNetworkPolicy``.
    """

    kind: str
    namespace: str | None
    name: str

    def __str__(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}" if self.namespace else f"{self.kind} {self.name}"


@attrs.frozen
class Policy:
    """A policy in Calico form.

    ``selector`` is the effective selector of the endpoints it applies to. ``ingress`` and
    ``egress`` are ``None`` when that direction is not in the policy's ``types``: the
    policy is then invisible in that direction.
    """

    ref: PolicyRef
    tier: str
    order: float | None
    selector: Selector
    ingress: tuple[Rule, ...] | None = None
    egress: tuple[Rule, ...] | None = None
    staged: bool = False
    do_not_track: bool = False
    pre_dnat: bool = False
    apply_on_forward: bool = False
    origin: Origin | None = attrs.field(default=None, eq=False)

    def rules(self, direction: Direction) -> tuple[Rule, ...] | None:
        return self.ingress if direction is Direction.INGRESS else self.egress

    def sort_key(self) -> tuple[bool, float, str]:
        """Calico's order within a tier: order (None last), then the
        ``name/namespace/kind`` key."""
        order = self.order if self.order is not None else 0.0
        key = f"{self.ref.name}/{self.ref.namespace or ''}/{self.ref.kind}"
        return (self.order is None, order, key)


@attrs.frozen
class Tier:
    """A tier: its order (None last) and the action at its end (Deny or Pass)."""

    name: str
    order: float | None
    default_action: Action = Action.DENY
    origin: Origin | None = attrs.field(default=None, eq=False)

    def sort_key(self) -> tuple[bool, float, str]:
        order = self.order if self.order is not None else 0.0
        return (self.order is None, order, self.name)


@attrs.frozen
class Profile:
    """A profile: labels it lends to endpoints, and its rules, evaluated after all tiers."""

    name: str
    labels_to_apply: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_labels)
    ingress: tuple[Rule, ...] = ()
    egress: tuple[Rule, ...] = ()
    origin: Origin | None = attrs.field(default=None, eq=False)

    def rules(self, direction: Direction) -> tuple[Rule, ...]:
        return self.ingress if direction is Direction.INGRESS else self.egress


def _addresses(values: object) -> tuple[IPAddress, ...]:
    if isinstance(values, (str, ipaddress.IPv4Address, ipaddress.IPv6Address)):
        values = (values,)
    return tuple(
        v if isinstance(v, (ipaddress.IPv4Address, ipaddress.IPv6Address)) else ipaddress.ip_address(v)
        for v in values  # type: ignore[attr-defined]
    )


def _ports(values: Iterable[ContainerPort]) -> tuple[ContainerPort, ...]:
    return values if type(values) is tuple else tuple(values)


@attrs.frozen
class Endpoint:
    """A policed endpoint: a pod (as a workload endpoint), a WorkloadEndpoint or a
    HostEndpoint. It may also be built by hand to describe a flow's side.

    ``labels`` are the object's own labels. ``effective_labels`` are what selectors see:
    for pods the own labels plus ``projectcalico.org/*`` labels, then what the
    profiles lend. The loader fills it; for a hand-built endpoint it is ``None`` and the
    PolicySet derives it as it would for a pod in ``namespace``.

    An endpoint made from a workload (a Deployment, StatefulSet, Job...) stands for all
    its pods: ``workload`` is that kind and ``key`` reads ``namespace/name[Kind]``.
    ``replicas`` is the number of pods asked for (0: none runs; None: not a count, as
    for a DaemonSet or a single pod). ``owner`` is the (kind, name) of the controller
    that owns a pod or a workload (from ``ownerReferences``). ``synthetic`` says the
    addresses were drawn from the synthetic pool because the manifests give none.
    """

    labels: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_labels)
    namespace: str | None = None
    name: str | None = None
    ips: tuple[IPAddress, ...] = attrs.field(default=(), converter=_addresses)
    service_account: str | None = None
    named_ports: tuple[ContainerPort, ...] = attrs.field(default=(), converter=_ports)
    kind: str = "WorkloadEndpoint"
    profiles: tuple[str, ...] | None = attrs.field(default=None)
    effective_labels: Mapping[str, str] | None = attrs.field(default=None, eq=False)
    node: str | None = None
    interface: str | None = None
    origin: Origin | None = attrs.field(default=None, eq=False)
    workload: str | None = None
    replicas: int | None = attrs.field(default=None, eq=False)
    owner: tuple[str, str] | None = attrs.field(default=None, eq=False)
    synthetic: bool = attrs.field(default=False, eq=False)

    @property
    def key(self) -> str:
        """``namespace/name`` for namespaced endpoints (``namespace/name[Kind]`` for one
        made from a workload), ``name`` for host endpoints."""
        if self.workload is not None:
            return f"{self.namespace}/{self.name}[{self.workload}]"
        return f"{self.namespace}/{self.name}" if self.namespace else str(self.name)

    @property
    def running(self) -> bool:
        """False for a workload that asks for no pod (zero replicas, parallelism 0, a
        suspended Job or CronJob)."""
        return self.replicas != 0

    @property
    def is_host(self) -> bool:
        return self.kind == "HostEndpoint"

    def __str__(self) -> str:
        return f"{self.kind} {self.key}"


@attrs.frozen
class NetworkSet:
    """A NetworkSet (namespaced) or GlobalNetworkSet: labelled CIDRs that rule selectors
    match by address, never a policed endpoint."""

    name: str
    namespace: str | None
    nets: tuple[IPNetwork, ...]
    labels: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_labels)
    effective_labels: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_labels, eq=False)
    origin: Origin | None = attrs.field(default=None, eq=False)

    @property
    def kind(self) -> str:
        return "NetworkSet" if self.namespace else "GlobalNetworkSet"


@attrs.frozen
class ServiceBackends:
    """A Service's backends from its EndpointSlices (discovery.k8s.io/v1): the addresses
    and ports that a rule's ``services`` clause matches. Ports are
    (protocol number, port) pairs."""

    namespace: str
    name: str
    addresses: tuple[IPAddress, ...] = attrs.field(default=(), converter=_addresses)
    ports: tuple[tuple[int, int], ...] = ()
    origin: Origin | None = attrs.field(default=None, eq=False)
