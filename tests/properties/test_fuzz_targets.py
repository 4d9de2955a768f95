"""The fuzz targets of tests/fuzz: their seeds pass, a short Hypothesis run of each
passes, and a finding is printed, saved and can be repeated from its seed."""

from __future__ import annotations

import pathlib
import subprocess
import sys
from typing import Any, Iterator

import pytest

from .support import requires_loader

pytestmark = requires_loader

FUZZ = pathlib.Path(__file__).resolve().parents[1] / "fuzz"


@pytest.fixture
def fuzz() -> Iterator[Any]:
    """The modules of tests/fuzz (targets, driver), importable for the test's length."""
    sys.path.insert(0, str(FUZZ))
    try:
        import driver
        import targets

        yield driver, targets
    finally:
        sys.path.remove(str(FUZZ))


@pytest.mark.parametrize("target", ["selector", "manifest"])
def test_every_seed_passes_its_target(fuzz: Any, target: str) -> None:
    _, targets = fuzz
    found = targets.seeds(target)
    assert found
    for data in found:
        targets.TARGETS[target](data)


def test_the_dictionaries_read() -> None:
    sys.path.insert(0, str(FUZZ))
    try:
        import targets
    finally:
        sys.path.remove(str(FUZZ))
    assert b"starts with" in targets.dictionary("selector")
    assert b"apiVersion" in targets.dictionary("manifest")


@pytest.mark.parametrize("target", ["selector", "manifest"])
def test_a_short_run_passes(fuzz: Any, target: str, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    driver, _ = fuzz
    monkeypatch.chdir(tmp_path)
    assert driver.main(target, ["--runs", "10", "--seed", "7"]) == 0
    assert f"fuzz {target}: 10 inputs, seed 7" in capsys.readouterr().out
    assert not list(tmp_path.glob("crash-*"))


def test_the_scripts_hand_their_arguments_to_the_driver(tmp_path: pathlib.Path) -> None:
    script = FUZZ / "fuzz_selector.py"
    done = subprocess.run([sys.executable, str(script), "--runs", "3", "--seed", "7"], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "fuzz selector: 3 inputs, seed 7" in done.stdout


def test_a_finding_is_shrunk_saved_and_repeatable(fuzz: Any, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    driver, targets = fuzz

    def check(data: bytes) -> None:
        if b"&&" in data:
            raise ValueError("a finding")

    monkeypatch.setitem(targets.TARGETS, "selector", check)
    monkeypatch.chdir(tmp_path)
    assert driver.main("selector", ["--runs", "300", "--seed", "11"]) == 1
    (crash,) = tmp_path.glob("crash-*")
    with pytest.raises(ValueError):  # the input saved is one that fails
        check(crash.read_bytes())
    err = capsys.readouterr().err
    assert "ValueError: a finding" in err and "--runs 300 --seed 11" in err
    assert repr(crash.read_bytes()) in err
