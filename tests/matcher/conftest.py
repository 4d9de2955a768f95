"""Every matcher test runs on both twins: the pure one and, when built, the compiled one.

The compiled twin is skipped when it is not built, unless NETPOLICY_REQUIRE_EXTENSIONS=1,
which turns "not built" into a failure.
"""

from __future__ import annotations

import importlib
import os
from typing import Any, Callable

import pytest

from netpolicy.engine import Engine
from netpolicy.reference import evaluate as reference

REQUIRE = os.environ.get("NETPOLICY_REQUIRE_EXTENSIONS") == "1"


def _load(name: str) -> Any:
    if name == "python":
        return importlib.import_module("netpolicy._fastmatch_py").Matcher
    try:
        return importlib.import_module("netpolicy._fastmatch").Matcher
    except ImportError:
        if REQUIRE:
            raise
        pytest.skip("the compiled matcher is not built")


@pytest.fixture(scope="session", params=["python", "cython"])
def matcher_class(request: pytest.FixtureRequest) -> Any:
    """The Matcher class of one twin."""
    return _load(request.param)


@pytest.fixture(scope="session")
def both_twins() -> list[Any]:
    """Every twin that is available (for twin-against-twin tests)."""
    twins = [_load("python")]
    try:
        twins.append(importlib.import_module("netpolicy._fastmatch").Matcher)
    except ImportError:
        if REQUIRE:
            raise
    return twins


class Counting:
    """The reference evaluator, counting how often the tables fell back on it."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, ps: Any, flow: Any) -> Any:
        self.calls += 1
        return reference(ps, flow)


@pytest.fixture
def make_engine(matcher_class: Any) -> Callable[..., Engine]:
    """Builds an Engine on the twin under test; ``engine.counting.calls`` counts fallbacks."""

    def make(ps: Any) -> Engine:
        counting = Counting()
        engine = Engine(ps, counting, matcher_class)
        engine.counting = counting  # type: ignore[attr-defined]
        return engine

    return make
