"""Flow sides named as kubectl names resources: ``[NAMESPACE/]KIND/NAME`` with kubectl's
resource names and short names (``deployment``/``deploy``, ``statefulset``/``sts``,
``daemonset``/``ds``, ``replicaset``/``rs``, ``job``, ``cronjob``/``cj``,
``replicationcontroller``/``rc``, ``pod``/``po``, ``service``/``svc``, plural and
``.apps``/``.batch`` forms too), and ``namespace/name[Kind]``, the name output gives.
``NAMESPACE/NAME`` stays a pod. Without a namespace, a name is looked for in every
namespace and must be found in one.

A name stands for a :class:`Target`: one endpoint (a pod, or a workload that has no Pod
in the input), several (a workload's Pods), or a Service and its backends. An unknown or
ambiguous name is a PolicyError that lists the nearest names there are.
"""

from __future__ import annotations

import difflib
import re
import threading
import weakref
from typing import Iterable, Mapping, Protocol

import attrs

from ..errors import PolicyError
from ..loader.services import ServiceRecord
from ..model import Endpoint
from .owners import Owners
from .services import backends_of


class Snapshot(Protocol):
    """What names are resolved in (a :class:`~.snapshot.Snapshot`)."""

    @property
    def endpoints(self) -> tuple[Endpoint, ...]: ...

    @property
    def names(self) -> "Names": ...

__all__ = ["KIND_NAMES", "SHORT_NAMES", "Names", "Target", "resolve_name", "single_endpoint", "kubectl_name", "all_names"]

#: The kinds a name may give, by every name kubectl accepts for them.
KIND_NAMES: Mapping[str, str] = {
    alias: kind
    for kind, group, aliases in (
        ("Deployment", "apps", ("deployment", "deployments", "deploy")),
        ("StatefulSet", "apps", ("statefulset", "statefulsets", "sts")),
        ("DaemonSet", "apps", ("daemonset", "daemonsets", "ds")),
        ("ReplicaSet", "apps", ("replicaset", "replicasets", "rs")),
        ("Job", "batch", ("job", "jobs")),
        ("CronJob", "batch", ("cronjob", "cronjobs", "cj")),
        ("ReplicationController", "", ("replicationcontroller", "replicationcontrollers", "rc")),
        ("Pod", "", ("pod", "pods", "po")),
        ("Service", "", ("service", "services", "svc")),
    )
    for word in aliases
    for alias in ((word, f"{word}.{group}") if group else (word,))
}
#: The short name kubectl users type, per kind (error messages suggest these).
SHORT_NAMES: Mapping[str, str] = {
    "Deployment": "deploy", "StatefulSet": "sts", "DaemonSet": "ds", "ReplicaSet": "rs", "Job": "job",
    "CronJob": "cj", "ReplicationController": "rc", "Pod": "pod", "Service": "svc",
}  # fmt: skip
_KEYED = re.compile(r"(?:(?P<namespace>[^/\[\]]+)/)?(?P<name>[^/\[\]]+)\[(?P<kind>[A-Za-z]+)\]\Z")


@attrs.frozen
class Names:
    """What names resolve through besides the endpoints themselves: the workloads that
    stand for real Pods (:class:`~.owners.Owners`) and the Services."""

    owners: Owners = attrs.field(factory=Owners)
    services: Mapping[str, ServiceRecord] = attrs.field(factory=dict)


@attrs.frozen
class Target:
    """What a name stands for. ``name`` is how output names it (``namespace/pod``,
    ``namespace/name[Kind]``); ``endpoints`` are the endpoints a flow there reaches (a
    Service's backends); ``idle`` are endpoints a Service selects that run no pod."""

    name: str
    endpoints: tuple[Endpoint, ...]
    service: ServiceRecord | None = None
    idle: tuple[Endpoint, ...] = ()


def kubectl_name(namespace: str | None, kind: str, name: str) -> str:
    """``namespace/short/name``, as a side may be written."""
    short = SHORT_NAMES.get(kind, kind.lower())
    return f"{namespace}/{short}/{name}" if namespace else f"{short}/{name}"


