"""Inventory kinds: Namespace, Pod, ServiceAccount, Node, WorkloadEndpoint, HostEndpoint,
NetworkSet, GlobalNetworkSet, EndpointSlice (calico-semantics §A.6, §B.6, §F.1)."""

from __future__ import annotations

import ipaddress
import textwrap

import pytest

import netpolicy
from netpolicy import ValidationError
from netpolicy.model import ContainerPort


def load(text: str) -> netpolicy.PolicySet:
    return netpolicy.loads(textwrap.dedent(text))


def problems(text: str) -> list[str]:
    with pytest.raises(ValidationError) as info:
        netpolicy.loads(textwrap.dedent(text))
    return [str(p) for p in info.value.problems]


def ips(*values: str) -> tuple[object, ...]:
    return tuple(ipaddress.ip_address(v) for v in values)


# -- Pod --------------------------------------------------------------------------------

POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: shop
  labels: {app: web, pcns.team: spoofed, pcsa.role: spoofed, projectcalico.org/namespace: other}
spec:
  serviceAccountName: frontend
  nodeName: node-1
  initContainers:
  - name: init
    ports: [{containerPort: 9000, name: init-port}]
  containers:
  - name: web
    ports:
    - {containerPort: 80, name: http}
    - {containerPort: 53, name: dns, protocol: UDP}
    - {containerPort: 3868, name: diameter, protocol: SCTP}
    - {containerPort: 8080}
  - name: sidecar
    ports: [{containerPort: 8080, name: http, protocol: TCP}]
status:
  phase: Running
  podIP: 10.0.0.5
  podIPs: [{ip: 10.0.0.5}, {ip: 'fd00::5'}]
