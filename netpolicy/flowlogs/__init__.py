"""Flow logs in: Calico's flow logs (Goldmane, the Whisker API, Calico Enterprise) and
the generic columns of ``netpolicy replay``, decided against a policy set and compared
with what was logged.

    >>> import netpolicy, netpolicy.flowlogs
    >>> ps = netpolicy.load("manifests/")                              # doctest: +SKIP
    >>> summary = netpolicy.flowlogs.replay(ps, "flows.ndjson", "goldmane")  # doctest: +SKIP
    >>> summary.data()["check"]["disagree"]                             # doctest: +SKIP
    0

* :func:`read_batches` reads a log in batches of columns (:class:`LogBatch`), each
  side coded once per distinct value; :data:`FORMATS` lists the formats.
* :class:`Decider` decides each distinct flow once; aggregated names resolve to the
  workload, and a verdict that the log's missing addresses or intersected labels could
  change is marked uncertain, never guessed (:mod:`.sides`, :mod:`.exact`).
* :class:`Checker` compares netpolicy's decision on the reporting side with the logged
  action and policy hits (:mod:`.hits` reads and writes Calico's hit strings).
* :func:`replay` does all of it and writes one result per record;
  :func:`netpolicy.flowlogs.arrow.decide_table` is the same over Arrow tables, for
  engines that distribute them (see :mod:`netpolicy.dask`).
"""

from .batch import LogBatch, RecordError, SideValue
from .check import Check, Checker
from .decide import Decider, Outcome
from .hits import Hit, HitError, parse_hit
from .pipeline import OUTPUTS, columns_for, replay
from .reading import DEFAULT_BATCH, FORMATS, RecordErrors, read_batches
from .summary import Summary

__all__ = [
    "FORMATS",
    "OUTPUTS",
    "DEFAULT_BATCH",
    "Check",
    "Checker",
    "Decider",
    "Hit",
    "HitError",
    "LogBatch",
    "Outcome",
    "RecordError",
    "RecordErrors",
    "SideValue",
    "Summary",
    "columns_for",
    "parse_hit",
    "read_batches",
    "replay",
]
