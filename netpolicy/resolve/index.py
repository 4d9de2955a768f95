"""What the evaluators look up in a policy set, indexed once and cached.

* Every Calico entity that rule selectors see (§A.6, §A.9): workload and host endpoints
  with their addresses, NetworkSets and GlobalNetworkSets with their CIDRs, each with its
  effective labels. ``entities_at(ip)`` gives every entity whose addresses contain ``ip``.
* The endpoint that owns an address, for resolving a flow's IP sides.
* Services by namespace and name, profiles by name.
* The policies that apply to an inventory endpoint per direction, grouped by tier.

The index lives outside the policy set (a weak map keyed by it), so the
policy set stays small and picklable; it is built once under a lock and only read after.
"""

from __future__ import annotations

import ipaddress
import threading
import weakref
from typing import TYPE_CHECKING, Mapping, cast

import attrs

from ..errors import PolicyError
from ..loader.records import DEFAULT_ALLOW_PROFILE, default_profiles
from ..model import Action, ContainerPort, Direction, Endpoint, IPAddress, IPNetwork, Policy, Profile, Rule, ServiceBackends, Tier

if TYPE_CHECKING:
    from .snapshot import Snapshot

__all__ = ["Entity", "Index", "TierPolicies", "index_of"]

_ALLOW_ALL = (Rule(Action.ALLOW),)

#: The profile Calico gives auto-created host endpoints: allow everything.
_DEFAULT_ALLOW = Profile(name=DEFAULT_ALLOW_PROFILE, ingress=_ALLOW_ALL, egress=_ALLOW_ALL)


@attrs.frozen
class Entity:
    """Something rule selectors match by address (§A.6): an endpoint or a network set."""

    kind: str
    key: str
    labels: Mapping[str, str]
    nets: tuple[IPNetwork, ...]
    ports: tuple[ContainerPort, ...] = ()

    def __str__(self) -> str:
        return f"{self.kind} {self.key}"


@attrs.frozen
class TierPolicies:
    """The policies of one tier that apply to an endpoint in one direction, in order."""

    tier: Tier
    policies: tuple[Policy, ...]


def _host_network(address: IPAddress) -> IPNetwork:
    return ipaddress.ip_network(address)


