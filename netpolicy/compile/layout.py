"""The layout the matchers read: address intervals with their classes, local classes
with their rows and groups, and the tables dense over key classes."""

from __future__ import annotations

import numpy as np

from ..model import Action
from .addresses import EGRESS_PEER, INGRESS_PEER, Partition, Roles
from .compiled import Compiled, TooLarge
from .groups import RowStore
from .lookup import build_hash
from .outcomes import Table

__all__ = ["MAX_TABLE_CELLS", "LocalRows", "lay_out_addresses", "lay_out_tables"]

MAX_TABLE_CELLS = 1 << 24  #: above this many dense table cells, the reference decides every flow

#: per local class of a direction: (row id, its groups' concrete table ids)
LocalRows = list[tuple[int, np.ndarray]]


def lay_out_addresses(
    out: Compiled, specs: list[LocalRows], local: list[dict[int, np.ndarray]], rows: RowStore,
    classes: Partition, roles: Roles,
) -> None:
    """Fills in the address arrays and the local classes' rows and groups (``specs``
    and ``local``: egress, then ingress); the local classes of both directions share
    one id space, egress ones first."""
    out.n_peer = (len(roles.atoms[EGRESS_PEER]), len(roles.atoms[INGRESS_PEER]))
    n_egress = len(specs[0])
    out.v4_local = np.stack([local[0][4], local[1][4]])
    out.v6_local = np.stack([local[0][6], local[1][6]])
    for both in (out.v4_local, out.v6_local):
        both[1] = np.where(both[1] >= 0, both[1] + n_egress, both[1])
    every = specs[0] + specs[1]
    out.n_local = (n_egress, len(specs[1]))
    out.loc_row = np.array([row for row, _ in every], np.int64)
    out.loc_groups = np.array([len(tables) for _, tables in every], np.int32)
    # local classes that share a row usually share its tables too: store them once
    group_offsets: dict[bytes, int] = {}
    parts: list[np.ndarray] = []
    loc_tab = np.zeros(len(every), np.int32)
    size = 0
    for lid, (_, tables) in enumerate(every):
        found = group_offsets.get(tables.tobytes())
        if found is None:
            found = group_offsets[tables.tobytes()] = size
            parts.append(tables)
            size += len(tables)
        loc_tab[lid] = found
    out.loc_tab = loc_tab
    out.groups = np.concatenate([np.zeros(0, np.int32), *parts]).astype(np.int32)
    del every, parts, group_offsets
    out.rows8, out.rows16 = rows.take()
    peer_egress, peer_ingress = roles.of[EGRESS_PEER], roles.of[INGRESS_PEER]
    s4, c4, o4 = classes.per_family[4]
    out.v4_starts = np.array(s4, np.uint32)
    out.v4_peer = np.stack([peer_egress[c4], peer_ingress[c4]]).astype(np.int32)
    out.v4_endpoint = np.array(o4, np.int32)
    s6, c6, o6 = classes.per_family[6]
    out.v6_starts = list(s6)
    out.v6_peer = np.stack([peer_egress[c6], peer_ingress[c6]]).astype(np.int32).reshape(2, len(c6))
    out.v6_endpoint = np.array(o6, np.int32)
    build_hash(out)


def lay_out_tables(out: Compiled, tables: list[Table]) -> None:
    """Lays the concrete tables out densely over key classes: the primary ones (which
    groups name) over the keys where any of them changes, the secondary ones
    (source-port tables) over the source keys where any of them changes. Raises
    TooLarge past :data:`MAX_TABLE_CELLS`."""
    primary = sorted(set(out.groups.tolist()))
    secondary = sorted({-3 - v for t in primary for v in tables[t][1] if v <= -3})
    p_index = np.full(len(tables), -1, np.int32)
    p_index[primary] = np.arange(len(primary), dtype=np.int32)
    s_index = {t: n for n, t in enumerate(secondary)}
    out.groups = p_index[out.groups]
    out.out_allow = np.array([d.action is Action.ALLOW for d, _ in out.outcomes], np.uint8)
    layouts: tuple[tuple[list[int], dict[int, int] | None, str, str], ...] = (
        (primary, s_index, "tables", "key_starts"), (secondary, None, "stables", "skey_starts"),
    )
    for ids, remap, attr, starts_attr in layouts:
        starts = np.array(sorted({0, *(k for t in ids for k in tables[t][0])}), np.uint32)
        if len(ids) * len(starts) > MAX_TABLE_CELLS:
            raise TooLarge(f"{len(ids)} tables over {len(starts)} key classes")
        dense = np.empty((len(ids), len(starts)), np.int32)
        for n, t in enumerate(ids):
            keys, values = tables[t]
            if remap is not None:
                values = tuple(-3 - remap[-3 - v] if v <= -3 else v for v in values)
            at = np.searchsorted(np.array(keys, np.uint32), starts, side="right") - 1
            dense[n] = np.array(values, np.int32)[at]
        setattr(out, attr, dense.reshape(-1))
        setattr(out, starts_attr, starts)