"""


def test_pod_becomes_a_workload_endpoint() -> None:
    ps = load(POD)
    (pod,) = ps.endpoints
    assert (pod.kind, pod.key, pod.node, pod.service_account) == ("WorkloadEndpoint", "shop/web", "node-1", "frontend")
    assert pod.ips == ips("10.0.0.5", "fd00::5")
    assert pod.named_ports == (
        ContainerPort("http", 6, 80),
        ContainerPort("dns", 17, 53),
        ContainerPort("diameter", 132, 3868),
        ContainerPort("http", 6, 8080),
        ContainerPort("init-port", 6, 9000),
    )
    assert pod.profiles == ("kns.shop", "ksa.shop.frontend")
    assert ps.endpoint("shop/web") is pod


def test_pod_effective_labels() -> None:
    (pod,) = load(POD).endpoints
    assert dict(pod.effective_labels or {}) == {
        "app": "web",
        "projectcalico.org/namespace": "shop",
        "projectcalico.org/orchestrator": "k8s",
        "projectcalico.org/serviceaccount": "frontend",
        # inherited from kns.shop and ksa.shop.frontend (no Namespace/SA documents here)
        "pcns.kubernetes.io/metadata.name": "shop",
        "pcns.projectcalico.org/name": "shop",
        "pcsa.projectcalico.org/name": "frontend",
    }
    assert "projectcalico.org/name" not in (pod.effective_labels or {})


def test_pod_inherits_namespace_and_service_account_labels() -> None:
    text = POD + textwrap.dedent(
        """\
        ---
        apiVersion: v1
        kind: Namespace
        metadata: {name: shop, labels: {team: red}}
        ---
        apiVersion: v1
        kind: ServiceAccount
        metadata: {name: frontend, namespace: shop, labels: {role: edge}}
        """
    )
    labels = load(text).endpoints[0].effective_labels or {}
    assert labels["pcns.team"] == "red" and labels["pcsa.role"] == "edge"
    assert labels["pcns.kubernetes.io/metadata.name"] == "shop"


def test_pod_service_account_defaults() -> None:
    base = "apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: x}\nstatus: {podIP: 10.0.0.1}\n"
    (pod,) = netpolicy.loads(base).endpoints
    assert pod.service_account == "default" and pod.profiles == ("kns.x", "ksa.x.default")
    (pod,) = netpolicy.loads(base + "spec: {serviceAccount: legacy}\n").endpoints
    assert pod.service_account == "legacy"


@pytest.mark.parametrize("phase", ["Succeeded", "Failed"])
def test_finished_pod_is_not_an_endpoint(phase: str) -> None:
    ps = load(POD.replace("phase: Running", f"phase: {phase}"))
    assert ps.endpoints == () and ps.warnings == ()
    assert "kns.shop" in ps.profiles


def test_pod_without_ip_is_not_an_endpoint() -> None:
    ps = netpolicy.loads("apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nstatus: {phase: Pending}\n")
    assert ps.endpoints == ()
    assert ps.warnings == (
        "<input>:4: Pod default/a has no IP address yet (status.podIP): not an endpoint (Pod a, status)",
    )


def test_host_network_pod_is_not_an_endpoint() -> None:
    ps = load(POD.replace("  nodeName: node-1\n", "  nodeName: node-1\n  hostNetwork: true\n"))
    assert ps.endpoints == ()


def test_pod_port_problems() -> None:
    text = """\
    apiVersion: v1
    kind: Pod
    metadata: {name: a}
    spec:
      containers:
      - name: c
        ports:
        - {containerPort: 0, name: zero}
        - {containerPort: 80, name: Not_Valid}
        - {containerPort: 81, name: 1234}
        - {containerPort: 82, name: abcdefghijklmnop}
        - {name: noport}
    """
    assert problems(text) == [
        "<input>:8:23: 0 is outside 1-65535 (document 1, Pod a, spec.containers[0].ports[0].containerPort)",
        "<input>:9:33: port name 'Not_Valid' is not valid (at most 15 lower-case letters, digits and single '-', with at least one letter) (document 1, Pod a, spec.containers[0].ports[1].name)",
        "<input>:10:33: expected a string, got integer 1234 (document 1, Pod a, spec.containers[0].ports[2].name)",
        "<input>:11:33: port name 'abcdefghijklmnop' is not valid (at most 15 lower-case letters, digits and single '-', with at least one letter) (document 1, Pod a, spec.containers[0].ports[3].name)",
        "<input>:12:7: required field is missing (document 1, Pod a, spec.containers[0].ports[4].containerPort)",
    ]


def test_pod_port_with_other_protocol_is_skipped_with_a_warning() -> None:
    ps = netpolicy.loads(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec: {containers: [{name: c, ports: [{containerPort: 5, name: x, protocol: ICMP}]}]}\nstatus: {podIP: 10.0.0.1}\n"
    )
    assert ps.endpoints[0].named_ports == ()
    assert ps.warnings == (
        "<input>:4: named port 'x' with protocol 'ICMP' ignored (Pod a, spec.containers[0].ports[0].protocol)",
    )


def test_pod_unknown_spec_fields_warn() -> None:
    ps = netpolicy.loads("apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec: {containers: [], colour: red}\nstatus: {podIP: 10.0.0.1}\n")
    assert ps.warnings == ("<input>:4: unknown field 'colour' ignored (Pod a, spec.colour)",)


def test_pod_bad_ips() -> None:
    found = problems(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nstatus: {podIP: 010.0.0.1, podIPs: [{ip: 'fe80::1%eth0'}, {ip: 10.0.0.256}]}\n"
    )
    assert [p.split(": ", 1)[1] for p in found] == [
        "'fe80::1%eth0' is not an IP address (document 1, Pod a, status.podIPs[0].ip)",
        "'10.0.0.256' is not an IP address (document 1, Pod a, status.podIPs[1].ip)",
        "'010.0.0.1' is not an IP address (document 1, Pod a, status.podIP)",
    ]


def test_same_ip_on_two_pods_is_an_error() -> None:
    text = "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nstatus: {podIP: 10.0.0.1}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: b}\nstatus: {podIP: 10.0.0.1}\n"
    assert problems(text) == [
        "<input>:6:1: IP address 10.0.0.1 is also used by WorkloadEndpoint default/a at <input>:1 (document 1) (document 2, Pod b)"
    ]


# -- Namespace, ServiceAccount, Node ------------------------------------------------------


def test_namespace_profile() -> None:
    ps = netpolicy.loads("apiVersion: v1\nkind: Namespace\nmetadata: {name: x, labels: {team: a}}\n")
    profile = ps.profiles["kns.x"]
    assert dict(profile.labels_to_apply) == {
        "pcns.team": "a",
        "pcns.kubernetes.io/metadata.name": "x",
        "pcns.projectcalico.org/name": "x",
    }
    allow = netpolicy.model.Rule(action=netpolicy.Action.ALLOW)
    assert profile.ingress == (allow,) and profile.egress == (allow,)


def test_service_account_profile() -> None:
    ps = netpolicy.loads("apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: sa, namespace: x, labels: {role: db}}\nsecrets: []\n")
    profile = ps.profiles["ksa.x.sa"]
    assert dict(profile.labels_to_apply) == {"pcsa.role": "db", "pcsa.projectcalico.org/name": "sa"}
    assert profile.ingress == () and profile.egress == ()
    assert "kns.x" in ps.profiles  # the namespace the account lives in


def test_node_addresses_are_visible_to_policy_converters(monkeypatch: pytest.MonkeyPatch) -> None:
    from netpolicy.loader import kinds, registry

    seen = {}

    def spy(root, meta, inventory):  # type: ignore[no-untyped-def]
        seen.update(inventory.nodes)
        seen["namespaces"] = dict(inventory.namespaces)
        return []

    key = ("policy.networking.k8s.io", "AdminNetworkPolicy")
    monkeypatch.setattr(kinds, "KINDS", {**kinds.KINDS, key: registry.Registration(spy, False, False)})
    netpolicy.loads(
        textwrap.dedent(
            """\
            apiVersion: v1
            kind: Node
            metadata: {name: n1, labels: {zone: a}}
            status:
              addresses:
              - {type: InternalIP, address: 172.18.0.2}
              - {type: ExternalIP, address: '2001:db8::2'}
              - {type: Hostname, address: n1}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: p, namespace: x}
            ---
            apiVersion: policy.networking.k8s.io/v1alpha1
            kind: AdminNetworkPolicy
            metadata: {name: a}
            """
        )
    )
    node = seen["n1"]
    assert node.labels == {"zone": "a"} and node.addresses == ips("172.18.0.2", "2001:db8::2")
    assert seen["namespaces"] == {"x": {"kubernetes.io/metadata.name": "x"}}


# -- WorkloadEndpoint, HostEndpoint ------------------------------------------------------

WEP = """\
apiVersion: projectcalico.org/v3
kind: WorkloadEndpoint
metadata:
  name: node1-k8s-web-eth0
  namespace: shop
  labels: {app: web, projectcalico.org/namespace: shop, projectcalico.org/orchestrator: k8s}
