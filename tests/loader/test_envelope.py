"""The envelope every manifest shares: apiVersion, kind, metadata; unknown kinds and
fields; duplicates; the crd.projectcalico.org/v1 form."""

from __future__ import annotations

import json
import textwrap

import pytest

import netpolicy
from netpolicy import ValidationError


def problems(text: str, **kwargs: object) -> list[str]:
    with pytest.raises(ValidationError) as info:
        netpolicy.loads(text, **kwargs)  # type: ignore[arg-type]
    return [str(p) for p in info.value.problems]


def one(text: str) -> str:
    (found,) = problems(text)
    return found


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("kind: Namespace\nmetadata: {name: x}\n", "<input>:1:1: required field is missing (document 1, Namespace x, apiVersion)"),
        ("apiVersion: v1\nmetadata: {name: x}\n", "<input>:1:1: required field is missing (document 1, kind)"),
        ("apiVersion: 1\nkind: Namespace\nmetadata: {name: x}\n", "<input>:1:13: expected a string, got integer 1 (document 1, Namespace x, apiVersion)"),
        ("apiVersion: v1\nkind: ''\nmetadata: {name: x}\n", "<input>:2:7: must not be empty (document 1, kind)"),
        ("apiVersion: v1\nkind: Namespace\n", "<input>:1:1: required field is missing (document 1, Namespace, metadata)"),
        ("apiVersion: v1\nkind: Namespace\nmetadata: x\n", "<input>:3:11: expected a mapping, got string 'x' (document 1, Namespace, metadata)"),
        ("apiVersion: v1\nkind: Namespace\nmetadata: {}\n", "<input>:3:11: required field is missing (document 1, Namespace, metadata.name)"),
        ("apiVersion: v1\nkind: Namespace\nmetadata: {name: ''}\n", "<input>:3:18: must not be empty (document 1, Namespace, metadata.name)"),
        ("apiVersion: v1\nkind: Namespace\nmetadata: {name: 7}\n", "<input>:3:18: expected a string, got integer 7 (document 1, Namespace, metadata.name)"),
    ],
)
def test_required_envelope_fields(text: str, expected: str) -> None:
    assert one(text) == expected


@pytest.mark.parametrize(
    ("kind", "name", "ok"),
    [
        ("Namespace", "a-b", True),
        ("Namespace", "a.b", False),  # namespaces are DNS labels
        ("Namespace", "a" * 63, True),
        ("Namespace", "a" * 64, False),
        ("Namespace", "-a", False),
        ("Pod", "a.b-c", True),  # pods are DNS subdomains
        ("Pod", "A", False),
        ("Pod", "a_b", False),
        ("Pod", "a." * 126 + "a", True),
        ("Pod", "a" * 254, False),
        ("Node", "node-1.example.com", True),
    ],
)
def test_names(kind: str, name: str, ok: bool) -> None:
    text = f"apiVersion: v1\nkind: {kind}\nmetadata: {{name: '{name}'}}\n"
    if ok:
        netpolicy.loads(text)
    else:
        assert "is not a valid DNS" in one(text)


def test_namespace_defaults_to_default() -> None:
    ps = netpolicy.loads(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nstatus: {podIP: 10.0.0.1}\n---\n"
        "apiVersion: v1\nkind: Pod\nmetadata: {name: b, namespace: ''}\nstatus: {podIP: 10.0.0.2}\n"
    )
    assert sorted(e.key for e in ps.endpoints) == ["default/a", "default/b"]
    assert "kns.default" in ps.profiles


def test_bad_namespace() -> None:
    assert one("apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: Bad_NS}\n").startswith(
        "<input>:3:32: namespace 'Bad_NS' is not a valid DNS label"
    )


