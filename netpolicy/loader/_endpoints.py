"""The checks that span endpoint documents: one endpoint per name, one endpoint per
address, and which of several HostEndpoints governs an interface.

Felix binds each host interface to one HostEndpoint. Of those that match an interface
(by ``interfaceName``, or, without one, by an ``expectedIPs`` address the interface
has; ``interfaceName: "*"`` ones apart), the alphabetically first by name governs it,
and the others do nothing there (projectcalico/calico, ``felix/dataplane/linux/
endpoint_mgr.go``, ``resolveHostEndpoints``). So two HostEndpoints of one node and
interface with the same addresses are valid in Calico: the first governs, and only it is
loaded as the interface's endpoint, with a warning naming it.

The other stays a datastore object all the same: its labels, addresses and named ports
still count where policy rules select endpoints by label. It is only left out when
nothing of that is lost (the same labels and profiles, no address or named port the
governing one lacks); otherwise the shared address remains an error, which says so.
"""

from __future__ import annotations

from typing import Any, Sequence

from ..model import Endpoint, Origin
from ._fields import Document

__all__ = ["place", "place_of", "own", "check_addresses", "governing_hosts"]


def place(origin: Origin | None) -> str:
    """``file:line (document n)`` of an origin, for messages."""
    if origin is None:
        return "<input>"
    text = origin.file or "<input>"
    if origin.line is not None:
        text += f":{origin.line}"
    if origin.document is not None:
        text += f" (document {origin.document})"
    return text


def place_of(doc: Document) -> str:
    """Where ``doc`` starts, for messages."""
    return place(doc.origin or Origin(file=doc.file, document=doc.index))


def own(endpoint: Endpoint, doc: Document, owners: dict[str, Document]) -> Endpoint:
    """Record ``doc`` as the document of ``endpoint``; a second endpoint of one name is
    a problem."""
    key = endpoint.key
    first = owners.get(key)
    if first is not None:
        doc.problem(("metadata", "name"), f"endpoint {key} is already defined at {place_of(first)}")
    else:
        owners[key] = doc
    return endpoint


def check_addresses(endpoints: Sequence[Endpoint], owners: dict[str, Document]) -> None:
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
                    doc.problem((), f"IP address {address} is also used by {other} at {place_of(first)}{_why(other, endpoint)}")


def _interface(endpoint: Endpoint) -> tuple[str | None, str | None]:
    return endpoint.node, endpoint.interface


def _why(first: Endpoint, other: Endpoint) -> str:
    """For two HostEndpoints of one interface that are not resolved, why not."""
    if not (first.is_host and other.is_host and first.node is not None and _interface(first) == _interface(other)):
        return ""
    governing, shadowed = sorted((first, other), key=lambda e: e.name or "")
    return (
        f"; of the two, Calico lets HostEndpoint {governing.name} (the alphabetically first) govern "
        f"{_where(governing)}, but {shadowed.name}'s labels, profiles, addresses and named ports still count for "
        "the policy rules that select it, which a single endpoint cannot stand for: give both the same labels, "
        "profiles and named ports, and the second no address the first lacks"
    )


def _where(endpoint: Endpoint) -> str:
    if endpoint.interface == "*":
        return f"the interfaces of node {endpoint.node} (interfaceName '*')"
    if endpoint.interface:
        return f"interface {endpoint.interface} of node {endpoint.node}"
    addresses = ", ".join(str(address) for address in endpoint.ips)
    return f"the interface of node {endpoint.node} with {addresses}"


def _shadows(governing: Endpoint, other: Endpoint) -> bool:
    """Whether leaving ``other`` out loses nothing a policy could see: it matches the
    interfaces ``governing`` matches, has its labels and profiles, and no address or
    named port ``governing`` lacks."""
    return (
        bool(other.ips)
        and set(other.ips) <= set(governing.ips)
        and other.labels == governing.labels
        and tuple(other.profiles or ()) == tuple(governing.profiles or ())
        and set(other.named_ports) <= set(governing.named_ports)
    )


def governing_hosts(hosts: Sequence[tuple[Endpoint, Document]]) -> list[tuple[Endpoint, Document]]:
    """The HostEndpoints that govern their interface, in input order. A HostEndpoint that
    shares an address with an alphabetically earlier one of the same node and interface
    and adds nothing a policy could see (:func:`_shadows`) is left out, with a warning on
    its document naming the one that governs."""
    groups: dict[tuple[str | None, str | None], list[tuple[Endpoint, Document]]] = {}
    for endpoint, doc in hosts:
        if endpoint.node is not None and endpoint.ips:
            groups.setdefault(_interface(endpoint), []).append((endpoint, doc))
    left_out: set[int] = set()
    for members in groups.values():
        if len(members) < 2:
            continue
        members = sorted(members, key=lambda item: item[0].name or "")
        kept: list[Endpoint] = []
        for endpoint, doc in members:
            governing = next((g for g in kept if set(g.ips) & set(endpoint.ips)), None)
            if governing is not None and _shadows(governing, endpoint):
                left_out.add(id(endpoint))
                doc.warn(
                    ("spec",),
                    f"HostEndpoint {endpoint.name} does not govern {_where(governing)}: HostEndpoint "
                    f"{governing.name} does (of the host endpoints that match an interface, Calico lets the "
                    f"alphabetically first govern it); {endpoint.name} adds no label, profile, address or named "
                    "port, so it is not loaded as an endpoint",
                )
            else:
                kept.append(endpoint)
    return [(endpoint, doc) for endpoint, doc in hosts if id(endpoint) not in left_out]
