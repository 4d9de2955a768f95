"""Hypothesis entry point: registers strategies for netpolicy's types.

Hypothesis calls :func:`_hypothesis_setup_hook` when it is imported (the entry point is
declared in ``pyproject.toml``), so ``st.from_type(netpolicy.Flow)`` and
``st.from_type(netpolicy.Selector)`` work in users' tests without importing anything
from netpolicy. The strategies are deferred: nothing heavy is imported until one is
drawn from.
"""

from __future__ import annotations

__all__: list[str] = []


def _hypothesis_setup_hook() -> None:
    from ._register import register_type_strategies

    register_type_strategies()
