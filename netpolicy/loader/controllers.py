"""Workloads as endpoints: Deployment, StatefulSet, DaemonSet, ReplicaSet (``apps/v1``),
Job, CronJob (``batch/v1``), ReplicationController (``v1``), and Pods that have no
address yet.

A workload becomes one endpoint that stands for all its pods: the labels of its pod
template (a Job's pods also carry the ``job-name`` labels its controller adds), the
named ports of every container and init container, its service account (``default``
when none is named). The manifests give it no address; the resolve stage draws one
from the synthetic pool. The template is validated as the API server does: labels, a
selector that matches them, containers and their ports.

A Pod with ``hostNetwork: true`` shares its node's network and is not a Calico
endpoint: a warning says so. A Pod's controller (``ownerReferences``) is kept, so a
workload in the input can stand for its real Pods.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from ..model import Endpoint
from ._envelope import _DNS_SUBDOMAIN, _good_labels, check_labels
from ._fields import MISSING, Field
from .k8s import label_selector_matches, label_selector_terms
from .podspec import POD_SPEC_FIELDS, PodSpec, plain_ports, read_pod_spec
from .records import WorkloadRecord
from .registry import APPS, BATCH, CORE, Converter, Inventory, Meta
from .inventory import CONVERTERS as _INVENTORY

__all__ = ["CONVERTERS", "WORKLOAD_KINDS", "JOB_NAME_LABELS", "controller_owner"]

#: The workload kinds, with their API group.
WORKLOAD_KINDS: Mapping[str, str] = {
    "Deployment": APPS,
    "StatefulSet": APPS,
    "DaemonSet": APPS,
    "ReplicaSet": APPS,
    "Job": BATCH,
    "CronJob": BATCH,
    "ReplicationController": CORE,
}

#: Labels the Job controller adds to its pods, set to the Job's name.
JOB_NAME_LABELS = ("batch.kubernetes.io/job-name", "job-name")

_SPEC_FIELDS: Mapping[str, frozenset[str]] = {
    "Deployment": frozenset(("replicas", "selector", "template", "strategy", "minReadySeconds",
                             "revisionHistoryLimit", "paused", "progressDeadlineSeconds")),
    "ReplicaSet": frozenset(("replicas", "minReadySeconds", "selector", "template")),
    "StatefulSet": frozenset(("replicas", "selector", "template", "volumeClaimTemplates", "serviceName",
                              "podManagementPolicy", "updateStrategy", "revisionHistoryLimit", "minReadySeconds",
                              "persistentVolumeClaimRetentionPolicy", "ordinals")),
    "DaemonSet": frozenset(("selector", "template", "updateStrategy", "minReadySeconds", "revisionHistoryLimit")),
    "ReplicationController": frozenset(("replicas", "minReadySeconds", "selector", "template")),
    "Job": frozenset(("parallelism", "completions", "activeDeadlineSeconds", "podFailurePolicy", "successPolicy",
                      "backoffLimit", "backoffLimitPerIndex", "maxFailedIndexes", "selector", "manualSelector",
                      "template", "ttlSecondsAfterFinished", "completionMode", "suspend", "podReplacementPolicy",
                      "managedBy")),
    "CronJob": frozenset(("schedule", "timeZone", "startingDeadlineSeconds", "concurrencyPolicy", "suspend",
                          "jobTemplate", "successfulJobsHistoryLimit", "failedJobsHistoryLimit")),
}  # fmt: skip
_TEMPLATE_FIELDS = frozenset(("metadata", "spec"))
_TEMPLATE_METADATA = frozenset(
    ("labels", "annotations", "name", "namespace", "generateName", "creationTimestamp", "finalizers", "ownerReferences")
)


def controller_owner(root: Field) -> tuple[str, str] | None:
    """The (kind, name) of the object's controller: the ``ownerReferences`` entry with
    ``controller: true``."""
    metadata = root.value.get("metadata") if type(root.value) is dict else None
    references = metadata.get("ownerReferences") if type(metadata) is dict else None
    if type(references) is not list:
        return None
    for reference in references:
        if type(reference) is dict and reference.get("controller") is True:
            kind, name = reference.get("kind"), reference.get("name")
            if type(kind) is str and type(name) is str and kind and name:
                return kind, name
    return None


# -- the pod template ---------------------------------------------------------------------


def _template(field: Field) -> tuple[dict[str, str], PodSpec] | None:
    """A pod template's labels and spec; None after reporting a problem."""
    if field.mapping(required=True, known=_TEMPLATE_FIELDS) is MISSING:
        return None
    metadata = field["metadata"]
    if metadata.mapping(known=_TEMPLATE_METADATA) is MISSING:
        return None
    labels = check_labels(metadata["labels"])
    spec = read_pod_spec(field["spec"])
    if labels is MISSING or spec is None:
        return None
    return labels, spec


