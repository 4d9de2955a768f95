"""`netpolicy selector`, `netpolicy version`, colour and the entry points."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import netpolicy
from netpolicy import Selector

from clihelp import ROOT, STAGING, Run

S = str(STAGING)
ANSI = "\x1b["


def test_selector_canonical_and_match(run: Run) -> None:
    text = "app == 'web' && tier in {'b', 'a', 'b'}"
    result = run(["selector", text, "--labels", "app=web,tier=a"])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == str(Selector.parse(text))
    assert lines[1] == "matches"
    miss = run(["selector", text, "--labels", "app=web", "--labels", "tier=c", "--exit-code"])
    assert miss.exit_code == 1 and miss.stdout.splitlines()[1] == "does not match"


def test_selector_json(run: Run) -> None:
    data = json.loads(run(["selector", "has(app)", "--labels", "app=x", "-o", "json"]).stdout)
    assert data == {"selector": str(Selector.parse("has(app)")), "labels": {"app": "x"}, "matches": True}
    assert json.loads(run(["selector", "", "-o", "json"]).stdout) == {"selector": str(Selector.parse(""))}


def test_selector_syntax_error_exits_3(run: Run) -> None:
    result = run(["selector", "app == "])
    assert result.exit_code == 3
    assert result.stdout == ""
    with pytest.raises(netpolicy.SelectorSyntaxError) as info:
        Selector.parse("app == ")
    assert result.stderr == str(info.value) + "\n"
    assert "^" in result.stderr


def test_selector_bad_labels_exit_2(run: Run) -> None:
    assert run(["selector", "has(a)", "--labels", "novalue"]).exit_code == 2


def test_version(run: Run) -> None:
    result = run(["version"])
    assert result.exit_code == 0
    assert result.stdout.startswith(f"netpolicy {netpolicy.__version__} ({netpolicy.IMPLEMENTATION} matcher")
    data = json.loads(run(["version", "-o", "json"]).stdout)
    assert data["netpolicy"] == netpolicy.__version__ and data["implementation"] == netpolicy.IMPLEMENTATION


def test_no_verb_and_unknown_verb(run: Run) -> None:
    assert run(["frobnicate"]).exit_code == 2
    assert "Usage:" in run(["--help"]).stdout


ARGS = ["evaluate", "-f", S, "--src", "staging/front-end", "--dst", "staging/database", "--port", "27017"]


def test_colour_on_terminals_and_no_color(run: Run) -> None:
    coloured = run(ARGS, color=True)
    assert ANSI in coloured.stdout
    plain = run(ARGS, color=True, env={"NO_COLOR": "1"})
    assert ANSI not in plain.stdout
    assert plain.stdout == run(ARGS).stdout  # not a terminal: no colour either
    for args in (["matrix", "-f", S, "--port", "443"], ["explain", *ARGS[1:]], ["selector", "a == 'b'", "--labels", "a=b"]):
        assert ANSI not in run(args, color=True, env={"NO_COLOR": "1"}).stdout


def test_machine_formats_never_coloured(run: Run) -> None:
    for args in (ARGS + ["-o", "json"], ARGS + ["-o", "yaml"], ["matrix", "-f", S, "-o", "json"], ["matrix", "-f", S, "-o", "csv"]):
        assert ANSI not in run(args, color=True).stdout


def test_python_dash_m(tmp_path: object) -> None:
    out = subprocess.run([sys.executable, "-m", "netpolicy", "version"], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.startswith("netpolicy ")
    bad = subprocess.run([sys.executable, "-m", "netpolicy", "selector", "a =="], capture_output=True, text=True, cwd=ROOT)
    assert bad.returncode == 3
