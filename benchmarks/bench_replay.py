"""Text addresses and ``netpolicy replay``, each figure beside its goal and beside the
previous path measured in the same run, on the medium cluster of benchmarks/synthetic.py
and on the medium cluster of the second generator (../shared/bench/gen_workload.py).

    python benchmarks/bench_replay.py [--flows 2000000] [--replay-flows 2000000] [--old-flows 200000] [--runs 3]

* ``evaluate_many`` with IPv4 addresses as text columns (object arrays of ``str``):
  pods' addresses (few distinct values) and random addresses (all distinct). The previous
  path parses value by value (``ipaddress``, a cache of distinct values). Goal 5 M flows/s.
* ``netpolicy replay`` of a Parquet and a CSV file of ``--replay-flows`` flows between
  pods (named ``namespace/pod`` or by address) and external addresses, whole process
  (load, compile, read, decide, write the records to /dev/null). The previous path,
  record by record, runs on ``--old-flows`` of them. Goals: Parquet 1 M flows/s, CSV 300 k.

CPU time (the machine may be shared), median of ``--runs``.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any, Callable

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
GENERATOR = os.path.join(ROOT, "..", "shared", "bench", "gen_workload.py")
sys.path[:0] = [ROOT, HERE]

import numpy as np  # noqa: E402

import netpolicy  # noqa: E402
from netpolicy.engine import columns  # noqa: E402
from synthetic import generate  # noqa: E402

_OLD = """
import sys
from netpolicy.cli import _replaystream
from netpolicy.cli.main import cli
_replaystream.replay_streaming = lambda *a, **k: None
sys.argv = ["netpolicy", *sys.argv[1:]]
cli()
"""


def _cpu(call: Callable[[], Any]) -> float:
    start = time.process_time()
    call()
    return time.process_time() - start


def _median(values: list[float]) -> float:
    return statistics.median(values)


def _clusters(tmp: str) -> dict[str, tuple[list[str], Any]]:
    """name: (manifest paths for -f, PolicySet)."""
    out = {}
    synthetic = os.path.join(tmp, "synthetic.yaml")
    with open(synthetic, "w") as handle:
        handle.write(generate("medium", 0))
    out["synthetic medium"] = ([synthetic], netpolicy.load(synthetic))
    if os.path.exists(GENERATOR):
        subprocess.run([sys.executable, GENERATOR, "medium", "--out", tmp, "--seed", "7", "--flows", "10"],
                       check=True, capture_output=True)
        d = os.path.join(tmp, "medium")
        paths = [f"{d}/namespaces.yaml", f"{d}/pods.yaml", f"{d}/policies"]
        out["gen_workload medium"] = (paths, netpolicy.load(*paths))
    return out


def _pods(ps: Any) -> list[Any]:
    return [e for e in ps.endpoints if e.namespace and e.ips and not e.is_host and any(ip.version == 4 for ip in e.ips)]


def text_columns(ps: Any, flows: int, runs: int) -> None:
    rng = np.random.default_rng(0)
    ips = [str(next(ip for ip in e.ips if ip.version == 4)) for e in _pods(ps)]
    port = rng.choice([80, 443, 8080, 5432], flows).astype(np.uint16)
    kinds = {
        "pods' addresses": [np.array(ips, object)[rng.integers(len(ips), size=flows)] for _ in range(2)],
        "random addresses": [np.array([f"10.{a >> 16}.{(a >> 8) & 255}.{a & 255}" for a in
                                       rng.integers(0, 1 << 24, flows).tolist()], object) for _ in range(2)],
    }
    fast_all, fast_some = columns.all_v4, columns.some_v4
    for kind, (src, dst) in kinds.items():
        data = {"src": src, "dst": dst, "dst_port": port}
        ps.evaluate_many({k: v[:10] for k, v in data.items()})  # compiled
        new = _median([_cpu(lambda: ps.evaluate_many(data)) for _ in range(runs)])
        try:
            columns.all_v4 = lambda values: None  # type: ignore[assignment]
            columns.some_v4 = lambda values: (np.zeros(len(values), np.bool_), np.zeros(len(values), np.uint32))  # type: ignore[assignment]
            old = _median([_cpu(lambda: ps.evaluate_many(data)) for _ in range(max(1, runs // 2))])
        finally:
            columns.all_v4, columns.some_v4 = fast_all, fast_some
        print(f"  text columns, {kind:<16} {flows / new / 1e6:6.2f} M flows/s (goal 5 M; previous path "
              f"{flows / old / 1e6:.2f} M, {old / new:.1f}x)")


def _write_flows(ps: Any, n: int, tmp: str) -> tuple[str, str]:
    import pyarrow as pa
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    rng = np.random.default_rng(1)
    pods = _pods(ps)
    sides = [e.key for e in pods] + [str(next(ip for ip in e.ips if ip.version == 4)) for e in pods]
    sides += ["8.8.8.8", "1.1.1.1", "192.0.2.7"]
    pool = np.array(sides, object)
    table = pa.table({
        "src": pool[rng.integers(len(pool), size=n)], "dst": pool[rng.integers(len(pool), size=n)],
        "protocol": np.array(["TCP", "UDP"], object)[rng.integers(2, size=n)],
        "dst_port": rng.choice([53, 80, 443, 5432, 8080], n).astype(np.int64),
    })
    parquet, csv_path = os.path.join(tmp, f"flows{n}.parquet"), os.path.join(tmp, f"flows{n}.csv")
    pq.write_table(table, parquet)
    pcsv.write_csv(table, csv_path, pcsv.WriteOptions(quoting_style="none"))
    return parquet, csv_path


def _process(args: list[str], old: bool) -> tuple[float, int]:
    """(CPU seconds, peak RSS KiB) of one replay process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    cmd = [sys.executable, "-c", _OLD, *args] if old else [sys.executable, "-m", "netpolicy", *args]
    with open(os.devnull, "w") as null:
        done = subprocess.run(cmd, stdout=null, stderr=subprocess.PIPE, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"replay failed: {done.stderr[-2000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), after.ru_maxrss


def replay(paths: list[str], ps: Any, flows: int, old_flows: int, runs: int, tmp: str) -> None:
    new_files = _write_flows(ps, flows, tmp)
    old_files = _write_flows(ps, old_flows, tmp)
    manifests = [a for p in paths for a in ("-f", p)]
    start = _median([_process(["validate", *manifests], old=False)[0] for _ in range(runs)])
    for label, goal, new_file, old_file in (("Parquet", 1e6, new_files[0], old_files[0]), ("CSV", 3e5, new_files[1], old_files[1])):
        new = [_process(["replay", *manifests, "--flows", new_file], old=False) for _ in range(runs)]
        cpu = _median([c for c, _ in new])
        old = _median([_process(["replay", *manifests, "--flows", old_file], old=True)[0] for _ in range(max(1, runs // 2))])
        print(f"  replay {label:<8} {flows / cpu / 1e3:7.0f} k flows/s whole process ({flows:,} flows, "
              f"{cpu:.2f} s CPU; without loading the manifests {flows / max(cpu - start, 1e-9) / 1e3:.0f} k/s) "
              f"(goal {goal / 1e3:.0f} k; previous path {old_flows / old / 1e3:.0f} k/s on {old_flows:,}, "
              f"{(flows / cpu) / (old_flows / old):.0f}x)")
    print(f"  (loading and validating the manifests alone: {start:.2f} s CPU)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--flows", type=int, default=2_000_000, help="flows of the text-column figures")
    parser.add_argument("--replay-flows", type=int, default=2_000_000)
    parser.add_argument("--old-flows", type=int, default=100_000, help="flows the record-by-record path replays")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for name, (paths, ps) in _clusters(tmp).items():
            print(f"{name}:")
            text_columns(ps, args.flows, args.runs)
            replay(paths, ps, args.replay_flows, args.old_flows, args.runs, tmp)


if __name__ == "__main__":
    main()
