"""Reading manifests: YAML and JSON shapes, List wrappers, files, directories, stdin, and
the places (file:line:col, document, field path) problems are reported at."""

from __future__ import annotations

import io
import json
import sys
import textwrap

import pytest

import netpolicy
from netpolicy import ValidationError

NS = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n"
POD = textwrap.dedent(
    """\
    apiVersion: v1
    kind: Pod
    metadata:
      name: {name}
      namespace: {ns}
      labels: {{app: web}}
    status:
      podIP: {ip}
    """
)


def names(ps: netpolicy.PolicySet) -> list[str]:
    return sorted(e.key for e in ps.endpoints)


def problems(text: str, **kwargs: object) -> list[str]:
    with pytest.raises(ValidationError) as info:
        netpolicy.loads(text, **kwargs)  # type: ignore[arg-type]
    return [str(p) for p in info.value.problems]


# -- shapes --------------------------------------------------------------------------


def test_multi_document_yaml() -> None:
    text = "---\n".join([NS.format(name="x"), POD.format(name="a", ns="x", ip="10.0.0.1"), POD.format(name="b", ns="x", ip="10.0.0.2")])
    assert names(netpolicy.loads(text)) == ["x/a", "x/b"]


def test_empty_documents_and_comments_are_skipped() -> None:
    text = "# nothing\n---\n---\n" + POD.format(name="a", ns="x", ip="10.0.0.1") + "---\n...\n"
    assert names(netpolicy.loads(text)) == ["x/a"]


def test_empty_text_loads_nothing() -> None:
    ps = netpolicy.loads("")
    assert ps.endpoints == () and ps.policies == ()
    assert {t.name for t in ps.tiers} >= {"default", "kube-admin", "kube-baseline"}


def test_json_object_and_json_list() -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a", "namespace": "x"}, "status": {"podIP": "10.0.0.1"}}
    assert names(netpolicy.loads(json.dumps(pod))) == ["x/a"]
    wrapped = {"apiVersion": "v1", "kind": "List", "items": [pod]}
    assert names(netpolicy.loads(json.dumps(wrapped, indent="\t"))) == ["x/a"]


def test_top_level_sequence() -> None:
    text = "- " + POD.format(name="a", ns="x", ip="10.0.0.1").replace("\n", "\n  ").rstrip() + "\n"
    text += "- " + POD.format(name="b", ns="x", ip="10.0.0.2").replace("\n", "\n  ").rstrip() + "\n"
    assert names(netpolicy.loads(text)) == ["x/a", "x/b"]


