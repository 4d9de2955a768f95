"""Benchmarks of the compiled matcher, one command, one table of figures and ratios.

    python benchmarks/bench_matcher.py [--sizes small,medium,large] [--flows 1000000]

Per synthetic cluster size (``benchmarks/synthetic.py``): load (YAML to PolicySet) and
compile (tables) time and peak memory (each size in a fresh process), the median single
``evaluate`` latency on the tables and with the reference evaluator, ``evaluate_many``
throughput for each matcher twin on random flows (80% pod to pod, 10% pod to external,
10% external to pod; mostly TCP, some UDP and ICMP), the reachability matrix time among
all pods for one port, and a naive baseline (for each flow, every policy in order with
parsed selectors). Every batch is checked against the reference on a sample.
"""

from __future__ import annotations

import argparse
import gc
import ipaddress
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path[:0] = [ROOT, HERE]

import numpy as np  # noqa: E402

PORTS = np.array([80, 443, 8080, 5432, 6379, 9090, 9050, 22, 3000], np.int32)


def make_flows(ps: Any, n: int, seed: int = 1) -> dict[str, np.ndarray]:
    """Random flows as columns (see the module docstring)."""
    rng = np.random.default_rng(seed)
    pods = np.array([int(ip) for e in ps.endpoints for ip in e.ips if ip.version == 4], np.uint32)
    external = rng.integers(int(ipaddress.IPv4Address("11.0.0.0")), int(ipaddress.IPv4Address("223.0.0.0")), n, dtype=np.uint64).astype(np.uint32)
    kind = rng.random(n)
    src = pods[rng.integers(0, len(pods), n)]
    dst = pods[rng.integers(0, len(pods), n)]
    src = np.where(kind >= 0.9, external, src)  # external -> pod
    dst = np.where((kind >= 0.8) & (kind < 0.9), external, dst)  # pod -> external
    what = rng.random(n)
    protocol = np.where(what < 0.85, 6, np.where(what < 0.95, 17, 1)).astype(np.uint8)
    port = np.where(protocol == 17, np.where(rng.random(n) < 0.7, 53, 5353), PORTS[rng.integers(0, len(PORTS), n)]).astype(np.int32)
    port = np.where(protocol == 1, 0, port).astype(np.int32)
    icmp_type = np.where(protocol == 1, 8, -1).astype(np.int16)
    return {"src": src, "dst": dst, "protocol": protocol, "dst_port": port, "icmp_type": icmp_type}


def flow_objects(columns: dict[str, np.ndarray], count: int) -> list[Any]:
    from netpolicy import Flow

    out = []
    for k in range(count):
        protocol = int(columns["protocol"][k])
        port = int(columns["dst_port"][k]) or None
        icmp = int(columns["icmp_type"][k])
        out.append(
            Flow(
                ipaddress.IPv4Address(int(columns["src"][k])), ipaddress.IPv4Address(int(columns["dst"][k])), protocol,
                port, icmp_type=icmp if icmp >= 0 else None,
            )
        )
    return out


def naive(ps: Any, flow: Any) -> bool:
    """The naive baseline: every policy in order with parsed selectors, per flow."""
    from netpolicy.resolve.index import index_of
    from netpolicy.reference._match import rule_matches
    from netpolicy.reference._packet import resolve
    from netpolicy.model import Action, Direction

    index = index_of(ps)
    packet = resolve(index, flow)

    def side(endpoint: Any, direction: Any) -> bool:
        labels = ps._labels_of(endpoint)
        tier_name, tier_hit, passed = None, False, False
        for policy in ps.policies:
            if policy.tier != tier_name:
                if tier_hit and not passed and ps.tier(tier_name).default_action is Action.DENY:
                    return False
                tier_name, tier_hit, passed = policy.tier, False, False
            if passed or policy.rules(direction) is None or not policy.selector.matches(labels):
                continue
            tier_hit = True
            for rule in policy.rules(direction):
                if rule_matches(rule, packet, index):
                    if rule.action is Action.ALLOW:
                        return True
                    if rule.action is Action.DENY:
                        return False
                    if rule.action is Action.PASS:
                        passed = True
                        break
        if tier_hit and not passed and ps.tier(tier_name).default_action is Action.DENY:
            return False
        return True  # profiles: kns.<ns> allows

    ok = True
    if packet.src.endpoint is not None:
        ok = side(packet.src.endpoint, Direction.EGRESS)
    if packet.dst.endpoint is not None:
        ok = side(packet.dst.endpoint, Direction.INGRESS) and ok
    return ok


