"""The loader's shortcuts for ordinary objects give exactly what the field-by-field
reading gives: same model, same warnings, same problems (the shortcut steps aside
whenever anything is to be reported)."""

from __future__ import annotations

import textwrap
from typing import Any

import pytest
import yaml

import netpolicy
from netpolicy import ValidationError
from netpolicy.loader import workloads

POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: shop
  labels: {app: web, pcns.team: spoofed}
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
    - {containerPort: 8080}
status:
  phase: Running
  podIP: 10.0.0.5
  podIPs: [{ip: 10.0.0.5}, {ip: 'fd00::5'}]
"""


def _set(body: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for part in parents:
        body = body[int(part)] if isinstance(body, list) else body[part]
    if value is _DELETE:
        del body[last]  # type: ignore[arg-type]
    elif isinstance(body, list):
        body[int(last)] = value
    else:
        body[last] = value


_DELETE = object()

MUTATIONS: list[tuple[str, Any]] = [
    ("spec", None),
    ("spec", _DELETE),
    ("spec", []),
    ("spec.unknownField", 1),
    ("spec.serviceAccountName", None),
    ("spec.serviceAccountName", ""),
    ("spec.serviceAccountName", 5),
    ("spec.serviceAccountName", "Bad_Name"),
    ("spec.serviceAccount", "other"),
    ("spec.hostNetwork", True),
    ("spec.hostNetwork", False),
    ("spec.hostNetwork", None),
    ("spec.hostNetwork", "yes"),
    ("spec.nodeName", None),
    ("spec.nodeName", ""),
    ("spec.nodeName", 7),
    ("spec.containers", None),
    ("spec.containers", {}),
    ("spec.containers.0", None),
    ("spec.containers.0.extra", 1),
    ("spec.containers.0.ports", None),
    ("spec.containers.0.ports", "80"),
    ("spec.containers.0.ports.0", None),
    ("spec.containers.0.ports.0.containerPort", 0),
    ("spec.containers.0.ports.0.containerPort", True),
    ("spec.containers.0.ports.0.containerPort", "80"),
    ("spec.containers.0.ports.0.containerPort", _DELETE),
    ("spec.containers.0.ports.0.protocol", None),
    ("spec.containers.0.ports.0.protocol", "ICMP"),
    ("spec.containers.0.ports.0.protocol", ["TCP"]),
    ("spec.containers.0.ports.0.name", None),
    ("spec.containers.0.ports.0.name", ""),
    ("spec.containers.0.ports.0.name", "a-very-long-port-name"),
    ("spec.containers.0.ports.0.name", 80),
    ("spec.containers.0.ports.0.hostPort", 80),
    ("spec.containers.0.ports.0.other", 80),
    ("spec.containers.0.ports.2.protocol", "SCTP"),
    ("spec.initContainers", "x"),
    ("status", None),
    ("status", _DELETE),
    ("status", "running"),
    ("status.phase", "Succeeded"),
    ("status.phase", 3),
    ("status.podIP", None),
    ("status.podIP", "10.0.0.256"),
    ("status.podIP", "fe80::1%eth0"),
    ("status.podIP", 5),
    ("status.podIP", "fd00:0::5"),
    ("status.podIP", "10.0.0.6"),
    ("status.podIP", ["10.0.0.5"]),
    ("status.podIPs", None),
    ("status.podIPs", {}),
    ("status.podIPs.0", None),
    ("status.podIPs.0", {}),
    ("status.podIPs.0.extra", 1),
    ("status.podIPs.1.ip", "10.0.0.5"),
    ("status.podIPs.1.ip", "not an address"),
]


def _outcome(text: str) -> tuple[str, ...]:
    try:
        ps = netpolicy.loads(text)
    except ValidationError as error:
        return ("problems",) + tuple(str(p) for p in error.problems)
    endpoints = tuple(
        repr((e.labels, e.namespace, e.name, e.ips, e.service_account, e.named_ports, e.node, e.origin))
        for e in ps.endpoints
    )
    return ("ok",) + endpoints + tuple(ps.warnings)


def _both(text: str, monkeypatch: pytest.MonkeyPatch) -> tuple[tuple[str, ...], tuple[str, ...]]:
    fast = _outcome(text)
    with monkeypatch.context() as patch:
        patch.setattr(workloads, "_ordinary_pod", lambda body, meta: None)
        slow = _outcome(text)
    return fast, slow


def test_the_ordinary_pod_takes_the_shortcut() -> None:
    body = yaml.safe_load(POD)
    ps = netpolicy.loads(POD)
    meta = workloads.Meta(kind="Pod", api_version="v1", name="web", namespace="shop", labels=body["metadata"]["labels"])
    assert workloads._ordinary_pod(body, meta) is not None
    assert len(ps.endpoints) == 1


def test_shortcut_and_field_reading_agree_on_the_ordinary_pod(monkeypatch: pytest.MonkeyPatch) -> None:
    fast, slow = _both(POD, monkeypatch)
    assert fast == slow
    assert fast[0] == "ok"


@pytest.mark.parametrize("path,value", MUTATIONS, ids=[f"{p}={v!r}" for p, v in MUTATIONS])
def test_shortcut_and_field_reading_agree(path: str, value: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    body = yaml.safe_load(POD)
    _set(body, path, value)
    text = textwrap.dedent(yaml.safe_dump(body, sort_keys=False))
    fast, slow = _both(text, monkeypatch)
    assert fast == slow


# -- envelopes ----------------------------------------------------------------------------

ENVELOPES = """\
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels: {team: blue}
---
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: shop
  labels: {app: web}
  annotations: {note: hello}