def _plain_template(body: Any) -> tuple[dict[str, str], PodSpec] | None:
    """What :func:`_template` gives for a template where it has nothing to report, read
    straight from the parsed value; None when anything is unusual (the field by field
    reading then reports it)."""
    if type(body) is not dict or not _TEMPLATE_FIELDS.issuperset(body):
        return None
    metadata = body.get("metadata")
    labels: Any = {}
    if metadata is not None:
        if type(metadata) is not dict or not _TEMPLATE_METADATA.issuperset(metadata):
            return None
        labels = metadata.get("labels") or {}
        if not _good_labels(labels):
            return None
    spec = body.get("spec")
    if type(spec) is not dict or not POD_SPEC_FIELDS.issuperset(spec):
        return None
    account = spec.get("serviceAccountName")
    if account is None:
        account = spec.get("serviceAccount")
    if account is not None and (type(account) is not str or not _is_subdomain(account)):
        return None
    host_network = spec.get("hostNetwork", False)
    if type(host_network) is not bool or spec.get("nodeName") is not None:
        return None
    ports: list[Any] = []
    names: set[str] = set()
    containers = spec.get("containers")
    if type(containers) is not list or not containers or not plain_ports(containers, ports, names):
        return None
    if not plain_ports(spec.get("initContainers"), ports, names):
        return None
    if len({port.name for port in ports}) != len(ports):
        return None  # a name declared in several containers: the full reading warns
    return labels, PodSpec(account or "default", host_network, tuple(ports))


def _is_subdomain(name: str) -> bool:
    return 0 < len(name) <= 253 and _DNS_SUBDOMAIN.match(name) is not None


def _selector(spec: Field, labels: Mapping[str, str], kind: str, *, required: bool) -> bool:
    """``spec.selector`` validated, not empty, and matching the template's labels."""
    field = spec["selector"]
    if not field.present:
        if required:
            field.problem("required field is missing")
            return False
        return True
    if label_selector_terms(field) is MISSING:
        return False
    body = field.value
    if not body.get("matchLabels") and not body.get("matchExpressions"):
        field.problem(f"empty selector is invalid for a {kind}")
        return False
    if not label_selector_matches(body, labels):
        spec["template"]["metadata"]["labels"].problem("selector does not match template labels")
        return False
    return True


def _plain_selector(body: Any, labels: Mapping[str, str]) -> bool:
    """A selector of only ``matchLabels`` that the template's labels satisfy."""
    if type(body) is not dict or len(body) != 1:
        return False
    match = body.get("matchLabels")
    if type(match) is not dict or not match or not _good_labels(match):
        return False
    return all(labels.get(key) == value for key, value in match.items())


def _rc_selector(spec: Field, labels: Mapping[str, str]) -> bool:
    """A ReplicationController's ``spec.selector``: a label map the template's labels
    contain (the template's labels when absent)."""
    field = spec["selector"]
    selector = check_labels(field)
    if selector is MISSING:
        return False
    if not selector and not labels:
        field.problem("required: the selector is empty and the template has no labels to default it from")
        return False
    if any(labels.get(key) != value for key, value in selector.items()):
        spec["template"]["metadata"]["labels"].problem("selector does not match template labels")
        return False
    return True


# -- converters -------------------------------------------------------------------------


def convert_workload(root: Field, meta: Meta, inventory: Inventory) -> Iterable[object]:
    """Any workload kind → one endpoint standing for its pods."""
    kind = meta.kind
    spec = root["spec"]
    known = _SPEC_FIELDS[kind]
    replicas: Any = None
    if kind == "CronJob":  # the Job template's pod template
        if spec.mapping(required=True, known=known) is MISSING:
            return []
        spec["schedule"].string(required=True, allow_empty=False)
        suspended = spec["suspend"].boolean()
        job = spec["jobTemplate"]
        if job.mapping(required=True, known=_TEMPLATE_FIELDS) is MISSING:
            return []
        if job["metadata"].mapping() is not MISSING:
            check_labels(job["metadata"]["labels"])
        spec, known = job["spec"], _SPEC_FIELDS["Job"]
        replicas = 0 if suspended is True else None
    fast = _plain_workload(kind, spec.value, known)
    if fast is not None:
        labels, pod, count = fast
    else:
        if spec.mapping(required=True, known=known) is MISSING:
            return []
        read = _template(spec["template"])
        count = _read_count(kind, spec)
        if read is None or count is MISSING:
            return []
        labels, pod = read
        if not _read_selector(kind, spec, labels):
            return []
    if kind != "CronJob" or count == 0:
        replicas = count
    if pod.host_network:
        spec["template"]["spec"]["hostNetwork"].warn(
            f"{kind} {meta.namespace}/{meta.name} uses the node's network (hostNetwork: true): its pods are not "
            "Calico endpoints, so policies do not apply to them and selectors do not select them; skipped"
        )
        return []
    if kind == "Job":
        labels = dict(labels)
        for key in JOB_NAME_LABELS:
            labels.setdefault(key, meta.name)
    endpoint = Endpoint(
        labels=labels,
        namespace=meta.namespace,
        name=meta.name,
        service_account=pod.service_account,
        named_ports=pod.ports,
        kind="WorkloadEndpoint",
        profiles=None,
        origin=meta.origin,
        workload=kind,
        replicas=replicas,
        owner=controller_owner(root),
    )
    return [WorkloadRecord(endpoint, True)]