def test_namespace_on_cluster_scoped_kind_warns() -> None:
    ps = netpolicy.loads("apiVersion: v1\nkind: Node\nmetadata: {name: n, namespace: x}\n")
    assert ps.warnings == (
        "<input>:3: metadata.namespace ignored: Node is cluster-scoped (Node n, metadata.namespace)",
    )


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        ("{'a/b/c': x}", "label key 'a/b/c': the prefix must be a DNS subdomain"),
        ("{'Example.com/a': x}", "label key 'Example.com/a': the prefix must be a DNS subdomain"),
        ("{'/a': x}", "the prefix must be a DNS subdomain"),
        ("{'-a': x}", "label key '-a': the name must be"),
        (f"{{'{'a' * 64}': x}}", "the name must be 1-63 characters"),
        ("{a: '-x'}", "label value '-x': must be empty or 1-63 characters"),
        (f"{{a: '{'v' * 64}'}}", "must be empty or 1-63 characters"),
        ("{a: 1}", "expected a string, got integer 1"),
        ("{a: true}", "expected a string, got boolean True"),
        ("[a]", "expected a mapping, got list"),
    ],
)
def test_bad_labels(labels: str, message: str) -> None:
    assert message in one(f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  labels: {labels}\n")


def test_good_labels() -> None:
    text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  labels: {'app.kubernetes.io/name': web, empty: '', 'x_y.z': 'A-1_b.c'}\nstatus: {podIP: 10.0.0.1}\n"
    assert netpolicy.loads(text).endpoints[0].labels == {"app.kubernetes.io/name": "web", "empty": "", "x_y.z": "A-1_b.c"}


def test_annotations_must_be_strings_but_are_otherwise_ignored() -> None:
    assert "expected a string" in one("apiVersion: v1\nkind: Pod\nmetadata: {name: a, annotations: {a: 1}}\n")
    ps = netpolicy.loads("apiVersion: v1\nkind: Pod\nmetadata: {name: a, annotations: {'x/y': '{}'}}\nstatus: {podIP: 10.0.0.1}\n")
    assert ps.warnings == ()


def test_server_fields_are_silent_and_unknown_fields_warn() -> None:
    text = textwrap.dedent(
        """\
        apiVersion: v1
        kind: Namespace
        metadata:
          name: x
          uid: 1
          resourceVersion: "1"
          generation: 3
          creationTimestamp: "2026-01-01T00:00:00Z"
          managedFields: [{manager: kubectl}]
          ownerReferences: []
          finalizers: [a]
          selfLink: /api/v1/namespaces/x
          colour: blue
        spec: {finalizers: [kubernetes]}
        status: {phase: Active, conditions: [{type: X}]}
        extra: 1
        """
    )
    ps = netpolicy.loads(text)
    assert ps.warnings == (
        "<input>:16: unknown field 'extra' ignored (Namespace x, extra)",
        "<input>:13: unknown field 'colour' ignored (Namespace x, metadata.colour)",
    )


def test_unknown_kind_strict_and_not() -> None:
    text = "apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n---\napiVersion: projectcalico.org/v3\nkind: Widget\nmetadata: {name: web}\n"
    assert problems(text) == [
        "<input>:6:7: unknown kind 'Widget' (apiVersion 'projectcalico.org/v3'); skip unknown kinds with "
        "strict=False (--no-strict on the command line) (document 2, Widget web, kind)"
    ]
    ps = netpolicy.loads(text, strict=False)
    assert ps.warnings == ("<input>:5 (document 2): unknown kind 'Widget' (apiVersion 'projectcalico.org/v3'); skipped",)
    assert "kns.x" in ps.profiles


def test_known_kind_under_another_api_version_is_unknown() -> None:
    text = "apiVersion: networking.k8s.io/v1beta1\nkind: NetworkPolicy\nmetadata: {name: p}\n"
    assert "unknown kind 'NetworkPolicy' (apiVersion 'networking.k8s.io/v1beta1')" in one(text)
    assert "unknown kind 'Pod' (apiVersion 'projectcalico.org/v3')" in one(
        "apiVersion: projectcalico.org/v3\nkind: Pod\nmetadata: {name: p}\n"
    )


def test_unknown_kind_in_list_not_strict() -> None:
    text = "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: s}}\n- {apiVersion: v1, kind: Pod, metadata: {name: p}, status: {podIP: 10.0.0.1}}\n"
    ps = netpolicy.loads(text, strict=False)
    assert [e.key for e in ps.endpoints] == ["default/p"]
    assert ps.warnings == (
        "<input>:4 (document 1): skipped 1 document of kind 'ConfigMap' (apiVersion 'v1'): netpolicy does not read this kind",
    )


def test_duplicates_name_both_places() -> None:
    text = "apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: x}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: b, namespace: x}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: x}\n"
    assert problems(text) == [
        "<input>:11:18: duplicate Pod x/a: already defined at <input>:1 (document 1) (document 3, Pod a, metadata.name)"
    ]


def test_duplicates_across_files(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "a.yaml").write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n")
    (tmp_path / "b.yaml").write_text("# again\napiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n")
    with pytest.raises(ValidationError) as info:
        netpolicy.load(tmp_path)
    assert str(info.value) == (
        f"{tmp_path / 'b.yaml'}:4:18: duplicate Namespace x: already defined at {tmp_path / 'a.yaml'}:1 (document 1) "
        "(document 1, Namespace x, metadata.name)"
    )


def test_same_name_in_other_namespace_or_kind_is_not_a_duplicate() -> None:
    text = "\n---\n".join(
        [
            "apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: x}\nstatus: {podIP: 10.0.0.1}",
            "apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: y}\nstatus: {podIP: 10.0.0.2}",
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: a, namespace: x}\nspec: {podSelector: {}}",
            "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: a, namespace: x}\nspec: {selector: all()}",
        ]
    )
    ps = netpolicy.loads(text)
    assert len(ps.endpoints) == 2 and len(ps.policies) == 2


