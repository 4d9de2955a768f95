"""What a flow log's side stands for in a policy set, resolved once per distinct value.

* An address owned by an endpoint of the manifests is that endpoint; any other address
  is an external peer. Both are exact.
* A pod named in full (``shop/frontend-6c9d5b7f8-x2k4p``), a host endpoint, an endpoint
  made from a workload (``shop/frontend[Deployment]``) are that endpoint: exact.
* An aggregated name (``frontend-6c9d5b7f8-*``: every pod of one owner) is the pods of
  the manifests that owner made (their ``ownerReferences``, or names of the owner's
  pattern), else the workload itself (a Deployment ``frontend`` makes
  ``frontend-<hash>-*``; a StatefulSet, DaemonSet, Job, ReplicaSet ``name-*``; a CronJob
  ``name-<time>-*``). Its pods' labels are known but not which address a record's pod
  had: the side is a *representative*, exact only where no address decides.
* A side with neither address nor endpoint in the manifests (a pod the manifests lack)
  becomes an endpoint built from the logged namespace and labels: exact only where those
  labels, an intersection over the pods, decide alike for every pod they may stand for.
* ``pub``/``pvt`` networks and network sets stand for any address of theirs: a
  representative address is used, exact only where no address test decides.

What could make a representative's verdict differ is checked in :mod:`.exact`.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

import attrs

from ..errors import PolicyError
from ..model import Endpoint, IPAddress, NetworkSet
from ..policyset import PolicySet
from .batch import SideValue

__all__ = ["Resolved", "Resolver", "EXACT", "REPRESENTATIVE", "LABELLED", "NETWORK", "UNKNOWN"]

EXACT = "exact"  #: an endpoint or address the record names
REPRESENTATIVE = "representative"  #: pods of an owner (or the workload): labels known, address not
LABELLED = "labelled"  #: built from the logged labels: neither labels nor address fully known
NETWORK = "network"  #: an address of a network or network set: any address of it
UNKNOWN = "unknown"  #: nothing to decide with

#: A Deployment's pods: ``<name>-<pod-template-hash>-`` (the hash in Kubernetes' safe alphabet).
_HASH = re.compile(r"[bcdfghjklmnpqrstvwxz2456789]{1,10}")
_SUFFIX = re.compile(r"[a-z0-9]+")
#: Representative addresses of the networks a log names, checked unused by endpoints.
_NETWORK_ADDRESSES = {"pvt": ("10.255.255.254", "172.31.255.254", "192.168.255.254"),
                      "pub": ("198.51.100.254", "203.0.113.254", "192.0.2.254")}


@attrs.frozen
class Resolved:
    """A side as decided: ``side`` is what a :class:`~netpolicy.Flow` takes (an endpoint
    key, an address text or a hand-built Endpoint; None when nothing can be decided),
    ``how`` one of the module's kinds, ``endpoint`` the policed endpoint there (None for
    an external peer), ``network_set`` the set a representative address stands in,
    ``groups`` the endpoints the side may be (representatives; alike ones once),
    ``note`` what was resolved, in words."""

    side: Any
    how: str
    endpoint: Endpoint | None = None
    network_set: NetworkSet | None = None
    groups: tuple[Endpoint, ...] = ()
    note: str = ""

    @property
    def exact(self) -> bool:
        return self.how == EXACT


def _identity(endpoint: Endpoint) -> tuple[Any, ...]:
    """What selectors and rules see of an endpoint, its address aside."""
    return (endpoint.namespace, tuple(sorted(endpoint.labels.items())), endpoint.service_account, endpoint.profiles,
            endpoint.named_ports, endpoint.kind)


class Resolver:
    """Resolves side values against one policy set, caching every answer."""

    def __init__(self, ps: PolicySet) -> None:
        self.ps = ps
        self._cache: dict[SideValue, Resolved] = {}
        self._by_ip: dict[str, list[Endpoint]] = {}
        self._pods: dict[str, list[Endpoint]] = {}  # namespace -> pods (no workload endpoints)
        self._workloads: dict[str, list[Endpoint]] = {}
        self._hosts: dict[str, Endpoint] = {}
        for endpoint in ps.endpoints:
            for ip in endpoint.ips:
                self._by_ip.setdefault(str(ip), []).append(endpoint)
            if endpoint.is_host:
                self._hosts[str(endpoint.name)] = endpoint
            elif endpoint.namespace and endpoint.workload not in (None, "Pod"):
                self._workloads.setdefault(endpoint.namespace, []).append(endpoint)
            elif endpoint.namespace:
                self._pods.setdefault(endpoint.namespace, []).append(endpoint)
        self._sets = {(s.namespace, s.name): s for s in ps.network_sets}
        self._namespaces = {name[4:] for name in ps.profiles if name.startswith("kns.")}

    def namespace_known(self, namespace: str | None) -> bool:
        return namespace is not None and namespace in self._namespaces

    def resolve(self, value: SideValue) -> Resolved:
        found = self._cache.get(value)
        if found is None:
            found = self._cache[value] = self._resolve(value)
        return found

    def _resolve(self, value: SideValue) -> Resolved:
        if value.ip:
            return self._address(value)
        if value.kind == "net" or (value.kind is None and value.name in ("pub", "pvt") and not value.namespace):
            return self._network(value)
        if value.kind == "ns":
            return self._network_set(value)
        if value.kind == "hep":
            host = self._hosts.get(value.name or "")
            if host is None:
                return Resolved(None, UNKNOWN, note=f"no host endpoint {value.name!r} in the manifests")
            return Resolved(host.key, EXACT, host, note=f"host endpoint {host.key}")
        if not value.namespace and value.name:
            host = self._hosts.get(value.name)
            if host is not None:
                return Resolved(host.key, EXACT, host, note=f"host endpoint {host.key}")
            if (None, value.name) in self._sets:
                return self._network_set(value)
            return Resolved(None, UNKNOWN, note=f"nothing named {value.name!r} in the manifests")
        return self._workload(value)

    # -- addresses ---------------------------------------------------------------------

    def _address(self, value: SideValue) -> Resolved:
        try:
            ip = ipaddress.ip_address(value.ip or "")
        except ValueError:
            return Resolved(None, UNKNOWN, note=f"{value.ip!r} is not an IP address")
        owners = self._by_ip.get(str(ip), [])
        if len(owners) == 1:
            return Resolved(str(ip), EXACT, owners[0], note=f"{ip}: {owners[0].key}")
        if value.kind == "wep" and value.name and not value.aggregated and value.namespace:
            named = self._key(f"{value.namespace}/{value.name}")
            if named is not None:
                return Resolved(named.key, EXACT, named, note=f"{named.key} (the manifests give it another address)")
        if value.kind in ("wep", "hep") and not owners:
            built = self._built(value, (ip,))
            if built is not None:
                return built
            return Resolved(None, UNKNOWN, note=f"{value.text()} at {ip}: no such endpoint in the manifests")
        return Resolved(str(ip), EXACT, owners[0] if owners else None, note=str(ip))

    def _free(self, candidates: tuple[str, ...]) -> str | None:
        for text in candidates:
            if text not in self._by_ip:
                return text
        return None

    def _network(self, value: SideValue) -> Resolved:
        name = value.name if value.name in _NETWORK_ADDRESSES else "pub"
        address = self._free(_NETWORK_ADDRESSES[name])
        if address is None:
            return Resolved(None, UNKNOWN, note=f"no free representative address for the network {name}")
        what = "the private networks" if name == "pvt" else "the public internet"
        return Resolved(address, NETWORK, note=f"an address of {what} ({address} stands for it)")

    def _network_set(self, value: SideValue) -> Resolved:
        found = self._sets.get((value.namespace, value.name or "")) or self._sets.get((None, value.name or ""))
        if found is None:
            return Resolved(None, UNKNOWN, note=f"no network set {value.text()!r} in the manifests")
        for net in sorted(found.nets, key=lambda n: (n.version, -n.prefixlen)):
            for address in _some_hosts(net):
                if str(address) not in self._by_ip:
                    return Resolved(str(address), NETWORK, network_set=found,
                                    note=f"an address of network set {value.text()} ({address} stands for it)")
        return Resolved(None, UNKNOWN, note=f"network set {value.text()} has no address to stand for it")

    # -- workloads -----------------------------------------------------------------------

    def _key(self, key: str) -> Endpoint | None:
        try:
            return self.ps.endpoint(key)
        except (KeyError, PolicyError):
            return None

    def _workload(self, value: SideValue) -> Resolved:
        namespace, name = value.namespace or "", value.name or ""
        if not name:
            return Resolved(None, UNKNOWN, note="the record names no endpoint")
        if not value.aggregated:
            endpoint = self._key(f"{namespace}/{name}")
            if endpoint is not None:
                return Resolved(endpoint.key, EXACT, endpoint, note=endpoint.key)
            if (namespace, name) in self._sets and value.kind is None:
                return self._network_set(value)
            built = self._built(value, ())
            return built or Resolved(None, UNKNOWN, note=f"no pod {namespace}/{name} in the manifests")
        prefix = name[:-1]
        pods = [p for p in self._pods.get(namespace, []) if _made_by(p, prefix)]
        members = pods or [w for w in self._workloads.get(namespace, []) if _workload_makes(w, prefix)]
        if not members:
            built = self._built(value, ())
            return built or Resolved(None, UNKNOWN, note=f"no pod or workload of {namespace}/{name} in the manifests")
        groups: dict[tuple[Any, ...], Endpoint] = {}
        for member in sorted(members, key=lambda e: e.key):
            groups.setdefault(_identity(member), member)
        chosen = tuple(groups.values())
        what = ", ".join(e.key for e in members[:3]) + (f" and {len(members) - 3} more" if len(members) > 3 else "")
        return Resolved(chosen[0].key, REPRESENTATIVE, chosen[0], groups=chosen, note=f"{namespace}/{name}: {what}")

    def _built(self, value: SideValue, ips: tuple[IPAddress, ...]) -> Resolved | None:
        """An endpoint from the logged namespace and labels (None without labels)."""
        if value.labels is None or not value.namespace:
            return None
        labels = dict(item.split("=", 1) for item in value.labels)
        endpoint = Endpoint(labels=labels, namespace=value.namespace, name=value.name or "-", ips=ips, kind="WorkloadEndpoint")
        return Resolved(endpoint, LABELLED, endpoint,
                        note=f"{value.text()}: not in the manifests; built from its logged labels")


def _made_by(pod: Endpoint, prefix: str) -> bool:
    """Whether the pod is of the owner whose pods the log aggregates as ``prefix*``."""
    if pod.owner is not None:
        return pod.owner[1] + "-" == prefix
    name = pod.name or ""
    return name.startswith(prefix) and _SUFFIX.fullmatch(name[len(prefix):]) is not None


def _workload_makes(workload: Endpoint, prefix: str) -> bool:
    """Whether the workload's pods are named ``prefix`` and a per-pod suffix."""
    name = workload.name or ""
    if not prefix.startswith(name + "-"):
        return False
    rest = prefix[len(name) + 1 :]
    if workload.workload == "Deployment":
        return rest.endswith("-") and _HASH.fullmatch(rest[:-1]) is not None
    if workload.workload == "CronJob":
        return rest.endswith("-") and rest[:-1].isdigit()
    return rest == ""


def _some_hosts(net: Any) -> list[Any]:
    if net.num_addresses <= 2:
        return [net.network_address]
    first = net.network_address + 1
    return [first + k for k in range(min(16, net.num_addresses - 2))]
