"""How long ``netpolicy.diff`` takes on a cluster with one policy changed, beside the goals.

Usage::

    python benchmarks/bench_diff.py [--sizes medium,large] [--generator DIR] [--no-generated]

For each size, the cluster of ``benchmarks/synthetic.py`` and the one of
``gen_workload.py`` (seed 7; ``--generator`` is its directory, by default
``../shared/bench`` beside the repository) are loaded, and one policy of the head side is
changed: the first policy with an ingress rule that names ports gets its first port
moved by one. The time is wall and CPU (``time.process_time``; the machine may be
shared) of ``netpolicy.diff`` on the two loaded sides, compiling both included. Goals:
medium at most 1 s, large at most 10 s.
"""

from __future__ import annotations

import argparse
import copy
import os
import pathlib
import subprocess
import sys
import tempfile
import time
from typing import Any

import yaml

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import netpolicy  # noqa: E402
from synthetic import generate  # noqa: E402

GOALS = {"medium": 1.0, "large": 10.0}
ROOT = pathlib.Path(__file__).resolve().parent.parent


def _edit(documents: list[Any]) -> list[Any]:
    """A copy of ``documents`` with one port of one policy's ingress rule moved by one."""
    head = copy.deepcopy(documents)
    for doc in head:
        if not isinstance(doc, dict) or "Policy" not in str(doc.get("kind")):
            continue
        for rule in (doc.get("spec") or {}).get("ingress") or ():
            ports = rule.get("ports") or (rule.get("destination") or {}).get("ports")
            if not ports:
                continue
            first = ports[0]
            if isinstance(first, dict) and isinstance(first.get("port"), int):
                first["port"] += 1
                return head
            if isinstance(first, int):
                ports[0] = first + 1
                return head
    raise SystemExit("no policy with a numbered ingress port to change")


def _documents(text: str) -> list[Any]:
    found: list[Any] = []
    for doc in yaml.safe_load_all(text):
        if isinstance(doc, dict) and doc.get("kind") == "List":
            found.extend(doc.get("items") or ())
        elif doc is not None:
            found.append(doc)
    return found


def _generated(size: str, generator: pathlib.Path) -> str:
    out = tempfile.mkdtemp(prefix="netpolicy-bench-diff-")
    subprocess.run([sys.executable, str(generator / "gen_workload.py"), size, "--out", out, "--seed", "7", "--flows", "1"],
                   check=True, capture_output=True)
    texts = [p.read_text() for p in sorted(pathlib.Path(out, size).rglob("*.yaml"))]
    return "\n---\n".join(texts)


def _measure(label: str, size: str, text: str) -> None:
    documents = _documents(text)
    base = netpolicy.from_objects(documents)
    head = netpolicy.from_objects(_edit(documents))
    wall, cpu = time.perf_counter(), time.process_time()
    found = netpolicy.diff(base, head)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    goal = GOALS.get(size)
    verdict = "" if goal is None else ("  within the goal" if wall <= goal else "  OVER the goal")
    print(f"{label:<10} {size:<7} pods {len(base.endpoints):>6}  policies {len(base.policies):>5}  rows {len(found):>4}  "
          f"diff {wall:7.2f} s wall {cpu:7.2f} s CPU  (goal <= {goal} s){verdict}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="medium,large")
    parser.add_argument("--generator", default=str(ROOT.parent / "shared" / "bench"))
    parser.add_argument("--no-generated", action="store_true", help="only benchmarks/synthetic.py")
    args = parser.parse_args()
    for size in args.sizes.split(","):
        _measure("synthetic", size, generate(size))
        generator = pathlib.Path(args.generator)
        if not args.no_generated and (generator / "gen_workload.py").exists():
            _measure("generated", size, _generated(size, generator))
        elif not args.no_generated:
            print(f"generated  {size:<7} skipped: no gen_workload.py in {generator}", file=sys.stderr)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
