"""Benchmarks of flow-log replay, each figure printed beside its goal.

    python benchmarks/bench_flowlogs.py [--records 1000000] [--flows 2000000] [--dask-flows 4000000]

* Goldmane NDJSON import + decide: a log of ``--records`` records over a medium
  synthetic cluster (benchmarks/synthetic.py: 20 namespaces x 50 pods), about 5,000
  distinct flows among pods (named as Goldmane names pods without a generateName) and
  the public and private networks, each record with its logged action and policy hit;
  read, resolved, decided and checked (no output written). Goal: 1 M records/s.
* Parquet replay: ``--flows`` random flows between the pods' addresses and external
  ones, decided batch by batch with ``netpolicy.flowlogs.arrow.decide_table`` (the
  function the Dask adapter runs). Goal: 2 M flows/s.
* Dask: the same replay of a ``--dask-flows`` Parquet file on a local cluster of one
  worker process, then of two (``netpolicy.dask``), counted on the cluster
  (``netpolicy.dask.summary``), the counts compared. Goal: two
  workers at least 1.6x one (the goal's own file has 20 M flows; the default is
  smaller so that the run takes a few minutes on a shared 2-core machine).

Times are wall-clock on whatever else the machine is doing: run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path[:0] = [ROOT, HERE]

import numpy as np  # noqa: E402

import netpolicy  # noqa: E402
from synthetic import generate  # noqa: E402


def _cluster() -> Any:
    return netpolicy.loads(generate("medium", seed=1))


def _pods(ps: Any) -> list[Any]:
    return [e for e in ps.endpoints if e.namespace and e.ips and not e.is_host]


def goldmane_log(ps: Any, records: int, path: str, seed: int = 0) -> int:
    """Writes the log; returns its number of distinct flows."""
    rng = np.random.default_rng(seed)
    pods = _pods(ps)
    flows = []
    for _ in range(5000):
        src = pods[int(rng.integers(len(pods)))] if rng.random() < 0.95 else None
        dst = pods[int(rng.integers(len(pods)))] if rng.random() < 0.9 else None
        port = int(rng.choice([80, 443, 8080, 5432, 6379]))
        flows.append((src, dst, port, int(rng.integers(1, 3))))
    lines = []
    for src, dst, port, reporter in flows:
        key: dict[str, Any] = {"dest_port": port, "proto": "tcp", "reporter": reporter, "action": 1,
                               "policies": {"enforced_policies": [{"kind": 6, "namespace": "ns-0", "name": "p",
                                                                   "tier": "default", "action": 1}]}}
        for prefix, side in (("source", src), ("dest", dst)):
            if side is None:
                key[f"{prefix}_name"], key[f"{prefix}_type"] = ("pub" if prefix == "dest" else "pvt"), 4
            else:
                key[f"{prefix}_name"], key[f"{prefix}_namespace"], key[f"{prefix}_type"] = side.name, side.namespace, 1
        lines.append(json.dumps({"Key": key, "start_time": 1735689600, "end_time": 1735689615,
                                 "source_labels": ["app=x"], "num_connections_started": 1}))
    choice = rng.integers(len(lines), size=records)
    with open(path, "w") as out:
        for start in range(0, records, 100_000):
            out.write("\n".join(lines[k] for k in choice[start : start + 100_000].tolist()) + "\n")
    return len(set(choice.tolist()))


def parquet_flows(ps: Any, flows: int, path: str, seed: int = 0) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    addresses = [str(e.ips[0]) for e in _pods(ps)] + [f"203.0.113.{k}" for k in range(1, 101)]
    writer = None
    for start in range(0, flows, 1_000_000):
        n = min(1_000_000, flows - start)
        table = pa.table({
            "src": pa.array(np.array(addresses, dtype=object)[rng.integers(len(addresses), size=n)], pa.string()),
            "dst": pa.array(np.array(addresses, dtype=object)[rng.integers(len(addresses), size=n)], pa.string()),
            "protocol": pa.array(rng.choice(["TCP", "UDP"], n), pa.string()),
            "dst_port": pa.array(rng.choice([53, 80, 443, 5432, 6379, 8080], n).astype(np.int32)),
        })
        writer = writer or pq.ParquetWriter(path, table.schema)
        writer.write_table(table, row_group_size=250_000)
    if writer is not None:
        writer.close()


def bench_goldmane(ps: Any, records: int, tmp: str) -> None:
    from netpolicy.flowlogs import replay

    path = os.path.join(tmp, "flows.ndjson")
    distinct = goldmane_log(ps, records, path)
    size = os.path.getsize(path)
    start = time.perf_counter()
    summary = replay(ps, path, "goldmane", batch_size=65536)
    elapsed = time.perf_counter() - start
    print(f"Goldmane NDJSON import + decide: {records:,} records ({size / 1e6:.0f} MB, {distinct:,} distinct flows) "
          f"in {elapsed:.2f} s = {records / elapsed / 1e6:.2f} M records/s   (goal: 1 M records/s)")
    print(f"    {summary.verdicts.get('Allow', 0):,} allowed, {summary.verdicts.get('Deny', 0):,} denied, "
          f"{summary.uncertain:,} uncertain")


def bench_parquet(ps: Any, flows: int, tmp: str) -> str:
    import pyarrow.parquet as pq

    from netpolicy.flowlogs.arrow import decide_table

    path = os.path.join(tmp, "flows.parquet")
    parquet_flows(ps, flows, path)
    start = time.perf_counter()
    allowed = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=250_000):
        allowed += int(decide_table(ps, batch)["allowed"].to_numpy(zero_copy_only=False).sum())
    elapsed = time.perf_counter() - start
    print(f"Parquet replay: {flows:,} flows in {elapsed:.2f} s = {flows / elapsed / 1e6:.2f} M flows/s   "
          f"(goal: 2 M flows/s; {allowed:,} allowed)")
    return path


def bench_dask(ps: Any, flows: int, tmp: str) -> None:
    try:
        import netpolicy.dask as on_dask
    except ImportError:
        print("Dask: not installed (pip install 'netpolicy[dask]')")
        return
    path = os.path.join(tmp, "dask.parquet")
    parquet_flows(ps, flows, path, seed=1)
    results = {}
    for workers in (1, 2):
        client = on_dask.local_client(workers)
        held = None
        try:
            # started, and the policy set compiled on every worker, before the clock
            held = client.scatter(ps, broadcast=True, hash=True)
            import dask.dataframe as dd

            warm = dd.read_parquet(path).head(4 * workers * 1000, compute=False).repartition(npartitions=4 * workers)
            on_dask.replay(warm, ps, client=client).compute()
            start = time.perf_counter()
            counts = on_dask.summary(on_dask.replay(path, ps, client=client))  # reduced on the cluster
            results[workers] = (time.perf_counter() - start, counts["by_decision"], counts["records"])
        finally:
            del held
            client.close()
    (one, counts_one, records_one), (two, counts_two, records_two) = results[1], results[2]
    print(f"Dask on a {flows:,}-flow Parquet file: 1 worker {one:.1f} s, 2 workers {two:.1f} s = {one / two:.2f}x   "
          f"(goal: 1.6x on 20 M flows); results identical: {counts_one == counts_two and records_one == records_two}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--flows", type=int, default=2_000_000)
    parser.add_argument("--dask-flows", type=int, default=4_000_000)
    parser.add_argument("--skip-dask", action="store_true")
    args = parser.parse_args()
    ps = _cluster()
    print(f"policy set: {ps!r}; matcher: {netpolicy.IMPLEMENTATION}")
    with tempfile.TemporaryDirectory() as tmp:
        bench_goldmane(ps, args.records, tmp)
        bench_parquet(ps, args.flows, tmp)
        if not args.skip_dask:
            bench_dask(ps, args.dask_flows, tmp)


if __name__ == "__main__":
    main()
