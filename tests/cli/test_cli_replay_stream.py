"""`netpolicy replay` of CSV and Parquet batch by batch gives byte for byte what the
record-by-record path gives: records, summary and exit status; where it cannot (a bad or
undecidable record, quotes), the record-by-record path answers, with its messages."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from clihelp import STAGING, Run

S = str(STAGING)
stream = importlib.import_module("netpolicy.cli._replaystream")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

SIDES = ["staging/front-end", "staging/back-end", "staging/database", "kube-system/kube-dns", "10.0.1.10",
         "10.0.1.20", "10.0.0.10", "8.8.8.8", "192.168.1.1", "fd00::1", " staging/back-end ", "010.0.1.10"]
FIELDS = [("TCP", "443"), ("TCP", "27017"), ("UDP", "53"), ("tcp", "80"), ("6", "8080"), ("ICMP", ""), ("", "443"),
          ("TCP", ""), ("UDP", " 53 "), ("TCP", "70000"), ("ICMP", "80"), ("nonsense", "1")]


def _both(run: Run, args: list[str], monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any, int]:
    """(batch by batch, record by record, how many times the batches answered)."""
    answered = []
    original = stream.replay_streaming

    def spy(*a: Any, **k: Any) -> Any:
        found = original(*a, **k)
        answered.append(found is not None)
        return found

    with monkeypatch.context() as m:
        m.setattr(stream, "replay_streaming", spy)
        fast = run(args)
    with monkeypatch.context() as m:
        m.setattr(stream, "replay_streaming", lambda *a, **k: None)
        slow = run(args)
    return fast, slow, sum(answered)


def _same(fast: Any, slow: Any) -> None:
    assert (fast.exit_code, fast.stdout, fast.stderr) == (slow.exit_code, slow.stdout, slow.stderr)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(st.sampled_from(SIDES), st.sampled_from(SIDES), st.sampled_from(FIELDS)), max_size=40),
       output=st.sampled_from(["csv", "jsonl"]), decisions=st.booleans(), parquet=st.booleans())
def test_batches_as_records(run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rows: list[Any], output: str,
                            decisions: bool, parquet: bool) -> None:
    if parquet:
        path = tmp_path / "flows.parquet"
        pq.write_table(pa.table({"src": [r[0] for r in rows], "dst": [r[1] for r in rows],
                                 "protocol": [r[2][0] for r in rows],
                                 "dst_port": pa.array([int(r[2][1]) if r[2][1].strip() else None for r in rows],
                                                      pa.int64())}), path)
    else:
        path = tmp_path / "flows.csv"
        path.write_text("src,dst,protocol,dst_port\n" + "".join(f"{s},{d},{p},{port}\n" for s, d, (p, port) in rows))
    args = ["replay", "-f", S, "--flows", str(path), "-o", output, "--exit-code"]
    fast, slow, _ = _both(run, args + ([] if decisions else ["--no-decisions"]), monkeypatch)
    _same(fast, slow)


def test_clean_files_take_the_batches(run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [("staging/front-end", "staging/back-end", "TCP", 443), ("10.0.1.20", "staging/database", "TCP", 27017),
            ("fd00::1", "fd00::2", "UDP", 53), ("staging/back-end", "10.0.0.10", "ICMP", None)] * 300
    path = tmp_path / "flows.csv"
    path.write_text('"src", dst,"protocol",dst_port\n' + "".join(f"{s},{d},{p},{'' if q is None else q}\n" for s, d, p, q in rows))
    monkeypatch.setattr(stream, "BLOCK_BYTES", 1000)  # many blocks
    for output in ("csv", "jsonl"):
        fast, slow, answered = _both(run, ["replay", "-f", S, "--flows", str(path), "-o", output], monkeypatch)
        assert answered == 1
        _same(fast, slow)
    table = pa.table({"src": [r[0] for r in rows], "dst": [r[1] for r in rows], "protocol": [r[2] for r in rows],
                      "dst_port": [r[3] for r in rows]})
    parquet = tmp_path / "flows.parquet"
    pq.write_table(table, parquet)
    monkeypatch.setattr(stream, "BATCH_ROWS", 100)
    fast, slow, answered = _both(run, ["replay", "-f", S, "--flows", str(parquet)], monkeypatch)
    assert answered == 1
    _same(fast, slow)


@pytest.mark.parametrize("body", [
    '"staging/front-end",staging/back-end,TCP,443\n',  # quotes
    "staging/front-end,staging/ghost,TCP,443\n",  # undecidable
    "staging/front-end,,TCP,443\n",  # missing dst
    "staging/front-end,staging/back-end,TCP,x\n",  # bad port
    "staging/front-end,staging/back-end,TCP\n",  # a field short
    "staging/front-end,staging/back-end,TCP,443\r\n",
    None,  # no records
])
def test_what_the_batches_leave_to_the_records(run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str | None) -> None:
    path = tmp_path / "flows.csv"
    records = "staging/back-end,staging/database,TCP,27017\n" * 2 + body if body is not None else ""
    path.write_text("src,dst,protocol,dst_port\n" + records, newline="")
    for extra in ([], ["--on-error", "skip"]):
        fast, slow, answered = _both(run, ["replay", "-f", S, "--flows", str(path), *extra], monkeypatch)
        assert answered == 0
        _same(fast, slow)