class _Lookup:
    """One snapshot's names, indexed once."""

    def __init__(self, snapshot: Snapshot) -> None:
        names = snapshot.names
        self.names = names
        self.by_key: dict[str, Endpoint] = {}
        self.entries: dict[tuple[str | None, str, str], str] = {}  # (namespace, kind, name) -> key
        for endpoint in snapshot.endpoints:
            if not endpoint.name:
                continue
            self.by_key[endpoint.key] = endpoint
            kind = endpoint.workload or ("Pod" if endpoint.namespace else "HostEndpoint")
            self.entries[(endpoint.namespace, kind, endpoint.name)] = endpoint.key
        for key in (*names.owners.members, *names.owners.folded, *names.services):
            found = _KEYED.match(key)
            if found:
                self.entries[(found["namespace"], found["kind"], found["name"])] = key

    def target(self, key: str) -> Target:
        endpoint = self.by_key.get(key)
        if endpoint is not None:
            return Target(key, (endpoint,))
        members = self.names.owners.members.get(key)
        if members is not None:
            return Target(key, tuple(self.by_key[pod] for pod in members if pod in self.by_key))
        folded = self.names.owners.folded.get(key)
        if folded is not None:
            return attrs.evolve(self.target(folded), name=key)
        service = self.names.services[key]
        running, idle = backends_of(service, self.by_key.values())
        return Target(key, tuple(running), service, tuple(idle))

    def matches(self, namespace: str | None, kind: str | None, name: str) -> list[str]:
        return [
            key for (space, known, named), key in self.entries.items()
            if named == name and (kind is None or known == kind) and (namespace is None or space == namespace)
        ]

    def nearest(self, text: str, reading: tuple[str | None, str | None, str]) -> list[str]:
        """Names there are, nearest to ``text`` first: the same or a like name (of the
        kind and namespace asked first), then whole names that look alike."""
        namespace, kind, name = reading
        forms: dict[tuple[str | None, str, str], str] = {
            entry: kubectl_name(*entry) if entry[1] != "Pod" else f"{entry[0]}/{entry[2]}"
            for entry in self.entries if entry[1] != "HostEndpoint"
        }
        names = {entry[2] for entry in forms}
        close = set(difflib.get_close_matches(name, names, n=10, cutoff=0.75)) | {name}
        alike = sorted(
            (entry for entry in forms if entry[2] in close),
            key=lambda e: (e[2] != name, e[1] != kind, e[0] != namespace, forms[e]),
        )
        found = [forms[entry] for entry in alike]
        found += difflib.get_close_matches(text, list(forms.values()), n=5, cutoff=0.8)
        return list(dict.fromkeys(found))[:5]


_LOOKUPS: "weakref.WeakKeyDictionary[Snapshot, _Lookup]" = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def _lookup(snapshot: Snapshot) -> _Lookup:
    found = _LOOKUPS.get(snapshot)
    if found is None:
        with _LOCK:
            found = _LOOKUPS.get(snapshot)
            if found is None:
                found = _LOOKUPS[snapshot] = _Lookup(snapshot)
    return found


def _readings(text: str, namespace: str | None) -> list[tuple[str | None, str | None, str]]:
    """The (namespace, kind, name) ``text`` may mean."""
    keyed = _KEYED.match(text)
    if keyed:
        return [(keyed["namespace"] or namespace, keyed["kind"], keyed["name"])]
    parts = text.split("/")
    if len(parts) == 3:
        kind = KIND_NAMES.get(parts[1].lower())
        if kind is None:
            raise PolicyError(
                f"{text!r}: {parts[1]!r} is not a kind a flow side may name "
                f"(use one of {', '.join(sorted(set(SHORT_NAMES.values())))})"
            )
        return [(parts[0], kind, parts[2])]
    if len(parts) == 2:
        readings: list[tuple[str | None, str | None, str]] = [(parts[0], "Pod", parts[1])]
        kind = KIND_NAMES.get(parts[0].lower())
        if kind is not None:
            readings.insert(0, (namespace, kind, parts[1]))
        return readings
    return [(namespace, None, text)]


def resolve_name(snapshot: Snapshot, text: str, namespace: str | None = None) -> Target:
    """What ``text`` names in ``snapshot`` (``namespace`` is where a name without one
    is looked for; every namespace when None)."""
    lookup = _lookup(snapshot)
    if text in lookup.by_key:
        return lookup.target(text)
    if not text or any(not part for part in text.split("/")):
        raise PolicyError(f"flow side {text!r} is not a name: write [NAMESPACE/]KIND/NAME or NAMESPACE/POD")
    readings = _readings(text, namespace)
    found: list[str] = []
    for space, kind, name in readings:
        found.extend(key for key in lookup.matches(space, kind, name) if key not in found)
    if len(found) == 1:
        return lookup.target(found[0])
    if found:
        raise PolicyError(
            f"{text!r} is ambiguous: it names {', '.join(sorted(_display(lookup, key) for key in found))}; "
            "give the namespace and kind"
        )
    near = lookup.nearest(text, readings[0])
    hint = f"; did you mean {', '.join(near)}?" if near else ""
    raise PolicyError(f"no pod, workload or Service {text!r} in the policy set{hint}")


def _display(lookup: _Lookup, key: str) -> str:
    for (space, kind, named), known in lookup.entries.items():
        if known == key:
            return kubectl_name(space, kind, named) if kind != "Pod" else key
    return key


def single_endpoint(snapshot: Snapshot, text: str) -> Endpoint:
    """The one endpoint ``text`` names; PolicyError when it names none, several or a
    Service (:meth:`PolicySet.evaluate_each` decides those flow by flow)."""
    target = resolve_name(snapshot, text)
    if target.service is not None:
        raise PolicyError(
            f"{text!r} is the Service {target.name}: a flow to it goes to each of its backends after DNAT; "
            "decide them with PolicySet.evaluate_each(flow)"
        )
    if len(target.endpoints) != 1:
        what = ", ".join(e.key for e in target.endpoints[:5]) + (", ..." if len(target.endpoints) > 5 else "")
        raise PolicyError(
            f"{text!r} stands for {len(target.endpoints)} pods ({what}); decide each with PolicySet.evaluate_each(flow)"
            if target.endpoints else f"{text!r} ({target.name}) has no endpoint in the policy set"
        )
    return target.endpoints[0]


def all_names(snapshot: Snapshot) -> Iterable[str]:
    """Every name a side may be given, in the form output uses."""
    lookup = _lookup(snapshot)
    return list(dict.fromkeys([*lookup.by_key, *lookup.entries.values()]))
