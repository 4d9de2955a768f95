"""Snapshot: the immutable, normalized data a PolicySet holds. The stages that read a
policy set (the index, the reference evaluator, the compiler) take a Snapshot, so none
of them depends on the PolicySet facade built on top of them."""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

from ..loader.release import NEWEST, CalicoVersion, order_key
from ..model import Direction, Endpoint, IPNetwork, NetworkSet, Policy, Profile, ServiceBackends, Tier
from .names import Names, single_endpoint
from .profiles import effective_endpoint_labels

__all__ = ["Snapshot"]


class Snapshot:
    """Policies in Calico's order plus the endpoints, network sets and profiles they act
    on. It never changes after construction, so it is safe to share between threads; it
    pickles. ``calico_version`` is the Calico release whose order it follows."""

    #: the compiled tables, once the engine stage has built them (the engine refers back
    #: weakly, so it lives and dies with this snapshot); a cache, never pickled
    _engine: Any = None

    def __init__(
        self,
        *,
        tiers: Iterable[Tier] = (),
        policies: Iterable[Policy] = (),
        profiles: Iterable[Profile] = (),
        endpoints: Iterable[Endpoint] = (),
        network_sets: Iterable[NetworkSet] = (),
        services: Iterable[ServiceBackends] = (),
        warnings: Iterable[str] = (),
        calico_version: CalicoVersion = NEWEST,
        address_pool: IPNetwork | None = None,
        pod_cidr: IPNetwork | None = None,
        names: Names | None = None,
    ) -> None:
        self._tiers: tuple[Tier, ...] = tuple(sorted(tiers, key=Tier.sort_key))
        tier_rank = {tier.name: rank for rank, tier in enumerate(self._tiers)}
        missing = {p.tier for p in policies if p.tier not in tier_rank}
        if missing:
            raise ValueError(f"policies name tiers that do not exist: {sorted(missing)}")
        self._calico_version = calico_version
        ordered = sorted(policies, key=lambda p: (tier_rank[p.tier], order_key(p, calico_version)))
        self._policies = tuple(p for p in ordered if not p.staged)
        self._staged = tuple(p for p in ordered if p.staged)
        self._all_policies = tuple(ordered)
        self._profiles = {profile.name: profile for profile in profiles}
        self._endpoints = tuple(endpoints)
        self._network_sets = tuple(network_sets)
        self._services = tuple(services)
        self._warnings = tuple(warnings)
        self._address_pool = address_pool
        self._pod_cidr = pod_cidr
        self._names = names or Names()
        self._by_key = {endpoint.key: endpoint for endpoint in self._endpoints if endpoint.name}
        self._sealed = True

    def __setattr__(self, name: str, value: Any) -> None:
        if getattr(self, "_sealed", False):
            raise AttributeError(f"a {type(self).__name__} is immutable")
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"a {type(self).__name__} is immutable")

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_engine", None)  # a cache: compiled again where needed
        return state

    @property
    def calico_version(self) -> CalicoVersion:
        """The Calico release whose order this snapshot follows, as ``(3, minor)``: it
        breaks ties between policies of equal order."""
        return self._calico_version

    @property
    def tiers(self) -> tuple[Tier, ...]:
        """Tiers in Calico's order: by order, then by name."""
        return self._tiers

    @property
    def policies(self) -> tuple[Policy, ...]:
        """Enforced policies, ordered by tier then Calico's policy order."""
        return self._policies

    @property
    def staged_policies(self) -> tuple[Policy, ...]:
        """Staged policies, in the same order; they never change a verdict."""
        return self._staged

    @property
    def profiles(self) -> Mapping[str, Profile]:
        return dict(self._profiles)

    @property
    def endpoints(self) -> tuple[Endpoint, ...]:
        """Policed endpoints: pods, WorkloadEndpoints and HostEndpoints."""
        return self._endpoints

    @property
    def network_sets(self) -> tuple[NetworkSet, ...]:
        return self._network_sets

    @property
    def services(self) -> tuple[ServiceBackends, ...]:
        return self._services

    @property
    def address_pool(self) -> IPNetwork | None:
        """The pool synthetic addresses were drawn from, for endpoints the manifests give
        no address (workloads, Pods not scheduled yet); None when there were none. Such
        endpoints are marked ``synthetic``."""
        return self._address_pool

    @property
    def pod_cidr(self) -> IPNetwork | None:
        """The pods' CIDR as given when loading (None: not given, so the pods' real
        addresses may be in any private range)."""
        return self._pod_cidr

    @property
    def names(self) -> Names:
        """What flow sides may name besides endpoints: the workloads that stand for
        real Pods (``names.owners``), and the Services by ``namespace/name[Service]``
        (``names.services``)."""
        return self._names

    @property
    def warnings(self) -> tuple[str, ...]:
        """What the loader skipped or ignored (unknown kinds with ``strict=False``,
        unknown fields)."""
        return self._warnings

    def tier(self, name: str) -> Tier:
        for tier in self._tiers:
            if tier.name == name:
                return tier
        raise KeyError(name)

    def endpoint(self, key: str) -> Endpoint:
        """The endpoint named ``namespace/name`` (or ``name`` for host endpoints), or
        named as kubectl names it (``[namespace/]kind/name``, ``namespace/name[Kind]``):
        PolicyError when that is no single endpoint, with the nearest names there are."""
        found = self._by_key.get(key)
        if found is None:
            return single_endpoint(self, key)
        return found

    def policies_for(self, endpoint: Endpoint, direction: Direction, *, staged: bool = False) -> Sequence[Policy]:
        """The policies that apply to ``endpoint`` in ``direction``, in order: what Calico
        would program for it. With ``staged=True`` staged policies are included in place."""
        labels = self._labels_of(endpoint)
        pool = self._all_policies if staged else self._policies
        return [p for p in pool if p.rules(direction) is not None and p.selector.matches(labels)]

    def _labels_of(self, endpoint: Endpoint) -> Mapping[str, str]:
        """The labels selectors see on ``endpoint``: its own, Calico's, and what its
        profiles lend."""
        if endpoint.effective_labels is not None:
            return endpoint.effective_labels
        return effective_endpoint_labels(endpoint, self._profiles)
