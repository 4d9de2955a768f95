"""Hostile and broken input: every case ends in a ValidationError (never another
exception, a hang or a crash), and nothing is loaded."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import netpolicy
from netpolicy import ValidationError

NS = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n"


def error_of(text: str | bytes) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        netpolicy.loads(text)
    return info.value


def test_billion_laughs_fails_fast(count_operations: Any) -> None:
    lines = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for level in range(1, 10):
        refs = ", ".join([f"*{chr(96 + level)}"] * 10)
        lines.append(f"{chr(97 + level)}: &{chr(97 + level)} [{refs}]")
    # 10**10 nodes if expanded; refused after a bounded walk (measured: ~60,000 operations)
    error, _ = count_operations(lambda: error_of(NS + "\n".join(lines) + "\n"), budget=1_000_000)
    assert "alias expansion bomb" in str(error)
    assert (error.line, error.document) == (1, 1)


def test_billion_laughs_in_later_document_and_small_aliases_still_work() -> None:
    ok = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: y\n  labels: &l {team: a}\n"
    bomb = "x: &x [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n" + "".join(
        f"x{i}: &x{i} [" + ", ".join([f"*x{i - 1}" if i > 1 else "*x"] * 10) + "]\n" for i in range(1, 8)
    )
    assert "alias expansion bomb" in str(error_of(ok + "---\n" + bomb))
    shared = ok + "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: z, labels: {team: b}}\n"
    assert {p for p in netpolicy.loads(shared).profiles} >= {"kns.y", "kns.z"}


def test_recursive_alias() -> None:
    error = error_of("apiVersion: v1\nkind: Namespace\nmetadata: &m\n  name: x\n  labels: *m\n")
    assert "recursive" in str(error)


@pytest.mark.parametrize(
    "tag",
    [
        "!!python/object/apply:os.system ['echo pwned']",
        "!!python/name:os.system",
        "!!python/object:__main__.Thing {a: 1}",
        "!ruby/object:Gem::Requirement {}",
        "!custom 1",
    ],
)
def test_language_specific_tags_are_never_constructed(tag: str) -> None:
    error = error_of(f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {tag}\n")
    assert "could not determine a constructor" in str(error)
    assert (error.line, error.column) == (4, 9)


def test_non_utf8_bytes() -> None:
    error = error_of(b"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: caf\xe9\n")
    assert str(error) == "<input>:4:12: the file is not valid UTF-8 (byte 0xe9 at offset 52)"


def test_control_characters() -> None:
    error = error_of("apiVersion: v1\nkind: Namespace\nmetadata: {name: a\x00b}\n")
    assert str(error) == "<input>:3:19: YAML: the character '\\x00' is not allowed in YAML text"


@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000 + "]" * 100_000,  # JSON-looking flow sequences
        "a: " + "[" * 100_000,  # unterminated
        "a: " + "{a: " * 50_000 + "}" * 50_000,
        "- " * 100_000 + "x",  # compact block sequences
        "".join(" " * i + "a:\n" for i in range(2000)),  # indentation
        "x: [" + "[a, " * 60_000 + "]" * 60_000 + "]",
    ],
    ids=["flow", "unterminated", "flow-mapping", "compact", "indented", "mixed"],
)
def test_deep_nesting_is_a_clean_error(text: str) -> None:
    error = error_of(text)
    assert "nesting is deeper than" in str(error) or "YAML:" in str(error)


def test_deep_nesting_does_not_crash_the_interpreter() -> None:
    # Run in a child: a native stack overflow would kill it, not this test run.
    code = (
        "import netpolicy\n"
        "for text in ['[' * 300000, '- ' * 300000 + 'x', 'a: ' + '{a: ' * 300000]:\n"
        "    try:\n"
        "        netpolicy.loads(text)\n"
        "    except netpolicy.ValidationError:\n"
        "        pass\n"
        "print('ok')\n"
    )
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=root)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "ok"


def test_deep_python_objects() -> None:
    value: object = "x"
    for _ in range(100_000):
        value = [value]
    with pytest.raises(ValidationError, match="nesting is deeper"):
        netpolicy.from_objects([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x"}, "spec": value}])


def test_cyclic_python_objects() -> None:
    doc: dict[str, object] = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x"}}
    doc["spec"] = doc
    with pytest.raises(ValidationError, match="recursive"):
        netpolicy.from_objects([doc])


def test_shared_python_objects_bomb() -> None:
    layer: list[object] = ["x"] * 10
    for _ in range(8):
        layer = [layer] * 10
    with pytest.raises(ValidationError, match="alias expansion bomb"):
        netpolicy.from_objects([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x"}, "spec": layer}])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- 1\n- [a]\n", "a manifest must be a mapping, got 1"),
        ("just text\n", "a manifest must be a mapping, got 'just text'"),
        ("42\n", "a manifest must be a mapping, got 42"),
        ("apiVersion: v1\nkind: List\nitems: [1]\n", "a manifest must be a mapping, got 1"),
        ("? [a]\n: b\n", "unhashable key"),
        ("{1: 2}\n", "mapping key 1 is not a string"),
    ],
)
def test_documents_that_are_not_mappings(text: str, message: str) -> None:
    assert message in str(error_of(text))


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: [x\n", "<input>:5:1"),
        ("apiVersion: v1\nkind: Namespace\nmetadata:\n\tname: x\n", "<input>:4:1"),
        ("apiVersion: v1\nkind: 'Namespace\n", "<input>:3:1"),
        ("a: b\n c: d\n", "<input>:2:3"),
        ("apiVersion: v1\n---\n- a\nb: c\n", "<input>:4:1"),
        ("a: *missing\n", "<input>:1:4"),
    ],
)
def test_yaml_syntax_errors_have_places(text: str, place: str) -> None:
    error = error_of(text)
    assert any(str(p).startswith(place + ": YAML: ") for p in error.problems), str(error)


def test_syntax_error_in_second_document_names_it() -> None:
    error = error_of(NS + "---\napiVersion: v1\nkind: [\n")
    assert error.document == 2
    assert str(error).startswith("<input>:8:1: YAML:")


def test_duplicate_keys_are_errors_with_line_column_and_path() -> None:
    error = error_of("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n  name: y\n")
    assert str(error) == "<input>:5:3: duplicate key 'name' (document 1, metadata.name)"
    flow = error_of('{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x", "name": "y"}}')
    assert str(flow) == "<input>:1:69: duplicate key 'name' (document 1, metadata.name)"


def test_json_duplicate_keys_in_a_sequence_and_spelled_with_escapes() -> None:
    text = (
        '[{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}},\n'
        ' {"apiVersion": "v1", "kind": "Namespace",\n'
        '  "metadata": {"labels": {"x": "1", "\\u0078": "2"}, "name": "b", "name": "c"}}]'
    )
    error = error_of(text)
    assert [(p.line, p.column, p.path, p.message) for p in error.problems] == [
        (3, 37, "[1].metadata.labels.x", "duplicate key 'x'"),
        (3, 66, "[1].metadata.name", "duplicate key 'name'"),
    ]


@pytest.mark.parametrize("depth", [250, 5000], ids=["under-the-parser-limit", "over-it"])
def test_json_nested_too_deep_has_line_column_and_path(depth: int) -> None:
    error = error_of('{"spec":\n ' + "[" * depth + "]" * depth + "}")
    [problem] = error.problems
    assert problem.message == "nesting is deeper than 200 levels"
    # the top mapping is level 1, spec's sequence level 2: the 200th '[' is level 201
    assert (problem.line, problem.column) == (2, 2 + 199)
    assert problem.path.startswith("spec[0][0]") and problem.path.endswith("[0]")


def test_bad_binary_and_scalars() -> None:
    assert isinstance(error_of("apiVersion: v1\nkind: Namespace\nmetadata: {name: !!binary '@@'}\n"), ValidationError)
    assert isinstance(error_of("apiVersion: v1\nkind: Namespace\nmetadata: {name: !!int 'x'}\n"), ValidationError)
    assert isinstance(error_of("apiVersion: v1\nkind: Namespace\nmetadata: {name: !!float 'x'}\n"), ValidationError)


def test_huge_document_counts(count_operations: Any) -> None:
    # Work per document is bounded (measured: ~35 operations per empty document, ~450 per
    # Namespace), so it grows linearly with the number of documents.
    empty, _ = count_operations(lambda: netpolicy.loads("---\n" * 100_000), budget=100 * 100_000)
    assert empty.endpoints == ()
    many = "---\n".join(f"apiVersion: v1\nkind: Namespace\nmetadata: {{name: n{i}}}\n" for i in range(3000))
    loaded, _ = count_operations(lambda: netpolicy.loads(many), budget=1500 * 3000)
    assert len([p for p in loaded.profiles if p.startswith("kns.")]) == 3000


def test_many_broken_documents_report_every_one_quickly(count_operations: Any) -> None:
    many = "---\n".join(f"apiVersion: v1\nkind: Namespace\nmetadata: {{name: N{i}}}\n" for i in range(2000))
    # measured: ~750 operations per broken document
    error, _ = count_operations(lambda: error_of(many), budget=2000 * 2000)
    assert len(error.problems) == 2000
    assert error.problems[-1].line == 3 + 4 * 1999 and error.problems[-1].document == 2000


def test_wrong_types_everywhere_never_raise_anything_else() -> None:
    bodies = [
        "apiVersion: 1\nkind: Namespace\nmetadata: {name: x}\n",
        "apiVersion: v1\nkind: [Namespace]\nmetadata: {name: x}\n",
        "apiVersion: v1\nkind: Namespace\nmetadata: [x]\n",
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: {a: b}}\n",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p, labels: [a]}\n",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p, annotations: {a: 1}}\n",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: [1]\n",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: {a: b}}\n",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{ports: [{containerPort: x}]}]}\n",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nstatus: {podIPs: [1, {ip: 2}]}\n",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nstatus: {podIP: [1]}\n",
        "apiVersion: v1\nkind: Node\nmetadata: {name: n}\nstatus: {addresses: [{type: InternalIP, address: 1.2.3}]}\n",
        "apiVersion: projectcalico.org/v3\nkind: HostEndpoint\nmetadata: {name: h}\nspec: {expectedIPs: 1.2.3.4}\n",
        "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkSet\nmetadata: {name: g}\nspec: {nets: [1e400]}\n",
        "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: s}\naddressType: IPv4\nendpoints: [{addresses: [::1]}]\n",
    ]
    for body in bodies:
        with pytest.raises(ValidationError):
            netpolicy.loads(body)


@pytest.mark.parametrize(
    "value",
    ["!!bool maybe", "!!timestamp nope", "!!omap [1]", "!!set [a]", "!!float x", "!!int 0x", "!!null x"],
)
def test_explicit_core_tags_with_bad_values(value: str) -> None:
    error = error_of(f"apiVersion: v1\nkind: Namespace\nmetadata: {{name: {value}}}\n")
    assert error.problems[0].line is not None
