"""Whether a verdict reached with a representative side holds for everything the side
stands for; the reasons when it may not.

A side's *address* is tested only by the other side's rules that face it: the source's
by the destination's ingress rules (their ``source``), the destination's by the
source's egress rules (their ``destination``): ``nets``/``notNets``, ``services``
(backend addresses), and selectors that match a network set (they match its CIDRs).
Its *labels* are read by the selectors of every policy that could apply to it and of
those facing rules; its *named ports* by port clauses on its side.

* A representative of pods (or a workload) has known labels: uncertain where a facing
  ``services`` clause or network-set selector exists, or where a facing ``nets`` test
  was reached on a synthetic stand-in for its address (the reference evaluator notes
  every such test), or where its pods differ in what selectors see and are decided
  differently.
* A side built from logged labels is uncertain where any of those selectors reads a
  label the intersection lacks (it may be on some pods and not others), a service
  account, or a named port of its own; and, without an address, where any facing
  address test exists.
* A network or network-set address is uncertain where a facing address test exists
  (a network-set selector only when it matches another set than the one named).
"""

from __future__ import annotations

import ipaddress
from typing import Any, Iterable, Sequence

import attrs

from ..flow import Flow
from ..loader.records import NAMESPACE_LABEL, ORCHESTRATOR_LABEL, default_profiles
from ..model import Direction, EntityMatch, Endpoint, NamedPort, Rule
from ..resolve.index import index_of
from ..policyset import PolicySet
from ..verdict import Verdict
from .sides import LABELLED, NETWORK, REPRESENTATIVE, Resolved

__all__ = ["Facing", "Analyzer"]


@attrs.frozen
class Facing:
    """What the rules facing a side test of it."""

    nets: bool = False
    services: bool = False
    network_sets: frozenset[str] = frozenset()
    label_keys: frozenset[str] = frozenset()
    named_ports: bool = False


_NOTHING = Facing()


def _own(direction: Direction, rule: Rule) -> EntityMatch:
    """The side of a rule that is the policed endpoint itself."""
    return rule.source if direction is Direction.EGRESS else rule.destination


def _other(direction: Direction, rule: Rule) -> EntityMatch:
    """The side of a rule that is the peer."""
    return rule.source if direction is Direction.INGRESS else rule.destination


def _named(side: EntityMatch) -> bool:
    return any(isinstance(port, NamedPort) for port in (*side.ports, *side.not_ports))


