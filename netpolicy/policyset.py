"""PolicySet, the facade: a normalized snapshot of policies and the inventory they act
on, with the questions users ask of it; and the functions that load one."""

from __future__ import annotations

import os
from typing import Any, Iterable

from .engine import BatchResult, Engine, engine_for
from .engine import evaluate as evaluate_warming
from .flow import Flow
from .loader import DEFAULT_MAX_BYTES, Conversion, load_objects, load_paths, load_string, paused_gc
from .loader._build import Loaded
from .loader.release import calico_version as _calico_version
from .matrix import Matrix, reachability
from .model import IPNetwork
from .resolve import Snapshot, normalize
from .resolve.fanout import expand
from .verdict import Verdict, Verdicts

__all__ = ["PolicySet", "load", "loads", "from_objects"]


class PolicySet(Snapshot):
    """Policies in Calico's order plus the endpoints, network sets and profiles they act on.

    Build one with :func:`netpolicy.load`, :func:`netpolicy.loads` or
    :func:`netpolicy.from_objects`. It never changes after construction, so it is safe to
    share between threads; it pickles.
    """

    def evaluate(self, flow: Flow) -> Verdict:
        """The verdict Calico reaches on ``flow``: Allow or Deny, each side's deciding
        rule or default, the Log rules that fired, the pending verdict with staged
        policies, and ``explain()``. Raises PolicyError for a flow side it cannot resolve."""
        engine: Engine | None = self._engine
        if engine is not None:  # compiled tables (they fall back on the reference themselves)
            return engine.evaluate(flow)
        return evaluate_warming(self, flow)  # the reference until compiling is worth it

    def evaluate_each(self, flow: Flow) -> Verdicts:
        """The verdicts on every flow ``flow`` stands for: its sides may name several
        endpoints (``deploy/web`` with Pods in the input stands for each Pod) or a
        Service (``svc/db``: the flow after DNAT to each backend, ``dst_port`` mapped to
        the backend's target port as kube-proxy does). A side that names one endpoint is
        that endpoint. See :class:`netpolicy.Verdicts`; PolicyError for a name that is
        not there or a Service port it does not have."""
        fanout = expand(self, flow)
        verdicts = tuple(self.evaluate(item) for item in fanout.flows)
        return Verdicts(flow, fanout.src, fanout.dst, verdicts, fanout.notes)

    def evaluate_many(self, flows: Any, *, workers: int | str | None = None) -> BatchResult:
        """Decides many flows at once on compiled tables; equal to :meth:`evaluate` flow
        by flow. ``flows`` is an iterable of :class:`Flow`, a mapping of columns (``src``,
        ``dst``, ``protocol``, ``dst_port``, optional ``src_port``, ``icmp_type``,
        ``icmp_code``) or a pyarrow Table. See :class:`netpolicy.BatchResult`.

        ``workers`` is how many threads decide the flows at once, each a contiguous span
        of them (the tables are read without the GIL, so each thread takes a core): a
        number 1 or more, ``"auto"`` for one per core the process may use, or None for
        the environment variable ``NETPOLICY_THREADS`` (a number or ``auto``), else 1.
        The answers are the same whatever the number; batches under 131,072 flows run
        on one thread. TypeError or ValueError for a bad value, of the argument or of
        the variable."""
        return engine_for(self).evaluate_many(flows, workers)

    def matrix(self, protocol: str | int = "TCP", port: int | None = None, namespaces: Iterable[str] | None = None) -> Matrix:
        """The reachability matrix among workload endpoints (optionally only those in
        ``namespaces``) for ``protocol`` and destination ``port``; see
        :class:`netpolicy.Matrix`.

        Every cell is one flow. ``port=None`` is the flow *without* a destination port,
        as :meth:`evaluate` reads ``Flow(dst_port=None)``: a rule that names ports does
        not match it, so a pair allowed only on some ports is False. It is not "on any
        port": for the ports a pair may use, ask :func:`netpolicy.connections`, whose
        answer the command ``netpolicy matrix`` without ``--port`` shows per cell."""
        return reachability(engine_for(self), protocol, port, namespaces)

    def __repr__(self) -> str:
        return (
            f"<PolicySet {len(self._tiers)} tiers, {len(self._policies)} policies, "
            f"{len(self._staged)} staged, {len(self._endpoints)} endpoints, "
            f"{len(self._network_sets)} network sets>"
        )


