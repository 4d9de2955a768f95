"""How long ``netpolicy.analyze`` (what ``netpolicy lint`` runs) takes, beside the goals.

Usage::

    python benchmarks/bench_lint.py [--sizes medium,large] [--generator DIR] [--no-generated]

For each size, the cluster of ``benchmarks/synthetic.py`` and the one of
``gen_workload.py`` (seed 7; ``--generator`` is its directory, by default
``../shared/bench`` beside the repository) are loaded, then analysed with every check:
the time is CPU (``time.process_time``; the machine may be shared) and wall of
``netpolicy.analyze`` on the loaded policy set, every compile included (the policy set's
with its Pass rules marked, and the one without the candidate redundant rules), with the
time of each check family below it. Goals: medium at most 2 s, large at most 20 s.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import subprocess
import sys
import tempfile
import time
from collections import Counter

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import netpolicy  # noqa: E402
from synthetic import generate  # noqa: E402

GOALS = {"medium": 2.0, "large": 20.0}
ROOT = pathlib.Path(__file__).resolve().parent.parent
FAMILIES = {
    "shadowing, redundancy, log-only drops": ("shadowed-rule", "redundant-rule", "log-only-drop"),
    "exposure": ("exposed-external", "exposed-all-namespaces"),
    "selectors, coverage, conflicts": ("empty-policy-selector", "empty-rule-selector", "unprotected-ingress",
                                       "unprotected-egress", "no-default-deny", "order-conflict"),
}


def _generated(size: str, generator: pathlib.Path) -> str:
    out = tempfile.mkdtemp(prefix="netpolicy-bench-lint-")
    subprocess.run([sys.executable, str(generator / "gen_workload.py"), size, "--out", out, "--seed", "7", "--flows", "1"],
                   check=True, capture_output=True)
    texts = [p.read_text() for p in sorted(pathlib.Path(out, size).rglob("*.yaml"))]
    return "\n---\n".join(texts)


def _time(text: str, only: tuple[str, ...] | None) -> tuple[float, float, netpolicy.Findings]:
    ps = netpolicy.loads(text)  # a fresh policy set: nothing compiled yet
    off = [c for c in netpolicy.CHECKS if only is not None and c not in only]
    wall, cpu = time.perf_counter(), time.process_time()
    found = netpolicy.analyze(ps, disable=off)
    return time.perf_counter() - wall, time.process_time() - cpu, found


def _measure(label: str, size: str, text: str, families: bool) -> None:
    wall, cpu, found = _time(text, None)
    ps = netpolicy.loads(text)
    goal = GOALS.get(size)
    verdict = "" if goal is None else ("  within the goal" if cpu <= goal else "  OVER the goal")
    print(f"{label:<10} {size:<7} pods {len(ps.endpoints):>6}  policies {len(ps.policies):>5}  findings {len(found):>5}  "
          f"analyze {cpu:7.2f} s CPU {wall:7.2f} s wall  (goal <= {goal} s){verdict}", flush=True)
    counts = Counter(f.check for f in found)
    print("           " + ", ".join(f"{check} {n}" for check, n in sorted(counts.items())), flush=True)
    if families:
        for name, checks in FAMILIES.items():
            wall, cpu, _ = _time(text, checks)
            print(f"           {name:<40} {cpu:7.2f} s CPU", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="medium,large")
    parser.add_argument("--generator", default=str(ROOT.parent / "shared" / "bench"))
    parser.add_argument("--no-generated", action="store_true", help="only benchmarks/synthetic.py")
    parser.add_argument("--no-families", action="store_true", help="no time per check family")
    args = parser.parse_args()
    for size in args.sizes.split(","):
        _measure("synthetic", size, generate(size), not args.no_families)
        generator = pathlib.Path(args.generator)
        if not args.no_generated and (generator / "gen_workload.py").exists():
            _measure("generated", size, _generated(size, generator), not args.no_families)
        elif not args.no_generated:
            print(f"generated  {size:<7} skipped: no gen_workload.py in {generator}", file=sys.stderr)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
