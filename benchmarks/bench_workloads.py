"""Loading workloads against loading the same number of Pods.

Usage::

    python benchmarks/bench_workloads.py [small|medium|large] [--runs N]

Builds the synthetic cluster of :mod:`synthetic` (``large``: 10,000 Pods and 2,000
policies) and a second text where every Pod is a Deployment with the Pod's labels,
service account and container ports as its template, and no address (so netpolicy
draws a synthetic one). Prints the median wall and CPU time of ``netpolicy.loads`` on
each text, and their ratios; the target is a ratio of at most 1.5. The texts are generated
beforehand and are not timed.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
from typing import Any

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import netpolicy  # noqa: E402
import synthetic  # noqa: E402

TARGET_RATIO = 1.5

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def _text(dumper: Any, value: str) -> Any:
    """Strings quoted when a YAML 1.2 reader would take them for numbers (``12e45``)."""
    style = "'" if value and all(c in "0123456789.eE+-" for c in value) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)


def _deployment(pod: dict[str, Any]) -> dict[str, Any]:
    labels = dict(pod["metadata"].get("labels") or {})
    spec = {key: value for key, value in pod["spec"].items() if key != "nodeName"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": pod["metadata"]["name"], "namespace": pod["metadata"]["namespace"]},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": labels["app"]}},
            "template": {"metadata": {"labels": labels}, "spec": spec},
        },
    }


def deployments_text(pods_text: str) -> str:
    """``pods_text`` with every Pod turned into a Deployment of the same template."""
    documents = [
        _deployment(document) if document.get("kind") == "Pod" else document
        for document in yaml.load_all(pods_text, Loader=_Loader)
    ]
    return str(yaml.dump_all(documents, Dumper=_Dumper, sort_keys=False))


def _median_load(text: str, runs: int) -> tuple[float, float]:
    """Median wall and CPU seconds of ``netpolicy.loads(text)``."""
    wall, cpu = [], []
    for _ in range(runs):
        gc.collect()
        start, start_cpu = time.perf_counter(), time.process_time()
        policy_set = netpolicy.loads(text)
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        del policy_set
    return statistics.median(wall), statistics.median(cpu)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("size", nargs="?", default="large", choices=sorted(synthetic.SIZES))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    pods = synthetic.generate(args.size, args.seed)
    workloads = deployments_text(pods)
    shape = synthetic.SIZES[args.size]
    count = shape.namespaces * shape.pods_per_namespace
    print(f"{args.size}: {count} Pods or Deployments, {shape.policies} policies")

    # the same tables of every kind are warm for both: one untimed load each first
    netpolicy.loads(pods)
    netpolicy.loads(workloads)
    pod_wall, pod_cpu = _median_load(pods, args.runs)
    workload_wall, workload_cpu = _median_load(workloads, args.runs)
    print(f"Pods:        median {pod_wall:.2f} s wall, {pod_cpu:.2f} s CPU over {args.runs} runs")
    print(f"Deployments: median {workload_wall:.2f} s wall, {workload_cpu:.2f} s CPU over {args.runs} runs")
    for what, ratio in (("wall", workload_wall / pod_wall), ("CPU", workload_cpu / pod_cpu)):
        print(f"ratio ({what}) {ratio:.2f}, target at most {TARGET_RATIO}: {'met' if ratio <= TARGET_RATIO else 'NOT met'}")
    print(f"load average {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