def _policy_set(loaded: Loaded, pod_cidr: str | IPNetwork | None = None) -> PolicySet:
    return PolicySet(**normalize(loaded, pod_cidr=pod_cidr))


def _conversion(calico_version: str | tuple[int, int] | None, calico_exact: bool) -> Conversion:
    return Conversion(_calico_version(calico_version), bool(calico_exact))


def load(*paths: str | os.PathLike[str], strict: bool = True, calico_version: str | tuple[int, int] | None = None,
         calico_exact: bool = False, pod_cidr: str | IPNetwork | None = None,
         max_bytes: int = DEFAULT_MAX_BYTES, datastore: str = "kubernetes") -> PolicySet:
    """Load manifests from files and directories (searched recursively for ``*.yaml``,
    ``*.yml`` and ``*.json``, in sorted order); ``"-"`` reads standard input.

    Raises :class:`~netpolicy.ValidationError` listing every problem found; nothing is
    loaded then. With ``strict=False`` unknown kinds are skipped and listed in
    ``warnings`` instead of failing.

    ``calico_version`` is the Calico release to follow where releases differ (``"3.31"``,
    ``"v3.32.1"``; the newest known by default): it orders policies of equal order.
    ``calico_exact=True`` converts ClusterNetworkPolicy exactly as Calico does where
    Calico departs from the upstream API (nodes and domainNames peers, namespaces
    peers); by default the upstream API is followed. A bad ``calico_version`` raises
    ValueError.

    Only regular files are read: a named pipe, socket or device found in a directory is
    skipped with a warning, and one named on its own is an error. Each input is read up
    to ``max_bytes`` (1 GiB by default); a larger one is an error.

    ``datastore`` is where the cluster keeps Calico's data: ``"kubernetes"`` (the
    default) or ``"etcd"``. With the Kubernetes datastore the profiles Calico generates
    for namespaces and service accounts (``kns.<namespace>``, ``ksa.<namespace>.<account>``)
    and ``projectcalico-default-allow`` cannot be written, so a Profile manifest of one of
    those names is an error; with etcd it stands for the stored profile and replaces the
    generated one.

    Endpoints the manifests give no address (workloads such as Deployments, Pods not
    scheduled yet) get synthetic addresses from ``pod_cidr`` (a CIDR), by default from a
    private range no rule of the input mentions; ``PolicySet.address_pool`` says which.
    """
    conversion = _conversion(calico_version, calico_exact)
    return paused_gc(
        lambda: _policy_set(
            load_paths(*paths, strict=strict, conversion=conversion, max_bytes=max_bytes, datastore=datastore), pod_cidr
        )
    )


def loads(text: str | bytes, strict: bool = True, calico_version: str | tuple[int, int] | None = None,
          calico_exact: bool = False, pod_cidr: str | IPNetwork | None = None,
          max_bytes: int = DEFAULT_MAX_BYTES, datastore: str = "kubernetes") -> PolicySet:
    """Load manifests from one string: YAML documents separated by ``---``, JSON, a
    sequence of objects or List wrappers. The options are those of :func:`load`."""
    conversion = _conversion(calico_version, calico_exact)
    return paused_gc(
        lambda: _policy_set(
            load_string(text, strict=strict, conversion=conversion, max_bytes=max_bytes, datastore=datastore), pod_cidr
        )
    )


def from_objects(objects: Iterable[Any], strict: bool = True, calico_version: str | tuple[int, int] | None = None,
                 calico_exact: bool = False, pod_cidr: str | IPNetwork | None = None,
                 datastore: str = "kubernetes") -> PolicySet:
    """Load already parsed manifests (dicts as ``yaml.safe_load``/``json.load`` give
    them). The inputs are not modified. The options are those of :func:`load`."""
    conversion = _conversion(calico_version, calico_exact)
    return paused_gc(
        lambda: _policy_set(load_objects(objects, strict=strict, conversion=conversion, datastore=datastore), pod_cidr)
    )
