"""The envelope every manifest shares: apiVersion, kind, metadata (name, namespace,
labels, annotations). Validated the way the Kubernetes API server does."""

from __future__ import annotations

import json
import re
from typing import Any, Mapping

from ..model import Origin
from ._fields import MISSING, Document, Field, short_repr
from .registry import API_GROUPS, CALICO, Meta, Registration

__all__ = [
    "SERVER_METADATA",
    "check_dns_label",
    "check_dns_subdomain",
    "check_labels",
    "read_envelope",
    "UnknownKind",
]

#: metadata fields the API server fills in (accepted and ignored).
SERVER_METADATA = frozenset(
    {
        "uid",
        "resourceVersion",
        "generation",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "managedFields",
        "ownerReferences",
        "finalizers",
        "selfLink",
        "generateName",
        "annotations",
        "clusterName",
    }
)
_METADATA = frozenset({"name", "namespace", "labels"}) | SERVER_METADATA

#: top-level fields besides apiVersion/kind/metadata/spec/status, per kind.
_EXTRA_TOP = {
    "EndpointSlice": ("addressType", "endpoints", "ports"),
    "ServiceAccount": ("secrets", "imagePullSecrets", "automountServiceAccountToken"),
}
_TOP = ("apiVersion", "kind", "metadata", "spec", "status")

_DNS_LABEL = re.compile(r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?\Z")
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*\Z")
_LABEL_NAME = re.compile(r"(?:[A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]\Z")

#: kinds whose crd.projectcalico.org/v1 name may carry a legacy ``default.`` prefix.
_LEGACY_DEFAULT_PREFIX = frozenset(
    {"NetworkPolicy", "GlobalNetworkPolicy", "StagedNetworkPolicy", "StagedGlobalNetworkPolicy"}
)
_CRD_METADATA = "projectcalico.org/metadata"
_CRD_API = "crd.projectcalico.org/v1"

#: names Kubernetes requires to be DNS labels rather than subdomains.
_LABEL_NAMED = frozenset({"Namespace", "Tier"})


class UnknownKind(Exception):
    """The document's apiVersion/kind is not one the loader reads."""

    def __init__(self, api_version: str, kind: str) -> None:
        super().__init__(f"unknown kind {kind!r} (apiVersion {api_version!r})")
        self.api_version = api_version
        self.kind = kind


def check_dns_label(field: Field, value: str, what: str = "name") -> bool:
    if len(value) > 63 or not _DNS_LABEL.match(value):
        field.problem(
            f"{what} {short_repr(value)} is not a valid DNS label (lower-case letters, digits and '-', "
            "starting and ending with a letter or digit, at most 63 characters)"
        )
        return False
    return True


def check_dns_subdomain(field: Field, value: str, what: str = "name") -> bool:
    if len(value) > 253 or not _DNS_SUBDOMAIN.match(value):
        field.problem(
            f"{what} {short_repr(value)} is not a valid DNS subdomain (lower-case letters, digits, '-' "
            "and '.', starting and ending with a letter or digit, at most 253 characters)"
        )
        return False
    return True


def label_key_error(key: str) -> str | None:
    """Why ``key`` is not a valid Kubernetes label key, or None."""
    prefix, slash, name = key.rpartition("/")
    if slash and (not prefix or len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix)):
        return f"label key {key!r}: the prefix must be a DNS subdomain"
    if not name or len(name) > 63 or not _LABEL_NAME.match(name):
        return (
            f"label key {short_repr(key)}: the name must be 1-63 characters of letters, digits, "
            "'-', '_' and '.', starting and ending with a letter or digit"
        )
    return None


def label_value_error(value: str) -> str | None:
    if value and (len(value) > 63 or not _LABEL_NAME.match(value)):
        return (
            f"label value {short_repr(value)}: must be empty or 1-63 characters of letters, digits, "
            "'-', '_' and '.', starting and ending with a letter or digit"
        )
    return None


_GOOD_KEYS: set[str] = set()
_GOOD_VALUES: set[str] = set()


def check_labels(field: Field) -> dict[str, str] | Any:
    """A label map with valid keys and values (``{}`` when absent)."""
    labels = field.string_map()
    if labels is MISSING:
        return MISSING
    ok = True
    for key, value in labels.items():
        if key in _GOOD_KEYS and value in _GOOD_VALUES:
            continue
        message = label_key_error(key) or label_value_error(value)
        if not message and len(_GOOD_KEYS) < 100_000:
            _GOOD_KEYS.add(key)
            _GOOD_VALUES.add(value)
        if message:
            field.child(key).problem(message)
            ok = False
    return labels if ok else MISSING


def _good_labels(labels: Any) -> bool:
    """Whether ``labels`` is a label map :func:`check_labels` has nothing to say about."""
    if type(labels) is not dict:
        return False
    for key, value in labels.items():
        if type(key) is not str or type(value) is not str:
            return False
        if key in _GOOD_KEYS and value in _GOOD_VALUES:
            continue
        if label_key_error(key) or label_value_error(value):
            return False
        if len(_GOOD_KEYS) < 100_000:
            _GOOD_KEYS.add(key)
            _GOOD_VALUES.add(value)
    return True


