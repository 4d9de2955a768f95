"""The Engine: one PolicySet's compiled tables, the matcher reading them, and the
reference evaluator deciding what the tables leave open; one flow or many at once."""

from __future__ import annotations

import functools
import weakref
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from ..compile import FALLBACK, Compiled, compile_policyset, flow_key, source_key
from .._matcher import Matcher
from ..flow import Flow
from ..model import Endpoint
from ..verdict import Verdict
from .columns import _columns
from .results import ACTION_ALLOW, ACTION_DENY, BatchResult, _Outcomes
from .threads import Workers, run_spans, workers_from
from .single import Address, decide, endpoint_address, flow_side, owners, settle, table_verdict

if TYPE_CHECKING:
    from ..resolve import Snapshot as PolicySet

__all__ = ["Engine", "Reference"]

_NAMES_MAX = 1 << 16  # names kept for the one-flow path, at most

#: the reference evaluator as the engine calls it
Reference = Callable[["PolicySet", Flow], Verdict]


class Engine:
    """One PolicySet's compiled tables, its matcher and the reference to fall back on."""

    def __init__(self, ps: PolicySet, reference: Reference, matcher: type | None = None) -> None:
        self._ps = weakref.ref(ps)  # weak: the PolicySet keeps its engine (engine_for)
        self._reference = reference
        self.compiled: Compiled = compile_policyset(ps)
        self.matcher: Matcher = (matcher or Matcher)(self.compiled)
        c = self.compiled
        self.owner: dict[tuple[int, int], int] = {}
        for eid, endpoint in enumerate(c.endpoints):
            for ip in endpoint.ips:
                key = (ip.version, int(ip))
                self.owner[key] = eid if key not in self.owner else -3
        self.decisions = [d for d, _ in c.outcomes]
        self.logged = [logs for _, logs in c.outcomes]
        self.by_reference = c.verdict_by_reference.tolist()
        self.owner4 = {value: eid for (family, value), eid in self.owner.items() if family == 4}
        self._all_fallback = c.all_fallback
        self.allows = c.out_allow.tolist()
        # each endpoint's outcomes by id, built on first use (their Decisions name it)
        tables = (self.decisions, self.logged, self.allows, [0])
        self._outcomes: list[_Outcomes] = [_Outcomes(tables, endpoint.key) for endpoint in c.endpoints]
        # a side given by name -> its endpoint's first IPv4 address, as the reference would
        # use it in an IPv4 flow; filled as names are resolved, read by the one-flow path
        self._names: dict[str, int] = {}
        self.evaluate: Callable[[Flow], Verdict] = self._one_flow_path()

    def _one_flow_path(self) -> Callable[[Flow], Verdict]:
        """``evaluate``: the matcher's one-flow path (``Single``), which decides the common
        case, two IPv4 addresses, and hands every other flow to :meth:`evaluate_any`."""
        # the path holds the engine weakly, as the engine holds it: no cycle, so both are
        # freed with the PolicySet, at once
        other = functools.partial(_evaluate_any, weakref.ref(self))
        if self._all_fallback:
            return other
        return self.matcher.single(owners(self.by_reference, self._outcomes), other, self._ps, self._names).evaluate

    def use_matcher(self, matcher: type) -> None:
        """Decides with another matcher twin from now on (benchmarks compare them)."""
        self.matcher = matcher(self.compiled)
        self.evaluate = self._one_flow_path()

    @property
    def ps(self) -> PolicySet:
        ps = self._ps()
        if ps is None:
            raise RuntimeError("the PolicySet of this engine is gone")
        return ps

    def reference(self, flow: Flow) -> Verdict:
        """The reference evaluator's verdict."""
        return self._reference(self.ps, flow)

    # -- sides ---------------------------------------------------------------------------

    endpoint_address = staticmethod(endpoint_address)
    settle = staticmethod(settle)

    def endpoint(self, name: str) -> Endpoint:
        """The PolicySet's endpoint ``namespace/name`` (KeyError when there is none)."""
        return self.ps.endpoint(name)

    def sides(self, flow: Flow) -> tuple[Address, Address] | None:
        """Both sides' (family, address), or None when the reference must decide."""
        src = flow_side(flow.src, self.endpoint)
        dst = flow_side(flow.dst, self.endpoint)
        if src is None or dst is None:
            return None
        if type(flow.src) is str or type(flow.dst) is str:
            self._remember(flow.src, src)
            self._remember(flow.dst, dst)
        return settle(src, dst, flow.protocol)

    def _remember(self, name: Any, side: Any) -> None:
        """Keeps a side given by name for the one-flow path: its endpoint's first IPv4
        address (the reference's choice in an IPv4 flow), if it has one."""
        if type(name) is str and side[0] == "name" and name not in self._names and len(self._names) < _NAMES_MAX:
            address = endpoint_address(side[1], 4)
            if address is not None:
                self._names[name] = address[1]

    # -- one flow ------------------------------------------------------------------------

    def decide(self, src: Address, dst: Address, key: int, skey: int) -> tuple[int, int, int]:
        """(code, egress outcome, ingress outcome) of one flow between two addresses of
        the same family."""
        return decide(self.compiled, self.matcher, src, dst, key, skey)

    def evaluate_any(self, flow: Flow) -> Verdict:
        """The verdict on any ``flow``: from the tables, else from the reference evaluator
        (``evaluate`` is the same, faster for flows between two IPv4 addresses)."""
        if self._all_fallback:
            return self.reference(flow)
        sides = self.sides(flow)
        if sides is None:
            return self.reference(flow)
        src_at, dst_at = sides
        code, e, i = self.decide(
            src_at, dst_at, flow_key(flow.protocol, flow.dst_port, flow.icmp_type, flow.icmp_code),
            source_key(flow.protocol, flow.src_port),
        )
        if code == 2:
            return self.reference(flow)
        owner = self.owner
        sep = owner.get(src_at, -1)
        dep = owner.get(dst_at, -1)
        if (sep >= 0 and self.by_reference[sep]) or (dep >= 0 and self.by_reference[dep]):
            return self.reference(flow)
        return self.verdict(flow, code, e, i, sep, dep)

    def verdict(self, flow: Flow, code: int, e: int, i: int, sep: int, dep: int) -> Verdict:
        """The Verdict from outcome ids (as the reference builds it: decisions name their
        endpoint; the destination's Log rules count only when egress allowed)."""
        return table_verdict(self._outcomes, flow, code, e, i, sep, dep, self._ps())

    # -- many flows ------------------------------------------------------------------------

    def decide_v4(self, src: np.ndarray, dst: np.ndarray, key: np.ndarray, skey: np.ndarray | None,
                  code: np.ndarray, eg: np.ndarray, ing: np.ndarray, workers: int = 1) -> None:
        """``matcher.decide_v4`` over contiguous spans of the flows, on ``workers``
        threads at once (the compiled loop releases the GIL); the same answers as one call."""
        decide_v4 = self.matcher.decide_v4

        def span(a: int, b: int) -> None:
            decide_v4(src[a:b], dst[a:b], key[a:b], None if skey is None else skey[a:b], code[a:b], eg[a:b], ing[a:b])

        run_spans(len(key), workers, span)

    def evaluate_many(self, flows: Any, workers: Workers = None) -> BatchResult:
        """The verdicts on many flows (see ``PolicySet.evaluate_many``)."""
        threads = workers_from(workers)
        cols = _columns(self, flows, threads)
        n = len(cols.key)
        code = np.empty(n, np.uint8)
        eg = np.empty(n, np.int32)
        ing = np.empty(n, np.int32)
        v4 = cols.v4
        if self.compiled.all_fallback:
            code[:] = 2
            eg[:] = FALLBACK
            ing[:] = FALLBACK
        elif v4.all():
            self.decide_v4(cols.src4, cols.dst4, cols.key, cols.skey, code, eg, ing, threads)
        else:
            idx = np.flatnonzero(v4)
            c4 = np.empty(len(idx), np.uint8)
            e4 = np.empty(len(idx), np.int32)
            i4 = np.empty(len(idx), np.int32)
            self.decide_v4(
                np.ascontiguousarray(cols.src4[idx]), np.ascontiguousarray(cols.dst4[idx]),
                np.ascontiguousarray(cols.key[idx]), None if cols.skey is None else np.ascontiguousarray(cols.skey[idx]),
                c4, e4, i4, threads,
            )
            code[idx], eg[idx], ing[idx] = c4, e4, i4
            for k in np.flatnonzero(~v4).tolist():
                s, d = cols.other[k]
                if s is None or d is None or s[0] != d[0]:
                    code[k], eg[k], ing[k] = 2, FALLBACK, FALLBACK
                else:
                    code[k], eg[k], ing[k] = self.decide(s, d, int(cols.key[k]), cols.source_key(k))
        result = BatchResult(self, cols, code, eg, ing)
        referred = np.flatnonzero(code == 2).tolist() if n and int(code.max()) == 2 else []
        for k in referred:
            verdict = self.reference(cols.flow(k))
            result.action[k] = ACTION_ALLOW if verdict.allowed else ACTION_DENY
            result.allowed[k] = verdict.allowed
        return result


def _evaluate_any(engine: weakref.ref[Engine], flow: Flow) -> Verdict:
    live = engine()
    if live is None:
        raise RuntimeError("the engine of this evaluate is gone")
    return live.evaluate_any(flow)
