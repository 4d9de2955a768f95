"""Tables.

A table gives, per flow key, the outcome of one direction for the peers of one group:
it runs the direction's tiers, policies and profiles (§C.3) on every key interval at
once. Where rules test source ports, an interval's value is ``-3 - t`` instead: table
``t`` then decides by the source key. Tables are built over outcome templates and
interned (the *relative* tables); :class:`~netpolicy.compile.outcomes.Concrete` names
their profile slots.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..model import Action, Direction, Tier
from .keys import ALL, KEY_LIMIT, Intervals, intersect
from .local import Entries
from .outcomes import Table, Templates
from .sides import SideRows

__all__ = ["Live", "Plan", "RelativeTables"]

#: a live entry of a local class: (position in the entries, local side value, peer
#: side row, top of the peer row)
Live = tuple[int, int, np.ndarray, int]
#: a local class's entries as :meth:`RelativeTables.table` reads them, see
#: :meth:`RelativeTables.plan`
Plan = tuple[list[tuple[int, int, int, int]], list[tuple[int, int, int]]]


class RelativeTables:
    """The relative tables, interned, and a memo from what decides a table to its id."""

    def __init__(self, tiers: dict[str, Tier], sides: SideRows, templates: Templates) -> None:
        self._tiers = tiers
        self._sides = sides
        self._templates = templates
        self._memo: dict[Any, int] = {}
        self._all: dict[int, bool] = {}  # by id of a peer side row (rows are kept by the side rows)
        self._ids: dict[Table, int] = {}
        self.tables: list[Table] = []  #: the relative tables, by id

    def forget(self) -> None:
        """Drops the memo (once every table is made)."""
        self._memo.clear()

    def prune(self, entries: Entries, live: list[Live], egress: bool) -> list[Live]:
        """The live entries that :meth:`table` can read for some peer: it reads none
        past the end of a tier that denies by default, or past an Allow or Deny rule
        that matches every peer at every key, when no live Pass rule comes before in the
        tier; and none past a Pass, Allow or Deny rule that matches every peer at every
        key up to the next end. Peers that differ only in the entries left out reach the
        same table, so they need not be told apart."""
        rules = entries.items
        tiers = self._tiers
        ends = entries.ends
        kept: list[Live] = []
        e = 0
        pass_live = skip = False
        for item in live:
            pos, lval, prow, top = item
            while e < len(ends) and ends[e] < pos:
                end = rules[ends[e]]
                e += 1
                skip = False
                if end[0] == "tier-end":
                    if not pass_live and tiers[end[2]].default_action is not Action.PASS:
                        return kept
                    pass_live = False
            if skip:
                continue
            kept.append(item)
            action = rules[pos][1].action
            if action is Action.LOG:
                continue
            if action is Action.PASS:
                pass_live = True
            if top == 1 and self._matches_all(prow):
                iv, source = self._sides.rule_keys(rules[pos][1], *((lval, 1) if egress else (1, lval)))
                if source is None and iv == ALL:
                    if not pass_live:
                        return kept
                    skip = True
        return kept

    def _matches_all(self, prow: np.ndarray) -> bool:
        found = self._all.get(id(prow))
        if found is None:
            found = self._all[id(prow)] = bool(prow.all())
        return found

    def plan(self, entries: Entries, live: list[Live]) -> Plan:
        """What :meth:`table` reads of a local class's entries, worked out once per local
        class: per live entry (position, ident, local side value, kind), where kind is 0
        for a Log rule, 1 for a Pass rule, 2 for an Allow or Deny rule; and per tier or
        profile end in entry order (how many live entries come before it, ident, kind),
        where kind is 3 for the end of a tier that denies by default, 4 for the end of a
        tier that passes by default, 5 for the end of a profile."""
        rules = entries.items
        idents = entries.idents
        steps: list[tuple[int, int, int, int]] = []
        for pos, lval, _, _ in live:
            action = rules[pos][1].action
            kind = 1 if action is Action.PASS else 2 if action is not Action.LOG else 0
            steps.append((pos, idents[pos], lval, kind))
        ends: list[tuple[int, int, int]] = []
        n = 0
        for pos in entries.ends:
            while n < len(live) and live[n][0] < pos:
                n += 1
            entry = rules[pos]
            if entry[0] == "tier-end":
                kind = 3 if self._tiers[entry[2]].default_action is not Action.PASS else 4
            else:
                kind = 5
            ends.append((n, idents[pos], kind))
        ends.append((len(live), -1, 6))  # a sentinel: the live entries after the last end
        return steps, ends

    def table(self, entries: Entries, plan: Plan, matching: list[tuple[int, int]], direction: Direction, egress: bool) -> int:
        """The table of the peers that match the live entries ``matching`` as (live
        index, peer side value), in order (the others take 0); ``plan`` from
        :meth:`plan`."""
        # The table depends only on the entries that match these peers at some key and the
        # structure around them. A Pass, Allow or Deny rule that accepts every key leaves
        # nothing for the rest of its tier or profile; the end of a tier that denies by
        # default, or such an Allow or Deny, with no Pass rule matching before it in its
        # tier, leaves nothing for anything after it (every key is decided there). The
        # key is flat: an end as -1 - ident, a matching entry as ident, local value, peer
        # value.
        steps, ends = plan
        parts: list[int] = []
        kept: list[tuple[int, int, int]] = []
        pass_seen = skip = stop = False
        rule_keys = self._sides.rule_keys
        rules = entries.items
        i, count = 0, len(matching)
        for bound, end_ident, end_kind in ends:
            while i < count and matching[i][0] < bound:
                n, pval = matching[i]
                i += 1
                if skip:
                    continue
                pos, ident, lval, kind = steps[n]
                iv, source = rule_keys(rules[pos][1], *((lval, pval) if egress else (pval, lval)))
                if not iv or source == []:
                    continue  # it accepts no key here
                parts += (ident, lval, pval)
                kept.append((pos, lval, pval))
                if kind:
                    if kind == 1:
                        pass_seen = True
                    if source is None and iv == ALL:
                        if not pass_seen:
                            stop = True
                            break
                        skip = True
            if stop or end_kind == 6:
                break
            skip = False
            parts.append(-1 - end_ident)
            if end_kind == 3 and not pass_seen:
                break
            if end_kind != 5:
                pass_seen = False
        memo_key = (egress, tuple(parts))
        found = self._memo.get(memo_key)
        if found is not None:
            return found
        found = self._memo[memo_key] = self._build(entries, tuple(kept), direction, egress)
        return found

    def _build(self, entries: Entries, column: tuple[tuple[int, int, int], ...], direction: Direction, egress: bool) -> int:
        rules = entries.items
        keysets: list[tuple[int, Intervals]] = []
        sources: dict[int, Intervals] = {}
        for pos, lval, pval in column:
            rule = rules[pos][1]
            src_val, dst_val = (lval, pval) if egress else (pval, lval)
            iv, source = self._sides.rule_keys(rule, src_val, dst_val)
            if iv and source != []:
                keysets.append((pos, iv))
                if source is not None:
                    sources[pos] = source
        if not sources:
            table = self._evaluate(entries, keysets, direction)
        else:
            table = self._two_level(entries, keysets, sources, direction)
        return self._intern(table)

    def _intern(self, table: Table) -> int:
        tid = self._ids.get(table)
        if tid is None:
            tid = self._ids[table] = len(self.tables)
            self.tables.append(table)
        return tid

    def _two_level(
        self, entries: Entries, keysets: list[tuple[int, Intervals]], sources: dict[int, Intervals], direction: Direction
    ) -> Table:
        """A table whose rules also test source ports: per key interval, either an
        outcome or ``-3 - t``, where table ``t`` is looked up with the source key."""
        points = sorted({0, *(a for _, iv in keysets for a, _ in iv), *(b for _, iv in keysets for _, b in iv)} - {KEY_LIMIT})
        ends = points[1:] + [KEY_LIMIT]
        starts: list[int] = []
        values: list[int] = []
        for lo, hi in zip(points, ends):
            here = [(pos, sources.get(pos, ALL)) for pos, iv in keysets if intersect(iv, [(lo, hi)])]
            inner = self._evaluate(entries, here, direction)
            value = inner[1][0] if len(inner[1]) == 1 else -3 - self._intern(inner)
            if not values or values[-1] != value:
                starts.append(lo)
                values.append(value)
        return tuple(starts), tuple(values)

    def _evaluate(self, entries: Entries, keysets: list[tuple[int, Intervals]], direction: Direction) -> Table:
        """Runs §C.3 on every key interval at once (bit i = elementary interval i)."""
        rules = entries.items
        points = sorted({0, *(a for _, iv in keysets for a, _ in iv), *(b for _, iv in keysets for _, b in iv)} - {KEY_LIMIT})
        index = {p: i for i, p in enumerate(points)}
        index[KEY_LIMIT] = len(points)
        member: dict[int, int] = {}
        for pos, iv in keysets:
            mask = 0
            for a, b in iv:
                i, j = index[a], index[b]
                mask |= ((1 << (j - i)) - 1) << i
            member[pos] = mask
        full = (1 << len(points)) - 1
        decided: list[tuple[int, tuple[Any, ...]]] = []
        logs: dict[int, list[tuple[Any, ...]]] = {}

        def log(hit: int, ref: tuple[Any, ...]) -> None:
            while hit:
                low = hit & -hit
                logs.setdefault(low.bit_length() - 1, []).append(ref)
                hit ^= low

        active, passed = full, 0
        for pos in sorted([*member, *entries.ends]):
            layer, rule, tier_name, owner, r_index = rules[pos]
            if layer == "profile-end":
                active |= passed
                passed = 0
                continue
            if layer == "tier-end":
                if self._tiers[tier_name].default_action is Action.PASS:
                    active |= passed
                else:
                    if active:
                        decided.append((active, ("end", tier_name)))
                    active = passed
                passed = 0
                continue
            hit = member[pos] & active
            if not hit:
                continue
            action = rule.action
            if action is Action.LOG:
                log(hit, (tier_name, owner, None, r_index) if layer == "policy" else (None, None, owner, r_index))
            elif action is Action.PASS:  # policy: leave the tier; profile: go to the next profile
                passed |= hit
                active &= ~hit
            else:
                if layer == "policy":
                    decided.append((hit, ("rule", tier_name, owner, r_index, action)))
                else:
                    decided.append((hit, ("profile", owner, r_index, action)))
                active &= ~hit
        if active:
            decided.append((active, ("none",)))
        outcome = self._templates.id_of
        outs = [0] * len(points)
        for mask, decision in decided:
            if not logs:
                oid = outcome(direction, decision, ())
            while mask:
                low = mask & -mask
                i = low.bit_length() - 1
                outs[i] = oid if not logs else outcome(direction, decision, tuple(logs.get(i, ())))
                mask ^= low
        starts: list[int] = []
        values: list[int] = []
        for p, o in zip(points, outs):
            if not values or values[-1] != o:
                starts.append(p)
                values.append(o)
        return tuple(starts), tuple(values)
