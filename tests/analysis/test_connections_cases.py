"""``connections`` on written cases: source ports, host endpoints (every flow decided by
the reference), dual-stack endpoints with ICMP and ICMPv6, named ports and notPorts,
workloads collapsed, focus and namespaces. Each case is also checked by brute force."""

from __future__ import annotations

import netpolicy
import pytest
from netpolicy.analysis.connections import connections
from netpolicy.analysis.reach import Reach

from .test_connections_exact import brute_force

NAMESPACES = """
apiVersion: v1
kind: Namespace
metadata: {name: a, labels: {team: a}}
---
apiVersion: v1
kind: Namespace
metadata: {name: b, labels: {team: b}}
"""


def pod(namespace: str, name: str, ip: str, labels: str = "{}", extra: str = "", ports: str = "") -> str:
    spec = f"spec: {{containers: [{{name: c, image: i, ports: [{ports}]}}]}}\n" if ports else ""
    return f"""---
apiVersion: v1
kind: Pod
metadata: {{name: {name}, namespace: {namespace}, labels: {labels}{extra}}}
{spec}status: {{podIPs: [{", ".join("{ip: " + i + "}" for i in ip.split())}], podIP: {ip.split()[0]}}}
"""


def load(*parts: str) -> netpolicy.PolicySet:
    return netpolicy.loads(NAMESPACES + "".join(parts))


SOURCE_PORTS = load(
    pod("a", "client", "10.0.0.1", "{app: client}"),
    pod("a", "server", "10.0.0.2", "{app: server}"),
    """---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: server}
spec:
  selector: app == 'server'
  types: [Ingress]
  ingress:
  - action: Allow
    protocol: TCP
    source: {ports: ["1024:65535"]}
    destination: {ports: [443, "8080:8090"]}
  - action: Deny
    protocol: TCP
    source: {ports: [2000]}
  - action: Allow
    protocol: TCP
    destination: {ports: [22]}
""",
)


def test_source_ports_are_named_where_a_rule_tests_them() -> None:
    found = connections(SOURCE_PORTS)
    link = found.between("a/client", "a/server")
    assert link is not None
    assert link.text == "TCP 22 (source ports 1-1999,2001-65535); TCP 443,8080-8090 (source ports 1024-65535)"
    assert link.allows("TCP", 443, src_port=1024) and not link.allows("TCP", 443, src_port=1023)
    assert not link.allows("TCP", 443)  # not from every source port
    assert link.allows("TCP", 22, src_port=1999) and not link.allows("TCP", 22, src_port=2000)
    brute_force(SOURCE_PORTS)


HOSTS = load(
    pod("a", "web", "10.0.0.1", "{app: web}"),
    """---
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: node1, labels: {role: node}}
spec: {node: node1, interfaceName: eth0, expectedIPs: [172.16.0.1]}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: nodes}
spec:
  selector: role == 'node'
  types: [Ingress, Egress]
  ingress:
  - {action: Allow, protocol: TCP, source: {nets: [10.0.0.0/24]}, destination: {ports: [10250]}}
  egress:
  - {action: Allow, protocol: UDP, destination: {ports: [53]}}
""",
)


def test_host_endpoints_are_decided_by_the_reference_one_flow_per_class() -> None:
    reach = Reach(HOSTS)
    assert reach.compiled.all_fallback
    found = connections(HOSTS)
    link = found.between("a/web", "node1")
    assert link is not None and link.allows("TCP", 10250) and link.allows("TCP", 22)  # 22: a failsafe port
    assert not link.allows("TCP", 10251)
    brute_force(HOSTS, external_limit=8)
    assert reach.referee.evaluated == 0  # nothing asked yet of this one
    host = next(e for e in HOSTS.endpoints if e.is_host)
    reach.between(HOSTS.endpoint("a/web"), host)
    assert 0 < reach.referee.evaluated < 2000  # one flow per class, not per port


DUAL = load(
    pod("a", "x", "10.0.0.1 fd00::1", "{app: x}", ports="{name: web, containerPort: 8443, protocol: TCP}"),
    pod("b", "y", "10.0.0.2 fd00::2", "{app: y}"),
    pod("b", "v4", "10.0.0.3", "{app: v4}"),
    """---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: x-in}
spec:
  selector: app == 'x'
  types: [Ingress]
  ingress:
  - {action: Allow, protocol: ICMP, icmp: {type: 8, code: 0}}
  - {action: Allow, protocol: ICMPv6, icmp: {type: 128}}
  - {action: Allow, protocol: TCP, destination: {ports: [web]}}
  - {action: Allow, protocol: UDP, destination: {notPorts: ["1:1000"]}}
  - {action: Allow, protocol: 47}
  - {action: Allow, protocol: TCP, source: {nets: ["fd00::/64"]}, destination: {ports: [9000]}}
  - {action: Allow, ipVersion: 6, protocol: UDP, destination: {ports: [7000]}}
""",
)


