"""Load and compile cost as clusters grow, on two independent cluster generators.

Usage::

    python benchmarks/bench_scale.py [--sizes small,medium,large,mid] [--xlarge]
        [--gns 2000x100] [--runs N] [--generator DIR] [--timeout S]

Each figure is measured in a fresh process: the CPU time (``time.process_time``, the
machine may be shared) of ``netpolicy.load`` and of compiling the tables, and the
process's peak RSS after compiling. The clusters come from ``gen_workload.py`` (seed 7;
the directory is ``--generator``, by default ``../shared/bench`` beside the repository)
and, as the baseline measured in the same run, from ``benchmarks/synthetic.py`` at the
sizes it has (small, medium, large). ``mid`` is a fourth generated size (5,000 pods,
500 policies) so that the growth in pods and in policies can be told apart: the
exponents come from a least-squares fit of log(compile time) on log(pods) and
log(policies) over the generated sizes. ``--gns NxK`` adds N GlobalNetworkSets of K CIDRs
to the medium cluster (``variants.py gns``); its baseline is medium without them.
With ``--runs N`` every figure is the median of N processes, with the range beside it.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

#: the goals, per figure
GOAL_LARGE_S = 5.0  # load + compile of the generated large cluster
GOAL_LARGE_RSS_MIB = 250.0
GOAL_XLARGE_S = 15.0
GOAL_GNS_COMPILE_S = 5.0
GOAL_GNS_RSS_MIB = 400.0

#: generated sizes: (namespaces, pods per namespace, policies)
GENERATED = {
    "small": (10, 10, 50),
    "medium": (50, 20, 500),
    "mid": (100, 50, 500),
    "large": (100, 100, 2000),
    "xlarge": (200, 100, 5000),
}

_CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, {here!r})
import netpolicy
from netpolicy.compile import compile_policyset
kind, arg = sys.argv[1], sys.argv[2]
if kind == "synthetic":
    import synthetic
    text = synthetic.generate(arg, 0)
    t0 = time.process_time()
    ps = netpolicy.loads(text)
else:
    paths = [f"{{arg}}/namespaces.yaml", f"{{arg}}/pods.yaml", f"{{arg}}/policies"] + sys.argv[3:]
    t0 = time.process_time()
    ps = netpolicy.load(*paths)
t1 = time.process_time()
compiled = compile_policyset(ps)
t2 = time.process_time()
print(json.dumps({{"load": t1 - t0, "compile": t2 - t1, "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "pods": len(ps.endpoints), "policies": len(ps.policies), "fallback": bool(compiled.all_fallback)}}))
"""


def measure(args: list[str], runs: int, timeout: float) -> dict[str, Any] | None:
    """Runs the measurement ``runs`` times, each in a fresh process: per figure the
    list of values, or None when a run did not finish in ``timeout`` seconds."""
    found: dict[str, list[Any]] = {}
    for _ in range(runs):
        try:
            done = subprocess.run(
                [sys.executable, "-c", _CHILD.format(here=HERE), *args], capture_output=True, text=True, timeout=timeout,
                cwd=ROOT, check=True,
            )
        except subprocess.TimeoutExpired:
            return None
        except subprocess.CalledProcessError as error:
            sys.exit(f"measuring {args} failed:\n{error.stderr}")
        for key, value in json.loads(done.stdout.strip().splitlines()[-1]).items():
            found.setdefault(key, []).append(value)
    return found


def figure(values: list[float], unit: str) -> str:
    """The median, and the range when there are several runs."""
    middle = statistics.median(values)
    text = f"{middle:.2f} {unit}" if unit == "s" else f"{middle:.0f} {unit}"
    if len(values) > 1:
        text += f" ({min(values):.2f}-{max(values):.2f})" if unit == "s" else f" ({min(values):.0f}-{max(values):.0f})"
    return text


def generate(generator: str, size: str, out: str, seed: int) -> str:
    ns, pods, policies = GENERATED[size]
    subprocess.run(
        [sys.executable, os.path.join(generator, "gen_workload.py"), "custom", "--ns", str(ns), "--pods", str(pods),
         "--policies", str(policies), "--out", out, "--name", size, "--seed", str(seed), "--flows", "100"],
        check=True, capture_output=True,
    )
    return os.path.join(out, size)


