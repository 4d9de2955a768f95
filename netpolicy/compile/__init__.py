"""Compiles a snapshot into flat decision tables (shared by both matcher twins).

The tables answer "what does each side decide" for a flow with no Python objects in the
loop. The compiler works in stages, one module each:

* **Address classes** (:mod:`~netpolicy.compile.addresses`). Every CIDR that matters
  (endpoint IPs, network-set nets, rule nets/notNets, service backends) is laid out per
  family; the address space splits into intervals on which every rule's address
  predicate is constant (selector IP sets, nets, named-port and service memberships,
  §A.9, §F.1). Intervals with the same memberships share a class. An IPv4 address maps
  to its interval by a hash of endpoint addresses (:mod:`~netpolicy.compile.lookup`),
  else by binary search.
* **Roles** (same module). Each address is classed four times, once per role it can
  play: the local side of egress rules (their sources), the peer of egress rules (their
  destinations), the peer of ingress rules (their sources) and the local side of
  ingress rules. A role class keeps only the memberships that rules in that role test,
  so there are few. Each rule side is evaluated once per role class
  (:mod:`~netpolicy.compile.sides`).
* **Local classes** (:mod:`~netpolicy.compile.local`). The policed side of a direction
  (egress: the source, ingress: the destination) is classed by the policies and
  profiles that apply to its endpoint (§C.2) together with its local-role class.
* **Rows and groups** (:mod:`~netpolicy.compile.groups`). For a local class, the peer
  classes that reach the same table form a group: a row over the peer classes of its
  direction gives each peer's group (8 bits, or 16 where a local class has more than
  256 groups), and the local class's group list gives the table. Rows are stored once
  per content; local classes with the same live rules share them.
* **Tables** (:mod:`~netpolicy.compile.tables`, laid out by
  :mod:`~netpolicy.compile.layout`). A table gives an outcome per *key class*: the flow
  key (protocol, destination port or ICMP type/code, see :func:`flow_key` in
  :mod:`~netpolicy.compile.keys`) falls in one class of the sorted ``key_starts`` (the
  keys where any table changes), and tables are dense over these classes. Where rules
  test source ports, a table holds ``-3 - s`` instead: secondary table ``s`` is then
  read by the class of the source key (:func:`source_key`) in ``skey_starts``. Tables
  larger than ``layout.MAX_TABLE_CELLS`` are not built; the reference then decides
  every flow.
* **Outcomes** (:mod:`~netpolicy.compile.outcomes`). An outcome id names a precomputed
  (Decision, logged rules) pair. ``FALLBACK`` means "ask the reference evaluator" (what
  the tables cannot express exactly: policy sets with host endpoints, addresses shared
  by endpoints, endpoints without addresses, traffic of an endpoint to itself);
  ``NONE`` means "no policed endpoint on this side".

:func:`compile_policyset` (:mod:`~netpolicy.compile.pipeline`) runs the stages and
returns a :class:`Compiled` (:mod:`~netpolicy.compile.compiled`).
"""

from .compiled import FALLBACK, NONE, Compiled, TooLarge
from .keys import KEY_BITS, KEY_LIMIT, flow_key, source_key
from .lookup import key_class_map
from .pipeline import compile_policyset

__all__ = [
    "Compiled", "compile_policyset", "flow_key", "source_key", "key_class_map", "FALLBACK", "NONE", "KEY_BITS",
    "KEY_LIMIT", "TooLarge",
]