def median_latency(fn: Any, items: list[Any], rounds: int = 5) -> float:
    """Median seconds per call, timing chunks of 100 calls."""
    samples = []
    for _ in range(rounds):
        for start in range(0, len(items) - 99, 100):
            chunk = items[start : start + 100]
            t = time.perf_counter()
            for item in chunk:
                fn(item)
            samples.append((time.perf_counter() - t) / len(chunk))
    return statistics.median(samples)


def best_of(fn: Any, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def measure_load(size: str) -> dict[str, float]:
    """In this (fresh) process: load and compile times and the peak memory."""
    import synthetic

    import netpolicy
    from netpolicy.engine import Engine
    from netpolicy.reference import evaluate as reference

    text = synthetic.generate(size, 0)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t = time.perf_counter()
    ps = netpolicy.loads(text)
    loaded = time.perf_counter() - t
    del text
    gc.collect()
    after_load = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t = time.perf_counter()
    engine = Engine(ps, reference)
    compiled = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "load_s": loaded, "compile_s": compiled, "peak_mib": peak, "peak_load_mib": after_load,
        "start_mib": base, "tables_mib": engine.compiled.nbytes / 2**20,
    }


def measure_speed(size: str, n_flows: int, n_pure: int) -> dict[str, Any]:
    import synthetic

    import netpolicy
    from netpolicy import _fastmatch_py
    from netpolicy.engine import Engine
    from netpolicy.reference import evaluate as reference

    ps = netpolicy.loads(synthetic.generate(size, 0))
    engine = Engine(ps, reference)
    out: dict[str, Any] = {"implementation": netpolicy.IMPLEMENTATION, "endpoints": len(ps.endpoints), "policies": len(ps.policies)}
    columns = make_flows(ps, n_flows)
    twins: dict[str, Any] = {}
    try:  # the compiled twin first: the pure twin's large temporaries would slow what follows
        from netpolicy import _fastmatch

        twins["cython"] = _fastmatch.Matcher
    except ImportError:
        pass
    twins["python"] = _fastmatch_py.Matcher
    sample = flow_objects(columns, 2000)
    expected = [reference(ps, f) for f in sample]
    for name, cls in twins.items():
        engine.use_matcher(cls)
        count = n_flows if name == "cython" else min(n_flows, n_pure)
        part = {k: v[:count] for k, v in columns.items()}
        elapsed = best_of(lambda: engine.evaluate_many(part))
        out[f"batch_{name}_per_s"] = count / elapsed
        # the kernel alone, on prepared arrays
        from netpolicy.engine import _columns

        cols = _columns(engine, part)
        code = np.empty(count, np.uint8)
        eg = np.empty(count, np.int32)
        ing = np.empty(count, np.int32)
        kernel = best_of(lambda: engine.matcher.decide_v4(cols.src4, cols.dst4, cols.key, cols.skey, code, eg, ing))
        out[f"kernel_{name}_per_s"] = count / kernel
        result = engine.evaluate_many({k: v[:2000] for k, v in columns.items()})
        out[f"mismatch_{name}"] = int(sum(bool(a) != v.allowed for a, v in zip(result.allowed, expected)))
        # the public call, PolicySet.evaluate, on this engine
        object.__setattr__(ps, "_engine", engine)
        median_latency(ps.evaluate, sample, rounds=2)  # warm up: decisions are made on first use
        out[f"single_{name}_s"] = median_latency(ps.evaluate, sample)
        out[f"single_equal_{name}"] = all(ps.evaluate(f) == v for f, v in zip(sample[:500], expected[:500]))
        t = time.perf_counter()
        from netpolicy.matrix import reachability

        m = reachability(engine, "TCP", 80)
        out[f"matrix_{name}_s"] = time.perf_counter() - t
        out["matrix_n"] = len(m.sources)
        out["allowed_share"] = float(result.allowed.mean())
    out["single_reference_s"] = median_latency(lambda f: reference(ps, f), sample[:300], rounds=1)
    few = sample[:200]
    t = time.perf_counter()
    naive_allowed = [naive(ps, f) for f in few]
    out["naive_per_s"] = len(few) / (time.perf_counter() - t)
    out["naive_mismatch"] = int(sum(a != v.allowed for a, v in zip(naive_allowed, expected)))
    return out


