"""Two sides' answers for one pair of flow ends, compared key class by key class.

:class:`~.reach.Reach` gives, for a pair of ends on one snapshot, the allowed flow keys
with the decisions that allow them (:class:`~.tables.KeyGrant`). :func:`compare` lays
the grants of the base and the head side over each other and keeps the cells where the
verdict differs: a cell is an interval of flow keys (and of source ports, where a rule
tests them) in which both sides answer alike throughout. A side that denies a cell is
asked for its deciding rule by the reference evaluator, one flow per cell; cells are cut
at every key and source port any rule of either side tests (:class:`Cutter`), so that
one flow decides for the whole cell. Nothing is sampled.
"""

from __future__ import annotations

import bisect
from typing import TYPE_CHECKING, Any, Sequence

import attrs

from ..compile.keys import KEY_BITS, Intervals, union
from ..errors import PolicyError
from ..flow import Flow
from ..reference import evaluate as reference_evaluate
from ..verdict import Decision
from .fallback import FlowSide, Referee
from .keyspace import PORTED, first_real_key, key_fields, real_source_keys
from .tables import KeyGrant

if TYPE_CHECKING:
    from ..resolve import Snapshot

__all__ = ["ALLOW", "DENY", "ABSENT", "State", "Cell", "Cutter", "compare"]

ALLOW, DENY, ABSENT = "allow", "deny", "absent"
_LOW = (1 << KEY_BITS) - 1


@attrs.frozen(order=True)
class State:
    """One side's answer in a cell: ``verdict`` is ``allow``, ``deny`` or ``absent`` (an
    end the side does not have), with the deciding egress and ingress decisions (None
    for a side that is not policed or was not reached). The decisions name no endpoint."""

    verdict: str
    egress: Decision | None = attrs.field(default=None, order=False)
    ingress: Decision | None = attrs.field(default=None, order=False)

    @property
    def why(self) -> str:
        """The deciding rules in words: ``egress: tier default, ... rule 0; ingress: ...``."""
        parts = [f"{name}: {d.why}" for name, d in (("egress", self.egress), ("ingress", self.ingress)) if d is not None]
        return "; ".join(parts)


_ABSENT = State(ABSENT)


@attrs.frozen
class Cell:
    """Flow keys ``[lo, hi)`` with source keys ``source`` (half-open; None: every source
    port) where ``before`` and ``after`` differ in verdict."""

    lo: int
    hi: int
    source: tuple[int, int] | None
    before: State
    after: State


class Cutter(Referee):
    """The key and source-port classes of one snapshot: within one, every flow between
    the same two ends is decided alike, by the same rules."""

    def key_classes(self, keys: Intervals) -> list[tuple[int, int]]:
        return self._classes(keys)

    def source_bounds(self, protocol: int) -> list[int]:
        return [lo for lo, _ in self._source_classes(protocol)[1:]]


def _strip(decision: Decision | None) -> Decision | None:
    return None if decision is None else attrs.evolve(decision, endpoint=None)


def _decide(ps: Snapshot, src: FlowSide, dst: FlowSide, key: int, src_port: int | None) -> State:
    """The reference's verdict on one flow of a cell, with its deciding decisions."""
    protocol, port, icmp_type, icmp_code = key_fields(key)
    try:
        verdict = reference_evaluate(ps, Flow(src, dst, protocol, port, src_port, icmp_type, icmp_code))
    except PolicyError:  # the ends share no IP family for this protocol: nothing goes
        return State(DENY)
    return State(ALLOW if verdict.allowed else DENY, _strip(verdict.egress), _strip(verdict.ingress))


@attrs.frozen
class End:
    """One side's view of a pair of ends: its grants (None: the side lacks an end), the
    snapshot and the ends to ask the reference about, and its cutter."""

    grants: tuple[KeyGrant, ...] | None
    ps: Any = None
    src: Any = None
    dst: Any = None
    cutter: Cutter | None = None


def _covering(grants: Sequence[KeyGrant] | None, lo: int) -> list[KeyGrant]:
    if not grants:
        return []
    found = []
    for grant in grants:
        at = bisect.bisect_right(grant.keys, (lo, 1 << 62)) - 1
        if at >= 0 and grant.keys[at][0] <= lo < grant.keys[at][1]:
            found.append(grant)
    return found


