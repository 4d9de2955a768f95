"""The command on workloads and Services: kubectl names with -n, a Service's backends
summed up, --exit-code unless all, names that are not there, helm template on stdin."""

from __future__ import annotations

import json

import pytest

from clihelp import ROOT, Run

SHOP = str(ROOT / "examples" / "shop")


def test_evaluate_by_workload_names_in_the_namespace(run: Run) -> None:
    result = run(["evaluate", "-f", SHOP, "-n", "shop", "--src", "deploy/frontend", "--dst", "sts/db", "--port", "5432"])
    assert result.exit_code == 0
    assert result.stdout.splitlines()[:2] == [
        "FLOW     shop/frontend[Deployment] -> shop/db[StatefulSet] TCP/5432",
        "ACTION   Deny",
    ]
    assert "synthetic addresses from 10.244.0.0/16" in result.stderr


def test_without_n_a_kind_and_name_is_looked_for_everywhere(run: Run) -> None:
    args = ["evaluate", "-f", SHOP, "--src", "deploy/catalog", "--dst", "kube-system/deploy/coredns", "-p", "UDP", "--port", "53"]
    result = run([*args, "-o", "json"])
    data = json.loads(result.stdout)
    assert data["action"] == "Allow"
    assert (data["flow"]["src"], data["flow"]["dst"]) == ("shop/catalog[Deployment]", "kube-system/coredns[Deployment]")
    assert data["depends_on_synthetic_address"] is False


def test_a_service_lists_each_backend_and_sums_up(run: Run) -> None:
    args = ["evaluate", "-f", SHOP, "-n", "shop", "--src", "deploy/orders", "--dst", "svc/db", "--port", "5432"]
    result = run(args)
    assert result.exit_code == 0
    assert "FLOW     shop/orders[Deployment] -> shop/db[StatefulSet] TCP/5432" in result.stdout
    assert "SUMMARY  allowed to all (1 of 1) from shop/orders[Deployment] to shop/db[Service]" in result.stdout
    assert run([*args, "--exit-code"]).exit_code == 0
    data = json.loads(run([*args, "-o", "json"]).stdout)
    assert (data["summary"], data["allowed"], data["dst"]) == ("all", True, "shop/db[Service]")
    assert [v["flow"]["dst_port"] for v in data["verdicts"]] == [5432]


def test_exit_code_fails_unless_all(run: Run) -> None:
    args = ["evaluate", "-f", SHOP, "-n", "shop", "--src", "deploy/frontend", "--dst", "svc/db", "--port", "5432", "--exit-code"]
    result = run(args)
    assert result.exit_code == 1
    assert "SUMMARY  allowed to none (0 of 1)" in result.stdout


def test_explain_a_service(run: Run) -> None:
    result = run(["explain", "-f", SHOP, "-n", "shop", "--src", "deploy/catalog", "--dst", "svc/db", "--port", "5432"])
    assert result.exit_code == 0
    assert "destination: WorkloadEndpoint shop/db[StatefulSet] (10.244.0.5, synthetic)" in result.stdout
    assert result.stdout.rstrip().endswith("summary: allowed to all (1 of 1) from shop/catalog[Deployment] to shop/db[Service]")


@pytest.mark.parametrize(("side", "message"), [
    ("deploy/fronted", "no pod, workload or Service 'shop/deploy/fronted' in the policy set; did you mean shop/deploy/frontend, shop/svc/frontend?"),
    ("svc/db --port 1", "shop/db[Service] has no port 1/TCP; its ports: 5432/TCP (postgresql) -> postgresql"),
    ("widget/x", "no pod, workload or Service 'widget/x' in the policy set"),  # NAMESPACE/NAME: a pod
])
def test_names_and_ports_that_are_not_there_exit_3(run: Run, side: str, message: str) -> None:
    dst, *more = side.split()
    result = run(["evaluate", "-f", SHOP, "-n", "shop", "--src", "deploy/frontend", "--dst", dst, *more])
    assert result.exit_code == 3
    assert message in result.stderr


def test_pod_cidr_chooses_the_pool(run: Run) -> None:
    args = ["evaluate", "-f", SHOP, "-n", "shop", "--src", "deploy/frontend", "--dst", "sts/db"]
    result = run([*args, "--pod-cidr", "10.8.0.0/16"])
    assert result.exit_code == 0
    assert "synthetic addresses from 10.8.0.0/16 (the pod CIDR asked for" in result.stderr
    bad = run([*args, "--pod-cidr", "nope"])
    assert bad.exit_code == 2 and "pod_cidr 'nope' is not a CIDR" in bad.stderr


HELM = """\
---
# Source: app/templates/configmap.yaml
apiVersion: v1
kind: ConfigMap
metadata: {name: app}
data: {a: b}
---
# Source: app/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata: {name: app, namespace: web}
spec:
  selector: {matchLabels: {app: app}}
  template:
    metadata: {labels: {app: app}}
    spec:
      containers: [{name: app, image: app, ports: [{name: http, containerPort: 8080}]}]
---
# Source: app/templates/service.yaml
apiVersion: v1
kind: Service
metadata: {name: app, namespace: web}
spec:
  selector: {app: app}
  ports: [{port: 80, targetPort: http}]
"""


def test_helm_template_on_stdin(run: Run) -> None:
    result = run(["evaluate", "-f", "-", "-n", "web", "--src", "10.1.2.3", "--dst", "svc/app", "--port", "80", "-o", "json"], input=HELM)
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["summary"] == "all"
    assert [v["flow"]["dst_port"] for v in data["verdicts"]] == [8080]
    assert "skipped 1 document of kind 'ConfigMap'" in result.stderr


def test_replay_and_matrix_of_the_shop(run: Run) -> None:
    replay = run(["replay", "-f", SHOP, "--flows", str(ROOT / "examples" / "shop" / "flows.csv")])
    assert replay.exit_code == 0
    lines = replay.stdout.splitlines()
    assert lines[1].startswith("shop/deploy/frontend,shop/sts/db,TCP,5432,Deny,false")
    assert lines[2].startswith("shop/deploy/catalog,shop/sts/db,TCP,5432,Allow,true")
    matrix = run(["matrix", "-f", SHOP, "-n", "shop", "--port", "5432", "-o", "json"])
    data = json.loads(matrix.stdout)
    text = json.dumps(data)
    assert "shop/frontend[Deployment]" in text and "shop/db[StatefulSet]" in text
