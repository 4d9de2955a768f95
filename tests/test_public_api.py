"""The public API is whole: every name in ``netpolicy.__all__`` is documented in
docs/api.md, and the classes the PolicySet's deciding methods return are exported from
``netpolicy`` and documented there."""

from __future__ import annotations

import inspect
import pathlib
import sys
import typing
from typing import Any

import pytest

import netpolicy

API_DOC = (pathlib.Path(__file__).resolve().parent.parent / "docs" / "api.md").read_text()


def _classes(annotation: Any) -> set[type]:
    """The netpolicy classes an annotation names, inside generics too."""
    found = set()
    if isinstance(annotation, type) and annotation.__module__.split(".")[0] == "netpolicy":
        found.add(annotation)
    for arg in typing.get_args(annotation):
        found |= _classes(arg)
    return found


def _returned(function: Any) -> set[type]:
    """The netpolicy classes ``function`` is annotated to return."""
    annotation = inspect.get_annotations(function).get("return")
    if isinstance(annotation, str):  # postponed: resolved where the function is defined
        annotation = eval(annotation, vars(sys.modules[function.__module__]))  # noqa: S307
    return _classes(annotation)


def test_every_exported_name_is_documented() -> None:
    assert [name for name in netpolicy.__all__ if f"netpolicy.{name}" not in API_DOC] == []


@pytest.mark.parametrize("method", ["evaluate", "evaluate_many", "matrix"])
def test_what_the_policy_set_decides_with_is_exported_and_documented(method: str) -> None:
    returned = _returned(getattr(netpolicy.PolicySet, method))
    assert returned
    for cls in returned:
        assert getattr(netpolicy, cls.__name__, None) is cls and cls.__name__ in netpolicy.__all__, cls
        assert f".. autoclass:: netpolicy.{cls.__name__}" in API_DOC, cls


def test_batch_result_and_matrix_are_public() -> None:
    assert {"BatchResult", "Matrix"} <= set(netpolicy.__all__)
    assert _returned(netpolicy.PolicySet.evaluate_many) == {netpolicy.BatchResult}
    assert _returned(netpolicy.PolicySet.matrix) == {netpolicy.Matrix}
