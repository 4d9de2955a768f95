"""The trace names a policy's order, or says it has none."""

import netpolicy

MANIFESTS = """
apiVersion: v1
kind: Pod
metadata: {name: a, namespace: x, labels: {app: a}}
status: {podIP: 10.0.0.1}
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: unordered, namespace: x}
spec:
  selector: app == 'a'
  ingress: [{action: Allow}]
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: ordered, namespace: x}
spec:
  order: 2.5
  selector: app == 'a'
  ingress: [{action: Log}]
"""


def test_order_and_its_absence_read_naturally() -> None:
    ps = netpolicy.loads(MANIFESTS)
    text = ps.evaluate(netpolicy.Flow(src="10.9.9.9", dst="x/a", dst_port=80)).explain()
    assert "NetworkPolicy x/ordered (order 2.5)" in text
    assert "NetworkPolicy x/unordered (no order)" in text
    assert "tier default (order 1000000, default action Deny)" in text
