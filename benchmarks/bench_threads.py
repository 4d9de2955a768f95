"""``evaluate_many`` on one thread and on several: wall and CPU time per worker count.

    python benchmarks/bench_threads.py [--flows 10000000] [--runs 5] [--workers 1,2]
                                       [--clusters synthetic,workload]

Two clusters: ``benchmarks/synthetic.py`` medium and the second generator's medium
(``../shared/bench/gen_workload.py medium --seed 7``, generated into a temporary
directory; ``--workload-dir`` reads one already generated). The flows are random IPv4
columns (``bench_matcher.make_flows``). Each run times every worker count in turn; the
figures are the medians over the runs, with the fastest and slowest wall times beside
them, because the machine may be shared (the load average is printed before and after).
The speed-up is the median wall time on one worker over that on the most; the goal is
1.8x on 2 cores. The answers of every worker count are checked equal to one worker's.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path[:0] = [ROOT, HERE]

import numpy as np  # noqa: E402

GOAL = 1.8
GENERATOR = os.path.join(ROOT, "..", "shared", "bench", "gen_workload.py")


def synthetic_cluster() -> Any:
    import netpolicy
    import synthetic

    return netpolicy.loads(synthetic.generate("medium", 0))


def workload_cluster(directory: str | None) -> Any:
    import netpolicy

    def load(d: str) -> Any:
        return netpolicy.load(f"{d}/namespaces.yaml", f"{d}/pods.yaml", f"{d}/policies")

    if directory:
        return load(directory)
    if not os.path.exists(GENERATOR):
        raise SystemExit(f"the second generator is not at {GENERATOR}: give --workload-dir")
    with tempfile.TemporaryDirectory() as out:
        subprocess.run([sys.executable, GENERATOR, "medium", "--out", out, "--seed", "7", "--flows", "1"],
                       check=True, stdout=subprocess.DEVNULL)
        return load(os.path.join(out, "medium"))


def measure(ps: Any, n_flows: int, runs: int, workers: list[int]) -> dict[int, dict[str, Any]]:
    from bench_matcher import make_flows
    from netpolicy.engine import engine_for

    engine_for(ps)
    columns = make_flows(ps, n_flows)
    first = ps.evaluate_many(columns, workers=1)  # warm, and the answers to compare with
    want = (first.action, first.egress_decision, first.ingress_decision)
    walls: dict[int, list[float]] = {w: [] for w in workers}
    cpus: dict[int, list[float]] = {w: [] for w in workers}
    for _ in range(runs):
        for w in workers:
            wall, cpu = time.perf_counter(), time.process_time()
            result = ps.evaluate_many(columns, workers=w)
            walls[w].append(time.perf_counter() - wall)
            cpus[w].append(time.process_time() - cpu)
            got = (result.action, result.egress_decision, result.ingress_decision)
            if not all(np.array_equal(a, b) for a, b in zip(got, want)):
                raise SystemExit(f"workers={w} answered differently from workers=1")
            del result
    return {
        w: {"wall": statistics.median(walls[w]), "cpu": statistics.median(cpus[w]),
            "fastest": min(walls[w]), "slowest": max(walls[w])}
        for w in workers
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--flows", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--clusters", default="synthetic,workload")
    parser.add_argument("--workload-dir", default=None, help="a cluster gen_workload.py already wrote (its SIZE directory)")
    args = parser.parse_args()
    workers = [int(w) for w in args.workers.split(",")]
    print(f"evaluate_many, {args.flows:,} IPv4 flows as columns, medians of {args.runs} runs; "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} before")
    print(f"{'cluster':<26} {'workers':>7} {'wall s':>8} {'CPU s':>8} {'wall range s':>14} {'M flows/s':>10}")
    for name in args.clusters.split(","):
        ps = synthetic_cluster() if name == "synthetic" else workload_cluster(args.workload_dir)
        label = "synthetic.py medium" if name == "synthetic" else "gen_workload.py medium"
        found = measure(ps, args.flows, args.runs, workers)
        for w, f in found.items():
            print(f"{label:<26} {w:>7} {f['wall']:>8.3f} {f['cpu']:>8.3f} "
                  f"{f['fastest']:>6.3f}-{f['slowest']:<7.3f} {args.flows / f['wall'] / 1e6:>10.1f}")
        most = max(workers)
        ratio = found[min(workers)]["wall"] / found[most]["wall"]
        verdict = "meets" if ratio >= GOAL else "misses"
        print(f"{label:<26} speed-up {min(workers)} -> {most} workers: {ratio:.2f}x (goal >= {GOAL}x on 2 cores: {verdict})")
    print(f"load average {os.getloadavg()[0]:.2f} after")


if __name__ == "__main__":
    main()