def test_v3_and_crd_forms_of_one_object_are_duplicates() -> None:
    text = "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkSet\nmetadata: {name: g}\nspec: {nets: [10.0.0.0/8]}\n---\napiVersion: crd.projectcalico.org/v1\nkind: GlobalNetworkSet\nmetadata: {name: g}\nspec: {nets: [10.0.0.0/8]}\n"
    assert "duplicate GlobalNetworkSet g" in one(text)


# -- crd.projectcalico.org/v1 -----------------------------------------------------------


def crd_policy(name: str, *, tier: str | None = None, annotation: dict[str, object] | None = None) -> str:
    metadata: dict[str, object] = {"name": name}
    if annotation is not None:
        metadata["annotations"] = {"projectcalico.org/metadata": json.dumps(annotation)}
    spec: dict[str, object] = {"selector": "all()", "ingress": [{"action": "Allow"}]}
    if tier:
        spec["tier"] = tier
    return json.dumps({"apiVersion": "crd.projectcalico.org/v1", "kind": "GlobalNetworkPolicy", "metadata": metadata, "spec": spec})


def test_crd_default_prefix_is_stripped_for_default_tier() -> None:
    ps = netpolicy.loads(crd_policy("default.allow-all"))
    assert [p.ref.name for p in ps.policies] == ["allow-all"]


def test_crd_default_prefix_kept_in_other_tiers() -> None:
    text = crd_policy("default.allow", tier="security") + "\n---\napiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {name: security}\nspec: {order: 10}\n"
    ps = netpolicy.loads(text)
    assert [p.ref.name for p in ps.policies] == ["default.allow"]


def test_crd_metadata_annotation_gives_name_and_labels() -> None:
    text = crd_policy("default.x", annotation={"name": "real-name", "labels": {"team": "a"}, "uid": "u"})
    ps = netpolicy.loads(text)
    assert [p.ref.name for p in ps.policies] == ["real-name"]
    netset = json.dumps(
        {
            "apiVersion": "crd.projectcalico.org/v1",
            "kind": "NetworkSet",
            "metadata": {
                "name": "s",
                "namespace": "x",
                "labels": {"projectcalico.org/x": "y"},
                "annotations": {"projectcalico.org/metadata": json.dumps({"labels": {"role": "db"}})},
            },
            "spec": {"nets": ["10.1.0.0/16"]},
        }
    )
    (item,) = netpolicy.loads(netset).network_sets
    assert item.labels == {"role": "db"}


@pytest.mark.parametrize(
    ("annotation", "message"),
    [
        ("{not json", "is not valid JSON"),
        ("[1]", "must be a JSON object"),
        ('{"name": 5}', "its name must be a non-empty string"),
        ('{"labels": {"a": 1}}', "its labels must map strings to strings"),
        ('{"labels": {"-a": "b"}}', "label key '-a'"),
    ],
)
def test_crd_metadata_annotation_errors(annotation: str, message: str) -> None:
    text = json.dumps(
        {
            "apiVersion": "crd.projectcalico.org/v1",
            "kind": "GlobalNetworkSet",
            "metadata": {"name": "g", "annotations": {"projectcalico.org/metadata": annotation}},
        }
    )
    found = one(text)
    assert message in found and "metadata.annotations.projectcalico.org/metadata" in found
