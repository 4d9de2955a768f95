"""Where manifests are read from: only regular files, every read bounded."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import netpolicy
from netpolicy import ValidationError
from netpolicy.loader import DEFAULT_MAX_BYTES

NS = "apiVersion: v1\nkind: Namespace\nmetadata: {name: prod}\n"
ROOT = Path(__file__).resolve().parents[2]

needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")


def _in_child(code: str) -> str:
    """Run ``code`` in a child process, so that a read that never ends cannot stall this
    run (the timeout only guards against a hang; nothing here is timed), with its memory
    capped so that one that never ends cannot exhaust the machine's."""
    prelude = (
        "import resource\n"
        "resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))\n"
        if sys.platform.startswith("linux")
        else ""
    )
    result = subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@needs_fifo
def test_a_named_pipe_in_a_directory_is_skipped_with_a_warning(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(NS)
    os.mkfifo(tmp_path / "x.yaml")
    out = _in_child(
        f"""
        import netpolicy
        ps = netpolicy.load({str(tmp_path)!r})
        print(sorted(ps.profiles))
        print(ps.warnings)
        """
    )
    profiles, warnings = out.splitlines()
    assert "kns.prod" in profiles
    assert warnings == repr((f"{tmp_path / 'x.yaml'}: skipped: not a regular file (a named pipe)",))


@needs_fifo
def test_a_link_to_a_named_pipe_in_a_directory_is_skipped(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    (inputs / "link.yml").symlink_to(tmp_path / "pipe")
    out = _in_child(f"import netpolicy\nprint(netpolicy.load({str(inputs)!r}).warnings)\n")
    assert "skipped: not a regular file (a named pipe)" in out


@needs_fifo
def test_a_named_pipe_given_by_name_is_an_error(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "x.yaml")
    out = _in_child(
        f"""
        import netpolicy
        try:
            netpolicy.load({str(tmp_path / 'x.yaml')!r})
        except netpolicy.ValidationError as error:
            print(error)
        """
    )
    assert out.strip() == (
        f"{tmp_path / 'x.yaml'}: not a regular file (a named pipe): only regular files are read; "
        "to read a stream, give '-' and send it to standard input"
    )


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero here")
def test_dev_zero_is_an_error_at_once(count_operations) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError) as info:
        count_operations(lambda: netpolicy.load("/dev/zero"), budget=100_000)
    assert str(info.value) == (
        "/dev/zero: not a regular file (a character device): only regular files are read; "
        "to read a stream, give '-' and send it to standard input"
    )


def test_a_directory_given_as_a_file_is_searched(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text('{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "j"}}')
    assert "kns.j" in netpolicy.load(tmp_path).profiles


def test_the_default_limit_is_one_gib() -> None:
    assert DEFAULT_MAX_BYTES == 1 << 30


def test_a_file_over_the_limit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text(NS + "#" * 200 + "\n")
    assert len(path.read_bytes()) > 200
    with pytest.raises(ValidationError) as info:
        netpolicy.load(path, max_bytes=200)
    assert str(info.value) == (
        f"{path}: the input is larger than the limit of 200 bytes; raise the limit with max_bytes= "
        "(--max-input-size on the command line)"
    )
    assert "kns.prod" in netpolicy.load(path, max_bytes=len(path.read_bytes())).profiles


def test_a_file_in_a_directory_over_the_limit_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(NS)
    (tmp_path / "b.yaml").write_text(NS.replace("prod", "dev") + "#" * 2048 + "\n")
    with pytest.raises(ValidationError) as info:
        netpolicy.load(tmp_path, max_bytes=2048)
    assert info.value.file == str(tmp_path / "b.yaml")
    assert "larger than the limit of 2 KiB" in str(info.value)


def test_a_string_over_the_limit_is_refused() -> None:
    for text in (NS, NS.encode()):
        with pytest.raises(ValidationError, match="larger than the limit of 10 bytes"):
            netpolicy.loads(text, max_bytes=10)
        assert "kns.prod" in netpolicy.loads(text, max_bytes=len(NS)).profiles


def test_standard_input_over_the_limit_is_refused() -> None:
    code = "import netpolicy\ntry:\n    netpolicy.load('-', max_bytes=100)\nexcept netpolicy.ValidationError as e:\n    print(e)\n"
    result = subprocess.run(
        [sys.executable, "-c", code], input=NS * 10, capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert result.stdout.strip() == (
        "<stdin>: the input is larger than the limit of 100 bytes; raise the limit with max_bytes= "
        "(--max-input-size on the command line)"
    )


@pytest.mark.parametrize("bad", [0, -1, 1.5, "1G", True])
def test_max_bytes_must_be_a_positive_number_of_bytes(bad: object) -> None:
    with pytest.raises(ValueError, match="max_bytes must be a positive number of bytes"):
        netpolicy.loads(NS, max_bytes=bad)  # type: ignore[arg-type]
