"""Selector benchmark: cold parse, memoised parse and match time for typical selectors.

Run from the repository root: ``python benchmarks/bench_selector.py [--repeat N]``.
Figures are medians over repeats. Calico's Go parser takes about 0.4-1.8 us cold and its
evaluator 1-27 ns per match; the last lines compare against those ranges.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import timeit

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from netpolicy.selector import Selector  # noqa: E402

SELECTORS = [
    "app == 'web'",
    "app == 'web' && tier in {'frontend', 'backend'}",
    "has(projectcalico.org/namespace) && !has(legacy)",
    "projectcalico.org/namespace == 'prod' && (role in {'db', 'cache'} || env != 'dev')",
    "pcns.team starts with 'pay' && version not in {'v1', 'v2'}",
    "k8s-app contains 'dns' || app ends with '-api' || !(tier == 'edge')",
    "all()",
]

LABELS = {
    "app": "web",
    "tier": "frontend",
    "env": "prod",
    "role": "db",
    "version": "v3",
    "projectcalico.org/namespace": "prod",
    "pcns.team": "payments",
}

GO_COLD_US = (0.4, 1.8)
GO_MATCH_NS = (1.0, 27.0)


def median_per_call(timer: timeit.Timer, number: int, repeat: int) -> float:
    return statistics.median(t / number for t in timer.repeat(repeat=repeat, number=number))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    memo = Selector._memo

    rows = []
    for text in SELECTORS:
        cold = median_per_call(
            timeit.Timer("pop(t, None); parse(t)", globals={"pop": memo.pop, "parse": Selector.parse, "t": text}),
            number=2000,
            repeat=args.repeat,
        )
        pop_only = median_per_call(
            timeit.Timer("pop(t, None)", globals={"pop": memo.pop, "t": text}), number=2000, repeat=args.repeat
        )
        sel = Selector.parse(text)
        warm = median_per_call(
            timeit.Timer("parse(t)", globals={"parse": Selector.parse, "t": text}), number=200_000, repeat=args.repeat
        )
        sel.matches(LABELS)  # compile once
        match = median_per_call(
            timeit.Timer("m(L)", globals={"m": sel.matches, "L": LABELS}), number=200_000, repeat=args.repeat
        )
        raw = median_per_call(
            timeit.Timer("m(L)", globals={"m": sel.matcher, "L": LABELS}), number=200_000, repeat=args.repeat
        )
        rows.append((str(sel), (cold - pop_only) * 1e6, warm * 1e9, match * 1e9, raw * 1e9, sel.matches(LABELS)))

    print(f"{'selector (canonical)':<72} {'cold us':>8} {'memo ns':>8} {'match ns':>9} {'matcher ns':>10}  result")
    for text, cold, warm, match, raw, result in rows:
        shown = text if len(text) <= 72 else text[:69] + "..."
        print(f"{shown:<72} {cold:8.1f} {warm:8.0f} {match:9.0f} {raw:10.0f}  {result}")

    # Calibration: this machine's cost of the cheapest Python label read.
    floor = median_per_call(
        timeit.Timer("g('app') == 'web'", globals={"g": LABELS.get}), number=200_000, repeat=args.repeat
    )
    colds = [r[1] for r in rows]
    matches = [r[3] for r in rows]
    raws = [r[4] for r in rows]
    print()
    print(
        f"cold parse: {min(colds):.1f}-{max(colds):.1f} us vs Calico Go {GO_COLD_US[0]}-{GO_COLD_US[1]} us: "
        f"{min(colds) / GO_COLD_US[0]:.0f}x-{max(colds) / GO_COLD_US[1]:.0f}x slower (min/min, max/max)"
    )
    print(
        f"match (sel.matches): {min(matches):.0f}-{max(matches):.0f} ns vs Calico Go "
        f"{GO_MATCH_NS[0]:.0f}-{GO_MATCH_NS[1]:.0f} ns: {min(matches) / GO_MATCH_NS[0]:.0f}x-"
        f"{max(matches) / GO_MATCH_NS[1]:.0f}x slower; via sel.matcher {min(raws):.0f}-{max(raws):.0f} ns"
    )
    print(f"calibration: one inline dict.get + compare on this machine takes {floor * 1e9:.0f} ns")


if __name__ == "__main__":
    main()
