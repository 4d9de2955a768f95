"""Fail closed: a fault in the compiled tables, in either matcher twin or in the reference
evaluator becomes an error, never an Allow.

Faults are injected where each part can go wrong: the arrays a Matcher is built from
(each twin refuses tables that ``Compiled.check()`` rejects: the compiled twin reads
them without bounds checks), a table cell or address record of a built pure-twin Matcher,
a compiler stage or a matcher that raises, and in the reference evaluator a rule match
that raises, a rule action or tier default it does not know, and a tier that is missing.
"""

from __future__ import annotations

import copy
import pickle
from typing import Any, Callable

import attrs
import numpy as np
import pytest

import netpolicy
from netpolicy import Flow, PolicyError
from netpolicy.compile import Compiled, compile_policyset
from netpolicy.engine import Engine
from netpolicy.model import Action, Direction
from netpolicy.reference import evaluate as reference

MANIFESTS = """
apiVersion: v1
kind: Namespace
metadata: {name: prod}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: prod, labels: {app: web}}
spec: {containers: [{name: c, image: i, ports: [{name: http, containerPort: 8080}]}]}
status: {podIP: 10.0.0.1, podIPs: [{ip: 10.0.0.1}, {ip: "fd00::1"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: db, namespace: prod, labels: {app: db}}
status: {podIP: 10.0.0.2, podIPs: [{ip: 10.0.0.2}, {ip: "fd00::2"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: job, namespace: prod, labels: {app: job}}
status: {podIP: 10.0.0.3}
---
apiVersion: projectcalico.org/v3
kind: Tier
metadata: {name: security}
spec: {order: 100, defaultAction: Pass}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: quarantine}
spec:
  tier: security
  order: 10
  selector: app == 'job'
  types: [Ingress, Egress]
  ingress: [{action: Deny, protocol: TCP, source: {ports: ['1:1023']}}, {action: Log}]
  egress: [{action: Deny, protocol: UDP, destination: {nets: [192.168.0.0/16]}}]
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: db-in, namespace: prod}
spec:
  selector: app == 'db'
  ingress:
  - {action: Log, protocol: TCP}
  - {action: Allow, protocol: TCP, source: {selector: app == 'web'}, destination: {ports: [5432]}}
  - {action: Deny}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-in, namespace: prod}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress]
  ingress: [{ports: [{port: http}]}]
"""

FLOWS = [
    Flow(src="prod/web", dst="prod/db", protocol="TCP", dst_port=5432),  # allowed
    Flow(src="prod/job", dst="prod/db", protocol="TCP", dst_port=5432),  # denied by db-in
    Flow(src="prod/db", dst="prod/web", protocol="TCP", dst_port=8080),  # allowed
    Flow(src="prod/db", dst="prod/web", protocol="TCP", dst_port=80),  # denied at the end of tier default
    Flow(src="prod/web", dst="prod/job", protocol="TCP", dst_port=80, src_port=1000),  # denied by quarantine
    Flow(src="prod/web", dst="prod/job", protocol="TCP", dst_port=80, src_port=2000),  # allowed
    Flow(src="fd00::2", dst="fd00::1", protocol="TCP", dst_port=8080),  # allowed
    Flow(src="10.0.0.3", dst="192.168.1.1", protocol="UDP", dst_port=53),  # denied by quarantine
    Flow(src="192.168.1.1", dst="10.0.0.3", protocol="UDP", dst_port=53),  # allowed
]


@pytest.fixture(scope="module")
def ps() -> netpolicy.PolicySet:
    ps = netpolicy.loads(MANIFESTS)
    verdicts = [reference(ps, flow).allowed for flow in FLOWS]
    assert verdicts == [True, False, True, False, False, True, True, False, True]  # allows and denies both
    return ps


@pytest.fixture(scope="module")
def compiled(ps: netpolicy.PolicySet) -> Compiled:
    c = compile_policyset(ps)
    c.check()
    assert c.n_stables and not c.all_fallback  # source-port tables, and tables that decide
    return c


