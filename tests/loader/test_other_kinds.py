"""What a repository holds besides policies: other kinds are skipped with one warning
per kind; unknown kinds of the policy API groups stay errors in strict mode;
``kubectl get -o yaml`` Lists and ``helm template`` output load."""

from __future__ import annotations

import textwrap

import pytest

import netpolicy
from netpolicy import ValidationError

OTHERS = textwrap.dedent(
    """\
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: a, namespace: shop}
    data: {x: y}
    ---
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: b, namespace: shop}
    ---
    apiVersion: v1
    kind: Secret
    metadata: {name: s, namespace: shop}
    stringData: {password: hunter2}
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: RoleBinding
    metadata: {name: r, namespace: shop}
    ---
    apiVersion: networking.k8s.io/v1
    kind: Ingress
    metadata: {name: i, namespace: shop}
    ---
    apiVersion: monitoring.coreos.com/v1
    kind: ServiceMonitor
    metadata: {name: m, namespace: shop}
    ---
    apiVersion: projectcalico.org/v3
    kind: IPPool
    metadata: {name: pool}
    spec: {cidr: 10.244.0.0/16}
    """
)


@pytest.mark.parametrize("strict", [True, False])
def test_other_kinds_are_skipped_with_one_warning_per_kind(strict: bool) -> None:
    ps = netpolicy.loads(OTHERS, strict=strict)
    assert ps.warnings == (
        "<input>:1 (document 1): skipped 2 documents of kind 'ConfigMap' (apiVersion 'v1'): netpolicy does not read this kind",
        "<input>:10 (document 3): skipped 1 document of kind 'Secret' (apiVersion 'v1'): netpolicy does not read this kind",
        "<input>:15 (document 4): skipped 1 document of kind 'RoleBinding' (apiVersion 'rbac.authorization.k8s.io/v1'): "
        "netpolicy does not read this kind",
        "<input>:19 (document 5): skipped 1 document of kind 'Ingress' (apiVersion 'networking.k8s.io/v1'): "
        "netpolicy does not read this kind",
        "<input>:23 (document 6): skipped 1 document of kind 'ServiceMonitor' (apiVersion 'monitoring.coreos.com/v1'): "
        "netpolicy does not read this kind",
        "<input>:27 (document 7): skipped 1 document of kind 'IPPool' (apiVersion 'projectcalico.org/v3'): "
        "netpolicy does not read this kind",
    )


@pytest.mark.parametrize(("api_version", "kind"), [
    ("projectcalico.org/v3", "GlobalNetworkPolcy"),
    ("crd.projectcalico.org/v1", "NetworkPolicyy"),
    ("policy.networking.k8s.io/v1alpha1", "AdminNetworkPolcy"),
    ("networking.k8s.io/v1", "ClusterNetworkPolicy"),
    ("networking.k8s.io/v1beta1", "NetworkPolicy"),
    ("apps/v1beta2", "Deployment"),
    ("extensions/v1beta1", "NetworkPolicy"),
])
def test_unknown_kinds_of_the_policy_api_groups_stay_errors(api_version: str, kind: str) -> None:
    text = f"apiVersion: {api_version}\nkind: {kind}\nmetadata: {{name: x}}\n"
    with pytest.raises(ValidationError, match=f"unknown kind '{kind}'"):
        netpolicy.loads(text)
    assert "skipped" in netpolicy.loads(text, strict=False).warnings[0]


