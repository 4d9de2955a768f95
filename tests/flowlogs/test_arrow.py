"""decide_table: Arrow flows in, verdict columns out; flows between IPv4 addresses go
straight to the tables and give what the general path gives."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest

import netpolicy
from netpolicy.flowlogs import arrow
from netpolicy.flowlogs.reading import RecordErrors

pa = pytest.importorskip("pyarrow")
DATA = pathlib.Path(__file__).parent / "data"


def test_the_ipv4_path_equals_the_general_one(monkeypatch: pytest.MonkeyPatch) -> None:
    ps = netpolicy.load(DATA / "cluster.yaml")
    rng = np.random.default_rng(3)
    addresses = ["10.1.0.10", "10.1.0.11", "10.1.9.53", "192.168.7.7", "8.8.8.8"]
    table = pa.table({"src": rng.choice(addresses, 400), "dst": rng.choice(addresses, 400),
                      "protocol": rng.choice(["TCP", "UDP"], 400), "dst_port": rng.choice([53, 5432, 80], 400)})
    fast = arrow._ipv4_table(ps, table)
    assert fast is not None
    monkeypatch.setattr(arrow, "_ipv4_table", lambda ps, table: None)
    arrow._DECIDERS.clear()
    general = arrow.decide_table(ps, table)
    assert fast.to_pydict() == general.to_pydict()
    for k in (0, 7, 99):
        flow = netpolicy.Flow(table["src"][k].as_py(), table["dst"][k].as_py(), table["protocol"][k].as_py(), table["dst_port"][k].as_py())
        assert general["verdict"][k].as_py() == ps.evaluate(flow).action.value


def test_a_bad_row_is_named_or_left_null() -> None:
    ps = netpolicy.load(DATA / "cluster.yaml")
    table = pa.table({"src": ["10.1.0.10", "shop/nowhere/x"], "dst": ["10.1.9.53", "10.1.9.53"], "dst_port": [53, 53],
                      "protocol": ["UDP", "UDP"]})
    with pytest.raises(RecordErrors, match="flows: row 101: src"):
        arrow.decide_table(ps, table, source="flows", first_row=100)
    skipped = arrow.decide_table(ps, table, on_error="skip")
    assert skipped["verdict"].to_pylist() == ["Allow", None]
