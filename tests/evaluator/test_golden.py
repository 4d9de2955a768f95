"""Golden explain() outputs for the example in examples/staging.

Run with NETPOLICY_UPDATE_GOLDEN=1 to rewrite the files after a deliberate change of the
trace, then read the diff.
"""

from __future__ import annotations

import os
import pathlib

import pytest

import netpolicy

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "staging"
GOLDEN = pathlib.Path(__file__).parent / "golden"
APPLICATION = ["00-namespaces.yaml", "10-pods.yaml", "20-kubernetes-networkpolicies.yaml", "30-default-deny-except-dns.yaml"]
WITH_SECURITY = [*APPLICATION, "40-security-tier.yaml"]

CASES = {
    # the staging application: Kubernetes NetworkPolicies and default-deny-except-dns
    "staging-front-end-to-back-end": (APPLICATION, ("staging/front-end", "staging/back-end", "TCP", 443)),
    "staging-front-end-to-dns": (APPLICATION, ("staging/front-end", "kube-system/kube-dns", "UDP", 53)),
    "staging-front-end-to-database": (APPLICATION, ("staging/front-end", "staging/database", "TCP", 27017)),
    "staging-back-end-to-database": (APPLICATION, ("staging/back-end", "staging/database", "TCP", 27017)),
    # a security tier with Log, Deny and Pass above the application's policies
    "security-back-end-to-database": (WITH_SECURITY, ("staging/back-end", "staging/database", "TCP", 27017)),
    "security-blocked-address-to-front-end": (WITH_SECURITY, ("203.0.113.7", "staging/front-end", "TCP", 443)),
    "security-front-end-to-internet": (WITH_SECURITY, ("staging/front-end", "93.184.216.34", "TCP", 443)),
    "security-front-end-to-database": (WITH_SECURITY, ("staging/front-end", "staging/database", "TCP", 27017)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_explain(name: str) -> None:
    files, (src, dst, protocol, port) = CASES[name]
    ps = netpolicy.load(*(str(EXAMPLE / f) for f in files))
    text = ps.evaluate(netpolicy.Flow(src, dst, protocol=protocol, dst_port=port)).explain() + "\n"
    path = GOLDEN / f"{name}.txt"
    if os.environ.get("NETPOLICY_UPDATE_GOLDEN") == "1":
        path.write_text(text)
    assert text == path.read_text()
