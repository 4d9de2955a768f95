"""The package's shape: imports point down the pipeline, never back up, and no module
imports itself through others.

Every import counts, those under ``if TYPE_CHECKING:`` and inside functions included.
The pipeline's stages, from the bottom up, are listed in ``LAYERS``; a module may import
modules of its own layer or of a lower one.
"""

from __future__ import annotations

import ast
import pathlib
import re

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "netpolicy"

#: The stages, lowest first: a module of layer N imports only layers <= N. A name stands
#: for the module and, for a package, everything in it.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("netpolicy._version", "netpolicy.errors", "netpolicy.selector"),
    ("netpolicy.model",),
    ("netpolicy.flow",),
    ("netpolicy.verdict",),
    ("netpolicy.loader",),
    ("netpolicy.resolve",),
    ("netpolicy.reference", "netpolicy.compile"),
    ("netpolicy._fastmatch", "netpolicy._fastmatch_py", "netpolicy._fastmatch_keys_py", "netpolicy._fastmatch_single_py",
     "netpolicy._matcher"),
    ("netpolicy.engine",),
    ("netpolicy.matrix", "netpolicy.analysis"),
    ("netpolicy.policyset",),
    ("netpolicy", "netpolicy.testing", "netpolicy.cli", "netpolicy.__main__", "netpolicy.flowlogs", "netpolicy.dask"),
)

_CYTHON_IMPORT = re.compile(r"^\s*(?:from\s+(\.*[\w.]*)\s+c?import\s+([\w, ]+)|c?import\s+([\w.]+))", re.M)


def _module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, pathlib.Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*")):
        if path.suffix in (".py", ".pyx") and "__pycache__" not in path.parts:
            found[_module_name(path)] = path
    return found


def _absolute(module: str, is_package: bool, level: int, target: str | None) -> str:
    if not level:
        return target or ""
    base = module.split(".")
    if not is_package:
        base.pop()
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([target] if target else []))


def _imports(module: str, path: pathlib.Path, modules: dict[str, pathlib.Path]) -> set[str]:
    """The netpolicy modules ``module`` imports: ``from package import name`` counts as
    the submodule ``name`` when there is one, else as the package."""
    is_package = path.name.startswith("__init__.")
    raw: list[str] = []

    def imported_from(prefix: str, names: list[str]) -> None:
        for name in names:
            raw.append(f"{prefix}.{name}" if f"{prefix}.{name}" in modules else prefix)

    if path.suffix == ".pyx":
        for found in _CYTHON_IMPORT.finditer(path.read_text()):
            source, names, plain = found.groups()
            if plain:
                raw.append(plain)
            else:
                level = len(source) - len(source.lstrip("."))
                prefix = _absolute(module, is_package, level, source.lstrip(".") or None)
                imported_from(prefix, [name.strip() for name in names.split(",")])
    else:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                raw.extend(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                prefix = _absolute(module, is_package, node.level, node.module)
                imported_from(prefix, [alias.name for alias in node.names])
    result = set()
    for name in raw:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        if name and name != module:
            result.add(name)
    return result


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {module: _imports(module, path, modules) for module, path in modules.items()}


def _layer(module: str) -> int:
    best, rank = -1, -1
    for index, names in enumerate(LAYERS):
        for name in names:
            if (module == name or module.startswith(name + ".")) and len(name) > best:
                best, rank = len(name), index
    if rank < 0:
        raise AssertionError(f"{module} belongs to no layer: add it to LAYERS")
    return rank


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_cycles() -> None:
    assert _cycles(_graph()) == []


def test_imports_point_down_the_pipeline() -> None:
    upward = [
        f"{module} (layer {_layer(module)}) imports {target} (layer {_layer(target)})"
        for module, targets in sorted(_graph().items())
        for target in sorted(targets)
        if _layer(target) > _layer(module)
    ]
    assert upward == []


def test_every_module_has_a_layer() -> None:
    for module in _modules():
        _layer(module)


@pytest.mark.parametrize(
    "graph, expected",
    [
        ({"a": {"b"}, "b": {"a"}, "c": set()}, [["a", "b"]]),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, [["a", "b", "c"]]),
        ({"a": {"b"}, "b": set()}, []),
    ],
)
def test_the_cycle_finder_finds_cycles(graph: dict[str, set[str]], expected: list[list[str]]) -> None:
    assert _cycles(graph) == expected


def test_the_import_reader_sees_deferred_and_type_only_imports(tmp_path: pathlib.Path) -> None:
    source = tmp_path / "probe.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from .policyset import PolicySet\n"
        "def f():\n    from .engine import engine_for\n"
    )
    modules = _modules()
    assert _imports("netpolicy.probe", source, modules) == {"netpolicy.policyset", "netpolicy.engine"}


#: "About 400 lines" a module, 300 a class: one job each, readable in one sitting.
MAX_MODULE_LINES = 420
MAX_CLASS_LINES = 300


def test_modules_and_classes_stay_small() -> None:
    too_long = []
    for module, path in _modules().items():
        lines = path.read_text().count("\n")
        if lines > MAX_MODULE_LINES:
            too_long.append(f"{module}: {lines} lines")
        if path.suffix == ".py":
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ClassDef) and node.end_lineno is not None:
                    size = node.end_lineno - node.lineno + 1
                    if size > MAX_CLASS_LINES:
                        too_long.append(f"{module}.{node.name}: {size} lines")
    assert too_long == []
