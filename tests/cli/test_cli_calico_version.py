"""``--calico-version`` and ``--calico-exact``: which Calico release to follow, and
Calico's own conversion of ClusterNetworkPolicy, on every verb that loads manifests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clihelp import Run

CLUSTER = """\
apiVersion: v1
kind: Namespace
metadata: {name: a}
---
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: a}
status: {podIP: 10.0.0.1}
---
apiVersion: v1
kind: Node
metadata: {name: n1, labels: {role: infra}}
status: {addresses: [{type: InternalIP, address: 172.18.0.2}]}
"""


def _cnp(name: str, rule: str) -> str:
    return f"""---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {{name: {name}}}
spec:
  tier: Admin
  priority: 10
  subject: {{namespaces: {{}}}}
  egress: [{rule}]
"""


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    """Two policies of equal priority: 'a-b' (Accept) sorts first in 3.32, 'a' (Deny) in
    3.31; and a Pass rule to nodes, which Calico turns into a bare Deny."""
    path = tmp_path / "m.yaml"
    path.write_text(CLUSTER
                    + _cnp("a", "{action: Deny, to: [{networks: [192.0.2.0/24]}]}")
                    + _cnp("a-b", "{action: Accept, to: [{networks: [192.0.2.0/24]}]}")
                    + _cnp("nodes", "{action: Pass, to: [{nodes: {matchLabels: {role: infra}}}]}"))
    return path


def _allowed(run: Run, manifest: Path, dst: str, *options: str) -> bool:
    result = run(["evaluate", "-f", str(manifest), "--src", "a/p", "--dst", dst, "--port", "80", "-o", "json", *options])
    assert result.exit_code == 0, result.stderr
    return bool(json.loads(result.stdout)["allowed"])


def test_calico_version_orders_ties_as_that_release(run: Run, manifest: Path) -> None:
    assert _allowed(run, manifest, "192.0.2.1")
    assert _allowed(run, manifest, "192.0.2.1", "--calico-version", "3.32")
    assert not _allowed(run, manifest, "192.0.2.1", "--calico-version", "v3.31.7")


def test_calico_exact_converts_as_calico(run: Run, manifest: Path) -> None:
    assert _allowed(run, manifest, "172.18.0.2")  # passed on, then the profile allows
    assert not _allowed(run, manifest, "172.18.0.2", "--calico-exact")  # Calico: a bare Deny


def test_a_bad_version_is_a_usage_error(run: Run, manifest: Path) -> None:
    result = run(["validate", "-f", str(manifest), "--calico-version", "4.0"])
    assert result.exit_code == 2
    assert "--calico-version" in result.stderr and "calico_version must be a Calico 3 release" in result.stderr


@pytest.mark.parametrize("verb", ["validate", "evaluate", "explain", "matrix", "replay"])
def test_every_loading_verb_takes_the_options(run: Run, verb: str) -> None:
    result = run([verb, "--help"])
    assert "--calico-version" in result.stdout and "--calico-exact" in result.stdout
