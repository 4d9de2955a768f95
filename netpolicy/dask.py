"""Replaying flows on a Dask cluster (``pip install 'netpolicy[dask]'``).

    >>> from dask.distributed import Client
    >>> import netpolicy, netpolicy.dask
    >>> client = Client("scheduler:8786")                            # doctest: +SKIP
    >>> ps = netpolicy.load("manifests/")                            # doctest: +SKIP
    >>> verdicts = netpolicy.dask.replay("flows/*.parquet", ps)       # doctest: +SKIP
    >>> netpolicy.dask.summary(verdicts)                              # doctest: +SKIP
    {'records': 20000000, 'verdicts': {'Allow': 15300000, 'Deny': 4700000}, ...}

:func:`replay` maps :func:`netpolicy.flowlogs.arrow.decide_table` over the partitions of
a Dask DataFrame (``map_partitions``). The policy set is scattered to every worker once
(``Client.scatter(..., broadcast=True)``) and each task refers to that copy, so it is
not pickled per partition; each worker process compiles its tables once and keeps the
outcomes of the flows it has decided. The library imports without Dask: only calling
these functions needs it.
"""

from __future__ import annotations

import collections
import os
from typing import Any

from .flowlogs.arrow import RESULT_COLUMNS, decide_table
from .policyset import PolicySet

__all__ = ["replay", "summary", "local_client", "client_for", "decide_partition"]

#: The input columns kept beside the verdict columns.
_KEPT = ("src", "dst", "protocol", "dst_port")


def _dask() -> Any:
    try:
        import dask.dataframe as dd
        import distributed  # noqa: F401
    except ImportError:
        raise ImportError("netpolicy.dask needs Dask: pip install 'netpolicy[dask]'") from None
    return dd


def local_client(workers: int = 0) -> Any:
    """A client of a new local cluster: ``workers`` processes (one thread each; all
    cores when 0)."""
    _dask()
    from distributed import Client, LocalCluster

    count = workers or os.cpu_count() or 1
    cluster = LocalCluster(n_workers=count, threads_per_worker=1, processes=True, dashboard_address=None)  # type: ignore[no-untyped-call]
    return Client(cluster)  # type: ignore[no-untyped-call]


def client_for(address: str) -> Any:
    """A client for ``local`` / ``local:N`` (a new local cluster of N worker processes) or
    a scheduler's address."""
    if address == "local" or address.startswith("local:"):
        count = address.partition(":")[2]
        if count and (not count.isdigit() or int(count) < 1):
            raise ValueError(f"local:N needs a number of workers, not {count!r}")
        return local_client(int(count or 0))
    _dask()
    from distributed import Client

    return Client(address)  # type: ignore[no-untyped-call]


def decide_partition(frame: Any, policy_set: PolicySet, input_format: str = "generic") -> Any:
    """One partition (a pandas DataFrame) with its verdict columns (what each task runs)."""
    import pyarrow as pa

    table = pa.Table.from_pandas(frame, preserve_index=False)
    verdicts = decide_table(policy_set, table, input_format).to_pandas()
    verdicts.index = frame.index
    kept = frame[[c for c in _KEPT if c in frame.columns]]
    return kept.join(verdicts) if len(kept.columns) else verdicts


def _meta(frame: Any) -> Any:
    import pandas as pd

    columns: dict[str, Any] = {c: frame[c].dtype for c in _KEPT if c in frame.columns}
    columns.update({name: (bool if name == "allowed" else object) for name in RESULT_COLUMNS})
    columns["allowed"] = object  # null where a flow is not decided
    return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in columns.items()})


def replay(data: Any, policy_set: PolicySet, *, client: Any = None, input_format: str = "generic") -> Any:
    """A lazy Dask DataFrame of the verdicts on the flows of ``data`` (a Dask DataFrame,
    or a Parquet path or glob), partition for partition: the input's ``src``, ``dst``,
    ``protocol``, ``dst_port`` and the columns of
    :data:`~netpolicy.flowlogs.arrow.RESULT_COLUMNS`. ``client`` (the current one by
    default) receives the policy set once per worker."""
    dd = _dask()
    from distributed import get_client

    frame = dd.read_parquet(data) if isinstance(data, (str, os.PathLike)) else data
    client = client or get_client()
    # keyed by content: a policy set already on the workers (compiled there) is used again
    shared = client.scatter(policy_set, broadcast=True, hash=True)
    return frame.map_partitions(decide_partition, shared, input_format, meta=_meta(frame._meta))


def summary(verdicts: Any) -> dict[str, Any]:
    """Counts over :func:`replay`'s result: records, by verdict, by what decided them,
    uncertain and not decided (computed on the cluster)."""
    counts = verdicts.groupby(["verdict", "decided_by", "certainty"], dropna=False).size().compute()
    by_verdict: collections.Counter[str] = collections.Counter()
    by_decision: dict[str, collections.Counter[str]] = {}
    certainty: collections.Counter[str] = collections.Counter()
    for (verdict, label, sure), n in counts.items():
        verdict = verdict if isinstance(verdict, str) else "not decided"
        by_verdict[verdict] += int(n)
        by_decision.setdefault(verdict, collections.Counter())[str(label)] += int(n)
        certainty[str(sure)] += int(n)
    return {
        "records": sum(by_verdict.values()),
        "verdicts": dict(by_verdict),
        "by_decision": {v: [{"decided_by": k, "records": n} for k, n in c.most_common()] for v, c in sorted(by_decision.items())},
        "uncertain": certainty.get("uncertain", 0),
        "not_decided": certainty.get("unknown", 0),
    }
