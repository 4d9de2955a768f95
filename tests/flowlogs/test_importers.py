"""The flow-log importers, on records written from Calico's schemas (tests/flowlogs/data):
the same columns with and without pyarrow, malformed records named by place and field,
bounded batches."""

from __future__ import annotations

import io
import json
import pathlib

import numpy as np
import pytest

from netpolicy.flowlogs import reading
from netpolicy.flowlogs.batch import LOGGED_ALLOW, LOGGED_DENY, REPORTER_DST, REPORTER_SRC, SideValue
from netpolicy.flowlogs.reading import RecordErrors, read_batches

DATA = pathlib.Path(__file__).parent / "data"


def _rows(fmt: str, data: bytes, *, pure: bool = False, monkeypatch: pytest.MonkeyPatch | None = None, **options: object) -> list[tuple]:
    if pure:
        assert monkeypatch is not None
        monkeypatch.setattr(reading, "has_pyarrow", lambda: False)
    rows = []
    for batch in read_batches(io.BytesIO(data), fmt, source="log", **options):  # type: ignore[arg-type]
        for k in range(len(batch)):
            rows.append((
                batch.place(k), batch.src_values[batch.src[k]], batch.dst_values[batch.dst[k]], int(batch.protocol[k]),
                int(batch.dst_port[k]), int(batch.reporter[k]), int(batch.logged[k]),
                batch.hit_values[batch.enforced[k]], batch.hit_values[batch.pending[k]], int(batch.count[k]),
            ))
    return rows


