"""Rows and peer groups.

For a local class, the peer classes that reach the same table form a group: a row over
the peer classes of its direction gives each peer's group (8 bits, or 16 where a local
class has more than 256 groups), and the local class's group list gives the table.
Rows are stored once per content, so local classes with the same live rules share them.
"""

from __future__ import annotations

import numpy as np

from ..model import Direction
from .addresses import EGRESS_LOCAL, EGRESS_PEER, INGRESS_LOCAL, INGRESS_PEER, Partition, Roles
from .local import Entries
from .sides import SideRows
from .tables import Live, RelativeTables

__all__ = ["MAX_FEATURES", "PeerGroups", "RowStore", "peer_groups"]

MAX_FEATURES = 63  #: up to this many 0/1 peer features group peers by their bit pattern


class RowStore:
    """The shared row store: rows of 8-bit groups and rows of 16-bit groups, each
    distinct row once."""

    def __init__(self) -> None:
        self._ids: dict[tuple[bool, bytes], int] = {}
        self._rows8: list[np.ndarray] = []
        self._rows16: list[np.ndarray] = []
        self._size = [0, 0]  # [8-bit, 16-bit] store sizes

    def row_id(self, row: np.ndarray, n_groups: int) -> int:
        """The offset of ``row`` (group per peer class) in the store: >= 0 into the
        8-bit rows, < 0 (``-1 - offset``) into the 16-bit ones."""
        wide = n_groups > 256
        row = row.astype(np.uint16 if wide else np.uint8)
        key = (wide, row.tobytes())
        found = self._ids.get(key)
        if found is None:
            store = self._rows16 if wide else self._rows8
            offset = self._size[wide]
            self._size[wide] += len(row)
            store.append(row)
            found = self._ids[key] = -1 - offset if wide else offset
        return found

    def take(self) -> tuple[np.ndarray, np.ndarray]:
        """The 8-bit and the 16-bit rows, each store as one array; the store is emptied."""
        rows8 = np.concatenate([np.zeros(0, np.uint8), *self._rows8])
        rows16 = np.concatenate([np.zeros(0, np.uint16), *self._rows16])
        self._rows8.clear()
        self._rows16.clear()
        self._ids.clear()
        return rows8, rows16


def peer_groups(live: list[Live], n: int) -> tuple[np.ndarray, np.ndarray]:
    """Peer classes grouped by the values of the live rules' peer sides: for each group
    (in order of its first peer) its first peer, and each peer's group."""
    features: dict[int, np.ndarray] = {}
    for _, _, prow, _ in live:
        features.setdefault(id(prow), prow)
    if all(top == 1 for _, _, _, top in live) and len(features) <= MAX_FEATURES:
        if features:
            stacked = np.stack(list(features.values())).astype(np.int64)
            group = (stacked << np.arange(len(features), dtype=np.int64)[:, None]).sum(axis=0)
        else:
            group = np.zeros(n, np.int64)
    else:
        group = np.zeros(n, np.int64)
        span = 1
        for _, _, prow, top in live:
            if span * (top + 1) >= (1 << 62):
                _, group = np.unique(group, return_inverse=True)
                group = group.reshape(-1).astype(np.int64)
                span = int(group.max()) + 1 if n else 1
            group = group * (top + 1) + prow
            span *= top + 1
    _, first, inverse = np.unique(group, return_index=True, return_inverse=True)
    order = np.argsort(first)  # groups renumbered by first peer
    rank = np.empty(len(order), np.int32)
    rank[order] = np.arange(len(order), dtype=np.int32)
    return first[order], rank[inverse.reshape(-1)]


class PeerGroups:
    """Works out each local class's row and group tables."""

    def __init__(self, classes: Partition, roles: Roles, sides: SideRows, tables: RelativeTables) -> None:
        self._classes = classes
        self._roles = roles
        self._sides = sides
        self._tables = tables
        self.rows = RowStore()

    def cell_row(self, entries: Entries, cid: int, direction: Direction) -> tuple[int, list[int]]:
        """How a local class (a signature's entries and a fine address class of it)
        finds its table for each peer class: (row id, group tables), see
        :meth:`RowStore.row_id`. Peers are first grouped by the values of the live
        rules' peer sides (bit patterns when every value is 0/1), each distinct value
        set gets its table, and peers reaching the same table share a group."""
        egress = direction is Direction.EGRESS
        family = int(self._classes.class_family[cid])
        local_role, peer_role = (EGRESS_LOCAL, EGRESS_PEER) if egress else (INGRESS_LOCAL, INGRESS_PEER)
        rcid = int(self._roles.of[local_role][cid])
        live: list[Live] = []
        infos = self._sides.live_info
        for pos, (_, rule, _, _, _) in enumerate(entries.items):
            if rule is None:
                continue
            info = infos.get((id(rule), egress))
            if info is None:
                info = self._sides.rule_info(rule, egress)
            fam4, fam6, lrow, prow, top = info
            if top == 0 or not (fam4 if family == 4 else fam6):
                continue  # matches no peer, or not this family
            lval = int(lrow[rcid])
            if lval == 0:
                continue
            live.append((pos, lval, prow, top))
        live = self._tables.prune(entries, live, egress)
        first, inverse = peer_groups(live, len(self._roles.atoms[peer_role]))
        # per group, the live entries its peers match: (live index, peer side value)
        n_groups = len(first)
        if live:
            values = np.stack([prow[first] for _, _, prow, _ in live], axis=1)
            gi, ni = np.nonzero(values)
            counts = np.bincount(gi, minlength=n_groups).tolist()
            pairs = list(zip(ni.tolist(), values[gi, ni].tolist()))
        else:
            counts, pairs = [0] * n_groups, []
        # peers that reach the same table form one group, numbered by first peer: local
        # classes that split their peers alike share one row
        group_of: dict[int, int] = {}
        labels: list[int] = []
        plan = self._tables.plan(entries, live)
        table = self._tables.table
        at = 0
        for count in counts:
            tid = table(entries, plan, pairs[at:at + count], direction, egress)
            at += count
            labels.append(group_of.setdefault(tid, len(group_of)))
        row = np.array(labels, np.int32)[inverse]
        return self.rows.row_id(row, len(group_of)), list(group_of)
