"""`netpolicy matrix -o html` keeps to a size budget: one row per pod while the page fits,
else per workload (replicas collapsed), else per namespace, saying so on the page and on
stderr. Sizes are counted in bytes; every group cell counts the allowed pod pairs as the
pod-level answer does."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest

import netpolicy

from netpolicy.cli import _html, _workloads

from clihelp import Run


def cluster(namespaces: int, workloads: int, replicas: int) -> str:
    """Namespaces of Deployments' replicas (labels app, team, pod-template-hash), policies
    that tell workloads apart, and one ipBlock rule that tells two replicas apart."""
    docs = []
    serial = 0
    for n in range(namespaces):
        ns = f"ns-{n}"
        docs.append(f"apiVersion: v1\nkind: Namespace\nmetadata: {{name: {ns}, labels: {{team: t{n % 3}}}}}\n")
        for w in range(workloads):
            revision = f"{(n * 7919 + w * 104729) % 16**8:08x}"[:8]
            for r in range(replicas):
                serial += 1
                ip = f"10.{serial // 65536}.{serial // 256 % 256}.{serial % 256}"
                docs.append(
                    "apiVersion: v1\nkind: Pod\n"
                    f"metadata: {{name: w{w}-{revision}-r{r}, namespace: {ns}, "
                    f"labels: {{app: w{w}, tier: t{w % 4}, pod-template-hash: '{revision}'}}}}\n"
                    f"status: {{phase: Running, podIP: {ip}, podIPs: [{{ip: {ip}}}]}}\n"
                )
        docs.append(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
            f"metadata: {{name: backends, namespace: {ns}}}\n"
            "spec:\n  podSelector: {matchLabels: {tier: t1}}\n  policyTypes: [Ingress]\n"
            "  ingress:\n  - from: [{podSelector: {matchLabels: {tier: t0}}}]\n    ports: [{port: 443}]\n"
            "  - from: [{ipBlock: {cidr: 10.0.0.1/32}}]\n"
        )
    return "---\n".join(docs)


class Page(HTMLParser):
    """Rows, columns and cells of the heatmap."""

    def __init__(self) -> None:
        super().__init__()
        self.columns: list[str] = []
        self.rows: list[tuple[str, list[dict[str, str]]]] = []
        self.notes: list[str] = []
        self._head = False
        self._note = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        key = a.get("data-pod") or a.get("data-group")
        if tag == "thead":
            self._head = True
        elif tag == "th" and key:
            (self.columns.append(key) if self._head else self.rows.append((key, [])))
        elif tag == "td":
            self.rows[-1][1].append(a)
        elif tag == "p" and a.get("class") == "note":
            self._note = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "thead":
            self._head = False
        elif tag == "p":
            self._note = False

    def handle_data(self, data: str) -> None:
        if self._note:
            self.notes.append(data)


def parse(text: str) -> Page:
    page = Page()
    page.feed(text)
    return page


def pod_pairs(manifests: Path) -> tuple[list[str], "np.ndarray[Any, Any]"]:
    """The pods and the pod-level answer (allowed[i, j]: pod i reaches pod j on TCP 443)."""
    result = netpolicy.load(str(manifests)).matrix("TCP", 443)
    keys = [endpoint.key for endpoint in result.sources]
    assert keys == [endpoint.key for endpoint in result.destinations]
    return keys, np.asarray(result.allowed, dtype=bool)


def workload_of(pod: str) -> str:
    namespace, name = pod.split("/")
    return f"{namespace}/{name.split('-')[0]}"


def check_counts(page: Page, pairs: tuple[list[str], Any], group_of: Callable[[str], str]) -> None:
    """Every cell's data-n is the allowed and all pod pairs between its two groups."""
    keys, allowed = pairs
    groups = sorted({group_of(key) for key in keys})
    assert [row for row, _ in page.rows] == page.columns == groups
    member = np.zeros((len(keys), len(groups)), dtype=np.int64)
    for i, key in enumerate(keys):
        member[i, groups.index(group_of(key))] = 1
    want = member.T @ allowed.astype(np.int64) @ member
    sizes = member.sum(axis=0)
    for a, (_, cells) in enumerate(page.rows):
        for b, cell in enumerate(cells):
            k, t = (int(x) for x in cell["data-n"].split("/"))
            assert (k, t) == (want[a, b], sizes[a] * sizes[b]), (groups[a], groups[b])
            kind = cell["class"].split()[0]
            assert kind == ("a" if k == t else "d" if k == 0 else "s")


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("budget") / "small.yaml"
    path.write_text(cluster(namespaces=2, workloads=4, replicas=3))
    return path


def html(run: Run, manifests: Path, budget_bytes: int | None = None) -> tuple[str, str]:
    args = ["matrix", "-f", str(manifests), "--port", "443", "-o", "html"]
    if budget_bytes is not None:
        args += ["--html-budget", repr(budget_bytes / 1e6)]
    result = run(args)
    assert result.exit_code == 0, result.stderr
    return result.stdout, result.stderr


def test_within_the_budget_one_row_per_pod(run: Run, small: Path) -> None:
    text, stderr = html(run, small)
    page = parse(text)
    assert len(page.rows) == len(page.columns) == 24
    assert not page.notes and "warning" not in stderr
    assert len(text.encode()) >= _html.cells_lower_bound(24)  # the bound the budget is checked against


