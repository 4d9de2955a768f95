"""From read documents to a PolicySet: envelopes, duplicates, the two conversion passes
(inventory kinds, then policy kinds), cross-document checks and normalization.

Every problem is collected; when there is any, one ValidationError with all of them is
raised and nothing is returned.
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

import attrs

from ..errors import PolicyError, Problem, ValidationError
from ..model import Endpoint, NetworkSet, Origin, Policy, Profile, ServiceBackends, Tier
from ..policyset import PolicySet
from ._envelope import UnknownKind, read_envelope
from ._fields import Document
from ._yaml import Read
from .inventory import NamespaceRecord, ServiceAccountRecord, WorkloadRecord
from .normalize import (
    BUILTIN_TIERS,
    DEFAULT_ALLOW_PROFILE,
    default_allow_profile,
    default_profiles,
    effective_endpoint_labels,
    merge_services,
    namespace_profile,
    network_set_labels,
    service_account_profile,
)
from .registry import Inventory, Meta, Node, Registration, registry
from .inventory import METADATA_NAME_LABEL

__all__ = ["build"]


def _place(doc: Document) -> str:
    origin = doc.origin or Origin(file=doc.file, document=doc.index)
    text = origin.file or "<input>"
    if origin.line is not None:
        text += f":{origin.line}"
    if origin.document is not None:
        text += f" (document {origin.document})"
    return text


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


def build(reads: Sequence[Read], *, strict: bool = True) -> PolicySet:
    problems: list[Problem] = []
    skipped: list[str] = []
    table = registry()
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
                if strict:
                    doc.problem(("kind",), f"{error}; pass strict=False to skip unknown kinds")
                else:
                    skipped.append(f"{_place(doc)}: {error}; skipped")
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
                doc.problem(("metadata", "name"), f"duplicate {meta.kind} {what}: already defined at {_place(first)}")
                continue
            seen[key] = doc
            entry = _Entry(doc, registration, meta)
            if registration.inventory:
                entry.outputs = _convert(doc, registration, meta, empty)
                doc.body = None
            entries.append(entry)
    del seen
    warnings = [warning for read in reads for warning in read.warnings] + skipped
    inventory = _inventory(entries)

    # Pass 2: policy kinds, which may read the inventory.
    for entry in entries:
        if not entry.registration.inventory:
            entry.outputs = _convert(entry.doc, entry.registration, entry.meta, inventory)
            entry.doc.body = None

    result = _assemble(entries, inventory, warnings)

    for read in reads:  # in input order: by file, then by document
        ordered = read.problems + [p for doc in read.documents for p in doc.problems]
        ordered.sort(key=lambda p: p.document or 0)
        problems.extend(ordered)
        for doc in read.documents:
            warnings.extend(doc.warnings)
    if problems:
        raise ValidationError(problems)
    tiers, policies, profiles, endpoints, network_sets, services = result
    return PolicySet(
        tiers=tiers,
        policies=policies,
        profiles=profiles,
        endpoints=endpoints,
        network_sets=network_sets,
        services=services,
        warnings=warnings,
    )


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


_Assembled = tuple[
    list[Tier], list[Policy], list[Profile], list[Endpoint], list[NetworkSet], tuple[ServiceBackends, ...]
]


def _assemble(entries: Sequence[_Entry], inventory: Inventory, warnings: list[str]) -> _Assembled:
    tiers: dict[str, Tier] = {tier.name: tier for tier in BUILTIN_TIERS}
    builtin = dict(tiers)
    policies: list[tuple[Policy, Document]] = []
    user_profiles: dict[str, Profile] = {}
    accounts: dict[str, Profile] = {}
    workloads: list[tuple[WorkloadRecord, Document]] = []
    hosts: list[tuple[Endpoint, Document]] = []
    network_sets: list[NetworkSet] = []
    slices: list[ServiceBackends] = []

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
            elif isinstance(output, ServiceAccountRecord):
                profile = service_account_profile(output)
                accounts[profile.name] = profile
            elif isinstance(output, WorkloadRecord):
                workloads.append((output, doc))
            elif isinstance(output, Endpoint):
                hosts.append((output, doc))
            elif isinstance(output, NetworkSet):
                network_sets.append(output)
            elif isinstance(output, ServiceBackends):
                slices.append(output)
            elif isinstance(output, (Node, NamespaceRecord)):
                pass
            else:
                doc.problem((), f"internal: a converter produced an unexpected {type(output).__name__}")

    for policy, doc in policies:
        if policy.tier not in tiers:
            doc.problem(("spec", "tier"), f"tier {policy.tier!r} does not exist")

    # Profiles: synthesized for namespaces and service accounts, then what the
    # manifests define (a Profile document replaces a synthesized one of its name).
    profiles: dict[str, Profile] = {DEFAULT_ALLOW_PROFILE: default_allow_profile()}
    for name, labels in inventory.namespaces.items():
        profile = namespace_profile(NamespaceRecord(name, labels))
        profiles[profile.name] = profile
    profiles.update(accounts)
    for record, _ in workloads:
        endpoint = record.endpoint
        if record.from_pod and endpoint.namespace and endpoint.service_account:
            name = f"ksa.{endpoint.namespace}.{endpoint.service_account}"
            if name not in profiles:
                profiles[name] = service_account_profile(
                    ServiceAccountRecord(endpoint.namespace, endpoint.service_account, {})
                )
    profiles.update(user_profiles)

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
        _check_profiles(doc, chain, profiles, explicit=not record.from_pod)
        object.__setattr__(endpoint, "profiles", chain)  # the same chain, not derived again
        labels = effective_endpoint_labels(
            endpoint, profiles, from_pod=record.from_pod, orchestrator="k8s" if record.from_pod else record.orchestrator
        )
        endpoints.append(_own(_complete(endpoint, chain, labels), doc, owners))
    for endpoint, doc in hosts:
        chain = endpoint.profiles or ()
        _check_profiles(doc, chain, profiles, explicit=True)
        labels = effective_endpoint_labels(endpoint, profiles)
        endpoints.append(_own(_complete(endpoint, chain, labels), doc, owners))
    _check_addresses(endpoints, owners)

    sets = [attrs.evolve(item, effective_labels=network_set_labels(item, profiles)) for item in network_sets]
    return (
        list(tiers.values()),
        [policy for policy, _ in policies],
        list(profiles.values()),
        endpoints,
        sets,
        merge_services(slices),
    )


def _complete(endpoint: Endpoint, profiles: tuple[str, ...], labels: Any) -> Endpoint:
    """Fill in profiles and effective labels. The endpoint was made by this load and is
    not shared yet, so it is completed in place rather than copied (which would run
    every attrs converter again)."""
    object.__setattr__(endpoint, "profiles", tuple(profiles))
    object.__setattr__(endpoint, "effective_labels", labels)
    return endpoint


def _check_profiles(doc: Document, chain: Sequence[str], profiles: dict[str, Profile], *, explicit: bool) -> None:
    if not explicit:
        return
    for index, name in enumerate(chain):
        if name not in profiles:
            doc.warn(("spec", "profiles", index), f"profile {name!r} is not defined; it lends no labels and no rules")


def _own(endpoint: Endpoint, doc: Document, owners: dict[str, Document]) -> Endpoint:
    key = endpoint.key
    first = owners.get(key)
    if first is not None:
        doc.problem(("metadata", "name"), f"endpoint {key} is already defined at {_place(first)}")
    else:
        owners[key] = doc
    return endpoint


def _check_addresses(endpoints: Sequence[Endpoint], owners: dict[str, Document]) -> None:
    """An IP address belongs to one endpoint at most."""
    seen: dict[Any, Endpoint] = {}
    for endpoint in endpoints:
        for address in endpoint.ips:
            other = seen.get(address)
            if other is None:
                seen[address] = endpoint
            elif other is not endpoint:
                doc = owners.get(endpoint.key)
                first = owners.get(other.key)
                if doc is not None and first is not None:
                    doc.problem((), f"IP address {address} is also used by {other} at {_place(first)}")
