"""Registers strategies for netpolicy's types, so ``st.from_type(netpolicy.Flow)``,
``st.from_type(netpolicy.Selector)``, ``st.from_type(netpolicy.PolicySet)`` and
``st.from_type(netpolicy.Endpoint)`` draw from them.

Hypothesis's entry point (:mod:`netpolicy.testing._hypothesis_hook`) and
:mod:`netpolicy.testing.strategies` both call :func:`register_type_strategies`;
registering again replaces a registration with the same one.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from .. import Endpoint, Flow, PolicySet, Selector

__all__ = ["register_type_strategies"]

# The strategy modules are imported when a strategy is first drawn from, not here:
# Hypothesis runs its entry points while it is itself being imported, in every test
# session of an environment where netpolicy is installed.


def _flows() -> st.SearchStrategy[Flow]:
    from ._flows import flows

    return flows()


def _selectors() -> st.SearchStrategy[Selector]:
    from ._selectors import selectors

    return selectors()


def _policy_sets() -> st.SearchStrategy[PolicySet]:
    from ._manifests import policy_sets

    return policy_sets()


def _endpoints() -> st.SearchStrategy[Any]:
    from ._flows import endpoints

    return endpoints()


def register_type_strategies() -> None:
    """Register the strategies with :func:`hypothesis.strategies.register_type_strategy`."""
    st.register_type_strategy(Flow, st.deferred(_flows))
    st.register_type_strategy(Selector, st.deferred(_selectors))
    st.register_type_strategy(PolicySet, st.deferred(_policy_sets))
    st.register_type_strategy(Endpoint, st.deferred(_endpoints))