def test_above_the_budget_workloads_then_namespaces(run: Run, small: Path) -> None:
    pairs = pod_pairs(small)
    pods_page, _ = html(run, small, budget_bytes=0)
    pods_size = len(pods_page.encode())

    text, stderr = html(run, small, budget_bytes=pods_size - 1)
    size = len(text.encode())
    assert size <= pods_size - 1
    page = parse(text)
    assert len(page.rows) == 8  # 2 namespaces × 4 workloads of 3 replicas
    assert page.columns == [row for row, _ in page.rows]
    assert stderr.startswith("warning: One row per pod (24 pods)") and "8 workloads" in stderr
    assert "8 workloads" in "".join(page.notes)
    check_counts(page, pairs, workload_of)
    some = [cell for _, cells in page.rows for cell in cells if "s" in cell["class"].split()]
    assert some, "the ipBlock rule allows one replica of a workload and not the others"

    smallest, _ = html(run, small, budget_bytes=1000)  # namespaces, even above the budget
    budget = len(smallest.encode()) + 200  # the namespaces fit, the workloads do not
    text, stderr = html(run, small, budget_bytes=budget)
    page = parse(text)
    assert [row for row, _ in page.rows] == ["ns-0", "ns-1"]
    assert "2 namespaces" in stderr and len(text.encode()) <= budget
    check_counts(page, pairs, lambda pod: pod.split("/")[0])


def test_the_last_level_is_given_even_above_the_budget(run: Run, small: Path) -> None:
    text, stderr = html(run, small, budget_bytes=1000)
    page = parse(text)
    assert len(page.rows) == 2
    assert "above the budget" in "".join(page.notes) and "above the budget" in stderr


def test_a_thousand_pods_fit_the_default_budget(run: Run, tmp_path: Path) -> None:
    manifests = tmp_path / "thousand.yaml"
    manifests.write_text(cluster(namespaces=10, workloads=20, replicas=5))
    # One row per pod: a million cells of at least 32 bytes each, over the 20 MB budget.
    assert _html.cells_lower_bound(1000) > _html.DEFAULT_BUDGET_MB * 1e6
    text, stderr = html(run, manifests)
    assert len(text.encode()) <= _html.DEFAULT_BUDGET_MB * 1e6
    page = parse(text)
    assert len(page.rows) == 200
    assert stderr.startswith("warning: One row per pod (1000 pods)")
    pairs = pod_pairs(manifests)
    check_counts(page, pairs, workload_of)


# -- how pods are grouped ------------------------------------------------------------------


class Pod:
    """What grouping reads of an endpoint."""

    def __init__(self, key: str, labels: dict[str, str], account: str = "default", owner: tuple[str, str] | None = None) -> None:
        self.key = key
        self.namespace, self.name = key.split("/")
        self.labels = labels
        self.service_account = account
        self.owner = owner


def labels_of(groups: list[_workloads.Group]) -> dict[str, tuple[int, ...]]:
    return {g.label: g.members for g in groups}


def test_replicas_are_pods_alike_but_for_per_pod_labels() -> None:
    pods = [
        Pod("a/web-5d8f7c-x2k4p", {"app": "web", "pod-template-hash": "5d8f7c"}),
        Pod("a/web-5d8f7c-q9z8m", {"app": "web", "pod-template-hash": "5d8f7c"}),
        Pod("a/web-5d8f7c-other", {"app": "web", "pod-template-hash": "5d8f7c"}, account="admin"),
        Pod("a/db-0", {"app": "db", "statefulset.kubernetes.io/pod-name": "db-0", "controller-revision-hash": "db-1"}),
        Pod("a/db-1", {"app": "db", "statefulset.kubernetes.io/pod-name": "db-1", "controller-revision-hash": "db-1"}),
        Pod("b/web-5d8f7c-x2k4p", {"app": "web", "pod-template-hash": "5d8f7c"}),
    ]
    assert labels_of(_workloads.by_workload(pods)) == {  # type: ignore[arg-type]
        "a/db": (3, 4),
        "a/web": (0, 1),
        "a/web-5d8f7c-other": (2,),  # another service account: another workload
        "b/web-5d8f7c-x2k4p": (5,),
    }
    assert labels_of(_workloads.by_namespace(pods)) == {"a": (0, 1, 2, 3, 4), "b": (5,)}  # type: ignore[arg-type]


def test_the_controller_named_by_the_manifests_decides() -> None:
    pods = [
        Pod("a/web-abc-1", {"app": "web", "version": "1", "pod-template-hash": "abc"}, owner=("ReplicaSet", "web-abc")),
        Pod("a/web-def-1", {"app": "web", "version": "2", "pod-template-hash": "def"}, owner=("ReplicaSet", "web-def")),
        Pod("a/api-1", {"app": "api"}, owner=("StatefulSet", "api")),
        Pod("a/api-2", {"app": "api", "extra": "x"}, owner=("StatefulSet", "api")),
        Pod("a/loose", {"app": "api"}),
    ]
    assert labels_of(_workloads.by_workload(pods)) == {"a/web": (0, 1), "a/api": (2, 3), "a/loose": (4,)}  # type: ignore[arg-type]
