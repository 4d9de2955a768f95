"""The same semantics end to end, from manifests through netpolicy.loads: Kubernetes
NetworkPolicy, AdminNetworkPolicy, BaselineAdminNetworkPolicy and Calico kinds."""

from __future__ import annotations

import netpolicy
from netpolicy import Flow
from netpolicy.verdict import Layer, Reason

INVENTORY = """
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {team: web}}
---
apiVersion: v1
kind: Namespace
metadata: {name: ops}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: runner, namespace: ops, labels: {role: ci}}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web}}
spec:
  containers:
  - name: c
    ports: [{name: http, containerPort: 8080}]
status: {podIP: 10.1.0.1, podIPs: [{ip: 10.1.0.1}, {ip: "fd00::1"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: api, namespace: shop, labels: {app: api}}
spec:
  containers:
  - name: c
    ports: [{name: http, containerPort: 9090}]
status: {podIP: 10.1.0.2, podIPs: [{ip: 10.1.0.2}, {ip: "fd00::2"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: ci, namespace: ops, labels: {app: ci}}
spec:
  serviceAccountName: runner
  containers: [{name: c}]
status: {podIP: 10.2.0.1}
---
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: node1-eth0, labels: {role: node}}
spec: {node: node1, interfaceName: eth0, expectedIPs: [172.16.0.1]}
"""


def load(policies: str) -> netpolicy.PolicySet:
    return netpolicy.loads(INVENTORY + "---\n" + policies)


def test_kubernetes_named_port_resolves_per_pod() -> None:
    ps = load("""
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: http-only, namespace: shop}
spec:
  podSelector: {}
  policyTypes: [Ingress]
  ingress:
  - ports: [{port: http}]
""")
    assert ps.evaluate(Flow("ops/ci", "shop/web", dst_port=8080)).allowed
    v = ps.evaluate(Flow("ops/ci", "shop/web", dst_port=9090))
    assert not v.allowed and v.ingress.reason == Reason.END_OF_TIER
    v = ps.evaluate(Flow("ops/ci", "shop/api", dst_port=9090))
    assert v.allowed and (v.ingress.policy.kind, v.ingress.policy.name) == ("KubernetesNetworkPolicy", "http-only")


def test_ipblock_of_one_family_never_matches_the_other() -> None:
    ps = load("""
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: from-v4, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
  - from: [{ipBlock: {cidr: 0.0.0.0/0}}]
""")
    assert ps.evaluate(Flow("192.0.2.1", "shop/web", dst_port=80)).allowed
    assert not ps.evaluate(Flow("2001:db8::1", "shop/web", dst_port=80)).allowed
    assert not ps.evaluate(Flow("shop/api", "fd00::1", dst_port=80)).allowed


def test_admin_pass_then_baseline_deny_and_namespace_policies_between() -> None:
    ps = load("""
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: pass-shop}
spec:
  priority: 10
  subject: {namespaces: {matchLabels: {team: web}}}
  ingress:
  - {name: pass-ops, action: Pass, from: [{namespaces: {matchLabels: {kubernetes.io/metadata.name: ops}}}]}
  - {name: deny-rest, action: Deny, from: [{namespaces: {}}]}
---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: BaselineAdminNetworkPolicy
metadata: {name: default}
spec:
  subject: {namespaces: {}}
  ingress:
  - {name: deny-all, action: Deny, from: [{namespaces: {}}]}
""")
    v = ps.evaluate(Flow("shop/api", "shop/web", dst_port=80))
    assert not v.allowed and (v.ingress.tier, v.ingress.rule) == ("adminnetworkpolicy", 1)
    v = ps.evaluate(Flow("ops/ci", "shop/web", dst_port=80))  # passed by the ANP, denied by the BANP
    assert not v.allowed and v.ingress.tier == "baselineadminnetworkpolicy"
    allow = load("""
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: pass-shop}
spec:
  priority: 10
  subject: {namespaces: {matchLabels: {team: web}}}
  ingress:
  - {name: pass-ops, action: Pass, from: [{namespaces: {matchLabels: {kubernetes.io/metadata.name: ops}}}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: from-ops, namespace: shop}
spec:
  podSelector: {}
  ingress: [{from: [{namespaceSelector: {}}]}]
---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: BaselineAdminNetworkPolicy
metadata: {name: default}
spec:
  subject: {namespaces: {}}
  ingress:
  - {name: deny-all, action: Deny, from: [{namespaces: {}}]}
""")
    v = allow.evaluate(Flow("ops/ci", "shop/web", dst_port=80))
    assert v.allowed and (v.ingress.tier, v.ingress.policy.name) == ("default", "from-ops")


