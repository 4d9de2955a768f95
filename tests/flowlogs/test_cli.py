"""``netpolicy replay --input-format goldmane|whisker|enterprise``: per-record results and
the check against the log, the summary, malformed records, and replay's own formats
with --on-error and --summary-format."""

from __future__ import annotations

import csv
import io
import json
import pathlib
from typing import Sequence

import pytest
from click.testing import CliRunner, Result

from netpolicy.cli import cli

DATA = pathlib.Path(__file__).parent / "data"
CLUSTER = str(DATA / "cluster.yaml")


def run(args: Sequence[str], input: bytes | None = None) -> Result:
    try:
        runner = CliRunner(mix_stderr=False)  # type: ignore[call-arg]  # click < 8.2
    except TypeError:
        runner = CliRunner()
    return runner.invoke(cli, list(args), input=input, prog_name="netpolicy", catch_exceptions=False)


@pytest.mark.parametrize("fmt, name", [("goldmane", "goldmane.ndjson"), ("whisker", "whisker.json"),
                                       ("enterprise", "enterprise.ndjson")])
def test_calico_logs_are_replayed_and_checked(fmt: str, name: str) -> None:
    result = run(["replay", "-f", CLUSTER, "--flows", str(DATA / name), "--input-format", fmt])
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert rows[0]["place"].endswith(f"{name}:1")
    assert (rows[0]["verdict"], rows[0]["certainty"], rows[0]["agrees"], rows[0]["hits_agree"]) == ("Allow", "exact", "true", "true")
    assert rows[0]["netpolicy_hit"] == "0|default|NetworkPolicy:shop/backend|allow|0"
    assert "log check:" in result.stderr
    # the records of the same flow are decided alike, agreeing with the log unless uncertain
    assert all(row["agrees"] == "true" or row["certainty"] == "uncertain" for row in rows)


def test_a_disagreement_is_reported_with_both_traces() -> None:
    # the log says the frontend's pods reached the backend on 9090: the policies deny it
    record = json.loads((DATA / "goldmane.ndjson").read_text().splitlines()[0])
    record["Key"]["dest_port"] = 9090
    data = json.dumps(record).encode() + b"\n"
    result = run(["replay", "-f", CLUSTER, "--flows", "-", "--input-format", "goldmane", "--summary-format", "json",
                  "--exit-code"], input=data)
    assert result.exit_code == 1
    (row,) = list(csv.DictReader(io.StringIO(result.stdout)))
    assert (row["logged_action"], row["netpolicy_action"], row["agrees"]) == ("allow", "deny", "false")
    assert row["netpolicy_hit"] == "0|default|NetworkPolicy:shop/backend|deny|-1"
    check = json.loads(result.stderr[result.stderr.index("{"):])["check"]
    assert (check["disagree"], check["agree"]) == (1, 0)  # records, not the connections they stand for
    (example,) = check["disagreements"]
    assert example["place"] == "<stdin>:1"
    assert example["logged"]["trace"] == "0|default|NetworkPolicy:shop/backend|allow|0"
    assert "end of tier default" in example["netpolicy"]["trace"] or "default action" in example["netpolicy"]["trace"]


def test_a_malformed_record_fails_and_writes_nothing() -> None:
    data = (DATA / "goldmane.ndjson").read_bytes().replace(b'"dest_port":443', b'"dest_port":"https"')
    result = run(["replay", "-f", CLUSTER, "--flows", "-", "--input-format", "goldmane"], input=data)
    assert result.exit_code == 3
    assert result.stdout == ""
    assert "<stdin>:2: Key.dest_port: must be an integer, not 'https'" in result.stderr
    skipped = run(["replay", "-f", CLUSTER, "--flows", "-", "--input-format", "goldmane", "--on-error", "skip"], input=data)
    assert skipped.exit_code == 0
    assert "warning: <stdin>:2: Key.dest_port: must be an integer, not 'https' (skipped)" in skipped.stderr
    assert len(list(csv.DictReader(io.StringIO(skipped.stdout)))) == 3
    assert "1 malformed records skipped" in skipped.stderr


def test_no_progress_bar_off_a_terminal() -> None:
    data = (DATA / "goldmane.ndjson").read_bytes() * 500
    result = run(["replay", "-f", CLUSTER, "--flows", "-", "--input-format", "goldmane", "--batch-size", "100"], input=data)
    assert result.exit_code == 0
    assert "replaying" not in result.stderr
    assert result.stderr.count("\n") < 40


def test_replay_formats_skip_malformed_records_and_give_json(tmp_path: pathlib.Path) -> None:
    flows = tmp_path / "flows.csv"
    flows.write_text("src,dst,protocol,dst_port\n10.1.0.10,10.1.9.53,UDP,53\n10.1.0.10,nowhere,UDP,53\n")
    failed = run(["replay", "-f", CLUSTER, "--flows", str(flows)])
    assert failed.exit_code == 3 and failed.stdout == ""
    result = run(["replay", "-f", CLUSTER, "--flows", str(flows), "--on-error", "skip", "--summary-format", "json"])
    assert result.exit_code == 0, result.stderr
    assert f"warning: {flows}:3:" in result.stderr
    assert len(list(csv.DictReader(io.StringIO(result.stdout)))) == 1
    summary = json.loads(result.stderr[result.stderr.index("{"):])
    assert (summary["flows"], summary["allowed"]) == (1, 1)