def _read_count(kind: str, spec: Field) -> int | None | Any:
    """The number of pods the workload asks for (None: not a count)."""
    if kind == "DaemonSet":
        return None
    if kind in ("Job", "CronJob"):
        parallelism = spec["parallelism"].integer(default=1, low=0, high=2**31 - 1)
        suspended = spec["suspend"].boolean()
        if parallelism is MISSING or suspended is MISSING or spec["manualSelector"].boolean() is MISSING:
            return MISSING
        return 0 if suspended else parallelism
    return spec["replicas"].integer(default=1, low=0, high=2**31 - 1)


def _read_selector(kind: str, spec: Field, labels: Mapping[str, str]) -> bool:
    if kind == "ReplicationController":
        return _rc_selector(spec, labels)
    if kind in ("Job", "CronJob"):
        # the Job controller generates a selector unless manualSelector is set
        return _selector(spec, labels, "Job", required=spec["manualSelector"].value is True)
    return _selector(spec, labels, kind, required=True)


def _plain_workload(kind: str, spec: Any, known: frozenset[str]) -> tuple[dict[str, str], PodSpec, int | None] | None:
    """The common case read without field-by-field checks: known fields, a
    ``matchLabels`` selector, a plain template. None when anything is unusual."""
    if kind in ("ReplicationController", "Job", "CronJob") or type(spec) is not dict or not known.issuperset(spec):
        return None
    count: int | None = None
    if kind != "DaemonSet":
        count = spec.get("replicas", 1)
        if type(count) is not int or not 0 <= count < 2**31:
            return None
    read = _plain_template(spec.get("template"))
    if read is None or not _plain_selector(spec.get("selector"), read[0]):
        return None
    return read[0], read[1], count


def convert_pod(root: Field, meta: Meta, inventory: Inventory) -> Iterable[object]:
    """A Pod: one with an address, or a status from a cluster, as the inventory reads
    it; a manifest without an address becomes an endpoint whose address the resolve stage
    draws; one on the node's network is no endpoint, with a warning."""
    body = root.value if type(root.value) is dict else {}
    spec, status = body.get("spec"), body.get("status")
    if type(spec) is dict and spec.get("hostNetwork") is True:
        convert_addressed_pod(root, meta, inventory)  # validates the rest
        root["spec"]["hostNetwork"].warn(
            f"Pod {meta.namespace}/{meta.name} uses the node's network (hostNetwork: true): it is not a Calico "
            "endpoint, so policies do not apply to it and selectors do not select it; skipped"
        )
        return []
    if not _has_address(status) and not _observed(status):
        return _addressless_pod(root, meta)
    outputs = list(convert_addressed_pod(root, meta, inventory))
    owner = controller_owner(root)
    if owner is not None:
        for output in outputs:
            if isinstance(output, WorkloadRecord):  # made just now, not shared yet
                object.__setattr__(output.endpoint, "owner", owner)
    return outputs


def _has_address(status: Any) -> bool:
    return type(status) is dict and (bool(status.get("podIP")) or bool(status.get("podIPs")))


def _observed(status: Any) -> bool:
    """A status with a phase comes from a cluster: a Pod there without an address (not
    scheduled yet, or finished) has no Calico endpoint either."""
    return type(status) is dict and status.get("phase") is not None


def _addressless_pod(root: Field, meta: Meta) -> list[object]:
    root["status"].mapping()
    pod = read_pod_spec(root["spec"], required=False)
    if pod is None:
        return []
    endpoint = Endpoint(
        labels=meta.labels,
        namespace=meta.namespace,
        name=meta.name,
        service_account=pod.service_account,
        named_ports=pod.ports,
        kind="WorkloadEndpoint",
        profiles=None,
        node=pod.node,
        origin=meta.origin,
        owner=controller_owner(root),
    )
    return [WorkloadRecord(endpoint, True)]


#: The inventory's reading of a Pod, which this module's wraps.
convert_addressed_pod: Converter = _INVENTORY[(CORE, "Pod")][0]

CONVERTERS: Mapping[tuple[str, str], tuple[Converter, bool]] = {
    **{(group, kind): (convert_workload, True) for kind, group in WORKLOAD_KINDS.items()},
    (CORE, "Pod"): (convert_pod, True),
}