def test_service_account_rules() -> None:
    ps = load("""
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: from-ci, namespace: shop}
spec:
  selector: app == 'web'
  ingress:
  - action: Allow
    source:
      namespaceSelector: all()
      serviceAccounts: {selector: role == 'ci'}
""")
    assert ps.evaluate(Flow("ops/ci", "shop/web", dst_port=80)).allowed
    assert not ps.evaluate(Flow("shop/api", "shop/web", dst_port=80)).allowed


def test_network_set_in_a_namespaced_rule() -> None:
    ps = load("""
apiVersion: projectcalico.org/v3
kind: NetworkSet
metadata: {name: partners, namespace: shop, labels: {kind: partner}}
spec: {nets: [198.51.100.0/24]}
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: partners-in, namespace: shop}
spec:
  selector: app == 'web'
  ingress:
  - {action: Allow, source: {selector: kind == 'partner'}}
""")
    v = ps.evaluate(Flow("198.51.100.7", "shop/web", dst_port=443))
    assert v.allowed and v.ingress.policy.name == "partners-in"
    assert not ps.evaluate(Flow("203.0.113.7", "shop/web", dst_port=443)).allowed


def test_global_namespace_selector_without_all_also_selects_host_endpoints() -> None:
    # H.6: host endpoints lack pcns.team, so !has(team) selects them too
    ps = load("""
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: not-team}
spec:
  namespaceSelector: "!has(team)"
  ingress: [{action: Deny, protocol: TCP, destination: {ports: [8000]}}]
""")
    v = ps.evaluate(Flow("192.0.2.1", "172.16.0.1", dst_port=8000))
    assert (v.ingress.endpoint, v.ingress.policy.name, v.ingress.layer) == ("node1-eth0", "not-team", Layer.NORMAL)
    assert ps.evaluate(Flow("shop/web", "ops/ci", dst_port=8000)).ingress.policy.name == "not-team"
    assert ps.evaluate(Flow("ops/ci", "shop/web", dst_port=8000)).ingress.reason == Reason.PROFILE


def test_staged_kubernetes_policy_gives_a_pending_verdict() -> None:
    ps = load("""
apiVersion: projectcalico.org/v3
kind: StagedKubernetesNetworkPolicy
metadata: {name: lock-web, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress]
""")
    v = ps.evaluate(Flow("ops/ci", "shop/web", dst_port=80))
    assert v.allowed and not v.pending.allowed
    assert v.pending.ingress.reason == Reason.END_OF_TIER


def test_calico_icmp_rule_and_tier_pass() -> None:
    ps = load("""
apiVersion: projectcalico.org/v3
kind: Tier
metadata: {name: platform}
spec: {order: 10, defaultAction: Pass}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: no-ping}
spec:
  tier: platform
  selector: app == 'web'
  ingress: [{action: Deny, protocol: ICMP, icmp: {type: 8}}]
""")
    v = ps.evaluate(Flow("ops/ci", "shop/web", protocol="ICMP", icmp_type=8, icmp_code=0))
    assert not v.allowed and (v.ingress.tier, v.ingress.policy.name) == ("platform", "no-ping")
    v = ps.evaluate(Flow("ops/ci", "shop/web", protocol="ICMP", icmp_type=0))
    assert v.allowed and v.ingress.reason == Reason.PROFILE  # the platform tier passed