spec: {}
status: {podIP: 10.0.0.5}
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata:
  name: allow-web
  namespace: shop
spec:
  selector: app == 'web'
  ingress: [{action: Allow}]
"""

ENVELOPE_MUTATIONS: list[tuple[int, str, Any]] = [
    (0, "apiVersion", None),
    (0, "apiVersion", ""),
    (0, "apiVersion", 5),
    (0, "apiVersion", "v2"),
    (0, "kind", "Namespaces"),
    (0, "kind", ""),
    (0, "extra", 1),
    (0, "status", {"phase": "Active"}),
    (0, "metadata", None),
    (0, "metadata", []),
    (0, "metadata.namespace", "other"),
    (0, "metadata.namespace", None),
    (0, "metadata.name", "Shop"),
    (0, "metadata.name", "a.b"),
    (0, "metadata.name", "x" * 64),
    (0, "metadata.labels", None),
    (0, "metadata.labels", []),
    (0, "metadata.labels.team", 5),
    (0, "metadata.labels.team", ["a"]),
    (0, "metadata.labels.team", "-bad"),
    (0, "metadata.labels.a/b/c", "x"),
    (0, "metadata.unknown", 1),
    (0, "metadata.uid", "1234"),
    (1, "metadata.name", None),
    (1, "metadata.name", ""),
    (1, "metadata.name", 5),
    (1, "metadata.name", "Web"),
    (1, "metadata.name", "a.b"),
    (1, "metadata.name", "x" * 254),
    (1, "metadata.namespace", None),
    (1, "metadata.namespace", ""),
    (1, "metadata.namespace", 5),
    (1, "metadata.namespace", "Shop"),
    (1, "metadata.namespace", "x" * 64),
    (1, "metadata.annotations", None),
    (1, "metadata.annotations", "x"),
    (1, "metadata.annotations.note", 5),
    (1, "metadata.annotations.note", ["a"]),
    (1, "metadata.labels.app", None),
    (1, "metadata.labels.app", ""),
    (1, "metadata.labels.x", "y" * 64),
    (2, "apiVersion", "crd.projectcalico.org/v1"),
    (2, "metadata.name", "default.allow-web"),
    (2, "metadata.annotations", {"projectcalico.org/metadata": '{"name": "renamed"}'}),
]


def _models(text: str, strict: bool) -> tuple[str, ...]:
    try:
        ps = netpolicy.loads(text, strict=strict)
    except ValidationError as error:
        return ("problems",) + tuple(str(p) for p in error.problems)
    return ("ok", repr(ps.endpoints), repr(ps.policies), repr(ps.profiles)) + tuple(ps.warnings)


@pytest.mark.parametrize("strict", [True, False])
@pytest.mark.parametrize("index,path,value", ENVELOPE_MUTATIONS, ids=[f"{i}:{p}={v!r}"[:60] for i, p, v in ENVELOPE_MUTATIONS])
def test_envelope_shortcut_and_field_reading_agree(
    index: int, path: str, value: Any, strict: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    from netpolicy.loader import _envelope

    documents = list(yaml.safe_load_all(ENVELOPES))
    _set(documents[index], path, value)
    text = yaml.safe_dump_all(documents, sort_keys=False)
    fast = _models(text, strict)
    with monkeypatch.context() as patch:
        patch.setattr(_envelope, "_ordinary_envelope", lambda doc, table: None)
        slow = _models(text, strict)
    assert fast == slow


def test_envelope_shortcut_is_taken_and_agrees(monkeypatch: pytest.MonkeyPatch) -> None:
    from netpolicy.loader import _envelope

    results: list[Any] = []
    real = _envelope._ordinary_envelope
    monkeypatch.setattr(_envelope, "_ordinary_envelope", lambda doc, table: results.append(real(doc, table)) or results[-1])
    fast = _models(ENVELOPES, True)
    assert fast[0] == "ok" and len(results) == 3 and None not in results
    monkeypatch.setattr(_envelope, "_ordinary_envelope", lambda doc, table: None)
    assert _models(ENVELOPES, True) == fast


# -- ASCII text handed to the parser in pieces ----------------------------------------------


def _events(source: Any) -> list[tuple[str, Any, int, int]]:
    from netpolicy.loader import _yaml

    loader = _yaml._Loader(source)
    seen: list[tuple[str, Any, int, int]] = []
    try:
        while loader.check_event():
            event = loader.get_event()
            seen.append((type(event).__name__, getattr(event, "value", None), event.start_mark.line, event.start_mark.column))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        seen.append((type(error).__name__, str(getattr(error, "problem", "")), mark.line if mark else -1, mark.column if mark else -1))
    finally:
        loader.dispose()
    return seen


@pytest.mark.parametrize("tail", ["", "bad: [unclosed\n", "x: 1\n  y: 2\n", "\x07\n", "key: value\t\n"])
def test_pieces_read_like_the_whole_string(tail: str) -> None:
    from netpolicy.loader import _yaml

    text = "".join(f"---\nkind: Pod\nmetadata: {{name: p{i}, labels: {{app: web}}}}\n" for i in range(2000)) + tail
    assert len(text) > 5 * 16384 and text.isascii()
    assert isinstance(_yaml._source(text), _yaml._Pieces)
    assert _events(_yaml._Pieces(text)) == _events(text)
