"""Questions about a whole policy set, answered exactly on the compiled tables.

The analyses sit above the engine: they read the compiled tables a table at a time
(never by trying flows) and leave to the reference evaluator, one flow per class, only
what the tables leave to it. The foundation they share:

* :mod:`.keyspace`: flow keys as protocols, port ranges, ICMP types and codes;
* :mod:`.places`: where endpoints and external addresses stand in the tables;
* :mod:`.tables`: what a pair of tables allows, with the deciding decisions;
* :mod:`.fallback`: what the tables leave to the reference, decided one flow per class;
* :mod:`.reach`: exact reachability between endpoints and to and from external
  addresses;
* :mod:`.parties`: endpoints, workloads and external CIDR blocks as people name them.

On it: :func:`connections` (:mod:`.connections`), which ports are open between whom;
:func:`diff` (:mod:`.diff`, over :mod:`.compare`), what a change allows or blocks that
was not so before, and :func:`staged_enforced` (:mod:`.staged`) for Calico's pending
verdict; :func:`analyze` (:mod:`.lint`), rules that never act or change nothing,
selectors that select nothing, what no policy covers and what is open to everyone.
"""

from .connections import Connection, Connections, Grant, connections
from .diff import Change, Diff, diff
from .keyspace import Ports
from .lint import analyze
from .parties import Party
from .staged import staged_enforced

__all__ = [
    "connections", "Connections", "Connection", "Grant", "Party", "Ports", "diff", "Diff", "Change", "staged_enforced",
    "analyze",
]