def test_dual_stack_icmp_named_ports_and_not_ports() -> None:
    found = connections(DUAL)
    link = found.between("b/y", "a/x")
    assert link is not None
    # TCP and UDP go over IPv4 between two dual-stack pods: the IPv6-only rules do not count
    assert link.text == "TCP 8443; UDP 1001-65535; ICMP 8/0; ICMPv6 128; proto 47"
    only_v4 = found.between("b/v4", "a/x")
    assert only_v4 is not None and "ICMPv6" not in only_v4.text  # it has no IPv6 address
    brute_force(DUAL)


def _deployment_pod(name: str, ip: str, app: str = "web") -> str:
    owner = ", ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-5d8f, uid: u, controller: true}]"
    return pod("a", name, ip, f"{{app: {app}, pod-template-hash: 5d8f}}", owner)


WORKLOAD = load(
    _deployment_pod("web-5d8f-aaaaa", "10.0.0.11"),
    _deployment_pod("web-5d8f-bbbbb", "10.0.0.12"),
    pod("b", "db", "10.0.1.1", "{app: db}"),
    """---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: b}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
  - from: [{namespaceSelector: {matchLabels: {team: a}}}]
    ports: [{port: 5432}]
""",
)


def test_the_pods_of_a_workload_are_one_party() -> None:
    found = connections(WORKLOAD)
    link = found.between("a/web[Deployment]", "b/db")
    assert link is not None and link.text == "TCP 5432"
    assert link.src.kind == "workload" and link.src.endpoints == ("a/web-5d8f-aaaaa", "a/web-5d8f-bbbbb")
    inside = found.between("a/web[Deployment]", "a/web[Deployment]")  # between its two pods
    assert inside is not None and inside.text == "all traffic"
    for name in ("a/deploy/web", "deployment/web", "a/web[Deployment]"):
        focused = connections(WORKLOAD, focus=name)
        assert [p.name for p in focused.focus] == ["a/web[Deployment]"], name
        assert [str(c) for c in focused.egress] == [
            "a/web[Deployment] => a/web[Deployment] : all traffic",
            "a/web[Deployment] => b/db : TCP 5432",
            "a/web[Deployment] => 0.0.0.0/0 : all traffic",
        ]
    one = connections(WORKLOAD, focus="a/web-5d8f-aaaaa")  # one pod of it: taken out of the workload
    assert [p.name for p in one.focus] == ["a/web-5d8f-aaaaa"]
    assert one.between("a/web-5d8f-aaaaa", "a/web[Deployment]") is not None
    apart = connections(WORKLOAD, workloads=False)
    assert apart.between("a/web-5d8f-aaaaa", "b/db") is not None


def test_pods_decided_differently_stay_apart() -> None:
    ps = load(
        _deployment_pod("web-5d8f-aaaaa", "10.0.0.11"),
        _deployment_pod("web-5d8f-bbbbb", "10.0.2.12"),
        pod("b", "db", "10.0.1.1", "{app: db}"),
        """---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: b}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
  - from: [{ipBlock: {cidr: 10.0.0.0/24}}]
""",
    )
    found = connections(ps)
    assert found.between("a/web[Deployment]", "b/db") is None
    assert found.between("a/web-5d8f-aaaaa", "b/db") is not None
    assert found.between("a/web-5d8f-bbbbb", "b/db") is None


def test_focus_and_namespaces() -> None:
    staging = netpolicy.load("examples/staging")
    focus = connections(staging, focus="staging/database")
    assert [str(c) for c in focus] == [
        "staging/back-end => staging/database : TCP 27017",
        "staging/database => kube-system/kube-dns : UDP 53",
    ]
    assert [str(c) for c in focus.ingress] == ["staging/back-end => staging/database : TCP 27017"]
    grant = focus.ingress[0].grants[0]
    assert grant.ingress is not None and grant.ingress.policy is not None and grant.ingress.policy.name == "database"
    scoped = connections(staging, ["kube-system"], external=False)
    assert all("kube-system" in (c.src.namespace, c.dst.namespace) for c in scoped) and len(scoped) == 4
    with pytest.raises(netpolicy.PolicyError):
        connections(staging, focus="staging/nothing")