def _allowed_by_every_path(ps: netpolicy.PolicySet, engine: Engine) -> list[bool]:
    """Each flow's verdict on every path: one flow at a time and in a batch, which must agree."""
    one = [engine.evaluate(flow).allowed for flow in FLOWS]
    assert one == [engine.evaluate_any(flow).allowed for flow in FLOWS]
    assert one == engine.evaluate_many(FLOWS).allowed.tolist()
    return one


# -- the compiled tables ---------------------------------------------------------------------


def _set(name: str, index: Any, value: Any) -> Callable[[Compiled], None]:
    def fault(c: Compiled) -> None:
        array = getattr(c, name).copy()
        array[index] = value
        setattr(c, name, array)

    return fault


def _first_allow(c: Compiled) -> int:
    return int(np.flatnonzero(c.out_allow == 1)[0])


def _first_deny(c: Compiled) -> int:
    return int(np.flatnonzero(c.out_allow == 0)[0])


def _replace(name: str, make: Callable[[Compiled], Any]) -> Callable[[Compiled], None]:
    def fault(c: Compiled) -> None:
        setattr(c, name, make(c))

    return fault


def _endpoint_interval(c: Compiled, endpoint: int) -> int:
    return int(np.flatnonzero(c.v4_endpoint == endpoint)[0])


def _swap_endpoints(c: Compiled) -> None:
    """Two endpoints' addresses both say they belong to the first: a flow between them
    would look like an endpoint's traffic to itself, which is allowed unevaluated."""
    array = c.v4_endpoint.copy()
    array[_endpoint_interval(c, 1)] = 0
    c.v4_endpoint = array


def _hash_fault(how: str) -> Callable[[Compiled], None]:
    def fault(c: Compiled) -> None:
        keys, vals = c.hash_keys.copy(), c.hash_vals.copy()
        used = np.flatnonzero(vals >= 0)
        empty = np.flatnonzero(vals < 0)
        if how == "wrong interval":  # an endpoint's address leads to another's interval
            vals[used[0]] = vals[used[1]]
        elif how == "key in an empty slot":
            keys[empty[0]] = keys[used[0]] + 1
        elif how == "no empty slot":  # looking up an address not in it would never end
            keys[empty], vals[empty] = keys[used[0]], vals[used[0]]
        c.hash_keys, c.hash_vals = keys, vals

    return fault


