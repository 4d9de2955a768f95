"""The compiled result: the arrays both matcher twins read, and the outcome ids the
tables hold (see :mod:`netpolicy.compile` for what each array means)."""

from __future__ import annotations

import numpy as np

from ..model import Endpoint
from ..verdict import Decision, RuleRef

__all__ = ["Compiled", "FALLBACK", "LOCAL_EXTERNAL", "LOCAL_FALLBACK", "NONE", "TooLarge"]

FALLBACK = -1  #: outcome: decide this flow with the reference evaluator
NONE = -2  #: outcome: no policed endpoint on this side
LOCAL_EXTERNAL = -1  #: local class of an address no policed endpoint owns
LOCAL_FALLBACK = -2  #: local class of an endpoint the tables do not decide


class TooLarge(Exception):
    """The dense tables would exceed the size the compiler builds; the reference decides."""


class Compiled:
    """The tables for one snapshot (see :mod:`netpolicy.compile`). Arrays are numpy."""

    def __init__(self) -> None:
        self.n_peer = (1, 1)  # peer classes of egress (destinations), ingress (sources)
        self.v4_starts = np.zeros(1, np.uint32)
        self.v4_peer = np.zeros((2, 1), np.int32)  # [as an egress destination, as an ingress source]
        self.v4_endpoint = np.full(1, -1, np.int32)
        self.v4_local = np.full((2, 1), LOCAL_EXTERNAL, np.int32)  # [egress, ingress]
        self.hash_keys = np.zeros(1, np.uint32)
        self.hash_vals = np.full(1, -1, np.int32)
        self.hash_shift = 31
        self.v6_starts: list[int] = [0]
        self.v6_peer = np.zeros((2, 1), np.int32)
        self.v6_endpoint = np.full(1, -1, np.int32)
        self.v6_local = np.full((2, 1), LOCAL_EXTERNAL, np.int32)
        # local classes (egress ones, then ingress ones): a row over the peer classes of
        # their direction gives a group, the group a table
        self.n_local = (0, 0)
        self.loc_row = np.zeros(0, np.int64)  # >= 0: offset into rows8; < 0: -1 - offset into rows16
        self.loc_tab = np.zeros(0, np.int32)  # offset into groups
        self.loc_groups = np.zeros(0, np.int32)  # number of groups
        self.rows8 = np.zeros(0, np.uint8)
        self.rows16 = np.zeros(0, np.uint16)
        self.groups = np.zeros(0, np.int32)  # table ids
        # tables, dense over key classes: an outcome id, FALLBACK, or (primary tables only)
        # ``-3 - s``: secondary table ``s`` decides by the source key
        self.key_starts = np.zeros(1, np.uint32)  # key class k starts at key_starts[k]
        self.tables = np.zeros(0, np.int32)  # [table * n_key_classes + key class]
        self.skey_starts = np.zeros(1, np.uint32)
        self.stables = np.zeros(0, np.int32)  # [secondary table * n_skey_classes + class]
        self.out_allow = np.zeros(0, np.uint8)
        self.outcomes: list[tuple[Decision, tuple[RuleRef, ...]]] = []
        self.endpoints: tuple[Endpoint, ...] = ()
        self.endpoint_ids: dict[str, int] = {}
        self.verdict_by_reference = np.zeros(0, np.bool_)  # staged policies apply: pending
        self.all_fallback = False  # host endpoints present: every flow goes to the reference

    @property
    def n_tables(self) -> int:
        return len(self.tables) // len(self.key_starts)

    @property
    def n_stables(self) -> int:
        return len(self.stables) // len(self.skey_starts)

    def check(self) -> None:
        """Raises ValueError unless every index the matchers follow stays in bounds (the
        compiled matcher reads without bounds checks)."""
        n_local = self.n_local[0] + self.n_local[1]

        def bad(what: str) -> None:
            raise ValueError(f"compiled tables are inconsistent: {what}")

        if len(self.v4_starts) == 0 or int(self.v4_starts[0]) != 0:
            bad("address intervals must start at 0")
        for local, peer in ((self.v4_local, self.v4_peer), (self.v6_local, self.v6_peer)):
            if local.size and (int(local.min()) < -2 or int(local.max()) >= n_local):
                bad("local class out of range")
            for d in (0, 1):
                if peer[d].size and (int(peer[d].min()) < 0 or int(peer[d].max()) >= self.n_peer[d]):
                    bad("peer class out of range")
            ego = local[0]
            if ego.size and int(ego.max()) >= self.n_local[0]:
                bad("egress local class out of range")
            ing = local[1]
            if (ing >= 0).any() and int(ing[ing >= 0].min()) < self.n_local[0]:
                bad("ingress local class out of range")
        if not (len(self.loc_row) == len(self.loc_tab) == len(self.loc_groups) == n_local):
            bad("local class arrays")
        if n_local:
            if int(self.loc_groups.min()) < 1 or int(self.loc_tab.min()) < 0:
                bad("groups")
            if int((self.loc_tab.astype(np.int64) + self.loc_groups).max()) > len(self.groups):
                bad("groups out of range")
            width = np.where(np.arange(n_local) < self.n_local[0], self.n_peer[0], self.n_peer[1])
            # every row in bounds, and its groups below its local class's group count
            for row in np.unique(np.stack([self.loc_row, width]), axis=1).T.tolist():
                start, size = row
                rows, at = (self.rows8, start) if start >= 0 else (self.rows16, -1 - start)
                if at + size > len(rows) or size < 1:
                    bad("row out of range")
                top = int(rows[at : at + size].max())
                if (self.loc_groups[(self.loc_row == start) & (width == size)] <= top).any():
                    bad("group out of range")
        n_keys, n_skeys = len(self.key_starts), len(self.skey_starts)
        for starts in (self.key_starts, self.skey_starts):
            if len(starts) == 0 or int(starts[0]) != 0 or (len(starts) > 1 and (np.diff(starts.astype(np.int64)) <= 0).any()):
                bad("key classes")
        if len(self.tables) % n_keys or len(self.stables) % n_skeys:
            bad("table sizes")
        if self.groups.size and (int(self.groups.min()) < 0 or int(self.groups.max()) >= self.n_tables):
            bad("table id out of range")
        n_out = len(self.out_allow)
        if self.tables.size and (int(self.tables.max()) >= n_out or -3 - int(self.tables.min()) >= self.n_stables):
            bad("outcome out of range")
        if self.tables.size and (self.tables == NONE).any():
            bad("outcome out of range")
        if self.stables.size and (int(self.stables.max()) >= n_out or int(self.stables.min()) < FALLBACK):
            bad("outcome out of range")
        if len(self.hash_keys) != len(self.hash_vals) or len(self.hash_vals) & (len(self.hash_vals) - 1):
            bad("hash size")
        if self.hash_vals.size and int(self.hash_vals.max()) >= len(self.v4_starts):
            bad("hash value")

    @property
    def nbytes(self) -> int:
        return sum(v.nbytes for v in vars(self).values() if isinstance(v, np.ndarray))