def growth(rows: list[tuple[int, int, float]]) -> tuple[float, float] | None:
    """Exponents (b, c) of compile ~ pods^b x policies^c, fitted by least squares."""
    import numpy as np

    if len(rows) < 3:
        return None
    a = np.array([[1.0, math.log(p), math.log(k)] for p, k, _ in rows])
    y = np.array([math.log(max(t, 1e-3)) for _, _, t in rows])
    coef = np.linalg.lstsq(a, y, rcond=None)[0]
    return float(coef[1]), float(coef[2])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="small,medium,mid,large")
    parser.add_argument("--xlarge", action="store_true", help="also 20,000 pods and 5,000 policies")
    parser.add_argument("--gns", default="2000x100", help="NxK network sets on medium; 'none' to skip")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per process")
    parser.add_argument("--generator", default=os.path.join(ROOT, "..", "shared", "bench"))
    args = parser.parse_args()
    if not os.path.exists(os.path.join(args.generator, "gen_workload.py")):
        sys.exit(f"gen_workload.py not found in {args.generator} (see --generator)")
    sizes = [s for s in args.sizes.split(",") if s] + (["xlarge"] if args.xlarge else [])
    results: dict[str, dict[str, Any] | None] = {}
    baseline: dict[str, dict[str, Any] | None] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            where = generate(args.generator, size, tmp, args.seed)
            results[size] = measure(["dir", where], args.runs, args.timeout)
            if size in ("small", "medium", "large"):
                baseline[size] = measure(["synthetic", size], args.runs, args.timeout)
        gns = None
        if args.gns != "none":
            n, k = args.gns.split("x")
            medium = os.path.join(tmp, "medium") if "medium" in sizes else generate(args.generator, "medium", tmp, args.seed)
            if "medium" not in results:
                results["medium"] = measure(["dir", medium], args.runs, args.timeout)
            out = os.path.join(tmp, "gns")
            subprocess.run([sys.executable, os.path.join(args.generator, "variants.py"), "gns", medium, out, n, k],
                           check=True, capture_output=True)
            gns = measure(["dir", out, os.path.join(out, "extra")], args.runs, args.timeout)

    def cells(found: dict[str, Any] | None) -> str:
        if found is None:
            return f"did not finish in {args.timeout:.0f} s"
        return (f"load {figure(found['load'], 's')}, compile {figure(found['compile'], 's')}, "
                f"peak RSS {figure(found['rss'], 'MiB')}" + (", all flows to the reference" if found["fallback"][0] else ""))

    print(f"generated clusters (gen_workload.py, seed {args.seed}); baseline: synthetic.py at the same size")
    for size in results:
        found = results[size]
        shape = GENERATED[size]
        pods, policies = (found["pods"][0], found["policies"][0]) if found else (shape[0] * shape[1], shape[2])
        print(f"  {size:7s} {pods:6d} pods {policies:5d} policies: {cells(found)}")
        if size == "large" and found is not None:
            total = [a + b for a, b in zip(found["load"], found["compile"])]
            print(f"          load + compile {figure(total, 's')} (goal <= {GOAL_LARGE_S:.0f} s), "
                  f"peak RSS {figure(found['rss'], 'MiB')} (goal <= {GOAL_LARGE_RSS_MIB:.0f} MiB)")
        if size == "xlarge" and found is not None:
            total = [a + b for a, b in zip(found["load"], found["compile"])]
            print(f"          load + compile {figure(total, 's')} (goal <= {GOAL_XLARGE_S:.0f} s)")
        if size in baseline:
            print(f"          baseline synthetic.py {size}: {cells(baseline[size])}")
    fit = growth([(r["pods"][0], r["policies"][0], statistics.median(r["compile"])) for r in results.values() if r])
    if fit is not None:
        print(f"compile growth ~ pods^{fit[0]:.2f} x policies^{fit[1]:.2f} over {len(results)} sizes (goal: near 1 each)")
    if args.gns != "none":
        print(f"medium + {args.gns} GlobalNetworkSets: {cells(gns)} "
              f"(goal: compile <= {GOAL_GNS_COMPILE_S:.0f} s, peak RSS <= {GOAL_GNS_RSS_MIB:.0f} MiB); "
              f"baseline medium: {cells(results.get('medium'))}")


if __name__ == "__main__":
    main()