#: (what goes wrong, how to do it to a copy of the good tables)
TABLE_FAULTS: list[tuple[str, Callable[[Compiled], None]]] = [
    ("a deny outcome marked allowing", lambda c: _set("out_allow", _first_deny(c), 1)(c)),
    ("an allow bit that is neither 0 nor 1", lambda c: _set("out_allow", _first_allow(c), 2)(c)),
    ("fewer allow bits than outcomes", _replace("out_allow", lambda c: c.out_allow[:-1])),
    ("a table cell past the outcomes", lambda c: _set("tables", 0, len(c.out_allow))(c)),
    ("a table cell of no endpoint", _set("tables", 0, -2)),
    ("a table cell naming a missing source-port table", lambda c: _set("tables", 0, -3 - c.n_stables)(c)),
    ("a source-port table cell naming another source-port table", _set("stables", 0, -3)),
    ("a source-port table cell past the outcomes", lambda c: _set("stables", 0, len(c.out_allow))(c)),
    ("a group naming a missing table", lambda c: _set("groups", 0, c.n_tables)(c)),
    ("a row naming a missing group", lambda c: _set("rows8", int(c.loc_row[0]), int(c.loc_groups[0]))(c)),
    ("a local class's row out of range", lambda c: _set("loc_row", 0, len(c.rows8))(c)),
    ("a local class's groups out of range", lambda c: _set("loc_tab", 0, len(c.groups))(c)),
    ("an address's local class out of range", lambda c: _set("v4_local", (0, 0), sum(c.n_local))(c)),
    ("an address's egress class among the ingress ones", lambda c: _set("v4_local", (0, 0), c.n_local[0])(c)),
    ("an address's peer class out of range", lambda c: _set("v4_peer", (1, 0), c.n_peer[1])(c)),
    ("an IPv6 address's local class out of range", lambda c: _set("v6_local", (1, 0), sum(c.n_local))(c)),
    ("an address's endpoint out of range", lambda c: _set("v4_endpoint", 0, len(c.endpoints))(c)),
    ("an address's endpoint below the marks", _set("v4_endpoint", 0, -4)),
    ("an address given the wrong endpoint", _swap_endpoints),
    ("an endpoint's address given no endpoint", lambda c: _set("v4_endpoint", _endpoint_interval(c, 0), -1)(c)),
    ("an IPv6 address given the wrong endpoint", lambda c: _set("v6_endpoint", int(np.flatnonzero(c.v6_endpoint == 1)[0]), 0)(c)),
    ("address intervals out of order", lambda c: _set("v4_starts", 2, int(c.v4_starts[1]))(c)),
    ("IPv6 intervals out of order", lambda c: setattr(c, "v6_starts", [c.v6_starts[0], c.v6_starts[2], c.v6_starts[1], *c.v6_starts[3:]])),
    ("address arrays of different lengths", _replace("v4_endpoint", lambda c: c.v4_endpoint[:-1])),
    ("IPv6 address arrays of different lengths", _replace("v6_peer", lambda c: c.v6_peer[:, :-1])),
    ("key classes out of order", lambda c: _set("key_starts", 1, 0)(c)),
    ("a table cut short", _replace("tables", lambda c: c.tables[:-1])),
    ("the hash leading to the wrong interval", _hash_fault("wrong interval")),
    ("a key in an empty hash slot", _hash_fault("key in an empty slot")),
    ("a hash without an empty slot", _hash_fault("no empty slot")),
    ("a hash shift past its size", _replace("hash_shift", lambda c: 0)),
    ("too few endpoint marks for the reference", _replace("verdict_by_reference", lambda c: c.verdict_by_reference[:-1])),
]


@pytest.mark.parametrize(("what", "fault"), TABLE_FAULTS, ids=[what for what, _ in TABLE_FAULTS])
def test_inconsistent_tables_are_refused(matcher_class: Any, compiled: Compiled, what: str, fault: Callable[[Compiled], None]) -> None:
    bad = copy.deepcopy(compiled)
    fault(bad)
    with pytest.raises(ValueError, match="compiled tables are inconsistent"):
        bad.check()
    with pytest.raises(ValueError, match="compiled tables are inconsistent"):
        matcher_class(bad)


def test_the_good_tables_are_accepted(matcher_class: Any, ps: netpolicy.PolicySet, compiled: Compiled) -> None:
    matcher_class(copy.deepcopy(compiled))  # the faults above are the only difference
    engine = Engine(ps, lambda p, f: reference(p, f), matcher_class)
    assert _allowed_by_every_path(ps, engine) == [reference(ps, flow).allowed for flow in FLOWS]


# -- a built matcher (the pure twin's arrays are Python objects, and can be changed) -------------


def _pure_engine(ps: netpolicy.PolicySet) -> Engine:
    from netpolicy._fastmatch_py import Matcher

    return Engine(ps, lambda p, f: reference(p, f), Matcher)


PAST = "past the outcomes"


@pytest.mark.parametrize(
    ("array", "value"),
    [("_tables_arr", PAST), ("_tables_arr", -2), ("_tables_arr", -5), ("_stables", PAST), ("_stables", -2), ("_stables", -5)],
    ids=["table past the outcomes", "table of no endpoint", "table below the marks", "source-port table past the outcomes",
         "source-port table of no endpoint", "source-port table below the marks"],
)
def test_a_corrupt_table_cell_of_the_pure_twin_raises(ps: netpolicy.PolicySet, array: str, value: Any) -> None:
    # -2 would read as "no policed endpoint on this side", which allows
    engine = _pure_engine(ps)
    getattr(engine.matcher, array)[:] = len(engine.compiled.out_allow) if value == PAST else value
    flows = FLOWS[:6] if array == "_tables_arr" else FLOWS[4:6]  # IPv4, between endpoints: the tables decide
    for flow in flows:
        with pytest.raises((ValueError, IndexError)):
            engine.evaluate(flow)
        with pytest.raises((ValueError, IndexError)):
            engine.evaluate_any(flow)
    with pytest.raises((ValueError, IndexError)):
        engine.evaluate_many(flows)


