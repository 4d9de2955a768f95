"""Whole examples: lists of manifests that load, and the PolicySets loaded from them."""

from __future__ import annotations

from typing import Any, Collection

import attrs
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from .. import PolicySet, from_objects
from ._cluster import _cnp
from ._hosts import _host_endpoint, _host_layers, _objects, _services
from ._inventory import _namespace, _network_set, _pod, _service_account, _workload_endpoint
from ._policies import _anp, _banp, _calico_policy, _k8s_policy, _profile, _tier
from ._vocabulary import INVENTORY_KINDS, POLICY_KINDS, Manifest, Vocabulary, _check_bool, _check_kinds, _check_size, vocabularies
from ._workloads import WORKLOAD_KINDS, _workload

__all__ = ["manifests", "policy_sets"]

_TIER_POOL = ("t1", "t2", "t3")
_KIND_WEIGHTS = (
    "NetworkPolicy",
    "GlobalNetworkPolicy",
    "KubernetesNetworkPolicy",
    "NetworkPolicy",
    "GlobalNetworkPolicy",
    "KubernetesNetworkPolicy",
    "AdminNetworkPolicy",
    "BaselineAdminNetworkPolicy",
    "StagedNetworkPolicy",
    "StagedGlobalNetworkPolicy",
    "StagedKubernetesNetworkPolicy",
    "ClusterNetworkPolicy",
)



@attrs.frozen
class _ManifestArgs:
    policy_kinds: frozenset[str]
    inventory_kinds: frozenset[str]
    max_pods: int
    max_policies: int
    max_rules: int
    max_tiers: int
    min_policies: int
    ipv6: bool
    crd_forms: bool
    wrap: bool
    vocab: st.SearchStrategy[Vocabulary]


@st.composite
def _manifests(draw: st.DrawFn, args: _ManifestArgs) -> list[Manifest]:
    vocab = draw(args.vocab)
    if not args.ipv6 and vocab.ipv6:
        vocab = attrs.evolve(vocab, ipv6=False)
    crd = args.crd_forms
    out: list[Manifest] = [draw(_namespace(vocab, ns)) for ns in vocab.namespaces]
    accounts: dict[str, list[str]] = {ns: [] for ns in vocab.namespaces}
    if "ServiceAccount" in args.inventory_kinds:
        for ns in vocab.namespaces:
            for sa in draw(st.lists(st.sampled_from(vocab.service_accounts), max_size=2, unique=True)):
                out.append(draw(_service_account(vocab, ns, sa)))
                accounts[ns].append(sa)
    n_pods = draw(st.integers(1, args.max_pods))
    for index in range(n_pods):
        ns = draw(st.sampled_from(vocab.namespaces))
        out.append(draw(_pod(vocab, index, ns, tuple(accounts[ns]))))
    workload_kinds = [kind for kind in WORKLOAD_KINDS if kind in args.inventory_kinds]
    if workload_kinds:  # workloads: endpoints with synthetic addresses
        for index in range(draw(st.sampled_from((0, 0, 1, 2)))):
            ns = draw(st.sampled_from(vocab.namespaces))
            out.append(draw(_workload(vocab, index, ns, tuple(accounts[ns]), workload_kinds)))
    pairs = {(k, v) for doc in out if doc["kind"] == "Pod" for k, v in doc["metadata"].get("labels", {}).items()}
    vocab = attrs.evolve(vocab, pairs=tuple(sorted(pairs)))
    profile_names: list[str] = []
    if "Profile" in args.inventory_kinds:
        for i in range(draw(st.sampled_from((0, 1, 2, 1)))):
            profile_names.append(f"prof{i}")
            out.append(draw(_profile(vocab, f"prof{i}", 2, crd)))
    if "WorkloadEndpoint" in args.inventory_kinds:
        for i in range(draw(st.sampled_from((0, 1, 2, 1)))):
            out.append(draw(_workload_endpoint(vocab, 100 + i, tuple(profile_names), crd)))
    if "NetworkSet" in args.inventory_kinds:
        for i in range(draw(st.integers(0, 2))):
            out.append(draw(_network_set(vocab, f"set{i}", draw(st.sampled_from(vocab.namespaces)), crd)))
    if "GlobalNetworkSet" in args.inventory_kinds:
        for i in range(draw(st.integers(0, 2))):
            out.append(draw(_network_set(vocab, f"gset{i}", None, crd)))
    tier_names: list[str] = []
    if "Tier" in args.inventory_kinds and args.max_tiers:
        tier_names = list(draw(st.lists(st.sampled_from(_TIER_POOL[: args.max_tiers]), min_size=1, max_size=args.max_tiers, unique=True)))
        out.extend(draw(_tier(name, crd)) for name in tier_names)
    # Enforced kinds weigh more than staged ones.
    kinds = [k for k in _KIND_WEIGHTS if k in args.policy_kinds]
    priorities = iter(draw(st.permutations((0, 1, 5, 10, 50, 100, 999, 1000))))
    has_banp = False
    n_policies = draw(st.integers(args.min_policies, args.max_policies)) if kinds else 0
    for i in range(n_policies):
        kind = draw(st.sampled_from(kinds))
        if kind == "BaselineAdminNetworkPolicy" and has_banp:
            kind = "AdminNetworkPolicy" if "AdminNetworkPolicy" in kinds else "BaselineAdminNetworkPolicy"
            if kind == "BaselineAdminNetworkPolicy":
                continue
        name = f"pol{i}"
        if kind == "KubernetesNetworkPolicy":
            out.append(draw(_k8s_policy(vocab, name, args.max_rules)))
        elif kind == "StagedKubernetesNetworkPolicy":
            out.append(draw(_k8s_policy(vocab, name, args.max_rules, staged=True)))
        elif kind == "AdminNetworkPolicy":
            out.append(draw(_anp(vocab, name, next(priorities, 500 + i), args.max_rules)))
        elif kind == "BaselineAdminNetworkPolicy":
            has_banp = True
            out.append(draw(_banp(vocab, args.max_rules)))
        elif kind == "ClusterNetworkPolicy":
            out.append(draw(_cnp(vocab, name, None, next(priorities, 500 + i), args.max_rules)))
        else:
            out.append(draw(_calico_policy(vocab, kind, name, tuple(tier_names), args.max_rules, crd)))
    if args.wrap and len(out) > 1 and draw(st.integers(0, 3)) == 0:
        # Wrap a run of documents in a List, as kubectl prints them.
        start = draw(st.integers(0, len(out) - 1))
        end = draw(st.integers(start + 1, len(out)))
        out[start:end] = [{"apiVersion": "v1", "kind": "List", "metadata": {}, "items": out[start:end]}]
    # Drawn last, so that an example without them is drawn as before.
    if "HostEndpoint" in args.inventory_kinds:
        hosts = [draw(_host_endpoint(vocab, i, tuple(profile_names), crd)) for i in range(draw(st.sampled_from((0, 0, 0, 1, 2))))]
        if hosts:
            out.extend(draw(_host_layers(vocab, out, hosts)))
            out.extend(hosts)
    if "EndpointSlice" in args.inventory_kinds:
        addresses = [
            item["ip"] for doc in _objects(out) if doc.get("kind") == "Pod"
            for item in doc["status"].get("podIPs") or [{"ip": doc["status"]["podIP"]}]
        ]
        out.extend(draw(_services(vocab, out, addresses)))
    return out


