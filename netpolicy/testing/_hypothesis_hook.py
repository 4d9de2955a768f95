"""Hypothesis entry point: registers strategies for netpolicy's types.

Hypothesis calls :func:`_hypothesis_setup_hook` when it is imported (the entry point is
declared in ``pyproject.toml``), so ``st.from_type(netpolicy.Flow)`` and
``st.from_type(netpolicy.Selector)`` work in users' tests without importing anything
from netpolicy. The strategies are deferred: nothing heavy is imported until one is
drawn from.
"""

from __future__ import annotations

from typing import Any

__all__: list[str] = []


def _hypothesis_setup_hook() -> None:
    from hypothesis import strategies as st

    from ..flow import Flow
    from ..model import Endpoint
    from ..policyset import PolicySet
    from ..selector import Selector

    def strategies() -> Any:
        from . import strategies as nps

        return nps

    st.register_type_strategy(Flow, st.deferred(lambda: strategies().flows()))
    st.register_type_strategy(Selector, st.deferred(lambda: strategies().selectors()))
    st.register_type_strategy(PolicySet, st.deferred(lambda: strategies().policy_sets()))
    st.register_type_strategy(Endpoint, st.deferred(lambda: strategies().endpoints()))