def test_a_corrupt_address_record_of_the_pure_twin_raises(ps: netpolicy.PolicySet) -> None:
    engine = _pure_engine(ps)
    matcher: Any = engine.matcher
    for name in ("_l_local_e", "_l_peer_i", "_l_local_i", "_l_peer_e"):
        setattr(matcher, name, [10**6] * len(getattr(matcher, name)))
    matcher._local_e[:] = 10**6
    with pytest.raises(ValueError):
        engine.evaluate(FLOWS[0])
    with pytest.raises((ValueError, IndexError)):
        engine.evaluate_many(FLOWS)


def test_a_compiler_stage_that_raises_is_an_error(ps: netpolicy.PolicySet, monkeypatch: pytest.MonkeyPatch) -> None:
    import netpolicy.compile.pipeline as pipeline

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("a stage failed")

    fresh = pickle.loads(pickle.dumps(ps))  # no tables yet
    monkeypatch.setattr(pipeline, "lay_out_tables", broken)
    with pytest.raises(RuntimeError, match="a stage failed"):
        Engine(fresh, lambda p, f: reference(p, f))
    with pytest.raises(RuntimeError, match="a stage failed"):
        fresh.evaluate_many(FLOWS)


def test_a_matcher_that_raises_is_an_error(matcher_class: Any, ps: netpolicy.PolicySet) -> None:
    class Broken(matcher_class):  # type: ignore[misc, valid-type]
        def decide_v4(self, *args: Any) -> None:
            raise RuntimeError("the batch kernel failed")

        def decide_one_v4(self, *args: Any) -> Any:
            raise RuntimeError("the one-flow lookup failed")

        def decide_classes(self, *args: Any) -> Any:
            raise RuntimeError("the class lookup failed")

        def single(self, *args: Any) -> Any:
            raise RuntimeError("the one-flow path failed")

    with pytest.raises(RuntimeError, match="the one-flow path failed"):
        Engine(ps, lambda p, f: reference(p, f), Broken)

    class BrokenLookups(Broken):
        def single(self, owners: Any, other: Any, source: Any, names: Any = None) -> Any:
            return matcher_class.single(self, owners, other, source, names)

    engine = Engine(ps, lambda p, f: reference(p, f), BrokenLookups)
    with pytest.raises(RuntimeError, match="the batch kernel failed"):
        engine.evaluate_many(FLOWS)
    with pytest.raises(RuntimeError, match="the one-flow lookup failed"):
        engine.evaluate_any(FLOWS[0])
    with pytest.raises(RuntimeError, match="the class lookup failed"):
        engine.evaluate_any(FLOWS[6])  # IPv6


def test_out_of_range_classes_are_refused(matcher_class: Any, compiled: Compiled) -> None:
    matcher = matcher_class(copy.deepcopy(compiled))
    n_egress, n_ingress = compiled.n_local
    bad = [
        (n_egress, 0, -1, 0),  # an ingress class as the egress one
        (-3, 0, -1, 0),
        (-1, 0, 0, 0),  # an egress class as the ingress one
        (-1, compiled.n_peer[1], -1, 0),
        (-1, 0, -1, compiled.n_peer[0]),
        (-1, -1, -1, 0),
    ]
    for local_e, peer_s, local_i, peer_d in bad:
        with pytest.raises(ValueError):
            matcher.decide_classes(local_e, peer_s, local_i, peer_d, 0, 0)


# -- the reference evaluator -----------------------------------------------------------------


