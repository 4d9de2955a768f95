"""The Dask adapter on a real local cluster (two worker processes): the same verdicts as
in process on the same Parquet file, the policy set scattered to every worker once, and
``netpolicy replay --dask``."""

from __future__ import annotations

import csv
import io
import pathlib
from typing import Any, Iterator

import numpy as np
import pytest

import netpolicy
from netpolicy.flowlogs.arrow import decide_table

pytest.importorskip("dask.distributed", reason="the Dask adapter needs dask[distributed] (pip install 'netpolicy[dask]')")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

DATA = pathlib.Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def shop() -> netpolicy.PolicySet:
    return netpolicy.load(DATA / "cluster.yaml")


@pytest.fixture(scope="module")
def flows(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    rng = np.random.default_rng(7)
    n = 6000
    sides = ["10.1.0.10", "10.1.0.11", "shop/db-0", "10.1.9.53", "192.168.1.1", "shop/backend[Deployment]",
             "shop/frontend[Deployment]", "kube-system/kube-dns-5f7d9"]
    table = pa.table({
        "src": rng.choice(sides, n), "dst": rng.choice(sides, n),
        "protocol": rng.choice(["TCP", "UDP"], n), "dst_port": rng.choice([53, 5432, 8080, 8000], n),
    })
    path = tmp_path_factory.mktemp("flows") / "flows.parquet"
    pq.write_table(table, path, row_group_size=1000)
    return path


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    import dask
    from dask.distributed import Client, LocalCluster

    # replicas stay where they were put, so the test can see the broadcast
    with dask.config.set({"distributed.scheduler.active-memory-manager.start": False}):
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
        with Client(cluster) as client:
            yield client
        cluster.close()


def test_a_local_cluster_decides_as_in_process(shop: netpolicy.PolicySet, flows: pathlib.Path, client: Any) -> None:
    import dask.dataframe as dd

    import netpolicy.dask

    verdicts = netpolicy.dask.replay(dd.read_parquet(str(flows)).repartition(npartitions=6), shop, client=client)
    assert verdicts.npartitions == 6
    got = verdicts.compute()
    expected = decide_table(shop, pq.read_table(flows)).to_pandas()
    assert list(got["verdict"]) == list(expected["verdict"])
    assert list(got["decided_by"]) == list(expected["decided_by"])
    assert list(got["src"]) == list(pq.read_table(flows).column("src").to_pylist())
    # both workers hold the one scattered policy set (the tasks name it, never carry it)
    held = [key for keys in client.has_what().values() for key in keys if "PolicySet" in str(key)]
    assert len(held) == 2 and len(set(held)) == 1
    summary = netpolicy.dask.summary(netpolicy.dask.replay(str(flows), shop, client=client))
    assert summary["records"] == len(expected)
    assert summary["verdicts"] == expected["verdict"].value_counts().to_dict()


def test_replay_on_dask_from_the_command_line(flows: pathlib.Path, shop: netpolicy.PolicySet) -> None:
    from click.testing import CliRunner

    from netpolicy.cli import cli

    try:
        runner = CliRunner(mix_stderr=False)  # type: ignore[call-arg]  # click < 8.2
    except TypeError:
        runner = CliRunner()
    result = runner.invoke(cli, ["replay", "-f", str(DATA / "cluster.yaml"), "--flows", str(flows), "--dask", "local:2"],
                           catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    expected = decide_table(shop, pq.read_table(flows)).to_pandas()
    assert [row["verdict"] for row in rows] == list(expected["verdict"])
    assert f"{len(rows)} flows:" in result.stderr
    refused = runner.invoke(cli, ["replay", "-f", str(DATA / "cluster.yaml"), "--flows", "-", "--dask", "local:2"], input=b"")
    assert refused.exit_code == 2