KUBECTL_LIST = textwrap.dedent(
    """\
    apiVersion: v1
    items:
    - apiVersion: v1
      kind: Pod
      metadata:
        creationTimestamp: "2026-01-01T00:00:00Z"
        generateName: web-5d4f8c9b7-
        labels:
          app: web
          pod-template-hash: 5d4f8c9b7
        managedFields:
        - apiVersion: v1
          fieldsType: FieldsV1
          fieldsV1: {"f:metadata": {"f:labels": {}}}
          manager: kube-controller-manager
          operation: Update
          time: "2026-01-01T00:00:00Z"
        name: web-5d4f8c9b7-abcde
        namespace: shop
        ownerReferences:
        - apiVersion: apps/v1
          blockOwnerDeletion: true
          controller: true
          kind: ReplicaSet
          name: web-5d4f8c9b7
          uid: 3c1f3c2e-1111-4c41-8a2e-000000000001
        resourceVersion: "123456"
        uid: 3c1f3c2e-1111-4c41-8a2e-000000000002
        annotations:
          kubectl.kubernetes.io/restartedAt: "2026-01-01T00:00:00Z"
      spec:
        containers:
        - image: nginx:1.27
          imagePullPolicy: IfNotPresent
          name: web
          ports:
          - containerPort: 8080
            name: http
            protocol: TCP
          resources: {}
          terminationMessagePath: /dev/termination-log
          terminationMessagePolicy: File
          volumeMounts:
          - mountPath: /var/run/secrets/kubernetes.io/serviceaccount
            name: kube-api-access-abcde
            readOnly: true
        dnsPolicy: ClusterFirst
        enableServiceLinks: true
        nodeName: node-1
        preemptionPolicy: PreemptLowerPriority
        priority: 0
        restartPolicy: Always
        schedulerName: default-scheduler
        securityContext: {}
        serviceAccount: default
        serviceAccountName: default
        terminationGracePeriodSeconds: 30
        tolerations:
        - effect: NoExecute
          key: node.kubernetes.io/not-ready
          operator: Exists
          tolerationSeconds: 300
        volumes:
        - name: kube-api-access-abcde
          projected:
            defaultMode: 420
            sources:
            - serviceAccountToken: {expirationSeconds: 3607, path: token}
      status:
        conditions:
        - lastProbeTime: null
          lastTransitionTime: "2026-01-01T00:00:00Z"
          status: "True"
          type: Ready
        containerStatuses:
        - containerID: containerd://abc
          image: docker.io/library/nginx:1.27
          name: web
          ready: true
          restartCount: 0
          started: true
          state:
            running: {startedAt: "2026-01-01T00:00:00Z"}
        hostIP: 172.18.0.2
        hostIPs:
        - ip: 172.18.0.2
        phase: Running
        podIP: 10.244.1.5
        podIPs:
        - ip: 10.244.1.5
        - ip: fd00:10:244:1::5
        qosClass: BestEffort
        startTime: "2026-01-01T00:00:00Z"
    kind: List
    metadata:
      resourceVersion: ""
    """
)


def test_kubectl_get_o_yaml_list_with_server_fields_loads_without_warnings() -> None:
    ps = netpolicy.loads(KUBECTL_LIST)
    assert ps.warnings == ()
    (pod,) = ps.endpoints
    assert pod.key == "shop/web-5d4f8c9b7-abcde"
    assert [str(ip) for ip in pod.ips] == ["10.244.1.5", "fd00:10:244:1::5"]
    assert pod.named_ports == (netpolicy.model.ContainerPort("http", 6, 8080),)
    assert pod.service_account == "default"


CALICOCTL_LIST = textwrap.dedent(
    """\
    apiVersion: projectcalico.org/v3
    kind: GlobalNetworkSetList
    metadata:
      resourceVersion: "99"
    items:
    - apiVersion: projectcalico.org/v3
      kind: GlobalNetworkSet
      metadata:
        name: blocked
        labels: {feed: bad}
        resourceVersion: "7"
        uid: 1d5a2b7c-0000-4000-8000-000000000001
        creationTimestamp: "2026-01-01T00:00:00Z"
      spec:
        nets: [192.0.2.0/24, "2001:db8::/32"]
    - apiVersion: projectcalico.org/v3
      kind: GlobalNetworkSet
      metadata:
        name: partners
      spec:
        nets: [198.51.100.7/24]
    """
)


def test_calicoctl_typed_list() -> None:
    ps = netpolicy.loads(CALICOCTL_LIST)
    sets = {s.name: s for s in ps.network_sets}
    assert [str(n) for n in sets["blocked"].nets] == ["192.0.2.0/24", "2001:db8::/32"]
    assert [str(n) for n in sets["partners"].nets] == ["198.51.100.0/24"]  # host bits masked
    assert ps.warnings == ()
    origins = [(s.origin.document, s.origin.line, s.origin.column) for s in ps.network_sets if s.origin]
    assert origins == [(1, 6, 3), (1, 16, 3)]


def test_list_with_null_items_is_empty() -> None:
    assert netpolicy.loads("apiVersion: v1\nkind: List\nitems: null\n").endpoints == ()


