"""The upstream conformance corpus (Kubernetes e2e NetworkPolicy, AdminNetworkPolicy and
ClusterNetworkPolicy suites, tests/conformance/cases): every flow's verdict must be the
expected one.

One test per case file; a failure lists every flow that disagreed, with its trace.
"""

from __future__ import annotations

import pathlib

import pytest
import yaml

import netpolicy

CASES = sorted((pathlib.Path(__file__).parent / "conformance" / "cases").glob("*.yaml"))


def _flow(entry: dict) -> netpolicy.Flow:
    extra = {k: entry[k] for k in ("icmp_type", "icmp_code") if entry.get(k) is not None}
    return netpolicy.Flow(src=entry["src"], dst=entry["dst"], protocol=entry["protocol"], dst_port=entry.get("port"), **extra)


def test_the_corpus_is_all_there() -> None:
    flows = sum(len(yaml.safe_load(path.read_text())["flows"]) for path in CASES)
    assert len(CASES) == 209
    assert flows == 5217


@pytest.mark.parametrize("path", CASES, ids=[path.stem for path in CASES])
def test_case(path: pathlib.Path) -> None:
    case = yaml.safe_load(path.read_text())
    ps = netpolicy.loads(case["resources"])
    wrong = []
    for entry in case["flows"]:
        verdict = ps.evaluate(_flow(entry))
        if verdict.allowed is not bool(entry["allowed"]):
            wrong.append(f"{entry} -> {verdict.action}\n{verdict.explain()}")
    assert not wrong, f"{len(wrong)} of {len(case['flows'])} flows disagree:\n" + "\n\n".join(wrong[:3])
