"""Which Calico release to follow where releases differ, and how to convert the kinds
where Calico departs from their upstream specification.

Calico 3.31 and earlier enforce AdminNetworkPolicy and BaselineAdminNetworkPolicy
(``policy.networking.k8s.io/v1alpha1``); 3.32 and later enforce ClusterNetworkPolicy
(``v1alpha2``) instead. netpolicy reads both, each in the tiers of the release that
enforces it. What the release changes is how policies of equal order within a tier are
ordered (calico-semantics §C.1):

* 3.32 and later compare ``<name>/<namespace>/<kind>`` (the plain resource name).
* 3.31 and earlier compare the name Calico keyed the policy by, nothing else:
  ``<tier>.<name>`` for global policies (``default.<name>`` in the default tier),
  ``<namespace>/<tier>.<name>`` for namespaced ones, ``staged:`` before the name of
  staged kinds, ``<namespace>/knp.default.<name>`` for Kubernetes NetworkPolicies,
  ``kanp.adminnetworkpolicy.<name>`` and ``kbanp.baselineadminnetworkpolicy.<name>``
  for the admin kinds. A ClusterNetworkPolicy, which those releases do not know, is
  compared by its name.
"""

from __future__ import annotations

import re
from typing import Any

import attrs

from ..model import Policy

__all__ = ["CalicoVersion", "NEWEST", "Conversion", "calico_version", "tie_break_key", "order_key"]

CalicoVersion = tuple[int, int]
#: The newest release netpolicy knows, the default.
NEWEST: CalicoVersion = (3, 32)
_VERSION = re.compile(r"^v?3\.([0-9]{1,3})(?:\.[0-9]{1,4})?$")
_FORMATTED = ("knp.default.", "kanp.adminnetworkpolicy.", "kbanp.baselineadminnetworkpolicy.", "ossg.")


def calico_version(value: Any) -> CalicoVersion:
    """A Calico release as ``(3, minor)``: ``"3.32"``, ``"v3.31.7"``, ``(3, 31)`` or
    None (the newest). Raises ValueError for anything else."""
    if value is None:
        return NEWEST
    if isinstance(value, tuple) and len(value) == 2 and all(type(v) is int for v in value) and value[0] == 3:
        minor = value[1]
    else:
        found = _VERSION.match(value) if isinstance(value, str) else None
        if found is None:
            raise ValueError(f"calico_version must be a Calico 3 release such as '3.32' or 'v3.31.7', got {value!r}")
        minor = int(found.group(1))
    if minor < 0:
        raise ValueError(f"calico_version must be a Calico 3 release, got {value!r}")
    return (3, minor)


@attrs.frozen
class Conversion:
    """How the loader converts: the Calico release to follow, and ``calico_exact``,
    which converts ClusterNetworkPolicy exactly as Calico does where Calico departs
    from the upstream API (by default netpolicy follows the upstream API)."""

    calico_version: CalicoVersion = NEWEST
    calico_exact: bool = False


def _tiered(name: str, tier: str) -> str:
    """The name Calico 3.31 stored a Calico policy under: ``<tier>.<name>``."""
    if name.startswith(_FORMATTED) or name.startswith(f"{tier}."):
        return name
    return f"{tier}.{name}"


def tie_break_key(policy: Policy, version: CalicoVersion = NEWEST) -> str:
    """What Calico ``version`` compares when two policies of one tier have equal order."""
    ref = policy.ref
    if version >= (3, 32):
        return f"{ref.name}/{ref.namespace or ''}/{ref.kind}"
    kind = ref.kind
    if kind == "AdminNetworkPolicy":
        return f"kanp.adminnetworkpolicy.{ref.name}"
    if kind == "BaselineAdminNetworkPolicy":
        return f"kbanp.baselineadminnetworkpolicy.{ref.name}"
    if kind in ("KubernetesNetworkPolicy", "StagedKubernetesNetworkPolicy"):
        name = f"knp.default.{ref.name}"
    elif kind == "KubernetesClusterNetworkPolicy":
        return ref.name
    else:
        name = _tiered(ref.name, policy.tier)
    if policy.staged:
        name = f"staged:{name}"
    return f"{ref.namespace}/{name}" if ref.namespace else name


def order_key(policy: Policy, version: CalicoVersion = NEWEST) -> tuple[bool, float, str]:
    """A policy's place within its tier: order (none last), then the tie-break."""
    order = policy.order if policy.order is not None else 0.0
    return (policy.order is None, order, tie_break_key(policy, version))
