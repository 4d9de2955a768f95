"""How long ``netpolicy.diff`` takes on a cluster with one policy changed, and how much
memory, beside the goals.

Usage::

    python benchmarks/bench_diff.py [--sizes medium,large] [--generator DIR] [--no-generated]

For each size, the cluster of ``benchmarks/synthetic.py`` and the one of
``gen_workload.py`` (seed 7; ``--generator`` is its directory, by default
``../shared/bench`` beside the repository) are loaded, and one policy of the head side is
changed: of the policies with an ingress rule that names a numbered port, in order, the
first whose edit (its first port moved by one) changes some flow. Edits that touch no
endpoint are skipped without a diff; the others are diffed until one changes rows.

Each figure is taken in a fresh process on the two loaded sides:

* time: wall and CPU (``time.process_time``; the machine may be shared) of
  ``netpolicy.diff``, compiling both sides included; with the rows it found. Goals:
  medium at most 1 s, large at most 10 s.
* memory: the peak resident memory the work adds above what the loaded sides hold
  (Linux's peak reset through ``/proc/self/clear_refs``), for ``netpolicy.diff`` and for
  compiling one side alone (``Reach``: the engine's tables and the places read from
  them). Goal: the diff at most twice one side's compiled tables.
"""

from __future__ import annotations

import argparse
import copy
import gc
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time
from typing import Any, Iterator

import yaml

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import netpolicy  # noqa: E402
from synthetic import generate  # noqa: E402

GOALS = {"medium": 1.0, "large": 10.0}
MEMORY_GOAL = 2.0
ROOT = pathlib.Path(__file__).resolve().parent.parent


def _edits(documents: list[Any]) -> Iterator[tuple[int, int, list[Any]]]:
    """Copies of ``documents`` with one port of one policy's ingress rule moved by one,
    one per policy that has a numbered ingress port, with the indexes of the policy and
    the rule."""
    for n, doc in enumerate(documents):
        if not isinstance(doc, dict) or "Policy" not in str(doc.get("kind")):
            continue
        for r, rule in enumerate((doc.get("spec") or {}).get("ingress") or ()):
            ports = rule.get("ports") or (rule.get("destination") or {}).get("ports")
            if not ports:
                continue
            first = ports[0]
            if isinstance(first, dict) and isinstance(first.get("port"), int) or isinstance(first, int):
                yield n, r, _edit(documents, n, r)
                break


def _edit(documents: list[Any], n: int, r: int) -> list[Any]:
    """``documents`` with the first port of ingress rule ``r`` of document ``n`` moved by one."""
    head = list(documents)
    doc = head[n] = copy.deepcopy(documents[n])
    rule = doc["spec"]["ingress"][r]
    ports = rule.get("ports") or rule["destination"]["ports"]
    if isinstance(ports[0], dict):
        ports[0]["port"] += 1
    else:
        ports[0] += 1
    return head


def _choose(documents: list[Any]) -> tuple[int, int]:
    """The (document, rule) of the first edit that changes some flow (see the module
    docstring), found in this process."""
    from netpolicy.analysis.scope import touched
    from netpolicy.model import Direction

    base = netpolicy.from_objects(documents)
    for n, r, head_docs in _edits(documents):
        head = netpolicy.from_objects(head_docs)
        test = touched(base, head)
        if not any(test(e, e, Direction.INGRESS) for e in base.endpoints):
            continue
        if len(netpolicy.diff(base, head)):
            return n, r
    raise SystemExit("no edit of a numbered ingress port changes a flow")


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


def _status(field: str) -> int:
    """A field of /proc/self/status, in bytes."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise SystemExit(f"no {field} in /proc/self/status: the memory figure needs Linux")


def _child(task: str, source: str, size: str, edit: tuple[int, int]) -> dict[str, Any]:
    """In this (fresh) process: load the sides, then time ``task`` and the peak memory it adds."""
    documents = _documents(_text(source, size))
    base = netpolicy.from_objects(documents)
    head = netpolicy.from_objects(_edit(documents, *edit))
    gc.collect()
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")  # the peak resident memory starts again from now
    before = _status("VmRSS")
    wall, cpu = time.perf_counter(), time.process_time()
    rows = 0
    if task == "diff":
        rows = len(netpolicy.diff(base, head))
    else:
        from netpolicy.analysis.reach import Reach

        Reach(base)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"wall": wall, "cpu": cpu, "rows": rows, "peak": _status("VmHWM") - before,
            "pods": len(base.endpoints), "policies": len(base.policies)}


def _fresh(task: str, source: str, size: str, edit: tuple[int, int], generator: str) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", task, "--source", source, "--sizes", size,
               "--edit", f"{edit[0]},{edit[1]}", "--generator", generator]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(done.stderr)
    return dict(json.loads(done.stdout.splitlines()[-1]))


_GENERATOR = ""


def _text(source: str, size: str) -> str:
    return generate(size) if source == "synthetic" else _generated(size, pathlib.Path(_GENERATOR))


def _measure(source: str, size: str, generator: str) -> None:
    edit = _choose(_documents(_text(source, size)))
    found = _fresh("diff", source, size, edit, generator)
    one = _fresh("compile", source, size, edit, generator)
    goal = GOALS.get(size)
    verdict = "" if goal is None else ("  within the goal" if found["cpu"] <= goal else "  OVER the goal")
    ratio = found["peak"] / one["peak"] if one["peak"] else float("inf")
    print(f"{source:<10} {size:<7} pods {found['pods']:>6}  policies {found['policies']:>5}  edit: document {edit[0]} "
          f"ingress rule {edit[1]}  rows changed {found['rows']:>4}", flush=True)
    print(f"{'':<18} time: diff {found['wall']:7.2f} s wall {found['cpu']:7.2f} s CPU (goal <= {goal} s CPU){verdict}; "
          f"compiling one side {one['cpu']:.2f} s CPU", flush=True)
    mem_verdict = "within the goal" if ratio <= MEMORY_GOAL else "OVER the goal"
    print(f"{'':<18} memory: diff peak +{found['peak'] / 2**20:.0f} MiB, compiling one side +{one['peak'] / 2**20:.0f} MiB: "
          f"{ratio:.1f}x (goal <= {MEMORY_GOAL:.0f}x)  {mem_verdict}", flush=True)


def main() -> None:
    global _GENERATOR
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default="medium,large")
    parser.add_argument("--generator", default=str(ROOT.parent / "shared" / "bench"))
    parser.add_argument("--no-generated", action="store_true", help="only benchmarks/synthetic.py")
    parser.add_argument("--child", choices=("diff", "compile"), help=argparse.SUPPRESS)
    parser.add_argument("--source", default="synthetic", help=argparse.SUPPRESS)
    parser.add_argument("--edit", help=argparse.SUPPRESS)
    args = parser.parse_args()
    _GENERATOR = args.generator
    if args.child:
        n, r = (int(x) for x in args.edit.split(","))
        print(json.dumps(_child(args.child, args.source, args.sizes, (n, r))))
        return
    for size in args.sizes.split(","):
        _measure("synthetic", size, args.generator)
        generator = pathlib.Path(args.generator)
        if not args.no_generated and (generator / "gen_workload.py").exists():
            _measure("generated", size, args.generator)
        elif not args.no_generated:
            print(f"generated  {size:<7} skipped: no gen_workload.py in {generator}", file=sys.stderr)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