def test_list_items_not_a_list() -> None:
    assert problems("apiVersion: v1\nkind: List\nitems: {a: b}\n") == [
        "<input>:3:8: List items must be a list (document 1, items)"
    ]


def test_unknown_field_on_list_wrapper_warns() -> None:
    ps = netpolicy.loads("apiVersion: v1\nkind: List\nextra: 1\nitems: []\n")
    assert ps.warnings == ("<input>:3: unknown field 'extra' ignored (List, extra)",)


def test_yaml_1_2_numbers_and_no_base_60() -> None:
    text = textwrap.dedent(
        """\
        apiVersion: projectcalico.org/v3
        kind: Tier
        metadata: {name: t}
        spec: {order: 1e+06}
        """
    )
    assert netpolicy.loads(text).tier("t").order == 1_000_000.0
    # 1:30 would be a base-60 integer (90) in YAML 1.1; here it stays text.
    bad = "apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {name: t}\nspec: {order: 1:30}\n"
    assert problems(bad) == [
        "<input>:4:15: expected a number, got string '1:30' (document 1, Tier t, spec.order)"
    ]


def test_unquoted_date_label_value_stays_a_string() -> None:
    ps = netpolicy.loads(POD.format(name="a", ns="x", ip="10.0.0.1").replace("{app: web}", "{day: 2026-01-01}"))
    assert ps.endpoints[0].labels == {"day": "2026-01-01"}


# -- positions ----------------------------------------------------------------------


def test_golden_position_in_third_document() -> None:
    text = "---\n".join(
        [
            NS.format(name="x"),
            POD.format(name="a", ns="x", ip="10.0.0.1"),
            POD.format(name="b", ns="x", ip="10.0.0.300"),
        ]
    )
    assert problems(text) == [
        "<input>:22:10: '10.0.0.300' is not an IP address (document 3, Pod b, status.podIP)"
    ]


def test_golden_position_inside_list_items() -> None:
    text = CALICOCTL_LIST.replace("198.51.100.7/24", "198.51.100.7/33")
    error = problems(text)
    assert error == [
        "<input>:21:12: '198.51.100.7/33' is not a CIDR (document 1, GlobalNetworkSet partners, items[1].spec.nets[0])"
    ]


def test_golden_position_inside_top_level_sequence() -> None:
    text = "- apiVersion: v1\n  kind: Namespace\n  metadata: {name: ok}\n- apiVersion: v1\n  kind: Namespace\n  metadata: {name: Bad}\n"
    (message,) = problems(text)
    assert message.startswith("<input>:6:20: name 'Bad' is not a valid DNS label")
    assert message.endswith("(document 1, Namespace Bad, [1].metadata.name)")


def test_validation_error_attributes() -> None:
    with pytest.raises(ValidationError) as info:
        netpolicy.loads(NS.format(name="x") + "---\n" + POD.format(name="a", ns="x", ip="nope"))
    error = info.value
    assert isinstance(error, netpolicy.PolicyError) and isinstance(error, ValueError)
    assert (error.file, error.document, error.line, error.column, error.path) == (None, 2, 13, 10, "status.podIP")


def test_every_problem_is_reported_and_nothing_loaded() -> None:
    text = "---\n".join(
        [
            POD.format(name="a", ns="x", ip="bad-1"),
            NS.format(name="ok"),
            POD.format(name="b", ns="x", ip="bad-2"),
            "apiVersion: v1\nkind: Namespace\nmetadata: {}\n",
        ]
    )
    assert problems(text) == [
        "<input>:8:10: 'bad-1' is not an IP address (document 1, Pod a, status.podIP)",
        "<input>:22:10: 'bad-2' is not an IP address (document 3, Pod b, status.podIP)",
        "<input>:26:11: required field is missing (document 4, Namespace, metadata.name)",
    ]


# -- files, directories and stdin -----------------------------------------------------


