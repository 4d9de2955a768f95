"""Load + normalize time and peak memory for the synthetic cluster.

Usage::

    python benchmarks/bench_load.py [small|medium|large] [--runs N] [--profile]

Prints the median wall time of ``netpolicy.loads`` over N runs (parsing, validation and
normalization; the text is generated beforehand), the process's peak RSS after the first
load (imports and the text included, as the library-wide memory budget counts it) and
the peak memory of one load measured with tracemalloc in a separate run, so it does not
slow the timed ones. Targets for ``large``: loading at most 1.5 s (load + compile share
5 s) and a peak RSS after loading of at most 110 MiB (the whole process, compiled tables
included, has 150 MiB).
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
import tracemalloc

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import netpolicy  # noqa: E402
import synthetic  # noqa: E402

TARGET_SECONDS = 1.5
TARGET_RSS_MIB = 110.0


def _max_rss() -> float | None:
    """Peak resident set size of this process so far, in MiB (None where unknown)."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not on this platform
        return None
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("size", nargs="?", default="large", choices=sorted(synthetic.SIZES))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--profile", action="store_true", help="print a cProfile summary of one load")
    args = parser.parse_args()

    text = synthetic.generate(args.size, args.seed)
    shape = synthetic.SIZES[args.size]
    print(
        f"{args.size}: {shape.namespaces} namespaces x {shape.pods_per_namespace} pods, "
        f"{shape.policies} policies, {len(text) / 1e6:.1f} MB of YAML; yaml C loader: "
        f"{getattr(__import__('yaml'), '__with_libyaml__', False)}"
    )

    rss_before = _max_rss()
    times, cpu = [], []
    for run in range(args.runs):
        gc.collect()
        start, start_cpu = time.perf_counter(), time.process_time()
        ps = netpolicy.loads(text)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        del ps
        if run == 0:
            rss_after = _max_rss()
            rss_growth = rss_after - rss_before if rss_after is not None and rss_before is not None else None
    median = statistics.median(times)
    print(
        f"load+normalize: median {median:.2f} s wall, {statistics.median(cpu):.2f} s CPU over {args.runs} runs "
        f"(wall {', '.join(f'{t:.2f}' for t in times)}; load average {os.getloadavg()[0]:.1f})"
    )

    gc.collect()
    tracemalloc.start()
    ps = netpolicy.loads(text)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    peak_mib = peak / 2**20
    print(f"peak memory (tracemalloc, text excluded): {peak_mib:.0f} MiB; result: {ps!r}")
    if rss_growth is not None:
        print(f"process peak RSS after the first load: {rss_after:.0f} MiB ({rss_before:.0f} MiB before it: imports and the text; the load added {rss_growth:.0f} MiB)")

    if args.profile:
        import cProfile
        import pstats

        profile = cProfile.Profile()
        profile.runcall(netpolicy.loads, text)
        pstats.Stats(profile).sort_stats("cumulative").print_stats(25)

    if args.size == "large":
        cpu_median = statistics.median(cpu)
        memory = "unknown" if rss_after is None else ("met" if rss_after <= TARGET_RSS_MIB else "NOT met")
        print(
            f"targets: load <= {TARGET_SECONDS:.1f} s: wall {'met' if median <= TARGET_SECONDS else 'NOT met'}, "
            f"CPU {'met' if cpu_median <= TARGET_SECONDS else 'NOT met'} (wall time counts waiting for a busy "
            f"CPU); peak RSS after load <= {TARGET_RSS_MIB:.0f} MiB: {memory}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
