"""Helpers of the command-line tests: a runner that keeps stdout and stderr apart, the
bundled example's paths, and golden files."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

from click.testing import CliRunner, Result

import netpolicy
from netpolicy.cli import cli

ROOT = Path(__file__).resolve().parents[2]
STAGING = ROOT / "examples" / "staging"
FLOWS = ROOT / "examples" / "flows.csv"
GOLDEN = Path(__file__).resolve().parent / "golden"


class Run:
    """Invoke the command in-process; ``stdout``/``stderr`` stay separate."""

    def __call__(self, args: Sequence[str], *, input: str | bytes | None = None, env: dict[str, str] | None = None, color: bool = False) -> Result:
        try:
            runner = CliRunner(mix_stderr=False)  # type: ignore[call-arg]  # click < 8.2
        except TypeError:
            runner = CliRunner()
        return runner.invoke(cli, list(args), input=input, env=env, color=color, prog_name="netpolicy", catch_exceptions=False)


def check_golden(name: str, text: str) -> None:
    """Compare ``text`` with tests/cli/golden/NAME; NETPOLICY_UPDATE_GOLDEN=1 rewrites it."""
    path = GOLDEN / name
    if os.environ.get("NETPOLICY_UPDATE_GOLDEN") == "1":
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(text)
    assert path.exists(), f"golden file {path} is missing (NETPOLICY_UPDATE_GOLDEN=1 writes it)"
    assert text == path.read_text()


def relative(args: Sequence[Any]) -> list[str]:
    return [str(a) for a in args]
