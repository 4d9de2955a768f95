"""One flow on the tables: the Verdict it builds is a plain Verdict in every respect, and
the engine kept on a PolicySet neither outlives it nor travels with it."""

from __future__ import annotations

import gc
import pickle
import sys
import threading
import weakref
from typing import Any

import attrs
import pytest

import netpolicy
from netpolicy import Flow, engine as batch
from netpolicy.reference import evaluate as reference
from netpolicy.verdict import Verdict

from .cluster import MANIFESTS
from .test_engine import all_flows, outcome

STAGED_AND_LOGS = MANIFESTS + """
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: log-all}
spec:
  order: 1
  selector: all()
  types: [Ingress, Egress]
  ingress: [{action: Log}]
  egress: [{action: Log}]
---
apiVersion: projectcalico.org/v3
kind: StagedNetworkPolicy
metadata: {name: staged-deny, namespace: x}
spec:
  selector: app == 'db'
  types: [Ingress]
  ingress: [{action: Deny}]
"""


@pytest.mark.parametrize("manifests", [MANIFESTS, STAGED_AND_LOGS], ids=["plain", "staged-and-logs"])
def test_table_verdicts_are_plain_verdicts(make_engine: Any, manifests: str) -> None:
    ps = netpolicy.loads(manifests)
    engine = make_engine(ps)
    flows = [f for f in all_flows() if not isinstance(outcome(lambda f: reference(ps, f), f), tuple)]
    engine.counting.calls = 0
    logged = 0
    for flow in flows[::3]:
        v, want = engine.evaluate(flow), reference(ps, flow)
        assert type(v) is Verdict
        assert v == want and hash(v) == hash(want) and v.pending == want.pending, flow
        assert v.explain() == want.explain() and v.steps() == want.steps()
        again = pickle.loads(pickle.dumps(v))
        assert type(again) is Verdict and again == v and again.explain() == v.explain()
        assert attrs.evolve(v, trace=()) == v
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            v.action = v.action  # type: ignore[misc]
        logged += bool(v.logged)
    assert engine.counting.calls < len(flows[::3])  # the tables decided some of them
    if manifests is STAGED_AND_LOGS:
        assert logged  # Log rules were reported


def test_table_verdict_explains_after_its_policy_set_is_dropped() -> None:
    ps = netpolicy.loads(MANIFESTS)
    batch.engine_for(ps)
    flow = Flow("10.0.0.1", "10.0.0.2", dst_port=9090)
    v = ps.evaluate(flow)
    text = reference(ps, flow).explain()
    del ps
    gc.collect()
    assert v.explain() == text


def test_policy_set_with_an_engine_is_freed() -> None:
    ps = netpolicy.loads(MANIFESTS)
    engine = batch.engine_for(ps)
    assert ps.evaluate(Flow("10.0.0.1", "10.0.0.2", dst_port=9090)) is not None
    assert batch.engine_for(ps) is engine
    gone, engine_gone = weakref.ref(ps), weakref.ref(engine)
    gc.disable()
    try:
        del ps
        assert gone() is None  # no reference cycle: freed at once, without the collector
        with pytest.raises(RuntimeError):
            engine.ps
        del engine
        assert engine_gone() is None
    finally:
        gc.enable()


def test_the_engine_does_not_travel_with_the_policy_set() -> None:
    ps = netpolicy.loads(MANIFESTS)
    engine = batch.engine_for(ps)
    restored = pickle.loads(pickle.dumps(ps))
    flow = Flow("10.0.0.1", "10.0.1.1", dst_port=8080)
    assert restored._engine is None
    assert restored.evaluate(flow) == ps.evaluate(flow)
    assert batch.engine_for(restored) is not engine


def test_one_engine_from_many_threads() -> None:
    ps = netpolicy.loads(MANIFESTS)
    found: list[Any] = []
    start = threading.Barrier(8)

    def get() -> None:
        start.wait()
        found.append(batch.engine_for(ps))

    threads = [threading.Thread(target=get) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(found) == 8 and all(engine is found[0] for engine in found)


def test_tables_are_compiled_after_the_warm_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batch, "COMPILE_AFTER", 3)
    ps = netpolicy.loads(MANIFESTS)
    flow = Flow("10.0.0.1", "10.0.0.2", dst_port=9090)
    want = reference(ps, flow)
    for _ in range(2):
        assert ps.evaluate(flow) == want
        assert ps._engine is None
    assert ps.evaluate(flow) == want
    assert ps._engine is not None
    with pytest.raises(netpolicy.PolicyError):
        ps.evaluate(Flow("x/nope", "x/a"))


def test_verdicts_built_as_the_docs_say_still_explain() -> None:
    # docs/semantics.md: another evaluator passes replay=functools.partial(explain_steps, ...)
    import functools

    from netpolicy.reference import explain_steps

    ps = netpolicy.loads(MANIFESTS)
    flow = Flow("10.0.0.1", "10.0.0.2", dst_port=9090)
    want = reference(ps, flow)
    built = Verdict(flow, want.action, want.egress, want.ingress, want.logged, replay=functools.partial(explain_steps, ps, flow))
    assert built == want and built.explain() == want.explain() != ""
    assert pickle.loads(pickle.dumps(built)).explain() == want.explain()


def test_table_verdicts_hold_their_parts_and_let_them_go(make_engine: Any) -> None:
    """Each built verdict holds one reference to each of its parts, is tracked by the
    garbage collector, and gives every reference back when it is freed."""
    ps = netpolicy.loads(STAGED_AND_LOGS)
    engine = make_engine(ps)
    flow = next(f for f in all_flows() if engine.evaluate(f) == reference(ps, f) and engine.counting.calls == 0)
    engine.evaluate(flow)  # outcomes are built on first use
    before = sys.getrefcount(flow), sys.getrefcount(ps)
    verdicts = [engine.evaluate(flow) for _ in range(1000)]
    assert engine.counting.calls == 0  # all from the tables
    assert sys.getrefcount(flow) - before[0] == 1000 and sys.getrefcount(ps) - before[1] == 1000
    assert all(gc.is_tracked(v) for v in verdicts[:10])
    del verdicts
    assert (sys.getrefcount(flow), sys.getrefcount(ps)) == before


def test_the_one_flow_path_refuses_what_it_cannot_read_safely(matcher_class: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    ps = netpolicy.loads(MANIFESTS)
    engine = batch.Engine(ps, reference, matcher_class)
    n = len(engine.compiled.endpoints)
    with pytest.raises(ValueError):  # an owner per endpoint, after three entries
        engine.matcher.single([None] * (n + 2), engine.evaluate_any, engine._ps)
    engine.matcher.single([None] * (n + 3), engine.evaluate_any, engine._ps)
    module = sys.modules[matcher_class.__module__]
    if module.__name__.endswith("_fastmatch"):  # the compiled twin fills the Verdict's slots itself

        @attrs.frozen
        class Other:
            flow: Any
            action: Any

        monkeypatch.setattr(module, "Verdict", Other)
        with pytest.raises(TypeError):
            engine.matcher.single([None] * (n + 3), engine.evaluate_any, engine._ps)
