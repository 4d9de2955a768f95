"""netpolicy: would this network flow be allowed?

Load Kubernetes and Calico policy manifests with the workloads they act on, then ask::

    >>> import netpolicy
    >>> ps = netpolicy.loads('''
    ... apiVersion: v1
    ... kind: Namespace
    ... metadata: {name: x}
    ... ---
    ... apiVersion: v1
    ... kind: Pod
    ... metadata: {name: a, namespace: x, labels: {app: web}}
    ... status: {podIP: 10.0.0.1}
    ... ---
    ... apiVersion: networking.k8s.io/v1
    ... kind: NetworkPolicy
    ... metadata: {name: deny-all, namespace: x}
    ... spec: {podSelector: {}}
    ... ''')
    >>> ps.evaluate(netpolicy.Flow(src="10.9.9.9", dst="x/a", dst_port=80)).allowed
    False
"""

from ._version import __version__
from ._matcher import IMPLEMENTATION
from .analysis import Connection, Connections, Diff, connections, diff
from .analysis.lint import CHECKS, Check, Finding, Findings, analyze
from .engine import BatchResult
from .errors import PolicyError, Problem, SelectorSyntaxError, ValidationError
from .flow import Flow
from .matrix import Matrix
from .policyset import PolicySet, from_objects, load, loads
from .model import Action, Direction, Endpoint, PolicyRef
from .selector import Selector
from .verdict import Decision, Reason, RuleRef, Verdict, Verdicts

__all__ = [
    "__version__",
    "IMPLEMENTATION",
    "Action",
    "BatchResult",
    "CHECKS",
    "Check",
    "Connection",
    "Connections",
    "Decision",
    "Diff",
    "Direction",
    "Endpoint",
    "Finding",
    "Findings",
    "Flow",
    "Matrix",
    "PolicyError",
    "PolicyRef",
    "PolicySet",
    "Problem",
    "Reason",
    "RuleRef",
    "Selector",
    "SelectorSyntaxError",
    "ValidationError",
    "Verdict",
    "Verdicts",
    "analyze",
    "connections",
    "diff",
    "from_objects",
    "load",
    "loads",
]