class Index:
    """Lookups over one policy set; see the module docstring."""

    def __init__(self, ps: Snapshot) -> None:
        # weak, so that the cache entry of a policy set dies with it
        self._ps: Snapshot = cast("Snapshot", weakref.proxy(ps))
        self._ps_ref = weakref.ref(ps)
        self.tiers: Mapping[str, Tier] = {tier.name: tier for tier in ps.tiers}
        self.profiles: Mapping[str, Profile] = ps.profiles
        self.services: Mapping[tuple[str, str], ServiceBackends] = {(s.namespace, s.name): s for s in ps.services}
        self.entity_of: dict[Endpoint, Entity] = {}
        self.hosts_on: dict[str, list[Endpoint]] = {}  # node -> its host endpoints
        owners: dict[IPAddress, list[Endpoint]] = {}
        entities: list[Entity] = []
        for endpoint in ps.endpoints:
            entity = self.make_entity(endpoint)
            self.entity_of[endpoint] = entity
            if endpoint.is_host and endpoint.node:
                self.hosts_on.setdefault(endpoint.node, []).append(endpoint)
            entities.append(entity)
            for address in endpoint.ips:
                owners.setdefault(address, []).append(endpoint)
        for network_set in ps.network_sets:
            key = f"{network_set.namespace}/{network_set.name}" if network_set.namespace else network_set.name
            entities.append(Entity(network_set.kind, key, network_set.effective_labels, network_set.nets))
        self.entities: tuple[Entity, ...] = tuple(entities)
        self._owners = owners
        # (version, prefix length) -> network address as int -> entities with that CIDR
        buckets: dict[tuple[int, int], dict[int, list[Entity]]] = {}
        for entity in entities:
            for net in entity.nets:
                bucket = buckets.setdefault((net.version, net.prefixlen), {})
                bucket.setdefault(int(net.network_address), []).append(entity)
        self._buckets = sorted(buckets.items())
        self._applying: dict[tuple[Endpoint, Direction, bool], tuple[TierPolicies, ...]] = {}

    @property
    def policy_set(self) -> Snapshot | None:
        """The policy set indexed (None once it is gone)."""
        return self._ps_ref()

    # -- entities and addresses ------------------------------------------------------------

    def labels_of(self, endpoint: Endpoint) -> Mapping[str, str]:
        """The effective labels selectors see for ``endpoint`` (§A.6)."""
        entity = self.entity_of.get(endpoint)
        if entity is not None:
            return entity.labels
        return self._ps._labels_of(endpoint)

    def make_entity(self, endpoint: Endpoint) -> Entity:
        nets = tuple(_host_network(address) for address in endpoint.ips)
        key = endpoint.key if endpoint.name else "<unnamed>"
        return Entity(endpoint.kind, key, self._ps._labels_of(endpoint), nets, endpoint.named_ports)

    def entities_at(self, address: IPAddress) -> tuple[Entity, ...]:
        """Every entity whose addresses contain ``address``, in a stable order."""
        found: list[Entity] = []
        bits = address.max_prefixlen
        value = int(address)
        for (version, prefixlen), bucket in self._buckets:
            if version != address.version:
                continue
            shift = bits - prefixlen
            hits = bucket.get((value >> shift) << shift if shift < bits else 0)
            if hits:
                found.extend(hits)
        return tuple(found)

    def endpoint_by_key(self, key: str) -> Endpoint | None:
        """The inventory endpoint named ``namespace/name``, or None."""
        try:
            return self._ps.endpoint(key)
        except KeyError:
            return None

    def endpoint_at(self, address: IPAddress) -> Endpoint | None:
        """The inventory endpoint that owns ``address`` (pod IPs, WorkloadEndpoint IPs,
        HostEndpoint expectedIPs), or None. Two different endpoints with one address are
        an inconsistency: PolicyError."""
        owners = self._owners.get(address)
        if not owners:
            return None
        distinct = set(owners)
        if len(distinct) > 1:
            names = ", ".join(sorted(str(e) for e in distinct))
            raise PolicyError(f"address {address} belongs to several endpoints ({names}); name the endpoint instead")
        return owners[0]

    # -- policies ---------------------------------------------------------------------------

    def applying(self, endpoint: Endpoint, direction: Direction, staged: bool) -> tuple[TierPolicies, ...]:
        """The policies that apply to ``endpoint`` in ``direction`` (§C.2), grouped by
        participating tier in Calico's order (§C.1). Staged policies are included in place
        when ``staged``; otherwise they are left out. Every layer is included: the caller
        splits host-endpoint layers."""
        key = (endpoint, direction, staged)
        cached = self._applying.get(key)
        if cached is not None:
            return cached
        labels = self.labels_of(endpoint)
        groups: list[TierPolicies] = []
        current: list[Policy] = []
        current_tier: str | None = None
        for policy in self._pool(staged):
            if policy.rules(direction) is None or not policy.selector.matches(labels):
                continue
            if policy.tier != current_tier:
                if current:
                    groups.append(TierPolicies(self.tier(current_tier), tuple(current)))
                current, current_tier = [], policy.tier
            current.append(policy)
        if current:
            groups.append(TierPolicies(self.tier(current_tier), tuple(current)))
        result = tuple(groups)
        if endpoint in self.entity_of:  # only inventory endpoints are cached
            self._applying[key] = result
        return result

    def _pool(self, staged: bool) -> tuple[Policy, ...]:
        return self._ps._all_policies if staged else self._ps.policies

    def tier(self, name: str | None) -> Tier:
        if name is None or name not in self.tiers:
            raise PolicyError(f"internal inconsistency: policy names unknown tier {name!r}")
        return self.tiers[name]

    def profile(self, name: str, endpoint: Endpoint) -> Profile | None:
        """The profile ``name`` of ``endpoint``, or None when the policy set does not have
        it. The built-in ``projectcalico-default-allow`` is always known, and so is the
        namespace profile ``kns.<ns>`` of an endpoint's own namespace: Calico creates one
        (allow all) for every namespace, so a hand-built endpoint in a namespace the
        inventory does not hold behaves as in a cluster that has it."""
        found = self.profiles.get(name)
        if found is not None:
            return found
        if name == DEFAULT_ALLOW_PROFILE:
            return _DEFAULT_ALLOW
        if endpoint.namespace and not endpoint.is_host and name == f"kns.{endpoint.namespace}":
            return Profile(name, ingress=_ALLOW_ALL, egress=_ALLOW_ALL)
        return None

    def profiles_of(self, endpoint: Endpoint) -> tuple[str, ...]:
        """The endpoint's profiles in order. A hand-built endpoint without ``profiles``
        gets those of a pod in its namespace: ``kns.<ns>`` then ``ksa.<ns>.<sa>`` (§A.6)."""
        if endpoint.profiles is not None:
            return endpoint.profiles
        return default_profiles(endpoint)


_INDEXES: dict[int, Index] = {}  # by id of a live policy set; dropped when it is collected
# Re-entrant: a finalizer of another policy set may run (through garbage collection) while
# this thread holds the lock to build an index.
_LOCK = threading.RLock()


def index_of(ps: Snapshot) -> Index:
    """The index of ``ps``, built on first use (once, under a lock)."""
    index = _INDEXES.get(id(ps))
    if index is None or index.policy_set is not ps:
        with _LOCK:
            index = _INDEXES.get(id(ps))
            if index is None or index.policy_set is not ps:
                index = Index(ps)
                _INDEXES[id(ps)] = index
                weakref.finalize(ps, _forget, id(ps), index)
    return index


def _forget(key: int, index: Index) -> None:
    with _LOCK:
        if _INDEXES.get(key) is index:
            del _INDEXES[key]