def _child(kind: str, size: str, *args: str) -> dict[str, Any]:
    cmd = [sys.executable, os.path.abspath(__file__), "--child", kind, "--sizes", size, *args]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"benchmark child {kind} {size} failed")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="small,medium,large")
    parser.add_argument("--flows", type=int, default=1_000_000)
    parser.add_argument("--pure-flows", type=int, default=1_000_000)
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = args.sizes.split(",")
    if args.child == "load":
        print(json.dumps(measure_load(sizes[0])))
        return
    if args.child == "speed":
        print(json.dumps(measure_speed(sizes[0], args.flows, args.pure_flows)))
        return
    rows = []
    for size in sizes:
        load = _child("load", size)
        speed = _child("speed", size, "--flows", str(args.flows), "--pure-flows", str(args.pure_flows))
        rows.append((size, load, speed))
        print(f"{size}: done", file=sys.stderr)
    report(rows, args.flows)


def report(rows: list[tuple[str, dict[str, Any], dict[str, Any]]], n_flows: int) -> None:
    def fmt_rate(x: float | None) -> str:
        if x is None:
            return "-"
        return f"{x / 1e6:.2f} M/s" if x >= 1e6 else f"{x / 1e3:.1f} k/s"

    def fmt_time(x: float | None) -> str:
        if x is None:
            return "-"
        return f"{x * 1e6:.2f} µs" if x < 1e-3 else f"{x * 1e3:.1f} ms" if x < 1 else f"{x:.2f} s"

    lines = [
        f"matcher loaded: {rows[0][2]['implementation']}; {n_flows:,} random flows per size; "
        "single latency = median of 100-call chunks, after two warm-up passes over the 2,000 sampled flows",
        "",
    ]
    header = ["figure"] + [f"{size} ({s['endpoints']} pods, {s['policies']} pol.)" for size, _, s in rows]
    table: list[list[str]] = []

    def row(name: str, values: list[str]) -> None:
        table.append([name, *values])

    row("load (YAML -> PolicySet)", [fmt_time(l["load_s"]) for _, l, _ in rows])
    row("compile (tables)", [fmt_time(l["compile_s"]) for _, l, _ in rows])
    row("load + compile", [fmt_time(l["load_s"] + l["compile_s"]) for _, l, _ in rows])
    row("peak RSS after load", [f"{l['peak_load_mib']:.0f} MiB" for _, l, _ in rows])
    row("peak RSS after compile", [f"{l['peak_mib']:.0f} MiB" for _, l, _ in rows])
    row("tables size", [f"{l['tables_mib']:.1f} MiB" for _, l, _ in rows])
    for twin in ("cython", "python"):
        if f"batch_{twin}_per_s" not in rows[0][2]:
            continue
        row(f"evaluate_many, {twin} twin", [fmt_rate(s.get(f"batch_{twin}_per_s")) for _, _, s in rows])
        row(f"  kernel only, {twin}", [fmt_rate(s.get(f"kernel_{twin}_per_s")) for _, _, s in rows])
        row(f"single PolicySet.evaluate, {twin}", [fmt_time(s.get(f"single_{twin}_s")) for _, _, s in rows])
        row(f"matrix TCP/80, {twin}", [f"{fmt_time(s.get(f'matrix_{twin}_s'))} ({s['matrix_n']}²)" for _, _, s in rows])
        row(f"mismatches vs reference, {twin}", [f"{s.get(f'mismatch_{twin}')}/2000, verdicts equal: {s.get(f'single_equal_{twin}')}" for _, _, s in rows])
    row("single evaluate, reference", [fmt_time(s["single_reference_s"]) for _, _, s in rows])
    row("naive baseline", [f"{fmt_rate(s['naive_per_s'])} ({s['naive_mismatch']} off)" for _, _, s in rows])
    best = "cython" if "batch_cython_per_s" in rows[0][2] else "python"
    row(f"ratio batch {best} / naive", [f"{s[f'batch_{best}_per_s'] / s['naive_per_s']:,.0f}x" for _, _, s in rows])
    row(f"ratio batch {best} / reference", [f"{s[f'batch_{best}_per_s'] * s['single_reference_s']:,.0f}x" for _, _, s in rows])
    row(f"ratio single reference / {best}", [f"{s['single_reference_s'] / s[f'single_{best}_s']:,.0f}x" for _, _, s in rows])
    row("allowed share of flows", [f"{s['allowed_share']:.0%}" for _, _, s in rows])
    widths = [max(len(r[i]) for r in [header, *table]) for i in range(len(header))]
    lines.append("  ".join(h.ljust(w) for h, w in zip(header, widths)))
    lines.append("  ".join("-" * w for w in widths))
    lines.extend("  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in table)
    lines.extend(targets(rows))
    print("\n".join(lines))


def targets(rows: list[tuple[str, dict[str, Any], dict[str, Any]]]) -> list[str]:
    """The targets of the large cluster (and the medium matrix), met or not, in this run."""
    by_size = {size: (load, speed) for size, load, speed in rows}
    checks: list[tuple[str, str, bool]] = []
    if "large" in by_size:
        load, speed = by_size["large"]
        checks += [
            ("compiled batch (evaluate_many) >= 50 M flows/s", f"{speed.get('batch_cython_per_s', 0) / 1e6:.1f} M/s", speed.get("batch_cython_per_s", 0) >= 50e6),
            ("compiled kernel alone >= 50 M flows/s", f"{speed.get('kernel_cython_per_s', 0) / 1e6:.1f} M/s", speed.get("kernel_cython_per_s", 0) >= 50e6),
            ("single evaluate <= 1 us (median)", f"{speed.get('single_cython_s', speed['single_python_s']) * 1e6:.2f} us", speed.get("single_cython_s", speed["single_python_s"]) <= 1e-6),
            ("pure-Python batch >= 1 M flows/s", f"{speed['batch_python_per_s'] / 1e6:.2f} M/s", speed["batch_python_per_s"] >= 1e6),
            ("load + compile <= 5 s", f"{load['load_s'] + load['compile_s']:.2f} s", load["load_s"] + load["compile_s"] <= 5),
            ("peak memory <= 150 MiB", f"{load['peak_mib']:.0f} MiB", load["peak_mib"] <= 150),
            ("matrix, large <= 10 s", f"{speed.get('matrix_cython_s', speed['matrix_python_s']):.2f} s", speed.get("matrix_cython_s", speed["matrix_python_s"]) <= 10),
        ]
    if "medium" in by_size:
        speed = by_size["medium"][1]
        checks.append(("matrix, medium <= 1 s", f"{speed.get('matrix_cython_s', speed['matrix_python_s']):.2f} s", speed.get("matrix_cython_s", speed["matrix_python_s"]) <= 1))
    if not checks:
        return []
    width = max(len(name) for name, _, _ in checks)
    return ["", "targets (one run; the machine is shared, so read medians of several runs):"] + [
        f"  {'met ' if ok else 'MISS'}  {name.ljust(width)}  {value}" for name, value, ok in checks
    ]


if __name__ == "__main__":
    main()
