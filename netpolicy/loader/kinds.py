"""The table of kinds the loader reads: for each (API group, kind), its converter,
whether it is namespaced and which pass converts it.

Loading runs in two passes: the inventory kinds first (:mod:`.inventory`, and the
workload controllers of :mod:`.controllers`, whose Pod converter replaces the
inventory's, and the Services of :mod:`.services`), then the policy kinds (:mod:`.policies`), whose converters may read the
:class:`~netpolicy.loader.registry.Inventory`. This module sits above the kind modules:
they import the types of :mod:`.registry`, and only this module imports them.
"""

from __future__ import annotations

from typing import Mapping

from . import controllers, inventory, policies, services
from .registry import Converter, Registration

__all__ = ["KINDS"]


def _table(
    first_pass: tuple[Mapping[tuple[str, str], tuple[Converter, bool]], ...],
    second_pass: Mapping[tuple[str, str], tuple[Converter, bool]],
) -> Mapping[tuple[str, str], Registration]:
    table: dict[tuple[str, str], Registration] = {}
    for converters in first_pass:  # a later table's converter replaces an earlier one's
        for key, (converter, namespaced) in converters.items():
            table[key] = Registration(converter, namespaced, True)
    for key, (converter, namespaced) in second_pass.items():
        table[key] = Registration(converter, namespaced, False)
    return table


#: Every kind the loader reads, by (API group, kind).
KINDS: Mapping[tuple[str, str], Registration] = _table(
    (inventory.CONVERTERS, controllers.CONVERTERS, services.CONVERTERS), policies.CONVERTERS
)