def _ordinary_envelope(
    doc: Document, table: Mapping[tuple[str, str], Registration]
) -> tuple[Registration, Meta] | None:
    """What :func:`read_envelope` gives for an envelope where it has nothing to report,
    read straight from the body; None when anything is unusual (the field by field
    reading then handles and reports it)."""
    body = doc.body
    if type(body) is not dict:
        return None
    api_version = body.get("apiVersion")
    kind = body.get("kind")
    if type(api_version) is not str or type(kind) is not str or api_version == _CRD_API:
        return None
    group = API_GROUPS.get(api_version)
    registration = table.get((group, kind)) if group is not None else None
    if registration is None:
        return None
    extra = _EXTRA_TOP.get(kind, ())
    for key in body:
        if key not in _TOP and key not in extra:
            return None
    metadata = body.get("metadata")
    if type(metadata) is not dict or not _METADATA.issuperset(metadata):
        return None
    name = metadata.get("name")
    if type(name) is not str or not name:
        return None
    labels = metadata.get("labels")
    if labels is None:
        labels = {}
    elif not _good_labels(labels):
        return None
    annotations = metadata.get("annotations")
    if annotations is None:
        annotations = {}
    elif type(annotations) is not dict or not all(
        type(key) is str and type(value) is str for key, value in annotations.items()
    ):
        return None
    namespace = metadata.get("namespace")
    if registration.namespaced:
        if namespace is None or namespace == "":
            namespace = "default"
        elif type(namespace) is not str or len(namespace) > 63 or not _DNS_LABEL.match(namespace):
            return None
    elif namespace is not None:
        return None
    if len(name) > (63 if kind in _LABEL_NAMED else 253) or not (
        _DNS_LABEL if kind in _LABEL_NAMED else _DNS_SUBDOMAIN
    ).match(name):
        return None
    return registration, _meta(doc, kind, api_version, name, namespace, labels, annotations, None)


def read_envelope(doc: Document, table: Mapping[tuple[str, str], Registration]) -> tuple[Registration, Meta] | None:
    """Validate the envelope of ``doc``. Returns its registration and Meta, or None when
    it has problems. Raises :class:`UnknownKind` for kinds not in ``table``."""
    ordinary = _ordinary_envelope(doc, table)
    if ordinary is not None:
        return ordinary
    root = doc.root()
    if not isinstance(doc.body, dict):
        root.problem(f"a manifest must be a mapping, got {short_repr(doc.body)}")
        return None
    for key in doc.body:
        if not isinstance(key, str):
            root.problem(f"mapping key {short_repr(key)} is not a string")
            return None
    api_version = root["apiVersion"].string(required=True, allow_empty=False)
    kind = root["kind"].string(required=True, allow_empty=False)
    if api_version is MISSING or kind is MISSING:
        return None
    group = API_GROUPS.get(api_version)
    registration = table.get((group, kind)) if group is not None else None
    if registration is None:
        raise UnknownKind(api_version, kind)
    for key in doc.body:
        if key not in _TOP and key not in _EXTRA_TOP.get(kind, ()):
            root[key].warn(f"unknown field {key!r} ignored")

    metadata = root["metadata"]
    fields = metadata.mapping(required=True)
    if fields is MISSING:
        return None
    for key in fields:
        if key not in _METADATA:
            metadata[key].warn(f"unknown field {key!r} ignored")
    ok = True
    name = metadata["name"].string(required=True, allow_empty=False)
    labels = check_labels(metadata["labels"])
    annotations = metadata["annotations"].string_map()
    ok = name is not MISSING and labels is not MISSING and annotations is not MISSING

    namespace: str | None = None
    namespace_field = metadata["namespace"]
    if registration.namespaced:
        value = namespace_field.string(default="default")
        if value == "":
            value = "default"  # as kubectl does
        if value is MISSING or not check_dns_label(namespace_field, value, "namespace"):
            ok = False
        else:
            namespace = value
    elif namespace_field.present:
        namespace_field.warn(f"metadata.namespace ignored: {kind} is cluster-scoped")
    if not ok:
        return None

    stored_name: str | None = None
    if api_version == _CRD_API and registration is not None and group == CALICO:
        crd = _crd_metadata(metadata, annotations)
        if crd is MISSING:
            return None
        stored_name = name
        if crd is not None:
            name = crd.get("name", name)
            labels = crd.get("labels", labels)
        elif kind in _LEGACY_DEFAULT_PREFIX and name.startswith("default."):
            tier = doc.body.get("spec", {}).get("tier") if isinstance(doc.body.get("spec"), dict) else None
            if tier in (None, "", "default"):
                name = name[len("default.") :]
    check = check_dns_label if kind in _LABEL_NAMED else check_dns_subdomain
    if not check(metadata["name"], name):
        return None
    return registration, _meta(doc, kind, api_version, name, namespace, labels, annotations, stored_name)


def _meta(
    doc: Document, kind: str, api_version: str, name: str, namespace: str | None,
    labels: Mapping[str, str], annotations: Mapping[str, str], stored_name: str | None,
) -> Meta:
    """The envelope of a document that passed every check."""
    return Meta(
        kind=kind,
        api_version=api_version,
        name=name,
        namespace=namespace,
        labels=labels,
        annotations=annotations,
        origin=doc.origin or Origin(file=doc.file, document=doc.index),
        stored_name=stored_name,
    )


def _crd_metadata(metadata: Field, annotations: Mapping[str, str]) -> dict[str, Any] | None | Any:
    """The v3 metadata a crd.projectcalico.org/v1 object stores in its annotation:
    None when absent, MISSING when broken."""
    text = annotations.get(_CRD_METADATA)
    if text is None:
        return None
    field = metadata["annotations"][_CRD_METADATA]
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return field.problem("is not valid JSON")
    if not isinstance(data, dict):
        return field.problem("must be a JSON object")
    result: dict[str, Any] = {}
    name = data.get("name")
    if name is not None:
        if not isinstance(name, str) or not name:
            return field.problem("its name must be a non-empty string")
        result["name"] = name
    labels = data.get("labels")
    if labels is not None:
        if not isinstance(labels, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in labels.items()):
            return field.problem("its labels must map strings to strings")
        for key, value in labels.items():
            message = label_key_error(key) or label_value_error(value)
            if message:
                return field.problem(message)
        result["labels"] = labels
    return result
