"""The shared words of one generated example (:class:`Vocabulary`), the pools they are
drawn from, and the checks every strategy runs on its keyword arguments."""

from __future__ import annotations

import ipaddress
from typing import Any, Collection, Sequence

import attrs
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

__all__ = ["POLICY_KINDS", "INVENTORY_KINDS", "Manifest", "Vocabulary", "vocabularies"]

Manifest = dict[str, Any]

#: Policy kinds ``manifests(kinds=...)`` can generate (the names :class:`PolicyRef` uses).
POLICY_KINDS = frozenset(
    {
        "KubernetesNetworkPolicy",
        "NetworkPolicy",
        "GlobalNetworkPolicy",
        "StagedNetworkPolicy",
        "StagedGlobalNetworkPolicy",
        "StagedKubernetesNetworkPolicy",
        "AdminNetworkPolicy",
        "BaselineAdminNetworkPolicy",
        "ClusterNetworkPolicy",
    }
)
#: Optional inventory kinds (Namespaces and Pods are always generated).
INVENTORY_KINDS = frozenset(
    {"ServiceAccount", "NetworkSet", "GlobalNetworkSet", "Tier", "Profile", "WorkloadEndpoint", "Deployment",
     "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "ReplicationController", "HostEndpoint",
     "EndpointSlice"}
)

_CALICO = "projectcalico.org/v3"
_CALICO_CRD = "crd.projectcalico.org/v1"

# Small pools the per-example vocabulary is drawn from; the first entries are what
# shrinking goes to.
_NAMESPACE_POOL = ("a", "b", "c", "d")
_KEY_POOL = ("app", "role", "example.com/team", "k8s.io/env", "x")
_VALUE_POOL = ("web", "db", "", "v-1", "a.b", "web2")
_PORT_POOL = (80, 443, 53, 8080, 5353, 1, 65535)
_PORT_NAME_POOL = ("http", "dns", "metrics")
_SA_POOL = ("sa1", "sa2", "default")

# Addresses: pods get 10.0.0.N (and fd00::N); sets and rules use CIDRs that overlap them.
_POD_V4 = ipaddress.ip_network("10.0.0.0/24")
_POD_V6 = ipaddress.ip_network("fd00::/64")
_CIDRS_V4 = ("10.0.0.0/24", "10.0.0.0/30", "10.0.0.2/32", "192.168.0.0/24", "10.0.0.0/8", "0.0.0.0/0", "10.0.0.4/31")
_CIDRS_V6 = ("fd00::/64", "fd00::/126", "fd00::2/128", "2001:db8::/32", "::/0")


# -- argument checks ----------------------------------------------------------------------


def _check_size(name: str, value: object, low: int = 0, high: int = 1000) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgument(f"{name}={value!r} must be an integer")
    if not low <= value <= high:
        raise InvalidArgument(f"{name}={value} must be between {low} and {high}")
    return value


def _check_bool(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise InvalidArgument(f"{name}={value!r} must be True or False")
    return value


def _check_kinds(kinds: Collection[str] | None, allowed: frozenset[str], what: str) -> frozenset[str]:
    if kinds is None:
        return allowed
    if isinstance(kinds, str):
        raise InvalidArgument(f"{what} must be a collection of kind names, not the string {kinds!r}")
    chosen = frozenset(kinds)
    unknown = chosen - allowed
    if unknown:
        raise InvalidArgument(f"unknown {what} {sorted(unknown)}; choose from {sorted(allowed)}")
    return chosen


def _check_vocab(vocab: object) -> Vocabulary:
    if vocab is None:
        return Vocabulary()
    if not isinstance(vocab, Vocabulary):
        raise InvalidArgument(f"vocab={vocab!r} must be a Vocabulary (draw one from vocabularies())")
    return vocab


# -- vocabulary ---------------------------------------------------------------------------


@attrs.frozen
class Vocabulary:
    """The shared words of one generated example: every object draws from these."""

    namespaces: tuple[str, ...] = ("a",)
    label_keys: tuple[str, ...] = ("app",)
    label_values: tuple[str, ...] = ("web",)
    ports: tuple[int, ...] = (80,)
    port_names: tuple[str, ...] = ("http",)
    service_accounts: tuple[str, ...] = ("sa1",)
    ipv6: bool = True
    #: (key, value) labels that generated endpoints carry; selectors often name one.
    pairs: tuple[tuple[str, str], ...] = ()

    @property
    def families(self) -> tuple[int, ...]:
        return (4, 6) if self.ipv6 else (4,)

    def cidrs(self, family: int) -> tuple[str, ...]:
        return _CIDRS_V4 if family == 4 else _CIDRS_V6

    @property
    def selector_values(self) -> tuple[str, ...]:
        """Values for selector comparisons: the label values and pieces of them."""
        out = list(self.label_values)
        for value in self.label_values:
            out.extend((value[:1], value[1:]))
        return tuple(dict.fromkeys(out))


def _pick(pool: Sequence[Any], max_size: int, min_size: int = 1) -> st.SearchStrategy[tuple[Any, ...]]:
    return st.lists(st.sampled_from(pool), min_size=min_size, max_size=max(min_size, min(max_size, len(pool))), unique=True).map(tuple)


def vocabularies(
    *,
    max_namespaces: int = 3,
    max_label_keys: int = 3,
    max_label_values: int = 3,
    max_ports: int = 3,
    max_port_names: int = 2,
    ipv6: bool = True,
) -> st.SearchStrategy[Vocabulary]:
    """Small shared vocabularies (see :class:`Vocabulary`)."""
    for name, value in [
        ("max_namespaces", max_namespaces),
        ("max_label_keys", max_label_keys),
        ("max_label_values", max_label_values),
        ("max_ports", max_ports),
        ("max_port_names", max_port_names),
    ]:
        _check_size(name, value, 1, 10)
    _check_bool("ipv6", ipv6)
    return st.builds(
        Vocabulary,
        namespaces=_pick(_NAMESPACE_POOL, max_namespaces),
        label_keys=_pick(_KEY_POOL, max_label_keys),
        label_values=_pick(_VALUE_POOL, max_label_values),
        ports=_pick(_PORT_POOL, max_ports),
        port_names=_pick(_PORT_NAME_POOL, max_port_names),
        service_accounts=_pick(_SA_POOL, 2),
        ipv6=st.just(False) if not ipv6 else st.booleans().map(lambda b: not b),
    )


# -- pieces every manifest strategy uses --------------------------------------------------


def _vocab_or_draw(draw: st.DrawFn, vocab: Vocabulary | None) -> Vocabulary:
    return vocab if vocab is not None else draw(vocabularies())


def _pod_ips(index: int, v6: bool) -> list[str]:
    ips = [str(_POD_V4[index + 1])]
    if v6:
        ips.append(str(_POD_V6[index + 1]))
    return ips


def _api(draw: st.DrawFn, crd_forms: bool) -> str:
    return draw(st.sampled_from((_CALICO, _CALICO_CRD))) if crd_forms else _CALICO