spec:
  orchestrator: k8s
  node: node1
  pod: web
  endpoint: eth0
  serviceAccountName: frontend
  ipNetworks: [10.0.0.5/32, 'fd00::5/128']
  profiles: [kns.shop, ksa.shop.frontend]
  interfaceName: cali1234
  ports:
  - {name: http, protocol: TCP, port: 80}
  - {name: dns, protocol: UDP, port: 53}
"""


def test_workload_endpoint() -> None:
    ps = load(WEP + "---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: frontend, namespace: shop}\n")
    (wep,) = ps.endpoints
    assert (wep.key, wep.interface, wep.node) == ("shop/web", "cali1234", "node1")
    assert wep.ips == ips("10.0.0.5", "fd00::5")
    assert wep.named_ports == (ContainerPort("http", 6, 80), ContainerPort("dns", 17, 53))
    assert wep.profiles == ("kns.shop", "ksa.shop.frontend")
    labels = wep.effective_labels or {}
    assert labels["projectcalico.org/serviceaccount"] == "frontend"
    assert labels["pcsa.projectcalico.org/name"] == "frontend"
    assert ps.warnings == ()


def test_workload_endpoint_of_a_loaded_pod_is_skipped() -> None:
    ps = load(WEP + "---\napiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: shop}\nstatus: {podIP: 10.0.0.5}\n")
    (pod,) = ps.endpoints
    assert pod.origin is not None and pod.origin.document == 2
    assert ps.warnings == ("<input>:1: WorkloadEndpoint of pod shop/web ignored: the Pod is loaded too (WorkloadEndpoint node1-k8s-web-eth0)",)


def test_workload_endpoint_port_protocols() -> None:
    found = problems(
        WEP.replace("protocol: UDP", "protocol: ICMP").replace("port: 80}", "port: 70000}")
    )
    assert [p.split(": ", 1)[1] for p in found] == [
        "70000 is outside 1-65535 (document 1, WorkloadEndpoint node1-k8s-web-eth0, spec.ports[0].port)",
        "protocol 'ICMP' has no ports (TCP, UDP or SCTP) (document 1, WorkloadEndpoint node1-k8s-web-eth0, spec.ports[1].protocol)",
    ]


HEP = """\
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata:
  name: node1-eth0
  labels: {role: ingress}
