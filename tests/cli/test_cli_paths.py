"""The command gives the same output whether it decides through the batch path
(PolicySet.matrix / evaluate_many) or one PolicySet.evaluate per flow."""

from __future__ import annotations

import pytest

from netpolicy.cli import _batch, _matrix

from clihelp import FLOWS, STAGING, Run

S = str(STAGING)

COMMANDS = [
    ["matrix", "-f", S, "--port", "443", "-o", "json"],
    ["matrix", "-f", S, "-p", "UDP", "--port", "53", "-o", "csv"],
    ["matrix", "-f", S, "--port", "27017", "-o", "html"],
    ["matrix", "-f", S, "-n", "staging"],
    ["replay", "-f", S, "--flows", str(FLOWS)],
    ["replay", "-f", S, "--flows", str(FLOWS), "--no-decisions", "-o", "jsonl"],
]


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a[:1] + a[3:]))
def test_batch_and_single_paths_agree(run: Run, monkeypatch: pytest.MonkeyPatch, args: list[str]) -> None:
    assert _batch.has_batch(__import__("netpolicy").load(S))  # the batch path is there to compare with
    batch = run(args)
    assert batch.exit_code == 0, batch.stderr
    monkeypatch.setattr(_batch, "has_batch", lambda policy_set: False)
    monkeypatch.setattr(_matrix, "_library_matrix", lambda *a: None)
    single = run(args)
    assert single.exit_code == 0, single.stderr
    assert single.stdout == batch.stdout
    assert single.stderr == batch.stderr
