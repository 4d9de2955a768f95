"""The policy set Calico's pending verdict describes: every staged policy enforced.

Calico's pending verdict (the one its flow logs report beside the enforced one) evaluates
staged policies in their normal place among the enforced ones: a tier that holds only
staged policies for an endpoint then takes part, and an enforced policy of the same name
stays. A staged policy with ``stagedAction: Delete`` holds nothing, so it changes nothing.
:func:`staged_enforced` builds that policy set, so that comparing it with the original
(:func:`~.diff.diff`) previews what enforcing the staged policies would change.
"""

from __future__ import annotations

import attrs

from ..resolve import Snapshot


__all__ = ["staged_enforced"]


def staged_enforced(ps: Snapshot) -> Snapshot:
    """``ps`` with every staged policy enforced in its place (see the module docstring);
    a snapshot of the same class when that class is built like a Snapshot."""
    policies = (*ps.policies, *(attrs.evolve(p, staged=False) for p in ps.staged_policies))
    cls = type(ps)
    return cls(
        tiers=ps.tiers, policies=policies, profiles=ps.profiles.values(), endpoints=ps.endpoints,
        network_sets=ps.network_sets, services=ps.services, warnings=ps.warnings,
        calico_version=ps.calico_version, address_pool=ps.address_pool, pod_cidr=ps.pod_cidr, names=ps.names,
    )