KUBECTL_LIST = textwrap.dedent(
    """\
    apiVersion: v1
    items:
    - apiVersion: apps/v1
      kind: Deployment
      metadata:
        annotations: {deployment.kubernetes.io/revision: "3"}
        creationTimestamp: "2024-05-01T10:00:00Z"
        generation: 3
        labels: {app: web}
        name: web
        namespace: shop
        resourceVersion: "123"
        uid: 0c6a0a4e-1111-2222-3333-444455556666
      spec:
        progressDeadlineSeconds: 600
        replicas: 2
        revisionHistoryLimit: 10
        selector:
          matchLabels: {app: web}
        strategy:
          rollingUpdate: {maxSurge: 25%, maxUnavailable: 25%}
          type: RollingUpdate
        template:
          metadata:
            creationTimestamp: null
            labels: {app: web}
          spec:
            containers:
            - image: nginx:1.27
              imagePullPolicy: IfNotPresent
              name: web
              ports:
              - {containerPort: 8080, name: http, protocol: TCP}
              resources: {}
              terminationMessagePath: /dev/termination-log
              terminationMessagePolicy: File
            dnsPolicy: ClusterFirst
            restartPolicy: Always
            schedulerName: default-scheduler
            securityContext: {}
            terminationGracePeriodSeconds: 30
      status:
        availableReplicas: 2
        observedGeneration: 3
        readyReplicas: 2
        replicas: 2
    - apiVersion: v1
      kind: Service
      metadata:
        name: web
        namespace: shop
        resourceVersion: "99"
        uid: 1c6a0a4e-1111-2222-3333-444455556666
      spec:
        clusterIP: 10.96.12.34
        clusterIPs: [10.96.12.34]
        internalTrafficPolicy: Cluster
        ipFamilies: [IPv4]
        ipFamilyPolicy: SingleStack
        ports:
        - {name: http, port: 80, protocol: TCP, targetPort: http}
        selector: {app: web}
        sessionAffinity: None
        type: ClusterIP
      status:
        loadBalancer: {}
    kind: List
    metadata:
      resourceVersion: ""
    """
)


def test_a_kubectl_list_loads() -> None:
    ps = netpolicy.loads(KUBECTL_LIST)
    assert [e.key for e in ps.endpoints] == ["shop/web[Deployment]"]
    assert list(ps.names.services) == ["shop/web[Service]"]
    result = ps.evaluate_each(netpolicy.Flow(src="10.1.2.3", dst="shop/svc/web", dst_port=80))
    assert [v.flow.dst_port for v in result] == [8080] and result.allowed


HELM_TEMPLATE = textwrap.dedent(
    """\
    ---
    # Source: shop/templates/serviceaccount.yaml
    apiVersion: v1
    kind: ServiceAccount
    metadata:
      name: shop-api
      labels:
        helm.sh/chart: shop-0.1.0
        app.kubernetes.io/managed-by: Helm
    ---
    # Source: shop/templates/configmap.yaml
    apiVersion: v1
    kind: ConfigMap
    metadata:
      name: shop-api
    data:
      LOG_LEVEL: info
    ---
    # Source: shop/templates/deployment.yaml
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: shop-api
      labels:
        app.kubernetes.io/name: api
        app.kubernetes.io/instance: shop
    spec:
      replicas: 1
      selector:
        matchLabels:
          app.kubernetes.io/name: api
          app.kubernetes.io/instance: shop
      template:
        metadata:
          labels:
            app.kubernetes.io/name: api
            app.kubernetes.io/instance: shop
        spec:
          serviceAccountName: shop-api
          containers:
            - name: api
              image: "shop/api:1.0.0"
              ports:
                - name: http
                  containerPort: 8080
                  protocol: TCP
    ---
    # Source: shop/templates/tests/test-connection.yaml
    apiVersion: v1
    kind: Pod
    metadata:
      name: "shop-api-test-connection"
      annotations:
        "helm.sh/hook": test
    spec:
      containers:
        - name: wget
          image: busybox
      restartPolicy: Never
    """
)


def test_helm_template_output_loads() -> None:
    ps = netpolicy.loads(HELM_TEMPLATE)
    assert sorted(e.key for e in ps.endpoints) == ["default/shop-api-test-connection", "default/shop-api[Deployment]"]
    assert ps.endpoint("deploy/shop-api").service_account == "shop-api"
    assert any("of kind 'ConfigMap'" in warning for warning in ps.warnings)
