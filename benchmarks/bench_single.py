"""One flow from strings: ``ps.evaluate(Flow(src="ns/pod", dst="10.0.0.1", protocol="TCP",
dst_port=80))``, warm, and what it is made of.

    python benchmarks/bench_single.py [--rounds 15] [--clusters synthetic,workload]

On ``benchmarks/synthetic.py`` medium and the second generator's medium (see
``bench_threads.py``), over 1,000 distinct flows from a pod (by name) to another pod's
address (as text), each figure is the median over rounds of the time per call (each
round calls once per flow), in microseconds:

- strings: ``ps.evaluate(Flow(...))`` from text, the goal (<= 2 us);
- Flow(): building the Flow alone; evaluate: deciding a Flow built already;
- addresses: ``ps.evaluate`` on a Flow between two IPv4Address values, the table lookup
  (goal <= 1 us);
- baseline: the same from strings with nothing remembered, as it was before names and
  texts were remembered (the Flow's text parsed each time, names resolved each time).
"""

from __future__ import annotations

import argparse
import ipaddress
import statistics
import sys
import time
from typing import Any, Callable

from bench_threads import synthetic_cluster, workload_cluster

GOAL_STRINGS = 2.0
GOAL_LOOKUP = 1.0


def per_call(fn: Callable[[Any], Any], items: list[Any], rounds: int) -> float:
    """Median microseconds per call over ``rounds`` rounds of one call per item."""
    samples = []
    for _ in range(rounds):
        t = time.perf_counter()
        for item in items:
            fn(item)
        samples.append((time.perf_counter() - t) / len(items) * 1e6)
    return statistics.median(samples)


def measure(ps: Any, rounds: int) -> dict[str, float]:
    from netpolicy import Flow
    from netpolicy import flow as flow_module
    from netpolicy.engine import engine_for

    engine = engine_for(ps)
    pods = [(e.key, ip) for e in ps.endpoints for ip in e.ips[:1] if ip.version == 4]
    step = max(1, len(pods) // 1000)
    texts = [(pods[k][0], str(pods[(k * 7 + 3) % len(pods)][1])) for k in range(0, len(pods), step)][:1000]
    flows = [Flow(src, dst, "TCP", 80) for src, dst in texts]
    addressed = [Flow(ipaddress.IPv4Address(ps.endpoint(src).ips[0]), ipaddress.IPv4Address(dst), 6, 80) for src, dst in texts]
    for flow in flows:  # warm: names resolved once, as a long-running caller has them
        if ps.evaluate(flow) != engine.reference(flow):
            raise SystemExit(f"{flow}: the tables and the reference disagree")
    evaluate = ps.evaluate

    def forgetting(item: tuple[str, str]) -> Any:
        flow_module._SIDES.clear()
        flow_module._PROTOCOLS.clear()
        return engine.evaluate_any(Flow(item[0], item[1], "TCP", 80))

    return {
        "strings": per_call(lambda t: evaluate(Flow(src=t[0], dst=t[1], protocol="TCP", dst_port=80)), texts, rounds),
        "Flow()": per_call(lambda t: Flow(src=t[0], dst=t[1], protocol="TCP", dst_port=80), texts, rounds),
        "evaluate": per_call(evaluate, flows, rounds),
        "addresses": per_call(evaluate, addressed, rounds),
        "baseline": per_call(forgetting, texts, rounds),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--clusters", default="synthetic,workload")
    parser.add_argument("--workload-dir", default=None, help="a cluster gen_workload.py already wrote (its SIZE directory)")
    args = parser.parse_args()
    print(f"one flow, warm, median us per call over {args.rounds} rounds of 1,000 distinct flows")
    print(f"{'cluster':<24} {'strings':>8} {'Flow()':>8} {'evaluate':>9} {'addresses':>10} {'baseline':>9}  goals")
    for name in args.clusters.split(","):
        ps = synthetic_cluster() if name == "synthetic" else workload_cluster(args.workload_dir)
        label = "synthetic.py medium" if name == "synthetic" else "gen_workload.py medium"
        f = measure(ps, args.rounds)
        ok = "meets" if f["strings"] <= GOAL_STRINGS else "misses"
        ok_lookup = "meets" if f["addresses"] <= GOAL_LOOKUP else "misses"
        print(f"{label:<24} {f['strings']:>8.2f} {f['Flow()']:>8.2f} {f['evaluate']:>9.2f} {f['addresses']:>10.2f} "
              f"{f['baseline']:>9.2f}  strings <= {GOAL_STRINGS} us: {ok}; addresses <= {GOAL_LOOKUP} us: {ok_lookup}; "
              f"{f['baseline'] / f['strings']:.1f}x faster than the baseline")


if __name__ == "__main__":
    sys.exit(main())
