"""A small hand-written cluster exercising tiers, Pass, Log, named ports, nets/notNets,
network sets, ICMP, notPorts and profiles."""

MANIFESTS = """
apiVersion: v1
kind: Namespace
metadata: {name: x, labels: {team: a}}
---
apiVersion: v1
kind: Namespace
metadata: {name: y, labels: {team: b}}
---
apiVersion: v1
kind: Pod
metadata: {name: a, namespace: x, labels: {app: web}}
spec: {containers: [{name: c, ports: [{name: http, containerPort: 8080}]}]}
status: {podIP: 10.0.0.1}
---
apiVersion: v1
kind: Pod
metadata: {name: b, namespace: x, labels: {app: db}}
spec: {containers: [{name: c, ports: [{name: http, containerPort: 9090}]}]}
status: {podIP: 10.0.0.2}
---
apiVersion: v1
kind: Pod
metadata: {name: c, namespace: y, labels: {app: web}}
status: {podIPs: [{ip: 10.0.1.1}, {ip: "fd00::11"}]}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkSet
metadata: {name: outside, labels: {zone: outside}}
spec: {nets: [192.168.0.0/16, "fd99::/64"]}
---
apiVersion: projectcalico.org/v3
kind: Tier
metadata: {name: security}
spec: {order: 100}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: security.guard}
spec:
  tier: security
  order: 10
  selector: all()
  types: [Ingress, Egress]
  ingress:
  - action: Log
    protocol: TCP
  - action: Deny
    source: {selector: zone == 'outside'}
  - action: Allow
    protocol: ICMP
    icmp: {type: 8}
  - action: Pass
  egress:
  - action: Deny
    protocol: UDP
    destination: {nets: [10.9.0.0/16], notPorts: [53]}
  - action: Pass
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: x}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress]
  ingress:
  - from: [{podSelector: {matchLabels: {app: db}}}, {ipBlock: {cidr: 172.16.0.0/12, except: [172.16.5.0/24]}}]
    ports: [{port: http}, {port: 443}, {port: 1000, endPort: 2000}]
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: egress-http, namespace: x}
spec:
  order: 5
  selector: app == 'db'
  types: [Egress]
  egress:
  - action: Allow
    protocol: TCP
    destination: {ports: [http]}
  - action: Allow
    protocol: UDP
    destination: {ports: [53]}
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: source-ports, namespace: y}
spec:
  order: 1
  selector: all()
  types: [Egress]
  egress:
  - action: Deny
    protocol: TCP
    source: {ports: ["1000:2000"]}
    destination: {ports: [80]}
  - action: Log
    protocol: TCP
    source: {notPorts: [5000]}
"""