class Analyzer:
    """Finds what may make a verdict differ for what a representative side stands for."""

    def __init__(self, ps: PolicySet, namespace_known: Any) -> None:
        self.ps = ps
        self._namespace_known = namespace_known
        self._facing: dict[tuple[Any, Direction], Facing] = {}
        self._synthetic: str | None = None
        self._all = (*ps.policies, *ps.staged_policies)
        rules = [rule for p in self._all for d in Direction for rule in (p.rules(d) or ())]
        rules += [rule for profile in ps.profiles.values() for d in Direction for rule in profile.rules(d)]
        sides = [side for rule in rules for side in (rule.source, rule.destination)]
        #: whether any rule tests addresses (nets, services, selectors of network sets), names ports
        self._address_tests = bool(ps.network_sets) or any(s.nets or s.not_nets or s.services for s in sides)
        self._named_ports = any(_named(s) for s in sides)
        self._any_labelled = False  # set once a side built from logged labels is met

    # -- the rules facing a side ------------------------------------------------------------

    def _rules(self, endpoint: Endpoint, direction: Direction) -> Iterable[Rule]:
        for group in index_of(self.ps).applying(endpoint, direction, True):
            for policy in group.policies:
                yield from policy.rules(direction) or ()
        chain = endpoint.profiles if endpoint.profiles is not None else default_profiles(endpoint)
        for name in chain:
            profile = self.ps.profiles.get(name)
            if profile is not None:
                yield from profile.rules(direction)

    def facing(self, endpoint: Endpoint | None, direction: Direction) -> Facing:
        """What ``endpoint``'s rules of ``direction`` test of their peer."""
        if endpoint is None or (not self._address_tests and not self._named_ports and not self._any_labelled):
            return _NOTHING
        key = (endpoint, direction)
        found = self._facing.get(key)
        if found is None:
            nets = services = named = False
            sets: set[str] = set()
            keys: set[str] = set()
            for rule in self._rules(endpoint, direction):
                side = _other(direction, rule)
                nets = nets or bool(side.nets or side.not_nets)
                services = services or side.services is not None
                named = named or _named(side)
                for selector in (side.selector, side.not_selector):
                    if selector is not None:
                        keys |= selector.label_keys
                        sets |= {f"{s.namespace}/{s.name}" if s.namespace else s.name for s in self.ps.network_sets
                                 if selector.matches(s.effective_labels)}
            found = self._facing[key] = Facing(nets, services, frozenset(sets), frozenset(keys), named)
        return found

    # -- verdicts ---------------------------------------------------------------------------

    def reasons(self, src: Resolved, dst: Resolved, flow: Flow, verdict: Verdict) -> list[str]:
        """Why the verdict may not hold for what the sides stand for (empty: exact)."""
        found: list[str] = []
        self._any_labelled = self._any_labelled or LABELLED in (src.how, dst.how)
        for this, other, direction in ((src, dst, Direction.INGRESS), (dst, src, Direction.EGRESS)):
            if this.exact:
                continue
            facing = self.facing(other.endpoint, direction)
            found += self._side(this, other, facing, direction, flow, verdict)
        if not found:
            found += self._groups(src, dst, flow, verdict)
        return found

    def _side(self, this: Resolved, other: Resolved, facing: Facing, direction: Direction, flow: Flow,
              verdict: Verdict) -> list[str]:
        role = "source" if direction is Direction.INGRESS else "destination"
        peer = other.endpoint.key if other.endpoint is not None else "the peer"
        found: list[str] = []
        if this.how == NETWORK:
            mine = this.network_set
            named = {f"{mine.namespace}/{mine.name}" if mine.namespace else mine.name} if mine is not None else set()
            if facing.nets or facing.services or facing.network_sets - named:
                found.append(f"the {role} stands for {this.note}, and {peer} tests addresses")
            return found
        if facing.services or facing.network_sets:
            found.append(f"{peer} matches {role} addresses (services or network sets), which the log does not give")
        if this.how == LABELLED:
            found += self._labelled(this, facing, direction, role, peer)
        elif this.how == REPRESENTATIVE and facing.nets and not found:
            if self._depends(this, direction, flow, verdict):
                found.append(f"{peer} tests the {role}'s address (nets), which the log does not give")
        return found

    def _labelled(self, this: Resolved, facing: Facing, direction: Direction, role: str, peer: str) -> list[str]:
        endpoint = this.endpoint
        assert endpoint is not None
        own_direction = Direction.EGRESS if direction is Direction.INGRESS else Direction.INGRESS
        known = set(endpoint.labels) | {NAMESPACE_LABEL, ORCHESTRATOR_LABEL}
        namespace_known = bool(self._namespace_known(endpoint.namespace))

        def unknown(keys: Iterable[str]) -> list[str]:
            return sorted(k for k in keys if k not in known and not (namespace_known and k.startswith("pcns.")))

        found: list[str] = []
        keys: set[str] = set(facing.label_keys)
        named = facing.named_ports
        for policy in self._all:
            rules = policy.rules(own_direction)
            if rules is None:
                continue
            keys |= policy.selector.label_keys
            if policy.selector.matches(self._labels(endpoint)):
                named = named or any(_named(_own(own_direction, rule)) for rule in rules)
        missing = unknown(keys)
        if missing:
            found.append(f"selectors read labels the log does not give for the {role}: {', '.join(missing[:5])}")
        if named:
            found.append(f"rules name ports of the {role}, which the log does not give")
        if not endpoint.ips and (facing.nets or facing.services or facing.network_sets):
            found.append(f"{peer} tests the {role}'s address, which the log does not give")
        return found

    def _labels(self, endpoint: Endpoint) -> Any:
        """The labels selectors see on a hand-built endpoint (as on a pod of its namespace)."""
        from ..resolve.profiles import effective_endpoint_labels

        return effective_endpoint_labels(endpoint, self.ps.profiles)

    # -- address and group checks -----------------------------------------------------------

    def _stand_in(self) -> str:
        """An address no rule mentions and no endpoint uses: a synthetic address."""
        if self._synthetic is None:
            from ..resolve.addresses import choose_pool, mentioned_networks

            used = {ip for endpoint in self.ps.endpoints for ip in endpoint.ips}
            pool = self.ps.address_pool
            if pool is None or pool.version != 4:
                pool, _ = choose_pool(1, mentioned_networks(self._all, self.ps.profiles.values(), self.ps.network_sets,
                                                            self.ps.endpoints, self.ps.services))
            for address in reversed(list(_hosts(pool))):
                if address not in used:
                    self._synthetic = str(address)
                    break
            else:  # pragma: no cover - a pool full of endpoints
                self._synthetic = str(pool.network_address)
        return self._synthetic

    def _depends(self, this: Resolved, direction: Direction, flow: Flow, verdict: Verdict) -> bool:
        """Whether a test on a synthetic stand-in for the side's address decided."""
        for member in this.groups or ((this.endpoint,) if this.endpoint is not None else ()):
            if member.synthetic:
                side: Any = member.key
            else:
                side = attrs.evolve(member, ips=(ipaddress.ip_address(self._stand_in()),), synthetic=True)
            probe = attrs.evolve(flow, src=side) if direction is Direction.INGRESS else attrs.evolve(flow, dst=side)
            if self.ps.evaluate(probe).depends_on_synthetic_address:
                return True
        return False

    def _groups(self, src: Resolved, dst: Resolved, flow: Flow, verdict: Verdict) -> list[str]:
        """Pods of one owner that differ in what selectors see: decided alike?"""
        src_groups = src.groups[1:] if len(src.groups) > 1 else ()
        dst_groups = dst.groups[1:] if len(dst.groups) > 1 else ()
        if not src_groups and not dst_groups:
            return []
        expected = _outcome(verdict)
        for member in src_groups:
            if _outcome(self.ps.evaluate(attrs.evolve(flow, src=member.key))) != expected:
                return [f"pods of the source ({src.note.split(':')[0]}) differ and are decided differently"]
        for member in dst_groups:
            if _outcome(self.ps.evaluate(attrs.evolve(flow, dst=member.key))) != expected:
                return [f"pods of the destination ({dst.note.split(':')[0]}) differ and are decided differently"]
        return []


def _outcome(verdict: Verdict) -> tuple[Any, ...]:
    sides = [(d.action, d.why) if d is not None else None for d in (verdict.egress, verdict.ingress)]
    pending = _outcome(verdict.pending) if verdict.pending is not None else None
    return (verdict.action, *sides, pending)


def _hosts(pool: Any) -> Sequence[Any]:
    if pool.num_addresses <= 2:
        return [pool.network_address]
    last = pool.broadcast_address - 1
    return [last - k for k in reversed(range(min(64, pool.num_addresses - 2)))]