def manifests(
    *,
    kinds: Collection[str] | None = None,
    inventory: Collection[str] | None = None,
    vocab: st.SearchStrategy[Vocabulary] | None = None,
    max_pods: int = 4,
    max_policies: int = 6,
    min_policies: int = 1,
    max_rules: int = 3,
    max_tiers: int = 2,
    ipv6: bool = True,
    crd_forms: bool = True,
    wrap: bool = True,
) -> st.SearchStrategy[list[Manifest]]:
    """Lists of manifest dicts that load: Namespaces and Pods always, the ``inventory``
    kinds (default all of :data:`INVENTORY_KINDS`) and policies of the ``kinds`` (default
    all of :data:`POLICY_KINDS`).

    With HostEndpoints, some global policies are untracked (doNotTrack), preDNAT or
    forward (applyOnForward) policies; with EndpointSlices, some Calico rules name their
    Services (``services``).

    ``crd_forms`` lets Calico objects use ``crd.projectcalico.org/v1``; ``wrap`` sometimes
    wraps documents in a ``v1 List``; ``ipv6=False`` keeps everything IPv4.
    """
    _validate_manifest_args(kinds, inventory, max_pods, max_policies, min_policies, max_rules, max_tiers, ipv6, crd_forms, wrap, vocab)
    return _manifests(
        _ManifestArgs(
            policy_kinds=_check_kinds(kinds, POLICY_KINDS, "policy kinds"),
            inventory_kinds=_check_kinds(inventory, INVENTORY_KINDS, "inventory kinds"),
            max_pods=max_pods,
            max_policies=max_policies,
            min_policies=min_policies,
            max_rules=max_rules,
            max_tiers=max_tiers,
            ipv6=ipv6,
            crd_forms=crd_forms,
            wrap=wrap,
            vocab=vocab if vocab is not None else vocabularies(ipv6=ipv6),
        )
    )


def _validate_manifest_args(kinds: Any, inventory: Any, max_pods: Any, max_policies: Any, min_policies: Any, max_rules: Any, max_tiers: Any, ipv6: Any, crd_forms: Any, wrap: Any, vocab: Any) -> None:
    # Eager checks: raise now, not at the first draw.
    _check_kinds(kinds, POLICY_KINDS, "policy kinds")
    _check_kinds(inventory, INVENTORY_KINDS, "inventory kinds")
    _check_size("max_pods", max_pods, 1, 200)
    _check_size("max_policies", max_policies, 0, 200)
    _check_size("min_policies", min_policies, 0, max_policies)
    _check_size("max_rules", max_rules, 0, 50)
    _check_size("max_tiers", max_tiers, 0, len(_TIER_POOL))
    for name, value in (("ipv6", ipv6), ("crd_forms", crd_forms), ("wrap", wrap)):
        _check_bool(name, value)
    if vocab is not None and not isinstance(vocab, st.SearchStrategy):
        raise InvalidArgument(f"vocab={vocab!r} must be a strategy of Vocabulary (e.g. st.just(Vocabulary(...)))")


def policy_sets(**kwargs: Any) -> st.SearchStrategy[PolicySet]:
    """PolicySets loaded with :func:`netpolicy.from_objects` from :func:`manifests`
    (same keyword arguments)."""
    return manifests(**kwargs).map(from_objects)