def _tampered(ps: netpolicy.PolicySet, **state: Any) -> netpolicy.PolicySet:
    """A copy of ``ps`` (no tables yet) with some of its state replaced, past the checks
    of its constructor."""
    copied: netpolicy.PolicySet = pickle.loads(pickle.dumps(ps))
    for name, value in state.items():
        object.__setattr__(copied, name, value)
    return copied


def _with_rules(ps: netpolicy.PolicySet, change: Callable[[Any], Any]) -> netpolicy.PolicySet:
    """A copy of ``ps`` with ``change`` applied to every rule of its policies and profiles."""

    def policy(p: Any) -> Any:
        return attrs.evolve(
            p,
            ingress=None if p.ingress is None else tuple(change(r) for r in p.ingress),
            egress=None if p.egress is None else tuple(change(r) for r in p.egress),
        )

    policies = tuple(policy(p) for p in ps.policies)
    profiles = {name: policy(profile) for name, profile in ps.profiles.items()}
    return _tampered(ps, _policies=policies, _all_policies=policies, _profiles=profiles)


def _every_path_raises(ps: netpolicy.PolicySet, flows: list[Flow], error: Any = Exception) -> None:
    """Every way to evaluate each flow raises: the reference, PolicySet.evaluate (the
    reference until compiled), and the tables with their fallback."""
    for flow in flows:
        with pytest.raises(error):
            reference(ps, flow)
        with pytest.raises(error):
            ps.evaluate(flow)
    with pytest.raises(error):
        Engine(ps, lambda p, f: reference(p, f)).evaluate_many(flows)
    with pytest.raises(error):
        ps.evaluate_many(flows)


def test_a_rule_match_that_raises_is_an_error(ps: netpolicy.PolicySet, monkeypatch: pytest.MonkeyPatch) -> None:
    import netpolicy.reference._direction as direction

    def broken(*args: Any) -> bool:
        raise RuntimeError("rule matching failed")

    monkeypatch.setattr(direction, "rule_matches", broken)
    fresh = pickle.loads(pickle.dumps(ps))
    unknown = netpolicy.Endpoint(labels={"app": "web"}, namespace="prod", name="other", ips=("10.0.0.9",))
    for flow in FLOWS:  # each has a policed side with policies or profiles: rules are matched
        with pytest.raises(RuntimeError, match="rule matching failed"):
            reference(fresh, flow)
        with pytest.raises(RuntimeError, match="rule matching failed"):
            fresh.evaluate(flow)
    # the tables send a hand-built endpoint to the reference: the error comes through
    engine = Engine(fresh, lambda p, f: reference(p, f))
    flow = Flow(src=unknown, dst="prod/db", protocol="TCP", dst_port=5432)
    with pytest.raises(RuntimeError, match="rule matching failed"):
        engine.evaluate(flow)
    with pytest.raises(RuntimeError, match="rule matching failed"):
        engine.evaluate_many([FLOWS[0], flow])


@pytest.mark.parametrize("action", ["Allow", None, 1, Direction.INGRESS], ids=["a string", "None", "a number", "another enum"])
def test_an_unknown_rule_action_is_an_error(ps: netpolicy.PolicySet, action: Any) -> None:
    bad = _with_rules(ps, lambda rule: attrs.evolve(rule, action=action))
    _every_path_raises(bad, FLOWS[:6], PolicyError)


def test_an_unknown_tier_default_is_an_error(ps: netpolicy.PolicySet) -> None:
    tiers = tuple(attrs.evolve(t, default_action=Action.ALLOW) if t.name == "security" else t for t in ps.tiers)
    bad = _tampered(ps, _tiers=tiers)
    # the tier's policy applies to job; the tier ends for flows its rules do not decide
    _every_path_raises(bad, [FLOWS[5]], PolicyError)


def test_a_missing_tier_is_an_error(ps: netpolicy.PolicySet) -> None:
    bad = _tampered(ps, _tiers=tuple(t for t in ps.tiers if t.name != "security"))
    _every_path_raises(bad, [FLOWS[4], FLOWS[5], FLOWS[7]], PolicyError)