def test_load_files_and_directories_recursively_sorted(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "deeper").mkdir()
    (tmp_path / "a.yaml").write_text(NS.format(name="x"))
    (tmp_path / "b" / "pod.yml").write_text(POD.format(name="a", ns="x", ip="10.0.0.1"))
    (tmp_path / "b" / "deeper" / "pod.json").write_text(
        json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "b", "namespace": "x"}, "status": {"podIP": "10.0.0.2"}})
    )
    (tmp_path / "b" / "notes.txt").write_text("not a manifest")
    ps = netpolicy.load(tmp_path)
    assert names(ps) == ["x/a", "x/b"]
    single = netpolicy.load(str(tmp_path / "a.yaml"), tmp_path / "b" / "pod.yml")
    assert names(single) == ["x/a"]


def test_problem_names_the_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "cluster.yaml"
    path.write_text(NS.format(name="x") + "---\n" + POD.format(name="a", ns="x", ip="10.0.0.999"))
    with pytest.raises(ValidationError) as info:
        netpolicy.load(path)
    assert str(info.value) == f"{path}:13:10: '10.0.0.999' is not an IP address (document 2, Pod a, status.podIP)"
    assert info.value.file == str(path)


def test_missing_file_is_a_validation_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError, match="cannot read"):
        netpolicy.load(tmp_path / "absent.yaml")


def test_stdin_bytes(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    stream = io.TextIOWrapper(io.BytesIO(POD.format(name="a", ns="x", ip="10.0.0.1").encode()))
    monkeypatch.setattr(sys, "stdin", stream)
    assert names(netpolicy.load("-")) == ["x/a"]


def test_stdin_problem_names_stdin(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(sys, "stdin", io.StringIO("apiVersion: v1\nkind: Pod\nmetadata: {name: A}\n"))
    with pytest.raises(ValidationError) as info:
        netpolicy.load("-")
    assert str(info.value).startswith("<stdin>:3:18: name 'A' is not a valid DNS subdomain")


def test_bytes_with_bom_and_utf16() -> None:
    text = POD.format(name="a", ns="x", ip="10.0.0.1")
    assert names(netpolicy.loads(b"\xef\xbb\xbf" + text.encode())) == ["x/a"]
    assert names(netpolicy.loads(text.encode("utf-16"))) == ["x/a"]


def test_from_objects_dicts_and_lists() -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a", "namespace": "x"}, "status": {"podIP": "10.0.0.1"}}
    assert names(netpolicy.from_objects([pod])) == ["x/a"]
    assert names(netpolicy.from_objects([{"apiVersion": "v1", "kind": "List", "items": [pod]}])) == ["x/a"]
    assert names(netpolicy.from_objects(iter([pod]))) == ["x/a"]


def test_from_objects_problem_has_document_and_path() -> None:
    with pytest.raises(ValidationError) as info:
        netpolicy.from_objects([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x"}}, {"kind": "Pod"}])
    assert [str(p) for p in info.value.problems] == [
        "<input>: required field is missing (document 2, Pod, apiVersion)"
    ]


def test_from_objects_rejects_text() -> None:
    with pytest.raises(ValidationError, match="expected a list of manifest mappings"):
        netpolicy.from_objects("apiVersion: v1")  # type: ignore[arg-type]


def test_typed_list_items_inherit_kind_and_api_version() -> None:
    items = [{"metadata": {"name": "a", "namespace": "x"}, "status": {"podIP": "10.0.0.1"}}]
    raw = {"apiVersion": "v1", "kind": "PodList", "metadata": {"resourceVersion": "1"}, "items": items}
    assert names(netpolicy.loads(json.dumps(raw))) == ["x/a"]
    assert names(netpolicy.from_objects([raw])) == ["x/a"]
    assert "kind" not in items[0]  # the input is not modified
    generic = {"apiVersion": "v1", "kind": "List", "items": items}
    with pytest.raises(ValidationError, match="required field is missing"):
        netpolicy.from_objects([generic])