spec:
  node: node1
  interfaceName: eth0
  expectedIPs: [192.168.1.10, '2001:db8::10']
  profiles: [projectcalico-default-allow, edge]
  ports:
  - {name: admin, protocol: TCP, port: 8443}
"""


def test_host_endpoint() -> None:
    ps = load(
        HEP + "---\napiVersion: projectcalico.org/v3\nkind: Profile\nmetadata: {name: edge}\nspec: {labelsToApply: {zone: dmz, role: other}}\n"
    )
    (hep,) = ps.endpoints
    assert (hep.kind, hep.key, hep.is_host, hep.interface, hep.node) == ("HostEndpoint", "node1-eth0", True, "eth0", "node1")
    assert hep.ips == ips("192.168.1.10", "2001:db8::10")
    assert hep.named_ports == (ContainerPort("admin", 6, 8443),)
    assert hep.profiles == ("projectcalico-default-allow", "edge")
    assert dict(hep.effective_labels or {}) == {"role": "ingress", "zone": "dmz"}


def test_host_endpoint_without_ips_or_interface() -> None:
    assert problems("apiVersion: projectcalico.org/v3\nkind: HostEndpoint\nmetadata: {name: h}\nspec: {node: n}\n") == [
        "<input>:4:7: a HostEndpoint needs interfaceName or expectedIPs (document 1, HostEndpoint h, spec)"
    ]


def test_host_endpoint_with_interface_only_has_no_ips() -> None:
    ps = netpolicy.loads("apiVersion: projectcalico.org/v3\nkind: HostEndpoint\nmetadata: {name: h}\nspec: {node: n, interfaceName: '*'}\n")
    assert ps.endpoints[0].ips == () and ps.endpoints[0].profiles == ()


def test_host_endpoint_unknown_profile_warns() -> None:
    ps = load(HEP)
    assert ps.warnings == (
        "<input>:10: profile 'edge' is not defined; it lends no labels and no rules (HostEndpoint node1-eth0, spec.profiles[1])",
    )


# -- NetworkSet, GlobalNetworkSet -----------------------------------------------------------


def test_network_set() -> None:
    ps = load(
        """\
        apiVersion: projectcalico.org/v3
        kind: NetworkSet
        metadata: {name: partners, namespace: shop, labels: {kind: partner}}
        spec:
          nets: [198.51.100.17/24, '2001:db8::1/64', 203.0.113.9]
        ---
        apiVersion: v1
        kind: Namespace
        metadata: {name: shop, labels: {team: red}}
        """
    )
    (item,) = ps.network_sets
    assert (item.kind, item.namespace) == ("NetworkSet", "shop")
    assert [str(n) for n in item.nets] == ["198.51.100.0/24", "2001:db8::/64", "203.0.113.9/32"]
    assert dict(item.effective_labels) == {
        "kind": "partner",
        "projectcalico.org/namespace": "shop",
        "pcns.team": "red",
        "pcns.kubernetes.io/metadata.name": "shop",
        "pcns.projectcalico.org/name": "shop",
    }


def test_network_set_reserved_namespace_label() -> None:
    text = "apiVersion: projectcalico.org/v3\nkind: NetworkSet\nmetadata: {name: s, namespace: x, labels: {projectcalico.org/namespace: y}}\n"
    assert problems(text) == [
        "<input>:3:73: the label 'projectcalico.org/namespace' is reserved: Calico sets it to the NetworkSet's namespace "
        "(document 1, NetworkSet s, metadata.labels.projectcalico.org/namespace)"
    ]


def test_global_network_set() -> None:
    ps = netpolicy.loads(
        "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkSet\nmetadata: {name: g, labels: {a: b}}\nspec: {nets: ['0.0.0.0/0', '::/0']}\n"
    )
    (item,) = ps.network_sets
    assert (item.kind, item.namespace, dict(item.effective_labels)) == ("GlobalNetworkSet", None, {"a": "b"})
    assert [str(n) for n in item.nets] == ["0.0.0.0/0", "::/0"]


@pytest.mark.parametrize("net", ["10.0.0.0/33", "banana", "10.0.0.0/8 ", "::/129", "fe80::/64%eth0"])
def test_bad_nets(net: str) -> None:
    (found,) = problems(f"apiVersion: projectcalico.org/v3\nkind: GlobalNetworkSet\nmetadata: {{name: g}}\nspec: {{nets: ['{net}']}}\n")
    assert f"is not a CIDR (document 1, GlobalNetworkSet g, spec.nets[0])" in found


# -- EndpointSlice ---------------------------------------------------------------------------

SLICE = """\
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web-abc
  namespace: shop
  labels: {kubernetes.io/service-name: web}
