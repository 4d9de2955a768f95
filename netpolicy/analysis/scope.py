"""Which endpoints a change can touch, so that :func:`~.diff.diff` compares only those.

When the two sides hold the same inventory (endpoints, network sets, Services, profiles,
tiers, Calico release), an endpoint's decision in one direction can differ only if a
policy that differs between the sides (present on one side only, by value) applies to it
in that direction on either side: every other policy applies alike and reads the same
peers. A flow changes only if its source's egress or its destination's ingress is
touched. When the inventory differs, every endpoint counts as touched.
"""

from __future__ import annotations

from collections import Counter
from typing import Callable

from ..model import Direction, Endpoint
from ..resolve import Snapshot

__all__ = ["touched"]

#: whether an endpoint (its base and head forms) may decide ``direction`` differently
Touched = Callable[[Endpoint | None, Endpoint | None, Direction], bool]


def _same_inventory(base: Snapshot, head: Snapshot) -> bool:
    return (
        base.tiers == head.tiers and base.calico_version == head.calico_version
        and base.endpoints == head.endpoints and base.network_sets == head.network_sets
        and base.services == head.services and dict(base.profiles) == dict(head.profiles)
    )


def touched(base: Snapshot, head: Snapshot) -> Touched:
    """A test of which endpoints a change can touch (see the module docstring)."""
    if not _same_inventory(base, head):
        return lambda eb, eh, direction: True
    try:
        before, after = Counter(base.policies), Counter(head.policies)
    except TypeError:  # a policy that does not hash: compare everything
        return lambda eb, eh, direction: True
    changed = list((before - after).elements()) + list((after - before).elements())
    if not changed:
        return lambda eb, eh, direction: eb is None or eh is None
    probe = Snapshot(tiers=base.tiers, policies=changed, profiles=base.profiles.values(), endpoints=base.endpoints,
                     calico_version=base.calico_version)

    def test(eb: Endpoint | None, eh: Endpoint | None, direction: Direction) -> bool:
        if eb is None or eh is None or eb.is_host:
            return True
        return bool(probe.policies_for(eb, direction))

    return test
