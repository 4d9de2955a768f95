"""The compiled result: the arrays both matcher twins read, and the outcome ids the
tables hold (see :mod:`netpolicy.compile` for what each array means)."""

from __future__ import annotations

from typing import Callable

import numpy as np

from ..model import Action, Endpoint
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
        self.hash_keys = np.zeros(2, np.uint32)  # two empty slots, as build_hash makes them
        self.hash_vals = np.full(2, -1, np.int32)
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
        compiled matcher reads without bounds checks), the address intervals are in order
        and name the endpoints that own them, the hash finds each address's own interval,
        and each outcome's allow bit is its decision's: a fault in the tables is an error,
        never an Allow."""
        n_local = self.n_local[0] + self.n_local[1]

        def bad(what: str) -> None:
            raise ValueError(f"compiled tables are inconsistent: {what}")

        self._check_addresses(bad)
        self._check_outcomes(bad)
        self._check_hash(bad)
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

    def _check_addresses(self, bad: Callable[[str], None]) -> None:
        """Each family's interval arrays: as long as each other, starts strictly rising
        from 0, endpoints in range; unless every flow goes to the reference, every
        endpoint address is a one-address interval naming its endpoint (-3: several
        share it), and no other interval names one."""
        v6_starts = np.array([int(x) for x in self.v6_starts], object)
        for family, starts, local, peer, owner in (
            (4, np.asarray(self.v4_starts, np.int64), self.v4_local, self.v4_peer, self.v4_endpoint),
            (6, v6_starts, self.v6_local, self.v6_peer, self.v6_endpoint),
        ):
            n = len(starts)
            if n == 0 or starts[0] != 0 or (n > 1 and not (starts[1:] > starts[:-1]).all()):
                bad(f"IPv{family} address intervals must rise from 0")
            if local.shape != (2, n) or peer.shape != (2, n) or owner.shape != (n,):
                bad(f"IPv{family} address arrays")
            if owner.size and (int(owner.min()) < -3 or int(owner.max()) >= len(self.endpoints) or (owner == -2).any()):
                bad(f"IPv{family} endpoint out of range")
            if self.all_fallback:
                continue
            owners: dict[int, int] = {}
            for eid, endpoint in enumerate(self.endpoints):
                for ip in endpoint.ips:
                    if ip.version == family:
                        owners[int(ip)] = eid if owners.get(int(ip), eid) == eid else -3
            at = {int(starts[k]): k for k in np.flatnonzero(owner != -1).tolist()}
            if set(at) != set(owners):
                bad(f"IPv{family} intervals of endpoints")
            top = 1 << (32 if family == 4 else 128)
            for address, k in at.items():
                end = int(starts[k + 1]) if k + 1 < n else top
                if end != address + 1 or int(owner[k]) != owners[address]:
                    bad(f"IPv{family} interval of {address} names the wrong endpoint")

    def _check_outcomes(self, bad: Callable[[str], None]) -> None:
        """One allow bit per outcome, 1 exactly where its decision allows, and every
        decision an Allow or a Deny; one reference mark per endpoint."""
        if len(self.out_allow) != len(self.outcomes):
            bad("outcomes")
        allows = [decision.action is Action.ALLOW for decision, _ in self.outcomes]
        if any(decision.action not in (Action.ALLOW, Action.DENY) for decision, _ in self.outcomes):
            bad("an outcome neither allows nor denies")
        if self.out_allow.size and (self.out_allow.tolist() != [int(a) for a in allows]):
            bad("allow bits")
        if len(self.verdict_by_reference) != len(self.endpoints):
            bad("reference marks")

    def _check_hash(self, bad: Callable[[str], None]) -> None:
        """The hash of IPv4 point addresses: a power of two in size, with an empty slot
        (key 0, value -1) to end each probe, a shift that keeps slots in range, and each
        used slot's value the interval starting at its key."""
        keys, vals = self.hash_keys, self.hash_vals
        size = len(vals)
        if len(keys) != size or size == 0 or size & (size - 1):
            bad("hash size")
        if not 0 <= self.hash_shift <= 32 or (self.hash_shift < 32 and 1 << (32 - self.hash_shift) > size):
            bad("hash shift")
        empty = vals == -1
        if not empty.any() or (keys[empty] != 0).any():
            bad("hash empty slots")
        used = vals[~empty]
        if used.size and (int(used.min()) < 0 or int(used.max()) >= len(self.v4_starts)):
            bad("hash value")
        if used.size and (np.asarray(self.v4_starts)[used] != keys[~empty]).any():
            bad("hash key")

    @property
    def nbytes(self) -> int:
        return sum(v.nbytes for v in vars(self).values() if isinstance(v, np.ndarray))