@pytest.mark.parametrize("fmt, name", [("goldmane", "goldmane.ndjson"), ("enterprise", "enterprise.ndjson")])
def test_the_columnar_and_the_record_path_agree(fmt: str, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("pyarrow")
    data = (DATA / name).read_bytes()
    fast = _rows(fmt, data)
    assert fast == _rows(fmt, data, pure=True, monkeypatch=monkeypatch)
    assert len(fast) == 4


def test_goldmane_fields() -> None:
    rows = _rows("goldmane", (DATA / "goldmane.ndjson").read_bytes())
    place, src, dst, protocol, port, reporter, logged, enforced, pending, count = rows[0]
    assert place == "log:1"
    assert src == SideValue(name="frontend-6c9d5b7f8-*", namespace="shop", kind="wep",
                            labels=("app=frontend", "pod-template-hash=6c9d5b7f8"))
    assert dst.labels == ("app=backend",) and dst.aggregated
    assert (protocol, port, reporter, logged, count) == (6, 8080, REPORTER_DST, LOGGED_ALLOW, 3)
    assert enforced == pending == "0|default|NetworkPolicy:shop/backend|allow|0"
    # a network, an end of tier with its trigger, the blank line counted
    assert rows[1][2] == SideValue(name="pub", kind="net")
    assert rows[1][7] == "0|default|NetworkPolicy:shop/frontend|deny|-1"
    assert rows[2][0] == "log:4" and rows[2][1] == SideValue(name="pvt", kind="net")
    assert rows[3][7] == "0|__PROFILE__|Profile:kns.shop|allow|0"


def test_enterprise_fields() -> None:
    rows = _rows("enterprise", (DATA / "enterprise.ndjson").read_bytes())
    # aggregated: the name from source_name_aggr; not aggregated: the pod and its address
    assert rows[0][1] == SideValue(name="frontend-6c9d5b7f8-*", namespace="shop", kind="wep",
                                   labels=("app=frontend", "pod-template-hash=6c9d5b7f8"))
    assert rows[1][1] == SideValue(ip="10.1.0.10", name="db-0", namespace="shop", kind="wep", labels=("app=db",))
    assert rows[1][2].labels is None
    # all_policies in releases without enforced_policies; a hit without a rule index
    assert rows[1][7] == "0|__PROFILE__|Profile:kns.shop|allow|"
    assert rows[2][1] == SideValue(name="pvt", kind="net")
    assert (rows[2][5], rows[2][6], rows[2][9]) == (REPORTER_DST, LOGGED_ALLOW, 7)
    assert rows[3][2] == SideValue(name="pub", kind="net")
    assert (rows[3][5], rows[3][6]) == (REPORTER_SRC, LOGGED_DENY)


def test_whisker_forms_read_alike() -> None:
    document = json.loads((DATA / "whisker.json").read_text())
    items = document["items"]
    expected = [row[1:] for row in _rows("whisker", (DATA / "whisker.json").read_bytes())]
    assert expected[0][0] == SideValue(name="frontend-6c9d5b7f8-*", namespace="shop",
                                       labels=("app=frontend", "pod-template-hash=6c9d5b7f8"))
    assert expected[1][0] == SideValue(name="pvt", kind="net", labels=())
    assert expected[1][6] == "0|default|NetworkPolicy:shop/backend|deny|-1"
    forms = [
        json.dumps(items).encode(),
        b"\n".join(json.dumps(item).encode() for item in items),
        b"".join(b"data: " + json.dumps(item).encode() + b"\n\n" for item in items),
    ]
    for data in forms:
        assert [row[1:] for row in _rows("whisker", data)] == expected


def test_generic_columns_in_every_container(tmp_path: pathlib.Path) -> None:
    csv_rows = _rows("csv", b"src,dst,protocol,dst_port\n\nshop/frontend,10.1.0.10,TCP,5432\n10.0.0.1,shop/db-0,udp,53\n")
    assert [row[0] for row in csv_rows] == ["log:3", "log:4"]
    assert csv_rows[0][1] == SideValue(name="frontend", namespace="shop", kind="wep")
    assert csv_rows[0][2] == SideValue(ip="10.1.0.10")
    jsonl = _rows("jsonl", b'{"src": "shop/frontend", "dst": "10.1.0.10", "protocol": "TCP", "dst_port": 5432}\n'
                           b'{"src": "10.0.0.1", "dst": "shop/db-0", "protocol": 17, "dst_port": 53}\n')
    assert [row[1:] for row in jsonl] == [row[1:] for row in csv_rows]
    pq = pytest.importorskip("pyarrow.parquet")
    import pyarrow as pa

    path = tmp_path / "flows.parquet"
    pq.write_table(pa.table({"src": ["shop/frontend", "10.0.0.1"], "dst": ["10.1.0.10", "shop/db-0"],
                             "protocol": ["TCP", "UDP"], "dst_port": [5432, 53]}), path)
    parquet = _rows("parquet", path.read_bytes())
    assert [row[1:] for row in parquet] == [row[1:] for row in csv_rows]
    assert parquet[1][0] == "log: row group 0 row 1"


BAD = [
    ("goldmane", b'{"Key": {"source_name": "a-*", "source_type": 1, "proto": "tcp", "dest_port": "x"}}\n', "log:1: Key.dest_port"),
    ("goldmane", b'{"Key": {"source_name": "a-*", "proto": "tcpx"}}\n', "log:1: Key.proto: unknown protocol"),
    ("goldmane", b'{"Key": {"proto": "tcp", "dest_port": 70000}}\n', "log:1: Key.dest_port: 70000 is outside 0-65535"),
    ("goldmane", b'{"Key": {"proto": "tcp", "source_type": 9}}\n', "log:1: Key.source_type: unknown endpoint type"),
    ("goldmane", b'{"Key": {"proto": "tcp", "policies": {"enforced_policies": [{"kind": 42, "name": "x"}]}}}\n',
     "log:1: Key.policies.enforced_policies: unknown policy kind 42"),
    ("goldmane", b'{"Key": {"proto": "tcp"}}\n{"Key": \n', "log:2: not JSON"),
    ("enterprise", b'{"proto": "tcp", "reporter": "both"}\n', "log:1: reporter: unknown reporter"),
    ("enterprise", b'{"proto": "tcp", "policies": {"enforced_policies": ["0|default|x"]}}\n',
     "log:1: policies.enforced_policies: policy hit"),
    ("csv", b"src,dst,protocol,dst_port\n10.0.0.1,10.0.0.2,TCP,99999\n", "log:2: dst_port: 99999 is outside 1-65535"),
    ("csv", b"src,dst,protocol,dst_port\n10.0.0.1,,TCP,80\n", "log:2: dst: is missing"),
    ("jsonl", b'{"src": "10.0.0.1", "dst": "a/b/c"}\n', "log:1: dst: 'a/b/c' is not of the form"),
]


@pytest.mark.parametrize("fmt, data, message", BAD)
@pytest.mark.parametrize("pure", [False, True])
def test_a_malformed_record_names_its_place_and_field(fmt: str, data: bytes, message: str, pure: bool,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(RecordErrors) as failed:
        _rows(fmt, data, pure=pure, monkeypatch=monkeypatch)
    assert str(failed.value).startswith(message), str(failed.value)


def test_parquet_names_row_group_and_row(tmp_path: pathlib.Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    import pyarrow as pa

    path = tmp_path / "flows.parquet"
    table = pa.table({"src": ["10.0.0.1"] * 5, "dst": ["10.0.0.2"] * 4 + ["nowhere"], "dst_port": [80] * 5})
    pq.write_table(table, path, row_group_size=2)
    with pytest.raises(RecordErrors, match=r"^log: row group 2 row 0: dst: 'nowhere'|^log: row group 2 row 0: dst"):
        _rows("parquet", path.read_bytes())


def test_skipping_keeps_the_good_records(monkeypatch: pytest.MonkeyPatch) -> None:
    data = (DATA / "goldmane.ndjson").read_bytes().replace(b'"dest_port":443', b'"dest_port":"https"')
    skipped: list[str] = []
    rows = _rows("goldmane", data, on_error="skip", skipped=lambda error: skipped.append(str(error)))
    assert [row[0] for row in rows] == ["log:1", "log:4", "log:5"]
    assert skipped == ["log:2: Key.dest_port: must be an integer, not 'https'"]


def test_batches_are_bounded() -> None:
    line = (DATA / "goldmane.ndjson").read_bytes().splitlines()[0] + b"\n"
    sizes = [len(batch) for batch in read_batches(io.BytesIO(line * 10), "goldmane", batch_size=3)]
    assert sizes == [3, 3, 3, 1]
    batch = next(iter(read_batches(io.BytesIO(line * 10), "goldmane", batch_size=100)))
    assert len(batch.src_values) == 1 and np.all(batch.src == 0)  # one distinct side, coded once
