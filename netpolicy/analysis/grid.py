"""Open ports of one protocol between every ordered pair of endpoints: the matrix's
question without a port, answered as :func:`~.connections.connections` answers it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from ..flow import protocol_number
from ..model import Endpoint
from .keyspace import ports_of
from .reach import Reach
from .tables import KeyGrant

if TYPE_CHECKING:
    from ..resolve import Snapshot

__all__ = ["Ranges", "port_grid"]

#: a protocol's allowed ranges (see :class:`~.keyspace.Ports`), from any source port
Ranges = tuple[tuple[int, int], ...]


def port_grid(ps: Snapshot, endpoints: Sequence[Endpoint], protocol: str | int) -> list[list[Ranges]]:
    """``grid[i][j]``: the destination port ranges (ICMP: ``type * 256 + code``; another
    protocol: ``((0, 0),)``) of ``protocol`` on which ``endpoints[i]`` may open a
    connection to ``endpoints[j]``, from some source port; ``()`` for none. An endpoint
    reaches itself on every port."""
    number = protocol_number(protocol)
    reach = Reach(ps)
    seen: dict[int, tuple[tuple[KeyGrant, ...], Ranges]] = {}

    def ranges(grants: tuple[KeyGrant, ...]) -> Ranges:
        found = seen.get(id(grants))  # the grants are kept with their ranges: ids stay theirs
        if found is None:
            keys = [iv for grant in grants for iv in grant.keys]
            found = seen[id(grants)] = (grants, ports_of(keys).get(number, ()) if keys else ())
        return found[1]

    # endpoints decided alike share their answers: one per pair of classes, then spread
    classes: dict[object, list[int]] = {}
    for n, endpoint in enumerate(endpoints):
        classes.setdefault(reach.place(endpoint).signature, []).append(n)
    members = list(classes.values())
    of = [0] * len(endpoints)
    for c, found in enumerate(members):
        for n in found:
            of[n] = c
    full = ranges(reach.between(endpoints[0], endpoints[0])) if endpoints else ()
    by_class: list[list[Ranges]] = []
    for a in members:
        row = []
        for b in members:
            if a is b:  # two endpoints of one class (the same one reaches itself on every port)
                row.append(ranges(reach.between(endpoints[a[0]], endpoints[a[1]])) if len(a) > 1 else full)
            else:
                row.append(ranges(reach.between(endpoints[a[0]], endpoints[b[0]])))
        by_class.append(row)
    return [[full if i == j else by_class[of[i]][of[j]] for j in range(len(endpoints))] for i in range(len(endpoints))]