def _allowed_sources(grants: list[KeyGrant], protocol: int) -> Intervals:
    spans: list[tuple[int, int]] = []
    for grant in grants:
        spans.extend(grant.source if grant.source is not None else real_source_keys(protocol))
    return union(spans)


def _granted(end: End, grants: list[KeyGrant], source: tuple[int, int] | None) -> State | None:
    """The side's state where a grant decides it (allowed) or it lacks an end (absent);
    None where it denies, which only the reference can say why."""
    if end.grants is None:
        return _ABSENT
    probe = source[0] if source is not None else None
    for grant in grants:
        if grant.source is None:
            return State(ALLOW, grant.egress, grant.ingress)
        if probe is not None and any(a <= probe < b for a, b in grant.source):
            return State(ALLOW, grant.egress, grant.ingress)
    if source is None and any(g.source is not None for g in grants):
        raise AssertionError("source ports must be split where a grant tests them")
    return None


def _denied(end: End, key: int, source: tuple[int, int] | None, protocol: int) -> State:
    src_port = (source[0] & _LOW) if source is not None and protocol in PORTED else None
    return _decide(end.ps, end.src, end.dst, key, src_port or None)


def compare(base: End, head: End) -> list[Cell]:
    """The cells where ``base`` and ``head`` differ in verdict (see the module docstring)."""
    if base.grants == head.grants:
        return []
    bounds: set[int] = set()
    covered: list[tuple[int, int]] = []
    for grants in (base.grants or (), head.grants or ()):
        for grant in grants:
            covered.extend(grant.keys)
            bounds.update(b for span in grant.keys for b in span)
    cells: list[Cell] = []
    cut = sorted(bounds)
    for lo, hi in union(covered):
        edges = [b for b in cut if lo < b < hi]
        for a, b in zip([lo, *edges], [*edges, hi]):
            cells.extend(_segment(base, head, a, b))
    return cells


def _segment(base: End, head: End, lo: int, hi: int) -> list[Cell]:
    """The differing cells of one key segment where each side's grants are constant."""
    gb, gh = _covering(base.grants, lo), _covering(head.grants, lo)
    protocol = lo >> KEY_BITS
    sb = _allowed_sources(gb, protocol) if base.grants is not None else None
    sh = _allowed_sources(gh, protocol) if head.grants is not None else None
    if sb == sh or not (sb or sh):  # same verdict throughout (absent and denied alike)
        return []
    if first_real_key(lo, hi) is None:
        return []
    pieces: list[tuple[int, int]] = [(lo, hi)]
    for end in (base, head):
        if end.cutter is not None:
            pieces = [p for a, b in pieces for p in end.cutter.key_classes([(a, b)])]
    found: list[Cell] = []
    for a, b in pieces:
        key = first_real_key(a, b)
        if key is None:
            continue
        piece_protocol = key >> KEY_BITS  # pieces are cut at every protocol with ports
        for source in _source_split(base, head, gb + gh, piece_protocol):
            before = _granted(base, gb, source)
            after = _granted(head, gh, source)
            if (before is None or before.verdict != ALLOW) and (after is None or after.verdict != ALLOW):
                continue  # denied or absent on both sides: no change (the reference is not asked why)
            if before is not None and after is not None and before.verdict == after.verdict:
                continue
            before = before if before is not None else _denied(base, key, source, piece_protocol)
            after = after if after is not None else _denied(head, key, source, piece_protocol)
            if before.verdict != after.verdict:
                found.append(Cell(a, b, source, before, after))
    return found


def _source_split(base: End, head: End, grants: list[KeyGrant], protocol: int) -> list[tuple[int, int] | None]:
    """The source-key classes to decide apart: [None] when neither side tests source
    ports for ``protocol``."""
    ((s_lo, s_hi),) = real_source_keys(protocol)
    bounds = {b for g in grants if g.source is not None for span in g.source for b in span}
    if protocol in PORTED:
        for end in (base, head):
            if end.cutter is not None:
                bounds.update(end.cutter.source_bounds(protocol))
    inner = sorted(b for b in bounds if s_lo < b < s_hi)
    if not inner and not any(g.source is not None for g in grants):
        return [None]
    edges = [s_lo, *inner, s_hi]
    return list(zip(edges, edges[1:]))