addressType: IPv4
endpoints:
- addresses: [10.0.0.5]
  conditions: {ready: true}
  targetRef: {kind: Pod, name: web, namespace: shop}
- addresses: [10.0.0.6]
ports:
- {name: http, port: 8080, protocol: TCP}
- {name: dns, port: 53, protocol: UDP}
"""


def test_endpoint_slices_merge_per_service() -> None:
    other = SLICE.replace("web-abc", "web-def").replace("10.0.0.5", "10.0.0.7").replace("10.0.0.6", "10.0.0.5")
    ps = load(SLICE + "---\n" + other)
    (service,) = ps.services
    assert (service.namespace, service.name) == ("shop", "web")
    assert service.addresses == ips("10.0.0.5", "10.0.0.6", "10.0.0.7")
    assert service.ports == ((6, 8080), (17, 53))


def test_endpoint_slice_problems() -> None:
    assert [p.split(": ", 1)[1] for p in problems(SLICE.replace("10.0.0.6", "'fd00::6'"))] == [
        "fd00::6 is not an IPv4 address (document 1, EndpointSlice web-abc, endpoints[1].addresses[0])"
    ]
    assert "'IPv5' is not one of IPv4, IPv6, FQDN" in problems(SLICE.replace("IPv4", "IPv5"))[0]


def test_endpoint_slice_without_service_is_ignored_with_a_warning() -> None:
    ps = load(SLICE.replace("  labels: {kubernetes.io/service-name: web}\n", ""))
    assert ps.services == ()
    assert ps.warnings and "belongs to no Service" in ps.warnings[0]
