"""A flow whose sides name several endpoints, as the flows it stands for: one per pair of
endpoints. A Service destination is the flow after DNAT to each backend: its port
(``dst_port``, or the Service's only port for the protocol) maps to the backend's target
port, a number or the container port of that name, as kube-proxy does."""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from ..errors import PolicyError
from ..flow import Flow
from ..loader.services import ServicePort
from ..model import PROTOCOL_NAMES, Endpoint
from .names import Target, resolve_name
from .services import describe_port, target_port

if TYPE_CHECKING:
    from .snapshot import Snapshot

__all__ = ["Fanout", "expand"]

_SERVICE_PROTOCOLS = (6, 17, 132)


@attrs.frozen
class Fanout:
    """The flows ``flow`` stands for, the names of its two sides, and what was left out
    (backends without the target port, selected workloads that run no pod). ``fanned``
    says a side was a Service or stood for several endpoints."""

    flows: tuple[Flow, ...]
    src: str
    dst: str
    notes: tuple[str, ...] = ()
    fanned: bool = False


def _target(snapshot: Snapshot, side: object) -> Target | None:
    return resolve_name(snapshot, side) if isinstance(side, str) else None


def _service_port(target: Target, flow: Flow) -> ServicePort:
    service = target.service
    assert service is not None
    protocol = PROTOCOL_NAMES.get(flow.protocol, str(flow.protocol))
    if service.external_name is not None:
        raise PolicyError(
            f"{target.name} is an ExternalName Service (a DNS name, {service.external_name}): it has no "
            "backends in the cluster; ask about the flow to the address it names"
        )
    if service.selector is None:
        raise PolicyError(
            f"{target.name} has no selector: its endpoints are managed by hand (EndpointSlices), so netpolicy "
            "cannot tell its backends; name the backends instead"
        )
    if flow.protocol not in _SERVICE_PROTOCOLS:
        raise PolicyError(f"a Service forwards TCP, UDP and SCTP; {protocol} to {target.name} goes nowhere")
    ports = [port for port in service.ports if port.protocol == flow.protocol]
    listed = ", ".join(describe_port(port) for port in service.ports) or "none"
    if flow.dst_port is None:
        if len(ports) == 1:
            return ports[0]
        raise PolicyError(f"{target.name} has ports {listed}: say which with dst_port (--port)")
    for port in ports:
        if port.port == flow.dst_port:
            return port
    raise PolicyError(f"{target.name} has no port {flow.dst_port}/{protocol}; its ports: {listed}")


def expand(snapshot: Snapshot, flow: Flow) -> Fanout:
    """The flows ``flow`` stands for; PolicyError when a side names nothing, or a
    Service port that is not there."""
    src, dst = _target(snapshot, flow.src), _target(snapshot, flow.dst)
    notes: list[str] = []
    sources: list[object] = list(src.endpoints) if src is not None else [flow.src]
    pairs: list[tuple[object, int | None]] = []
    if dst is not None and dst.service is not None:
        port = _service_port(dst, flow)
        for backend in dst.endpoints:
            number = target_port(port, backend)
            if number is None:
                notes.append(
                    f"{backend.key} declares no container port {port.target!r}: not a backend of port {port.port}"
                )
            else:
                pairs.append((backend, number))
        if not dst.endpoints and not dst.idle:
            notes.append(f"{dst.name} selects no endpoint in the policy set")
    elif dst is not None:
        pairs = [(endpoint, flow.dst_port) for endpoint in dst.endpoints]
    else:
        pairs = [(flow.dst, flow.dst_port)]
    for target in (src, dst):
        if target is not None and target.service is not None:
            notes.extend(f"{idle.key} matches the selector of {target.name} but runs no pod" for idle in target.idle)
    if src is not None and src.service is not None and not src.endpoints:
        notes.append(f"{src.name} has no backend to send from")
    flows = tuple(
        attrs.evolve(flow, src=_side(source), dst=_side(destination), dst_port=port)
        for source in sources
        for destination, port in pairs
    )
    fanned = any(t is not None and (t.service is not None or len(t.endpoints) != 1) for t in (src, dst))
    return Fanout(flows, src.name if src is not None else str(flow.src), dst.name if dst is not None else str(flow.dst),
                  tuple(notes), fanned)


def _side(side: object) -> object:
    return side.key if isinstance(side, Endpoint) and side.name else side
