"""PolicySet: an immutable snapshot of policies and the inventory they act on."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

from .model import Direction, Endpoint, NetworkSet, Policy, Profile, ServiceBackends, Tier

if TYPE_CHECKING:
    from .batch import BatchResult, Engine
    from .flow import Flow
    from .matrix import Matrix
    from .verdict import Verdict

__all__ = ["PolicySet"]


class PolicySet:
    """Policies in Calico's order plus the endpoints, network sets and profiles they act on.

    Build one with :func:`netpolicy.load`, :func:`netpolicy.loads` or
    :func:`netpolicy.from_objects`. It never changes after construction, so it is safe to
    share between threads; it pickles.
    """

    #: the compiled tables, once :func:`netpolicy.batch.engine_for` has built them (the
    #: engine refers back weakly, so it lives and dies with this PolicySet)
    _engine: Engine | None = None

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
    ) -> None:
        self._tiers: tuple[Tier, ...] = tuple(sorted(tiers, key=Tier.sort_key))
        tier_rank = {tier.name: rank for rank, tier in enumerate(self._tiers)}
        missing = {p.tier for p in policies if p.tier not in tier_rank}
        if missing:
            raise ValueError(f"policies name tiers that do not exist: {sorted(missing)}")
        ordered = sorted(policies, key=lambda p: (tier_rank[p.tier], p.sort_key()))
        self._policies = tuple(p for p in ordered if not p.staged)
        self._staged = tuple(p for p in ordered if p.staged)
        self._all_policies = tuple(ordered)
        self._profiles = {profile.name: profile for profile in profiles}
        self._endpoints = tuple(endpoints)
        self._network_sets = tuple(network_sets)
        self._services = tuple(services)
        self._warnings = tuple(warnings)
        self._by_key = {endpoint.key: endpoint for endpoint in self._endpoints if endpoint.name}
        self._sealed = True

    def __setattr__(self, name: str, value: Any) -> None:
        if getattr(self, "_sealed", False):
            raise AttributeError("a PolicySet is immutable")
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        raise AttributeError("a PolicySet is immutable")

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_engine", None)  # a cache: compiled again where needed
        return state

    # -- introspection ------------------------------------------------------------------

    @property
    def tiers(self) -> tuple[Tier, ...]:
        """Tiers in Calico's order (§C.1)."""
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
        """The endpoint named ``namespace/name`` (or ``name`` for host endpoints)."""
        return self._by_key[key]

    def policies_for(self, endpoint: Endpoint, direction: Direction, *, staged: bool = False) -> Sequence[Policy]:
        """The policies that apply to ``endpoint`` in ``direction``, in order: what Calico
        would program for it. With ``staged=True`` staged policies are included in place."""
        labels = self._labels_of(endpoint)
        pool = self._all_policies if staged else self._policies
        return [p for p in pool if p.rules(direction) is not None and p.selector.matches(labels)]

    # -- evaluation -------------------------------------------------------------------------

    def evaluate(self, flow: Flow) -> Verdict:
        """The verdict Calico reaches on ``flow``: Allow or Deny, each side's deciding
        rule or default, the Log rules that fired, the pending verdict with staged
        policies, and ``explain()``. Raises PolicyError for a flow side it cannot resolve."""
        engine = self._engine
        if engine is not None:  # compiled tables (they fall back on the reference themselves)
            return engine.evaluate(flow)
        from .batch import evaluate  # the reference until compiling is worth it

        return evaluate(self, flow)

    def _labels_of(self, endpoint: Endpoint) -> Mapping[str, str]:
        if endpoint.effective_labels is not None:
            return endpoint.effective_labels
        from .loader.normalize import effective_endpoint_labels

        return effective_endpoint_labels(endpoint, self._profiles)

    # -- compiled tables (netpolicy.batch, netpolicy.matrix) ----------------------------

    def evaluate_many(self, flows: Any) -> BatchResult:
        """Decides many flows at once on compiled tables; equal to :meth:`evaluate` flow
        by flow. ``flows`` is an iterable of :class:`Flow`, a mapping of columns (``src``,
        ``dst``, ``protocol``, ``dst_port``, optional ``src_port``, ``icmp_type``,
        ``icmp_code``) or a pyarrow Table. See :class:`netpolicy.batch.BatchResult`."""
        from .batch import engine_for

        return engine_for(self).evaluate_many(flows)

    def matrix(self, protocol: str | int = "TCP", port: int | None = None, namespaces: Iterable[str] | None = None) -> Matrix:
        """The reachability matrix among workload endpoints (optionally only those in
        ``namespaces``) for ``protocol`` and destination ``port``; see
        :class:`netpolicy.matrix.Matrix`."""
        from .batch import engine_for
        from .matrix import reachability

        return reachability(engine_for(self), protocol, port, namespaces)

    def __repr__(self) -> str:
        return (
            f"<PolicySet {len(self._tiers)} tiers, {len(self._policies)} policies, "
            f"{len(self._staged)} staged, {len(self._endpoints)} endpoints, "
            f"{len(self._network_sets)} network sets>"
        )
