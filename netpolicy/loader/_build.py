"""From read documents to a :class:`Loaded` record: envelopes, duplicates, the two
conversion passes (inventory kinds, then policy kinds) and cross-document checks.

Every problem is collected; when there is any, one ValidationError with all of them is
raised and nothing is returned. Profiles and effective labels are the resolve stage's work.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

import attrs

from ..errors import PolicyError, Problem, ValidationError
from ..model import Endpoint, NetworkSet, Policy, Profile, ServiceBackends, Tier
from ._envelope import UnknownKind, read_envelope
from ._fields import Document
from ._generated import KUBERNETES, check_datastore, check_profile_names, generated_sources
from ._documents import Read
from ._endpoints import check_addresses, governing_hosts, own, place_of
from .records import (
    BUILTIN_TIERS,
    DEFAULT_ALLOW_PROFILE,
    METADATA_NAME_LABEL,
    NamespaceRecord,
    ServiceAccountRecord,
    WorkloadRecord,
    default_profiles,
    namespace_profile_name,
    service_account_profile_name,
)
from . import kinds
from .registry import Inventory, Meta, Node, Registration
from .services import ServiceRecord
from .skipping import Skipped, refused
from .release import NEWEST, CalicoVersion, Conversion

__all__ = ["Loaded", "build", "SKIP_UNKNOWN_KINDS"]

#: How an unknown kind's error says what to do, in the library's words and the CLI's.
SKIP_UNKNOWN_KINDS = "skip unknown kinds with strict=False (--no-strict on the command line)"


@attrs.frozen
class Loaded:
    """Every value a load produced, validated, before normalization. ``workloads`` and
    ``hosts`` hold endpoints whose ``profiles`` chain is already set.
    ``calico_version`` is the Calico release the load follows."""

    tiers: tuple[Tier, ...]
    policies: tuple[Policy, ...]
    profiles: tuple[Profile, ...]
    namespaces: Mapping[str, Mapping[str, str]]
    accounts: tuple[ServiceAccountRecord, ...]
    workloads: tuple[WorkloadRecord, ...]
    hosts: tuple[Endpoint, ...]
    network_sets: tuple[NetworkSet, ...]
    slices: tuple[ServiceBackends, ...]
    warnings: tuple[str, ...]
    kube_services: tuple[ServiceRecord, ...] = ()
    calico_version: CalicoVersion = NEWEST


def _convert(doc: Document, registration: Registration, meta: Meta, inventory: Inventory) -> list[object]:
    try:
        return list(registration.converter(doc.root(), meta, inventory))
    except RecursionError:
        doc.problem((), "the object is nested too deeply")
    except PolicyError as error:
        doc.problem((), str(error))
    except Exception as error:  # never let a converter's failure escape as a traceback
        doc.problem((), f"could not read this object ({type(error).__name__}: {error})")
    return []


@attrs.define
class _Entry:
    doc: Document
    registration: Registration
    meta: Meta
    outputs: list[object] = attrs.field(factory=list)


def build(
    reads: Sequence[Read], *, strict: bool = True, conversion: Conversion | None = None, datastore: str = KUBERNETES
) -> Loaded:
    """The Loaded record of ``reads``; ValidationError with every problem found.
    ``datastore`` is where the cluster keeps Calico's data (see :mod:`._generated`)."""
    conversion = conversion or Conversion()
    datastore = check_datastore(datastore)
    problems: list[Problem] = []
    skipped: list[str] = []
    ignored = Skipped()  # kinds of no policy API group: one warning per kind
    table = kinds.KINDS
    known = {kind for _, kind in table}
    entries: list[_Entry] = []
    seen: dict[tuple[str, str, str | None, str], Document] = {}
    empty = Inventory()
    # Pass 1, as documents are read: envelopes, duplicates, and the inventory kinds
    # converted at once (their parsed bodies are let go then: pods are most of a cluster).
    for read in reads:
        for doc in read.each():
            if doc.problems:  # the reader already found it unusable
                continue
            try:
                found = read_envelope(doc, table)
            except UnknownKind as error:
                if not refused(error.api_version, error.kind, known):
                    ignored.add(error.api_version, error.kind, place_of(doc))
                elif strict:
                    doc.problem(("kind",), f"{error}; {SKIP_UNKNOWN_KINDS}")
                else:
                    skipped.append(f"{place_of(doc)}: {error}; skipped")
                continue
            except Exception as error:  # never a traceback for bad input
                doc.problem((), f"could not read this object ({type(error).__name__}: {error})")
                continue
            if found is None:
                continue
            registration, meta = found
            key = (meta.group, meta.kind, meta.namespace, meta.name)
            first = seen.get(key)
            if first is not None:
                what = f"{meta.namespace}/{meta.name}" if meta.namespace else meta.name
                doc.problem(("metadata", "name"), f"duplicate {meta.kind} {what}: already defined at {place_of(first)}")
                continue
            seen[key] = doc
            entry = _Entry(doc, registration, meta)
            if registration.inventory:
                entry.outputs = _convert(doc, registration, meta, empty)
                doc.body = None
            entries.append(entry)
    del seen
    warnings = [warning for read in reads for warning in read.warnings] + ignored.warnings() + skipped
    inventory = attrs.evolve(_inventory(entries), conversion=conversion)

    # Pass 2: policy kinds, which may read the inventory.
    for entry in entries:
        if not entry.registration.inventory:
            entry.outputs = _convert(entry.doc, entry.registration, entry.meta, inventory)
            entry.doc.body = None

    result = _assemble(entries, inventory, datastore)

    for read in reads:  # in input order: by file, then by document
        ordered = read.problems + [p for doc in read.documents for p in doc.problems]
        ordered.sort(key=lambda p: p.document or 0)
        problems.extend(ordered)
        for doc in read.documents:
            warnings.extend(doc.warnings)
    if problems:
        raise ValidationError(problems)
    return attrs.evolve(result, warnings=tuple(warnings), calico_version=conversion.calico_version)


