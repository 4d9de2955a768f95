"""Small things a new user meets first: output formats, --version, shell completion, and
messages that speak of the command line's own flags and name the file and line at fault."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

import netpolicy
from netpolicy.cli import _environment

from clihelp import ROOT, STAGING, Run

S = str(STAGING)
TO_BACK_END = ["--src", "staging/front-end", "--dst", "staging/back-end"]


# -- formats and --version -------------------------------------------------------------------


def test_matrix_yaml_is_the_json_records(run: Run) -> None:
    args = ["matrix", "-f", S, "-n", "staging", "--port", "443"]
    as_yaml = run(args + ["-o", "yaml"])
    assert as_yaml.exit_code == 0, as_yaml.stderr
    assert yaml.safe_load(as_yaml.stdout) == json.loads(run(args + ["-o", "json"]).stdout)


@pytest.mark.parametrize("verb", [["selector", "has(a)", "--labels", "a=b"], ["version"]])
def test_yaml_wherever_json_is_offered(run: Run, verb: list[str]) -> None:
    as_yaml = run(verb + ["-o", "yaml"])
    assert as_yaml.exit_code == 0, as_yaml.stderr
    assert yaml.safe_load(as_yaml.stdout) == json.loads(run(verb + ["-o", "json"]).stdout)


def test_version_option(run: Run) -> None:
    result = run(["--version"])
    assert result.exit_code == 0
    assert result.stdout == run(["version"]).stdout
    assert result.stdout.startswith(f"netpolicy {netpolicy.__version__} ")


# -- shell completion ------------------------------------------------------------------------


@pytest.mark.parametrize("shell, marker", [("bash", "complete -o nosort -F"), ("zsh", "compdef"), ("fish", "complete --no-files")])
def test_completion_scripts(run: Run, shell: str, marker: str) -> None:
    result = run(["completion", shell])
    assert result.exit_code == 0, result.stderr
    assert "_NETPOLICY_COMPLETE" in result.stdout
    assert marker in result.stdout


def test_completion_of_an_unknown_shell_is_a_usage_error(run: Run) -> None:
    assert run(["completion", "tcsh"]).exit_code == 2


def test_completion_is_documented() -> None:
    text = (ROOT / "docs" / "cli.md").read_text()
    for shell in ("bash", "zsh", "fish"):
        assert f"netpolicy completion {shell}" in text


# -- messages --------------------------------------------------------------------------------


def test_unknown_kind_names_the_flag(run: Run, tmp_path: Path) -> None:
    manifest = tmp_path / "odd.yaml"
    manifest.write_text("apiVersion: projectcalico.org/v3\nkind: Foo\nmetadata: {name: x}\n")
    result = run(["validate", "-f", str(manifest)])
    assert result.exit_code == 3
    assert "--no-strict" in result.stderr
    assert "strict=False" not in result.stderr
    assert run(["validate", "-f", str(manifest), "--no-strict"]).exit_code == 0


@pytest.mark.parametrize(
    "args, words",
    [
        (["--src", "staging/front-end", "--dst", "2001:db8::1", "--port", "443"],
         ["source has only IPv4 addresses", "destination only IPv6"]),
        (["--src", "2001:db8::1", "--dst", "10.0.0.1", "-p", "UDP", "--port", "53"],
         ["source has only IPv6 addresses", "destination only IPv4"]),
        (["--src", "staging/front-end", "--dst", "2001:db8::1", "-p", "ICMP"], ["ICMP", "IPv4", "destination", "IPv6"]),
        (["--src", "10.0.0.1", "--dst", "staging/front-end", "-p", "ICMPv6"], ["ICMPv6", "IPv6", "source", "IPv4"]),
    ],
)
def test_ip_family_mix_is_said_in_words(run: Run, args: list[str], words: list[str]) -> None:
    result = run(["evaluate", "-f", S, *args])
    assert result.exit_code == 3
    for word in words:
        assert word in result.stderr, result.stderr
    for jargon in ("protocol 6", "protocol 17", "[4]", "[6]", "[4, 6]"):
        assert jargon not in result.stderr, result.stderr


@pytest.mark.parametrize(
    "name, content, line",
    [
        ("f.csv", "src,dst,protocol,dst_port\nstaging/front-end,staging/back-end,TCP,443\nstaging/ghost,staging/back-end,TCP,443\n", 3),
        ("f.jsonl", '{"src": "staging/front-end", "dst": "staging/back-end"}\n\n{"src": "staging/back-end", "dst": "staging/ghost"}\n', 3),
        ("v6.csv", "src,dst\nstaging/front-end,staging/back-end\nstaging/front-end,2001:db8::1\n", 3),
    ],
)
def test_replay_names_file_and_line_of_a_flow_that_cannot_be_decided(
    run: Run, tmp_path: Path, name: str, content: str, line: int
) -> None:
    flows = tmp_path / name
    flows.write_text(content)
    result = run(["replay", "-f", S, "--flows", str(flows)])
    assert result.exit_code == 3
    assert result.stdout == ""
    assert result.stderr.startswith(f"{flows}:{line}: "), result.stderr


# -- -p takes a protocol, never a port by mistake ----------------------------------------------


@pytest.mark.parametrize("verb", [["evaluate", *TO_BACK_END], ["explain", *TO_BACK_END], ["matrix"]])
def test_a_bare_number_after_p_is_refused_with_a_hint(run: Run, verb: list[str]) -> None:
    result = run([verb[0], "-f", S, *verb[1:], "-p", "80"])
    assert result.exit_code == 2
    assert "--port 80" in result.stderr and "proto:80" in result.stderr, result.stderr


def test_a_protocol_number_in_the_explicit_form(run: Run) -> None:
    by_number = json.loads(run(["evaluate", "-f", S, *TO_BACK_END, "-p", "proto:6", "--port", "443", "-o", "json"]).stdout)
    by_name = json.loads(run(["evaluate", "-f", S, *TO_BACK_END, "-p", "tcp", "--port", "443", "-o", "json"]).stdout)
    assert by_number == by_name
    other = run(["evaluate", "-f", S, *TO_BACK_END, "-p", "proto:80", "-o", "json"])
    assert other.exit_code == 0, other.stderr
    assert json.loads(other.stdout)["flow"]["protocol"] in (80, "80")
    assert run(["evaluate", "-f", S, *TO_BACK_END, "-p", "proto:0"]).exit_code == 2
    assert run(["evaluate", "-f", S, *TO_BACK_END, "-p", "proto:x"]).exit_code == 2


# -- the compiled matcher, when a source checkout should have it ------------------------------


def _checkout(tmp_path: Path, *, built: bool) -> Path:
    (tmp_path / "setup.py").write_text("")
    package = tmp_path / "netpolicy"
    package.mkdir()
    (package / "_fastmatch.pyx").write_text("")
    if built:
        (package / "_fastmatch.cpython-311-x86_64-linux-gnu.so").write_bytes(b"")
    return package


def test_warns_when_a_source_checkout_runs_without_its_compiled_matcher(tmp_path: Path) -> None:
    package = _checkout(tmp_path, built=False)
    warning = _environment.matcher_warning(package, implementation="python", environ={})
    assert warning is not None and "pure-Python" in warning and "build_ext --inplace" in warning
    assert "NETPOLICY_NO_EXTENSIONS=1" in warning
    assert _environment.matcher_warning(package, implementation="python", environ={"NETPOLICY_NO_EXTENSIONS": "1"}) is None
    assert _environment.matcher_warning(package, implementation="cython", environ={}) is None


def test_a_stale_build_is_named(tmp_path: Path) -> None:
    package = _checkout(tmp_path, built=True)  # built, but could not be loaded
    warning = _environment.matcher_warning(package, implementation="python", environ={})
    assert warning is not None and "could not be loaded" in warning


def test_no_warning_for_an_installed_pure_build(tmp_path: Path) -> None:
    package = tmp_path / "site-packages" / "netpolicy"
    package.mkdir(parents=True)
    (package / "_fastmatch.pyx").write_text("")
    assert _environment.matcher_warning(package, implementation="python", environ={}) is None


def test_no_warning_here() -> None:
    # This checkout is built (or NETPOLICY_NO_EXTENSIONS=1 chose the pure matcher).
    assert _environment.matcher_warning() is None


def test_python_dash_m_in_a_checkout_without_its_build_warns(tmp_path: Path) -> None:
    import shutil
    import subprocess
    import sys

    shutil.copytree(ROOT / "netpolicy", tmp_path / "netpolicy", ignore=shutil.ignore_patterns("*.so", "*.pyd", "*.c", "__pycache__"))
    shutil.copy(ROOT / "setup.py", tmp_path / "setup.py")
    # `python -m netpolicy version` in the copy, without the finder of an editable install
    # (which would find this checkout's build for the copy's missing one).
    code = (
        "import runpy, sys\n"
        "sys.meta_path[:] = [f for f in sys.meta_path if 'editable' not in repr(f).lower()]\n"
        "sys.argv = ['netpolicy', 'version']\n"
        "runpy.run_module('netpolicy', run_name='__main__', alter_sys=True)\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("NETPOLICY_NO_EXTENSIONS", "PYTHONPATH")}
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("netpolicy ") and "python matcher" in run.stdout
    assert run.stderr.startswith("warning: the compiled matcher of the source checkout"), run.stderr
    env["NETPOLICY_NO_EXTENSIONS"] = "1"
    quiet = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert quiet.returncode == 0 and quiet.stderr == "", quiet.stderr
