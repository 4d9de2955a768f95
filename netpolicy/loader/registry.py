"""What a converter is given and the names of the API groups: the types the kind
modules share.

A converter turns one manifest object into model values::

    def convert(root: Field, meta: Meta, inventory: Inventory) -> Iterable[object]

``root`` is the whole object (``root["spec"]`` ...); ``meta`` is its already validated
envelope; ``inventory`` is what the inventory kinds produced. A converter reports bad
values through ``Field.problem`` and returns what it could; the loader discards
everything when any problem was reported.

Kinds are keyed by API *group* and kind. ``projectcalico.org/v3`` and
``crd.projectcalico.org/v1`` share the group :data:`CALICO` (same kinds, same spec).
Each kind module has a ``CONVERTERS`` mapping ``(group, kind) -> (converter,
namespaced)`` with the group constants below; :mod:`.kinds` joins them into the table
the loader reads. This module imports no kind module.
"""
from __future__ import annotations

import ipaddress
from typing import Any, Callable, Iterable, Mapping

import attrs

from ..model import IPAddress, Origin, _frozen_labels
from ._fields import Field
from .release import Conversion

__all__ = [
    "CORE",
    "CALICO",
    "NETWORKING",
    "POLICY_NETWORKING",
    "POLICY_NETWORKING_V1ALPHA2",
    "DISCOVERY",
    "APPS",
    "BATCH",
    "API_GROUPS",
    "Meta",
    "Node",
    "Inventory",
    "Converter",
    "Registration",
]

CORE = "core"  #: ``v1``
CALICO = "projectcalico.org"  #: ``projectcalico.org/v3`` and ``crd.projectcalico.org/v1``
NETWORKING = "networking.k8s.io"  #: ``networking.k8s.io/v1``
POLICY_NETWORKING = "policy.networking.k8s.io"  #: ``policy.networking.k8s.io/v1alpha1``
#: ``policy.networking.k8s.io/v1alpha2``: keyed apart from v1alpha1, whose kinds it does not have.
POLICY_NETWORKING_V1ALPHA2 = "policy.networking.k8s.io/v1alpha2"
DISCOVERY = "discovery.k8s.io"  #: ``discovery.k8s.io/v1``
APPS = "apps"  #: ``apps/v1``
BATCH = "batch"  #: ``batch/v1``

#: apiVersion -> group, for every apiVersion the loader reads.
API_GROUPS: Mapping[str, str] = {
    "v1": CORE,
    "projectcalico.org/v3": CALICO,
    "crd.projectcalico.org/v1": CALICO,
    "networking.k8s.io/v1": NETWORKING,
    "policy.networking.k8s.io/v1alpha1": POLICY_NETWORKING,
    "policy.networking.k8s.io/v1alpha2": POLICY_NETWORKING_V1ALPHA2,
    "discovery.k8s.io/v1": DISCOVERY,
    "apps/v1": APPS,
    "batch/v1": BATCH,
}


@attrs.frozen
class Meta:
    """An object's validated envelope.

    ``name`` is the resource name as Calico's v3 API knows it: for
    ``crd.projectcalico.org/v1`` objects it comes from the ``projectcalico.org/metadata``
    annotation when present, otherwise a leading ``default.`` is stripped from
    default-tier policies (``stored_name`` keeps the name as written). ``labels`` are
    taken from that annotation too when it has them. ``namespace`` is None for
    cluster-scoped kinds and ``default`` for namespaced objects that name none.
    """

    kind: str
    api_version: str
    name: str
    namespace: str | None
    labels: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_labels)
    annotations: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_labels)
    origin: Origin = attrs.field(factory=Origin)
    stored_name: str | None = None

    @property
    def group(self) -> str:
        return API_GROUPS.get(self.api_version, self.api_version)


def _address_tuple(values: Iterable[Any]) -> tuple[IPAddress, ...]:
    return tuple(ipaddress.ip_address(v) for v in values)


@attrs.frozen
class Node:
    """A Kubernetes Node: its labels and its InternalIP/ExternalIP addresses."""

    name: str
    labels: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_labels)
    addresses: tuple[IPAddress, ...] = attrs.field(default=(), converter=_address_tuple)
    origin: Origin | None = attrs.field(default=None, eq=False)


@attrs.frozen
class Inventory:
    """What the inventory kinds produced, for the policy converters to read.

    ``nodes`` maps node name to :class:`Node`. ``namespaces`` maps every known namespace
    (declared by a Namespace document or used by a namespaced object) to its labels,
    including ``kubernetes.io/metadata.name``. ``conversion`` says how to convert (the
    Calico release to follow, Calico's exact conversion or the upstream API's).
    """

    nodes: Mapping[str, Node] = attrs.field(factory=dict)
    namespaces: Mapping[str, Mapping[str, str]] = attrs.field(factory=dict)
    conversion: Conversion = attrs.field(factory=Conversion)


Converter = Callable[[Field, Meta, Inventory], Iterable[object]]


@attrs.frozen
class Registration:
    """A kind's converter, whether the kind is namespaced, and whether it is converted in
    the first pass (an inventory kind)."""

    converter: Converter
    namespaced: bool
    inventory: bool  # converted in the first pass