def _inventory(entries: Iterable[_Entry]) -> Inventory:
    nodes: dict[str, Node] = {}
    namespaces: dict[str, Any] = {}
    used: list[str] = []
    for entry in entries:
        if not entry.registration.inventory:
            continue
        if entry.meta.namespace is not None:
            used.append(entry.meta.namespace)
        for output in entry.outputs:
            if isinstance(output, Node):
                nodes[output.name] = output
            elif isinstance(output, NamespaceRecord):
                namespaces[output.name] = output.labels
    for name in used:
        if name not in namespaces:
            namespaces[name] = {METADATA_NAME_LABEL: name}
    return Inventory(nodes=nodes, namespaces=namespaces)


def _assemble(entries: Sequence[_Entry], inventory: Inventory, datastore: str) -> Loaded:
    tiers: dict[str, Tier] = {tier.name: tier for tier in BUILTIN_TIERS}
    builtin = dict(tiers)
    policies: list[tuple[Policy, Document]] = []
    user_profiles: dict[str, Profile] = {}
    profile_docs: dict[str, tuple[Profile, Document]] = {}
    accounts: list[ServiceAccountRecord] = []
    workloads: list[tuple[WorkloadRecord, Document]] = []
    hosts: list[tuple[Endpoint, Document]] = []
    network_sets: list[NetworkSet] = []
    slices: list[ServiceBackends] = []
    kube_services: list[ServiceRecord] = []

    for entry in entries:
        doc = entry.doc
        for output in entry.outputs:
            if isinstance(output, Tier):
                fixed = builtin.get(output.name)
                if fixed is None:
                    tiers[output.name] = output
                elif output.default_action is not fixed.default_action or output.order not in (None, fixed.order):
                    doc.problem(
                        ("spec",),
                        f"the built-in tier {fixed.name!r} has order {fixed.order:g} and defaultAction "
                        f"{fixed.default_action.value}; they cannot be changed",
                    )
            elif isinstance(output, Policy):
                policies.append((output, doc))
            elif isinstance(output, Profile):
                user_profiles[output.name] = output
                profile_docs[output.name] = (output, doc)
            elif isinstance(output, ServiceAccountRecord):
                accounts.append(output)
            elif isinstance(output, WorkloadRecord):
                workloads.append((output, doc))
            elif isinstance(output, Endpoint):
                hosts.append((output, doc))
            elif isinstance(output, NetworkSet):
                network_sets.append(output)
            elif isinstance(output, ServiceBackends):
                slices.append(output)
            elif isinstance(output, ServiceRecord):
                kube_services.append(output)
            elif isinstance(output, (Node, NamespaceRecord)):
                pass
            else:
                doc.problem((), f"internal: a converter produced an unexpected {type(output).__name__}")

    for policy, doc in policies:
        if policy.tier not in tiers:
            doc.problem(("spec", "tier"), f"tier {policy.tier!r} does not exist")

    if datastore == KUBERNETES and profile_docs:  # generated profiles cannot be written
        check_profile_names(profile_docs, generated_sources(entries, profile_docs.keys()))

    # The profiles there will be: generated for namespaces and service accounts (and the
    # service accounts pods name), and what the manifests define.
    known = {DEFAULT_ALLOW_PROFILE, *user_profiles}
    known.update(namespace_profile_name(name) for name in inventory.namespaces)
    known.update(service_account_profile_name(a.namespace, a.name) for a in accounts)
    for record, _ in workloads:
        endpoint = record.endpoint
        if record.from_pod and endpoint.namespace and endpoint.service_account:
            known.add(service_account_profile_name(endpoint.namespace, endpoint.service_account))

    kept: list[WorkloadRecord] = []
    endpoints: list[Endpoint] = []
    owners: dict[str, Document] = {}
    pods = {record.endpoint.key for record, _ in workloads if record.from_pod}
    chains: dict[tuple[str, ...], tuple[str, ...]] = {}
    for record, doc in workloads:
        endpoint = record.endpoint
        if not record.from_pod and endpoint.key in pods:
            doc.warn((), f"WorkloadEndpoint of pod {endpoint.key} ignored: the Pod is loaded too")
            continue
        chain = endpoint.profiles if endpoint.profiles is not None else default_profiles(endpoint)
        chain = chains.setdefault(chain, chain)  # pods of a namespace share one tuple
        _check_profiles(doc, chain, known, explicit=not record.from_pod)
        object.__setattr__(endpoint, "profiles", chain)  # made by this load, not shared yet
        kept.append(record)
        endpoints.append(own(endpoint, doc, owners))
    hosts = governing_hosts(hosts)  # of several for one interface, the one Calico binds to it
    for endpoint, doc in hosts:
        chain = tuple(endpoint.profiles or ())
        _check_profiles(doc, chain, known, explicit=True)
        object.__setattr__(endpoint, "profiles", chain)
        endpoints.append(own(endpoint, doc, owners))
    check_addresses(endpoints, owners)

    return Loaded(
        tiers=tuple(tiers.values()),
        policies=tuple(policy for policy, _ in policies),
        profiles=tuple(user_profiles.values()),
        namespaces=inventory.namespaces,
        accounts=tuple(accounts),
        workloads=tuple(kept),
        hosts=tuple(endpoint for endpoint, _ in hosts),
        network_sets=tuple(network_sets),
        slices=tuple(slices),
        warnings=(),
        kube_services=tuple(kube_services),
    )


def _check_profiles(doc: Document, chain: Sequence[str], known: set[str], *, explicit: bool) -> None:
    if not explicit:
        return
    for index, name in enumerate(chain):
        if name not in known:
            doc.warn(("spec", "profiles", index), f"profile {name!r} is not defined; it lends no labels and no rules")
