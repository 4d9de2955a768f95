"""Two HostEndpoints of one node and interface with the same addresses load as Felix
resolves them: the alphabetically first governs the interface, with a warning naming it
(projectcalico/calico felix/dataplane/linux/endpoint_mgr.go, resolveHostEndpoints)."""

from __future__ import annotations

import pytest

import netpolicy
from netpolicy import Flow, ValidationError


def hep(name: str, *, node: str = "n1", interface: str | None = "eth0", ips: str = "[192.168.0.5]",
        labels: str = "{role: db-host}", profiles: str = "[]", ports: str = "[]") -> str:
    iface = f"interfaceName: '{interface}', " if interface is not None else ""
    return (
        "---\napiVersion: projectcalico.org/v3\nkind: HostEndpoint\n"
        f"metadata: {{name: {name}, labels: {labels}}}\n"
        f"spec: {{node: {node}, {iface}expectedIPs: {ips}, profiles: {profiles}, ports: {ports}}}\n"
    )


#: Allows TCP 5432 to the host endpoints labelled db-host; anything else to them is denied.
POLICY = """\
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: db-host}
spec:
  selector: role == 'db-host'
  types: [Ingress]
  ingress:
  - {action: Allow, protocol: TCP, destination: {ports: [5432]}}
"""


@pytest.mark.parametrize("interface", ["eth0", "*", None], ids=["named", "all-interfaces", "by-address"])
def test_the_alphabetically_first_governs_with_a_warning(interface: str | None) -> None:
    # input order is not name order: hep-b comes first
    ps = netpolicy.loads(hep("hep-b", interface=interface) + hep("hep-a", interface=interface) + POLICY)
    assert [e.name for e in ps.endpoints] == ["hep-a"]
    where = {
        "eth0": "interface eth0 of node n1",
        "*": "the interfaces of node n1 (interfaceName '*')",
        None: "the interface of node n1 with 192.168.0.5",
    }[interface]
    assert ps.warnings == (
        f"<input>:5: HostEndpoint hep-b does not govern {where}: HostEndpoint hep-a does (of the host endpoints "
        "that match an interface, Calico lets the alphabetically first govern it); hep-b adds no label, profile, "
        "address or named port, so it is not loaded as an endpoint (HostEndpoint hep-b, spec)",
    )
    allowed = ps.evaluate(Flow("10.9.9.9", "192.168.0.5", dst_port=5432))
    assert allowed.allowed and allowed.ingress.endpoint == "hep-a"
    assert not ps.evaluate(Flow("10.9.9.9", "192.168.0.5", dst_port=80)).allowed


def test_the_second_may_have_fewer_addresses_and_named_ports() -> None:
    first = hep("a", ips="[192.168.0.5, 192.168.0.6]", ports="[{name: pg, protocol: TCP, port: 5432}]")
    ps = netpolicy.loads(first + hep("b", ips="[192.168.0.6]"))
    assert [e.name for e in ps.endpoints] == ["a"]
    assert "HostEndpoint b does not govern interface eth0 of node n1: HostEndpoint a does" in ps.warnings[0]


@pytest.mark.parametrize(
    "other",
    [
        {"labels": "{role: backup}"},  # a rule selecting role == 'backup' still sees the address in Calico
        {"profiles": "[projectcalico-default-allow]"},
        {"ports": "[{name: pg, protocol: TCP, port: 5432}]"},
        {"ips": "[192.168.0.5, 192.168.0.9]"},
    ],
    ids=["labels", "profiles", "named-ports", "addresses"],
)
def test_a_second_that_policy_could_still_see_stays_an_error(other: dict[str, str]) -> None:
    with pytest.raises(ValidationError) as info:
        netpolicy.loads(hep("a") + hep("b", **other))
    [problem] = info.value.problems
    assert problem.message.startswith(
        "IP address 192.168.0.5 is also used by HostEndpoint a at <input>:2 (document 1); of the two, Calico lets "
        "HostEndpoint a (the alphabetically first) govern interface eth0 of node n1, but b's labels, profiles, "
        "addresses and named ports still count"
    )


@pytest.mark.parametrize(
    "other", [{"node": "n2"}, {"interface": "eth1"}], ids=["another-node", "another-interface"]
)
def test_an_address_on_two_interfaces_stays_an_error(other: dict[str, str]) -> None:
    with pytest.raises(ValidationError) as info:
        netpolicy.loads(hep("a") + hep("b", **other))
    assert str(info.value) == (
        "<input>:7:1: IP address 192.168.0.5 is also used by HostEndpoint a at <input>:2 (document 1) "
        "(document 2, HostEndpoint b)"
    )
