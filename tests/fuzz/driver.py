"""Runs one fuzz target (see targets.py) with Hypothesis or with atheris.

  python tests/fuzz/fuzz_<target>.py --runs N [--seed S] [--database DIR]
      Hypothesis: N inputs, then stop. The seed is drawn unless given, and printed so
      that a failing run can be repeated exactly. A failing input is shrunk, printed and
      written to crash-<sha1> in the current directory.

  python tests/fuzz/fuzz_<target>.py [libFuzzer flags] [CORPUS_DIR ...]
      atheris (pip install atheris): coverage-guided, until a libFuzzer flag such as
      -max_total_time or -runs stops it; crash files go to the current directory.
"""

from __future__ import annotations

import argparse
import hashlib
import pathlib
import random
import sys
import traceback
from typing import Any

__all__ = ["main"]

ROOT = pathlib.Path(__file__).resolve().parents[2]


def main(target: str, argv: list[str]) -> int:
    if "--runs" in argv or any(arg.startswith("--runs=") for arg in argv):
        return _hypothesis(target, argv)
    return _atheris(target, argv)


def _hypothesis(target: str, argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog=f"fuzz_{target}.py", description=f"Hypothesis run of the {target} target")
    parser.add_argument("--runs", type=int, required=True, help="how many inputs to try")
    parser.add_argument("--seed", type=int, default=None, help="repeat the run of this seed")
    parser.add_argument("--database", default=None, help="keep failing inputs in this directory (replayed first)")
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**32)

    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as with_seed
    from hypothesis.database import DirectoryBasedExampleDatabase

    import targets

    check = targets.TARGETS[target]
    last: list[bytes] = []

    @settings(
        max_examples=args.runs,
        deadline=None,
        database=DirectoryBasedExampleDatabase(args.database) if args.database else None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.reuse, Phase.generate, Phase.shrink],
        print_blob=True,
    )
    @with_seed(seed)
    @given(targets.inputs(target))
    def run(data: bytes) -> None:
        try:
            check(data)
        except BaseException:
            last[:] = [data]
            raise

    print(f"fuzz {target}: {args.runs} inputs, seed {seed}", flush=True)
    try:
        run()
    except Exception:
        traceback.print_exc()
        if last:
            crash = pathlib.Path(f"crash-{hashlib.sha1(last[0]).hexdigest()}")
            crash.write_bytes(last[0])
            print(f"fuzz {target}: the smallest failing input is in {crash}: {last[0]!r}", file=sys.stderr)
        print(f"fuzz {target}: to repeat: python tests/fuzz/fuzz_{target}.py --runs {args.runs} --seed {seed}", file=sys.stderr)
        return 1
    print(f"fuzz {target}: no finding", flush=True)
    return 0


def _atheris(target: str, argv: list[str]) -> int:
    import atheris

    with atheris.instrument_imports(include=["netpolicy"]):
        import targets
    check: Any = targets.TARGETS[target]
    atheris.Setup([sys.argv[0], *argv], check)
    atheris.Fuzz()
    return 0
