"""Hypothesis strategies for label maps, selectors, manifests, policy sets and flows.

Import this module only in tests: it needs Hypothesis, which netpolicy itself does not
(``pip install netpolicy[hypothesis]``)::

    from netpolicy.testing import strategies as nps

    @given(nps.policy_sets().flatmap(lambda ps: st.tuples(st.just(ps), nps.flows(ps))))
    def test_something(case): ...

Everything is built from small integers and sampled choices so that failing examples
shrink to short, readable manifests. Each generated example first draws a small
:class:`Vocabulary` (namespaces, label keys and values, ports, port names, service
accounts); every object of the example then uses it, so selectors match labels, rules
name the ports endpoints declare, and flows hit endpoints, set members and the ports and
ICMP types that rules mention.

Every strategy validates its keyword arguments when it is called and raises
:class:`hypothesis.errors.InvalidArgument` for bad ones.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any, Collection, Iterable, Mapping, Sequence

import attrs
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

if TYPE_CHECKING:
    from ..flow import Flow
    from ..policyset import PolicySet
    from ..selector import Selector

__all__ = [
    "POLICY_KINDS",
    "INVENTORY_KINDS",
    "Vocabulary",
    "SelectorExpr",
    "vocabularies",
    "label_keys",
    "label_values",
    "label_maps",
    "selector_exprs",
    "selector_texts",
    "selectors",
    "label_selectors",
    "namespaces",
    "service_accounts",
    "pods",
    "network_sets",
    "global_network_sets",
    "tiers",
    "profiles",
    "workload_endpoints",
    "calico_rules",
    "kubernetes_network_policies",
    "calico_network_policies",
    "global_network_policies",
    "admin_network_policies",
    "baseline_admin_network_policies",
    "manifests",
    "policy_sets",
    "flows",
    "endpoints",
]

Manifest = dict[str, Any]

#: Policy kinds ``manifests(kinds=...)`` can generate (the names :class:`PolicyRef` uses).
POLICY_KINDS = frozenset(
    {
        "KubernetesNetworkPolicy",
        "NetworkPolicy",
        "GlobalNetworkPolicy",
        "StagedNetworkPolicy",
        "StagedGlobalNetworkPolicy",
        "StagedKubernetesNetworkPolicy",
        "AdminNetworkPolicy",
        "BaselineAdminNetworkPolicy",
    }
)
#: Optional inventory kinds (Namespaces and Pods are always generated).
INVENTORY_KINDS = frozenset({"ServiceAccount", "NetworkSet", "GlobalNetworkSet", "Tier", "Profile", "WorkloadEndpoint"})

_CALICO = "projectcalico.org/v3"
_CALICO_CRD = "crd.projectcalico.org/v1"
_ANP_API = "policy.networking.k8s.io/v1alpha1"

# Small pools the per-example vocabulary is drawn from; the first entries are what
# shrinking goes to.
_NAMESPACE_POOL = ("a", "b", "c", "d")
_KEY_POOL = ("app", "role", "example.com/team", "k8s.io/env", "x")
_VALUE_POOL = ("web", "db", "", "v-1", "a.b", "web2")
_PORT_POOL = (80, 443, 53, 8080, 5353, 1, 65535)
_PORT_NAME_POOL = ("http", "dns", "metrics")
_SA_POOL = ("sa1", "sa2", "default")

# Addresses: pods get 10.0.0.N (and fd00::N); sets and rules use CIDRs that overlap them.
_POD_V4 = ipaddress.ip_network("10.0.0.0/24")
_POD_V6 = ipaddress.ip_network("fd00::/64")
_CIDRS_V4 = ("10.0.0.0/24", "10.0.0.0/30", "10.0.0.2/32", "192.168.0.0/24", "10.0.0.0/8", "0.0.0.0/0", "10.0.0.4/31")
_CIDRS_V6 = ("fd00::/64", "fd00::/126", "fd00::2/128", "2001:db8::/32", "::/0")
_HANDMADE_V4 = ipaddress.ip_network("10.0.3.0/24")
_HANDMADE_V6 = ipaddress.ip_network("fd00::3:0/112")
_EXTERNAL = ("192.168.0.7", "8.8.8.8", "10.0.1.1", "2001:db8::7", "fd00:1::1")
# (cidr, possible excepts) for Kubernetes ipBlocks
_IP_BLOCKS = (
    ("10.0.0.0/24", ("10.0.0.0/30", "10.0.0.2/32")),
    ("0.0.0.0/0", ("10.0.0.0/8", "192.168.0.0/24")),
    ("192.168.0.0/16", ("192.168.0.0/24",)),
    ("fd00::/64", ("fd00::/126",)),
    ("::/0", ("fd00::/64",)),
    ("10.0.0.1/24", ()),  # legacy non-canonical CIDR: masked when read
)
_ICMP_TYPES = (8, 0, 3, 128, 129)
_ICMP_CODES = (0, 1)
_PORTED_PROTOCOLS = ("TCP", "UDP", "SCTP", 6, 17, 132)
_TIER_POOL = ("t1", "t2", "t3")
_KIND_WEIGHTS = (
    "NetworkPolicy",
    "GlobalNetworkPolicy",
    "KubernetesNetworkPolicy",
    "NetworkPolicy",
    "GlobalNetworkPolicy",
    "KubernetesNetworkPolicy",
    "AdminNetworkPolicy",
    "BaselineAdminNetworkPolicy",
    "StagedNetworkPolicy",
    "StagedGlobalNetworkPolicy",
    "StagedKubernetesNetworkPolicy",
)
_RESERVED_TIERS = frozenset({"default", "kube-admin", "kube-baseline", "adminnetworkpolicy", "baselineadminnetworkpolicy"})


# -- argument checks ----------------------------------------------------------------------


def _check_size(name: str, value: object, low: int = 0, high: int = 1000) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgument(f"{name}={value!r} must be an integer")
    if not low <= value <= high:
        raise InvalidArgument(f"{name}={value} must be between {low} and {high}")
    return value


def _check_bool(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise InvalidArgument(f"{name}={value!r} must be True or False")
    return value


def _check_kinds(kinds: Collection[str] | None, allowed: frozenset[str], what: str) -> frozenset[str]:
    if kinds is None:
        return allowed
    if isinstance(kinds, str):
        raise InvalidArgument(f"{what} must be a collection of kind names, not the string {kinds!r}")
    chosen = frozenset(kinds)
    unknown = chosen - allowed
    if unknown:
        raise InvalidArgument(f"unknown {what} {sorted(unknown)}; choose from {sorted(allowed)}")
    return chosen


def _check_vocab(vocab: object) -> "Vocabulary":
    if vocab is None:
        return Vocabulary()
    if not isinstance(vocab, Vocabulary):
        raise InvalidArgument(f"vocab={vocab!r} must be a Vocabulary (draw one from vocabularies())")
    return vocab


# -- vocabulary ---------------------------------------------------------------------------


@attrs.frozen
class Vocabulary:
    """The shared words of one generated example: every object draws from these."""

    namespaces: tuple[str, ...] = ("a",)
    label_keys: tuple[str, ...] = ("app",)
    label_values: tuple[str, ...] = ("web",)
    ports: tuple[int, ...] = (80,)
    port_names: tuple[str, ...] = ("http",)
    service_accounts: tuple[str, ...] = ("sa1",)
    ipv6: bool = True
    #: (key, value) labels that generated endpoints carry; selectors often name one.
    pairs: tuple[tuple[str, str], ...] = ()

    @property
    def families(self) -> tuple[int, ...]:
        return (4, 6) if self.ipv6 else (4,)

    def cidrs(self, family: int) -> tuple[str, ...]:
        return _CIDRS_V4 if family == 4 else _CIDRS_V6

    @property
    def selector_values(self) -> tuple[str, ...]:
        """Values for selector comparisons: the label values and pieces of them."""
        out = list(self.label_values)
        for value in self.label_values:
            out.extend((value[:1], value[1:]))
        return tuple(dict.fromkeys(out))


def _pick(pool: Sequence[Any], max_size: int, min_size: int = 1) -> st.SearchStrategy[tuple[Any, ...]]:
    return st.lists(st.sampled_from(pool), min_size=min_size, max_size=max(min_size, min(max_size, len(pool))), unique=True).map(tuple)


def vocabularies(
    *,
    max_namespaces: int = 3,
    max_label_keys: int = 3,
    max_label_values: int = 3,
    max_ports: int = 3,
    max_port_names: int = 2,
    ipv6: bool = True,
) -> st.SearchStrategy[Vocabulary]:
    """Small shared vocabularies (see :class:`Vocabulary`)."""
    for name, value in [
        ("max_namespaces", max_namespaces),
        ("max_label_keys", max_label_keys),
        ("max_label_values", max_label_values),
        ("max_ports", max_ports),
        ("max_port_names", max_port_names),
    ]:
        _check_size(name, value, 1, 10)
    _check_bool("ipv6", ipv6)
    return st.builds(
        Vocabulary,
        namespaces=_pick(_NAMESPACE_POOL, max_namespaces),
        label_keys=_pick(_KEY_POOL, max_label_keys),
        label_values=_pick(_VALUE_POOL, max_label_values),
        ports=_pick(_PORT_POOL, max_ports),
        port_names=_pick(_PORT_NAME_POOL, max_port_names),
        service_accounts=_pick(_SA_POOL, 2),
        ipv6=st.just(False) if not ipv6 else st.booleans().map(lambda b: not b),
    )


# -- Kubernetes labels --------------------------------------------------------------------

_ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_LOWER_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"


def _dns_label(max_size: int = 8) -> st.SearchStrategy[str]:
    return st.builds(
        lambda first, middle, last: first + middle + last,
        st.sampled_from(_LOWER_ALNUM),
        st.text(_LOWER_ALNUM + "-", max_size=max(0, max_size - 2)),
        st.sampled_from(("",) + tuple(_LOWER_ALNUM)),
    ).filter(lambda s: s[-1] != "-")  # a DNS label ends alphanumeric


def _label_name(max_size: int) -> st.SearchStrategy[str]:
    return st.builds(
        lambda first, middle, last: first + middle + last,
        st.sampled_from(_ALNUM),
        st.text(_ALNUM + "-_.", max_size=max(0, max_size - 2)),
        st.sampled_from(("",) + tuple(_ALNUM)),
    ).filter(lambda s: s[-1] in _ALNUM)


def label_keys(*, prefixes: bool = True, max_size: int = 20) -> st.SearchStrategy[str]:
    """Valid Kubernetes label keys: ``[prefix/]name``, where the prefix is a DNS
    subdomain (at most 253 characters) and the name at most 63 characters of
    ``[A-Za-z0-9._-]`` starting and ending alphanumeric."""
    _check_bool("prefixes", prefixes)
    _check_size("max_size", max_size, 1, 63)
    name = _label_name(max_size)
    if not prefixes:
        return name
    prefix = st.lists(_dns_label(8), min_size=1, max_size=3).map(".".join)
    return st.one_of(name, st.builds(lambda p, n: f"{p}/{n}", prefix, name))


def label_values(*, max_size: int = 20) -> st.SearchStrategy[str]:
    """Valid Kubernetes label values: empty, or up to 63 characters of ``[A-Za-z0-9._-]``
    starting and ending alphanumeric."""
    _check_size("max_size", max_size, 0, 63)
    if max_size == 0:
        return st.just("")
    return st.one_of(st.just(""), _label_name(max_size))


def label_maps(
    *,
    keys: st.SearchStrategy[str] | None = None,
    values: st.SearchStrategy[str] | None = None,
    min_size: int = 0,
    max_size: int = 4,
) -> st.SearchStrategy[dict[str, str]]:
    """``dict[str, str]`` of valid Kubernetes labels (keys and values may be replaced by
    your own strategies, e.g. ``st.sampled_from([...])`` to make collisions likely)."""
    _check_size("min_size", min_size, 0, 100)
    _check_size("max_size", max_size, min_size, 100)
    return st.dictionaries(keys if keys is not None else label_keys(), values if values is not None else label_values(), min_size=min_size, max_size=max_size)


def _vocab_labels(vocab: Vocabulary, max_size: int = 3) -> st.SearchStrategy[dict[str, str]]:
    return st.dictionaries(st.sampled_from(vocab.label_keys), st.sampled_from(vocab.label_values), max_size=min(max_size, len(vocab.label_keys)))


# -- selectors ----------------------------------------------------------------------------

_COMPARISONS = ("==", "!=", "contains", "starts with", "ends with")
_SET_OPS = ("in", "not in")
_LEAF_OPS = _COMPARISONS + _SET_OPS + ("has",)


@attrs.frozen
class SelectorExpr:
    """A selector as a tree, with the text it was written as.

    ``op`` is one of ``==``, ``!=``, ``contains``, ``starts with``, ``ends with``, ``in``,
    ``not in``, ``has``, ``all``, ``global``, ``!``, ``&&``, ``||``. ``text`` is one way of
    writing it (quotes and blanks vary); :meth:`matches` is an independent statement of
    the semantics (calico-semantics §A.3), handy as a test oracle.
    """

    op: str
    key: str = ""
    values: tuple[str, ...] = ()
    children: tuple["SelectorExpr", ...] = ()
    text: str = attrs.field(default="", eq=False)

    def matches(self, labels: Mapping[str, str]) -> bool:
        op, key = self.op, self.key
        if op in ("all", "global"):
            return True
        if op == "!":
            return not self.children[0].matches(labels)
        if op == "&&":
            return all(child.matches(labels) for child in self.children)
        if op == "||":
            return any(child.matches(labels) for child in self.children)
        present = key in labels
        if op == "has":
            return present
        if op == "!=":
            return not present or labels[key] != self.values[0]
        if op == "not in":
            return not present or labels[key] not in self.values
        if not present:
            return False
        value = labels[key]
        if op == "==":
            return value == self.values[0]
        if op == "in":
            return value in self.values
        if op == "contains":
            return self.values[0] in value
        if op == "starts with":
            return value.startswith(self.values[0])
        if op == "ends with":
            return value.endswith(self.values[0])
        raise AssertionError(op)

    def plain_text(self) -> str:
        """The tree written with one blank around operators and double quotes."""
        return _render(None, self, False)

    def canonical_text(self) -> str:
        """Calico's canonical text for the tree (calico-semantics §A.4)."""
        op = self.op
        if op in ("all", "global"):
            return f"{op}()"
        if op == "has":
            return f"has({self.key})"
        if op in _COMPARISONS:
            return f"{self.key} {op} {_canonical_quote(self.values[0])}"
        if op in _SET_OPS:
            items = ", ".join(_canonical_quote(v) for v in sorted(set(self.values), key=lambda v: v.encode()))
            return f"{self.key} {op} {{{items}}}"
        if op == "!":
            inner, negated = self.children[0], True
            while inner.op == "!":
                inner, negated = inner.children[0], not negated
            return ("!" if negated else "") + inner.canonical_text()
        return "(" + f" {op} ".join(child.canonical_text() for child in self.children) + ")"

    def __str__(self) -> str:
        return self.text


def _canonical_quote(value: str) -> str:
    return f"'{value}'" if '"' in value else f'"{value}"'


_BLANK = st.sampled_from(("", " ", "  ", "\t"))
_SPACE = st.sampled_from((" ", "  ", "\t"))


def _quoted(draw: Any, value: str, variants: bool) -> str:
    if '"' in value:
        return f"'{value}'"
    if "'" in value or not variants:
        return f'"{value}"'
    quote = draw(st.sampled_from(('"', "'")))
    return f"{quote}{value}{quote}"


def _blank(draw: Any, variants: bool) -> str:
    return draw(_BLANK) if variants else ""


def _render(draw: Any, expr: SelectorExpr, variants: bool) -> str:
    """Text for ``expr``; with ``variants``, quotes, blanks and spellings vary."""

    def b() -> str:
        return _blank(draw, variants)

    op = expr.op
    if op in ("all", "global"):
        return f"{op}({b()})"
    if op == "has":
        return f"has({b()}{expr.key}{b()})"
    if op in ("==", "!="):
        return f"{expr.key}{b()}{op}{b()}{_quoted(draw, expr.values[0], variants)}"
    if op in ("contains", "starts with", "ends with"):
        word = op
        if variants and op != "contains":
            first, second = op.split(" ")
            word = first + draw(st.sampled_from((" ", "", "  ", "\t"))) + second
        space = draw(_SPACE) if variants else " "
        return f"{expr.key}{space}{word}{draw(_SPACE) if variants else ' '}{_quoted(draw, expr.values[0], variants)}"
    if op in _SET_OPS:
        word = op
        if variants and op == "not in":
            word = "not" + draw(st.sampled_from((" ", "", "\t"))) + "in"
        items = [_quoted(draw, v, variants) for v in expr.values]
        sep = f"{b()},{b()}" if variants else ", "
        body = sep.join(items)
        if variants and items and draw(st.booleans()):
            body += ","
        space = draw(_SPACE) if variants else " "
        return f"{expr.key}{space}{word}{b() if variants else ' '}{{{b()}{body}{b()}}}"
    if op == "!":
        child = expr.children[0]
        inner = _render(draw, child, variants)
        if child.op in ("&&", "||"):
            inner = f"({b()}{inner}{b()})"
        return f"!{b()}{inner}"
    # && and ||
    parts = []
    for child in expr.children:
        text = _render(draw, child, variants)
        # Nested n-ary nodes keep their parentheses (the parser would otherwise merge
        # them into one node); with variants, other operands sometimes get redundant ones.
        if child.op in ("&&", "||") or (variants and draw(st.integers(0, 4)) == 0):
            text = f"({b()}{text}{b()})"
        parts.append(text)
    sep = f"{b()}{op}{b()}" if variants else f" {op} "
    return sep.join(parts)


def _leaves(keys: Sequence[str], values: Sequence[str], allow_global: bool, allow_all: bool) -> st.SearchStrategy[SelectorExpr]:
    key = st.sampled_from(keys)
    value = st.sampled_from(values)
    options: list[st.SearchStrategy[SelectorExpr]] = [
        st.builds(lambda k, v: SelectorExpr("==", k, (v,)), key, value),
        st.builds(lambda k: SelectorExpr("has", k), key),
        st.builds(lambda o, k, v: SelectorExpr(o, k, (v,)), st.sampled_from(_COMPARISONS[1:]), key, value),
        st.builds(lambda o, k, vs: SelectorExpr(o, k, tuple(vs)), st.sampled_from(_SET_OPS), key, st.lists(value, max_size=3)),
    ]
    if allow_all:
        options.append(st.just(SelectorExpr("all")))
    if allow_global:
        options.append(st.just(SelectorExpr("global")))
    return st.one_of(options)


def _trees(keys: Sequence[str], values: Sequence[str], max_leaves: int, allow_global: bool, allow_all: bool = True) -> st.SearchStrategy[SelectorExpr]:
    def extend(children: st.SearchStrategy[SelectorExpr]) -> st.SearchStrategy[SelectorExpr]:
        return st.one_of(
            children.map(lambda c: SelectorExpr("!", children=(c,))),
            st.builds(lambda o, cs: SelectorExpr(o, children=tuple(cs)), st.sampled_from(("&&", "||")), st.lists(children, min_size=2, max_size=3)),
        )

    return st.recursive(_leaves(keys, values, allow_global, allow_all), extend, max_leaves=max_leaves)


_SELECTOR_KEYS = ("app", "role", "a", "example.com/team", "x.y/z-1", "in", "has", "all")
_SELECTOR_VALUES = ("web", "db", "", "a", "we", "b", "it's", 'say "hi"', "x y", "\\", "{}")


@st.composite
def _expr_with_text(draw: st.DrawFn, trees: st.SearchStrategy[SelectorExpr], variants: bool) -> SelectorExpr:
    expr = draw(trees)
    return attrs.evolve(expr, text=_render(draw, expr, variants))


def selector_exprs(
    *,
    keys: Sequence[str] | None = None,
    values: Sequence[str] | None = None,
    max_leaves: int = 6,
    allow_global: bool = True,
    variants: bool = True,
) -> st.SearchStrategy[SelectorExpr]:
    """Selector trees with a text rendering (``expr.text``) and an oracle (``expr.matches``).

    Every operator appears; with ``variants`` the text uses both quote styles, optional
    blanks and tabs, ``startswith``/``notin`` spellings, redundant parentheses and trailing
    commas in sets. ``keys``/``values`` replace the default words.
    """
    keys = tuple(keys) if keys is not None else _SELECTOR_KEYS
    values = tuple(values) if values is not None else _SELECTOR_VALUES
    if not keys:
        raise InvalidArgument("keys must not be empty")
    if not values:
        raise InvalidArgument("values must not be empty")
    for key in keys:
        if not key or len(key) > 512 or any(not (c.isascii() and (c.isalnum() or c in "_./-")) for c in key):
            raise InvalidArgument(f"{key!r} is not a selector label name ([A-Za-z0-9_./-], 1-512 bytes)")
    for value in values:
        if "'" in value and '"' in value:
            raise InvalidArgument(f"{value!r} cannot be quoted: it holds both quote characters")
    _check_size("max_leaves", max_leaves, 1, 100)
    _check_bool("allow_global", allow_global)
    _check_bool("variants", variants)
    return _expr_with_text(_trees(keys, values, max_leaves, allow_global), variants)


def selector_texts(**kwargs: Any) -> st.SearchStrategy[str]:
    """Valid selector text (same keyword arguments as :func:`selector_exprs`)."""
    return selector_exprs(**kwargs).map(lambda e: e.text)


def selectors(**kwargs: Any) -> st.SearchStrategy["Selector"]:
    """:class:`netpolicy.Selector` values (same keyword arguments as
    :func:`selector_exprs`); ``Selector.parse(str(s)) == s`` for every one."""
    from ..selector import Selector

    return selector_texts(**kwargs).map(Selector.parse)


def _vocab_selector(draw: st.DrawFn, vocab: Vocabulary, max_leaves: int = 3, keys: Sequence[str] | None = None, values: Sequence[str] | None = None, allow_all: bool = True) -> str:
    if keys is None and vocab.pairs and draw(st.booleans()):
        # A label some endpoint has: such selectors match often.
        key, value = draw(st.sampled_from(vocab.pairs))
        return draw(st.sampled_from((f"{key} == '{value}'", f"has({key})", f"{key} in {{'{value}', 'zz'}}", f"!has({key})")))
    trees = _trees(tuple(keys or vocab.label_keys), tuple(values or vocab.selector_values), max_leaves, allow_global=False, allow_all=allow_all)
    expr = draw(trees)
    return _render(draw, expr, variants=draw(st.booleans()))


# -- Kubernetes label selectors -----------------------------------------------------------


@st.composite
def _label_selector(draw: st.DrawFn, keys: Sequence[str], values: Sequence[str], max_terms: int = 2) -> dict[str, Any]:
    out: dict[str, Any] = {}
    match_labels = draw(st.dictionaries(st.sampled_from(keys), st.sampled_from(values), max_size=min(max_terms, len(keys))))
    if match_labels:
        out["matchLabels"] = match_labels
    expressions = []
    for _ in range(draw(st.integers(0, max_terms))):
        key = draw(st.sampled_from(keys))
        operator = draw(st.sampled_from(("In", "NotIn", "Exists", "DoesNotExist")))
        expression: dict[str, Any] = {"key": key, "operator": operator}
        if operator in ("In", "NotIn"):
            expression["values"] = draw(st.lists(st.sampled_from(values), min_size=1, max_size=2, unique=True))
        expressions.append(expression)
    if expressions:
        out["matchExpressions"] = expressions
    return out


def label_selectors(vocab: Vocabulary | None = None, *, max_terms: int = 2) -> st.SearchStrategy[dict[str, Any]]:
    """Kubernetes LabelSelectors (``matchLabels``, ``matchExpressions`` with every operator)."""
    _check_size("max_terms", max_terms, 0, 20)
    vocab = _check_vocab(vocab)
    return _label_selector(vocab.label_keys, vocab.label_values, max_terms)


def _ns_label_selector(vocab: Vocabulary) -> st.SearchStrategy[dict[str, Any]]:
    keys = vocab.label_keys + ("kubernetes.io/metadata.name",)
    return _label_selector(keys, vocab.label_values + vocab.namespaces)


# -- inventory ----------------------------------------------------------------------------


def _vocab_or_draw(draw: st.DrawFn, vocab: Vocabulary | None) -> Vocabulary:
    return vocab if vocab is not None else draw(vocabularies())


def _pod_ips(index: int, v6: bool) -> list[str]:
    ips = [str(_POD_V4[index + 1])]
    if v6:
        ips.append(str(_POD_V6[index + 1]))
    return ips


@st.composite
def _namespace(draw: st.DrawFn, vocab: Vocabulary, name: str) -> Manifest:
    labels = draw(_vocab_labels(vocab))
    labels["kubernetes.io/metadata.name"] = name
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def namespaces(vocab: Vocabulary | None = None) -> st.SearchStrategy[Manifest]:
    """``v1`` Namespaces named from the vocabulary, with labels (including
    ``kubernetes.io/metadata.name``)."""
    vocab = _check_vocab(vocab)
    return st.sampled_from(vocab.namespaces).flatmap(lambda name: _namespace(vocab, name))


@st.composite
def _service_account(draw: st.DrawFn, vocab: Vocabulary, namespace: str, name: str) -> Manifest:
    meta: dict[str, Any] = {"name": name, "namespace": namespace}
    labels = draw(_vocab_labels(vocab, 2))
    if labels:
        meta["labels"] = labels
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta}


def service_accounts(vocab: Vocabulary | None = None) -> st.SearchStrategy[Manifest]:
    """``v1`` ServiceAccounts with labels."""
    vocab = _check_vocab(vocab)
    return st.tuples(st.sampled_from(vocab.namespaces), st.sampled_from(vocab.service_accounts)).flatmap(lambda t: _service_account(vocab, *t))


@st.composite
def _container_ports(draw: st.DrawFn, vocab: Vocabulary) -> list[dict[str, Any]]:
    out = []
    for name in draw(st.lists(st.sampled_from(vocab.port_names), max_size=2, unique=True)):
        port: dict[str, Any] = {"name": name, "containerPort": draw(st.sampled_from(vocab.ports))}
        protocol = draw(st.sampled_from((None, "TCP", "UDP", "SCTP")))
        if protocol:
            port["protocol"] = protocol
        out.append(port)
    return out


@st.composite
def _pod(draw: st.DrawFn, vocab: Vocabulary, index: int, namespace: str | None = None, service_accounts: Sequence[str] = ()) -> Manifest:
    namespace = namespace or draw(st.sampled_from(vocab.namespaces))
    meta: dict[str, Any] = {"name": f"p{index}", "namespace": namespace}
    labels = draw(_vocab_labels(vocab))
    if labels:
        meta["labels"] = labels
    spec: dict[str, Any] = {}
    containers: list[dict[str, Any]] = [{"name": "c0", "image": "app"}]
    ports = draw(_container_ports(vocab))
    if ports:
        if draw(st.booleans()):
            containers[0]["ports"] = ports
        else:
            spec["initContainers"] = [{"name": "init", "image": "app", "ports": ports}]
    spec["containers"] = containers
    if bool(service_accounts) and draw(st.booleans()):
        spec["serviceAccountName"] = draw(st.sampled_from(service_accounts))
    ips = _pod_ips(index, vocab.ipv6 and draw(st.booleans()))
    status: dict[str, Any] = {"phase": "Running", "podIP": ips[0]}
    if len(ips) > 1 or draw(st.booleans()):
        status["podIPs"] = [{"ip": ip} for ip in ips]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec, "status": status}


def pods(vocab: Vocabulary | None = None, *, index: int = 0, service_accounts: Sequence[str] = ()) -> st.SearchStrategy[Manifest]:
    """``v1`` Pods: labels, IPs (10.0.0.N and sometimes fd00::N, N = index + 1), named
    container or init-container ports, and a service account from ``service_accounts``."""
    _check_size("index", index, 0, 250)
    return _pod(_check_vocab(vocab), index, None, tuple(service_accounts))


def _api(draw: st.DrawFn, crd_forms: bool) -> str:
    return draw(st.sampled_from((_CALICO, _CALICO_CRD))) if crd_forms else _CALICO


@st.composite
def _network_set(draw: st.DrawFn, vocab: Vocabulary, name: str, namespace: str | None, crd_forms: bool = False) -> Manifest:
    meta: dict[str, Any] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    labels = draw(_vocab_labels(vocab))
    if labels:
        meta["labels"] = labels
    pool = _CIDRS_V4 + (_CIDRS_V6 if vocab.ipv6 else ())
    nets = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=2, unique=True))
    kind = "NetworkSet" if namespace else "GlobalNetworkSet"
    return {"apiVersion": _api(draw, crd_forms), "kind": kind, "metadata": meta, "spec": {"nets": nets}}


def network_sets(vocab: Vocabulary | None = None, *, name: str = "set0") -> st.SearchStrategy[Manifest]:
    """Calico NetworkSets: labels and CIDRs that overlap pod addresses."""
    vocab = _check_vocab(vocab)
    return st.sampled_from(vocab.namespaces).flatmap(lambda ns: _network_set(vocab, name, ns))


def global_network_sets(vocab: Vocabulary | None = None, *, name: str = "gset0") -> st.SearchStrategy[Manifest]:
    """Calico GlobalNetworkSets: labels and CIDRs that overlap pod addresses."""
    return _network_set(_check_vocab(vocab), name, None)


@st.composite
def _tier(draw: st.DrawFn, name: str, crd_forms: bool = False) -> Manifest:
    spec: dict[str, Any] = {}
    order = draw(st.sampled_from((100, 2000, None, 1000, 500.5, 2e7)))
    if order is not None:
        spec["order"] = order
    action = draw(st.sampled_from(("Pass", "Deny", None)))
    if action:
        spec["defaultAction"] = action
    return {"apiVersion": _api(draw, crd_forms), "kind": "Tier", "metadata": {"name": name}, "spec": spec}


def tiers(*, name: str = "t1") -> st.SearchStrategy[Manifest]:
    """Calico Tiers: an order (or none) and a defaultAction (Deny, Pass or absent)."""
    if name in _RESERVED_TIERS:
        raise InvalidArgument(f"tier {name!r} is built in")
    return _tier(name)


# -- Calico rules -------------------------------------------------------------------------


@attrs.frozen
class _RuleContext:
    vocab: Vocabulary
    direction: str  # "ingress" | "egress"
    namespaced: bool
    allowed_actions: tuple[str, ...] = ("Allow", "Deny", "Pass", "Log", "Pass", "Deny")
    profile: bool = False


def _protocol_family_ok(protocol: object, family: int | None) -> bool:
    if family is None:
        return True
    if protocol in ("ICMP", 1) and family == 6:
        return False
    if protocol in ("ICMPv6", 58) and family == 4:
        return False
    return True


@st.composite
def _ports(draw: st.DrawFn, vocab: Vocabulary, numeric: bool) -> list[Any]:
    options: list[st.SearchStrategy[Any]] = [st.sampled_from(vocab.port_names)]
    if numeric:
        options.insert(0, st.sampled_from(vocab.ports))
        options.append(st.builds(lambda p, w: f"{p}:{min(65535, p + w)}", st.sampled_from(vocab.ports), st.sampled_from((0, 1, 100))))
        options.append(st.sampled_from(vocab.ports).map(str))
    return draw(st.lists(st.one_of(options), min_size=1, max_size=2))


@st.composite
def _entity(draw: st.DrawFn, ctx: _RuleContext, family: int, ports: str) -> dict[str, Any]:
    """One side of a Calico rule. ``ports``: 'none', 'named' or 'any'."""
    vocab = ctx.vocab
    out: dict[str, Any] = {}
    fields = draw(st.lists(st.sampled_from(("selector", "nets", "ports", "namespaceSelector", "notSelector", "notNets", "notPorts", "serviceAccounts")), max_size=2, unique=True))
    for field in fields:
        if field == "nets":
            out["nets"] = draw(st.lists(st.sampled_from(vocab.cidrs(family)), min_size=1, max_size=2, unique=True))
        elif field == "notNets":
            out["notNets"] = draw(st.lists(st.sampled_from([c for c in vocab.cidrs(family) if not c.endswith("/0")]), min_size=1, max_size=2, unique=True))
        elif field == "selector":
            out["selector"] = _vocab_selector(draw, vocab)
        elif field == "notSelector":
            out["notSelector"] = _vocab_selector(draw, vocab)
        elif field == "namespaceSelector":
            choice = draw(st.sampled_from(("expr", "all()", "global()")))
            if choice == "expr":
                keys = vocab.label_keys + ("kubernetes.io/metadata.name",)
                out["namespaceSelector"] = _vocab_selector(draw, vocab, 2, keys, vocab.selector_values + vocab.namespaces, allow_all=False)
            else:
                out["namespaceSelector"] = choice
        elif field == "serviceAccounts":
            accounts: dict[str, Any] = {}
            if draw(st.booleans()):
                accounts["names"] = draw(st.lists(st.sampled_from(vocab.service_accounts), min_size=1, max_size=2, unique=True))
            if draw(st.booleans()):
                accounts["selector"] = _vocab_selector(draw, vocab, 2)
            out["serviceAccounts"] = accounts
        elif field in ("ports", "notPorts") and ports != "none":
            out[field] = draw(_ports(vocab, numeric=ports == "any"))
    return out


@st.composite
def _calico_rule(draw: st.DrawFn, ctx: _RuleContext) -> dict[str, Any]:
    vocab = ctx.vocab
    rule: dict[str, Any] = {"action": draw(st.sampled_from(ctx.allowed_actions))}
    if draw(st.integers(0, 2)) == 0:
        return rule  # matches everything: decides for every flow that reaches it
    # Repeated entries weigh the draw towards rules that match often.
    protocol = draw(st.sampled_from((None, None, None, "TCP", "TCP", "UDP", "ICMP", "ICMPv6", "SCTP", 6, 17, 1, 58, "UDPLite", 132, "17", 47)))
    ip_version = draw(st.sampled_from((None, 4, 6) if vocab.ipv6 else (None, 4)))
    if not _protocol_family_ok(protocol, ip_version):
        ip_version = None
    family = ip_version or (6 if protocol in ("ICMPv6", 58) else 4 if protocol in ("ICMP", 1) else draw(st.sampled_from(vocab.families)))
    if ip_version is not None:
        rule["ipVersion"] = ip_version
    if protocol is not None:
        rule["protocol"] = protocol
    if draw(st.integers(0, 5)) == 0:
        not_protocol = draw(st.sampled_from(("UDP", "TCP", "ICMP", "ICMPv6", 6, 1)))
        if _protocol_family_ok(not_protocol, ip_version):
            rule["notProtocol"] = not_protocol
    if protocol in ("ICMP", "ICMPv6", 1, 58):
        for field in ("icmp", "notICMP"):
            if draw(st.booleans()):
                icmp: dict[str, Any] = {"type": draw(st.sampled_from(_ICMP_TYPES))}
                if draw(st.booleans()):
                    icmp["code"] = draw(st.sampled_from(_ICMP_CODES))
                rule[field] = icmp
    ports = "any" if protocol in _PORTED_PROTOCOLS or protocol == "17" else "named" if protocol is None else "none"
    for side in ("source", "destination"):
        if draw(st.booleans()):
            entity = draw(_entity(ctx, family, ports))
            if entity:
                rule[side] = entity
    if rule["action"] == "Allow" and ctx.direction == "ingress" and protocol in (None, "TCP", 6) and not ctx.profile and draw(st.integers(0, 5)) == 0:
        rule["http"] = {"methods": ["GET"], "paths": [{"exact": "/a"}, {"prefix": "/b"}]}
    return rule


def calico_rules(vocab: Vocabulary | None = None, *, direction: str = "ingress", namespaced: bool = True, actions: Collection[str] | None = None) -> st.SearchStrategy[dict[str, Any]]:
    """Valid Calico rules using every field: action, ipVersion, protocol/notProtocol,
    icmp/notICMP, and source/destination with nets, notNets, selector, notSelector,
    namespaceSelector (including ``global()``), ports/notPorts (numbers, ranges, names),
    serviceAccounts; ``http`` on ingress Allow rules."""
    if direction not in ("ingress", "egress"):
        raise InvalidArgument(f"direction={direction!r} must be 'ingress' or 'egress'")
    _check_bool("namespaced", namespaced)
    chosen = tuple(sorted(_check_kinds(actions, frozenset({"Allow", "Deny", "Pass", "Log"}), "actions")))
    if not chosen:
        raise InvalidArgument("actions must not be empty")
    return _calico_rule(_RuleContext(_check_vocab(vocab), direction, namespaced, chosen))


@st.composite
def _rule_lists(draw: st.DrawFn, ctx_in: _RuleContext, ctx_out: _RuleContext, max_rules: int, spec: dict[str, Any], types_optional: bool = True) -> None:
    directions = draw(st.sampled_from((("ingress",), ("egress",), ("ingress", "egress"))))
    for direction in directions:
        ctx = ctx_in if direction == "ingress" else ctx_out
        spec[direction] = draw(st.lists(_calico_rule(ctx), min_size=min(1, max_rules) if draw(st.integers(0, 4)) else 0, max_size=max_rules))
    if not types_optional or draw(st.booleans()):
        spec["types"] = [d.capitalize() for d in directions]


# -- Calico policies ----------------------------------------------------------------------


@st.composite
def _calico_policy(draw: st.DrawFn, vocab: Vocabulary, kind: str, name: str, tiers: Sequence[str], max_rules: int, crd_forms: bool = False) -> Manifest:
    namespaced = kind in ("NetworkPolicy", "StagedNetworkPolicy")
    meta: dict[str, Any] = {"name": name}
    if namespaced:
        meta["namespace"] = draw(st.sampled_from(vocab.namespaces))
    spec: dict[str, Any] = {}
    tier = draw(st.sampled_from(("default",) + tuple(tiers)))
    if tier != "default" or draw(st.booleans()):
        spec["tier"] = tier
    order = draw(st.sampled_from((None, 100, 1000, 10, 1000.5, 2000)))
    if order is not None:
        spec["order"] = order
    if draw(st.booleans()):
        spec["selector"] = _vocab_selector(draw, vocab)
    if not namespaced and draw(st.integers(0, 3)) == 0:
        keys = vocab.label_keys + ("kubernetes.io/metadata.name",)
        spec["namespaceSelector"] = _vocab_selector(draw, vocab, 2, keys, vocab.selector_values + vocab.namespaces)
    if draw(st.integers(0, 4)) == 0:
        spec["serviceAccountSelector"] = _vocab_selector(draw, vocab, 2)
    ctx_in = _RuleContext(vocab, "ingress", namespaced)
    ctx_out = _RuleContext(vocab, "egress", namespaced)
    draw(_rule_lists(ctx_in, ctx_out, max_rules, spec))
    if kind.startswith("Staged"):
        if draw(st.booleans()):
            spec["stagedAction"] = "Set"
    return {"apiVersion": _api(draw, crd_forms), "kind": kind, "metadata": meta, "spec": spec}


def calico_network_policies(vocab: Vocabulary | None = None, *, name: str = "cnp0", tiers: Sequence[str] = (), max_rules: int = 3, staged: bool = False) -> st.SearchStrategy[Manifest]:
    """Calico (Staged)NetworkPolicies: tier (``default`` or one of ``tiers``), order,
    selector, serviceAccountSelector, types and rules with every action and field."""
    _check_size("max_rules", max_rules, 0, 50)
    return _calico_policy(_check_vocab(vocab), "StagedNetworkPolicy" if staged else "NetworkPolicy", name, tuple(tiers), max_rules)


def global_network_policies(vocab: Vocabulary | None = None, *, name: str = "gnp0", tiers: Sequence[str] = (), max_rules: int = 3, staged: bool = False) -> st.SearchStrategy[Manifest]:
    """Calico (Staged)GlobalNetworkPolicies, as :func:`calico_network_policies` plus
    namespaceSelector."""
    _check_size("max_rules", max_rules, 0, 50)
    return _calico_policy(_check_vocab(vocab), "StagedGlobalNetworkPolicy" if staged else "GlobalNetworkPolicy", name, tuple(tiers), max_rules)


@st.composite
def _profile(draw: st.DrawFn, vocab: Vocabulary, name: str, max_rules: int, crd_forms: bool = False) -> Manifest:
    spec: dict[str, Any] = {}
    actions = ("Deny", "Allow", "Log")  # Pass in a profile differs between dataplanes (§C.3)
    for direction in ("ingress", "egress"):
        rules = draw(st.lists(_calico_rule(_RuleContext(vocab, direction, False, actions, profile=True)), min_size=min(1, max_rules), max_size=max_rules))
        if rules:
            spec[direction] = rules
    labels = draw(_vocab_labels(vocab, 2))
    if labels:
        spec["labelsToApply"] = labels
    return {"apiVersion": _api(draw, crd_forms), "kind": "Profile", "metadata": {"name": name}, "spec": spec}


def profiles(vocab: Vocabulary | None = None, *, name: str = "prof0", max_rules: int = 2) -> st.SearchStrategy[Manifest]:
    """Calico Profiles: labelsToApply and Allow/Deny/Log rules."""
    _check_size("max_rules", max_rules, 0, 50)
    return _profile(_check_vocab(vocab), name, max_rules)


@st.composite
def _workload_endpoint(draw: st.DrawFn, vocab: Vocabulary, index: int, profile_names: Sequence[str], crd_forms: bool = False) -> Manifest:
    namespace = draw(st.sampled_from(vocab.namespaces))
    pod = f"w{index}"
    meta: dict[str, Any] = {"name": f"node1-k8s-{pod}-eth0", "namespace": namespace}
    labels = draw(_vocab_labels(vocab))
    if labels:
        meta["labels"] = labels
    ips = _pod_ips(index, vocab.ipv6 and draw(st.booleans()))
    spec: dict[str, Any] = {
        "orchestrator": "k8s",
        "node": "node1",
        "pod": pod,
        "endpoint": "eth0",
        "interfaceName": f"cali{index}",
        "ipNetworks": [f"{ip}/{32 if ':' not in ip else 128}" for ip in ips],
        "profiles": draw(st.lists(st.sampled_from(profile_names), min_size=min(1, draw(st.integers(0, 3))), max_size=2, unique=True)) if profile_names else [],
    }
    ports = draw(st.lists(st.sampled_from(vocab.port_names), max_size=2, unique=True))
    if ports:
        spec["ports"] = [{"name": n, "protocol": draw(st.sampled_from(("TCP", "UDP", "SCTP"))), "port": draw(st.sampled_from(vocab.ports))} for n in ports]
    return {"apiVersion": _api(draw, crd_forms), "kind": "WorkloadEndpoint", "metadata": meta, "spec": spec}


def workload_endpoints(vocab: Vocabulary | None = None, *, index: int = 100, profile_names: Sequence[str] = ()) -> st.SearchStrategy[Manifest]:
    """Calico WorkloadEndpoints with explicit profiles (none, or from ``profile_names``)."""
    _check_size("index", index, 0, 250)
    return _workload_endpoint(_check_vocab(vocab), index, tuple(profile_names))


# -- Kubernetes NetworkPolicy -------------------------------------------------------------


@st.composite
def _k8s_peer(draw: st.DrawFn, vocab: Vocabulary) -> dict[str, Any]:
    choice = draw(st.sampled_from(("pod", "namespace", "both", "ipBlock")))
    if choice == "ipBlock":
        blocks = [b for b in _IP_BLOCKS if vocab.ipv6 or ":" not in b[0]]
        cidr, excepts = draw(st.sampled_from(blocks))
        block: dict[str, Any] = {"cidr": cidr}
        chosen = draw(st.lists(st.sampled_from(excepts), max_size=len(excepts), unique=True)) if excepts else []
        if chosen:
            block["except"] = chosen
        return {"ipBlock": block}
    peer: dict[str, Any] = {}
    if choice in ("pod", "both"):
        peer["podSelector"] = draw(_label_selector(vocab.label_keys, vocab.label_values))
    if choice in ("namespace", "both"):
        peer["namespaceSelector"] = draw(_ns_label_selector(vocab))
    return peer


@st.composite
def _k8s_port(draw: st.DrawFn, vocab: Vocabulary) -> dict[str, Any]:
    port: dict[str, Any] = {}
    protocol = draw(st.sampled_from((None, "TCP", "UDP", "SCTP")))
    if protocol:
        port["protocol"] = protocol
    kind = draw(st.sampled_from(("number", "name", "range", "none")))
    if kind == "number":
        port["port"] = draw(st.sampled_from(vocab.ports))
    elif kind == "name":
        port["port"] = draw(st.sampled_from(vocab.port_names))
    elif kind == "range":
        start = draw(st.sampled_from(vocab.ports))
        port["port"] = start
        port["endPort"] = min(65535, start + draw(st.sampled_from((0, 1, 1000))))
    return port


@st.composite
def _k8s_rule(draw: st.DrawFn, vocab: Vocabulary, peers_field: str) -> dict[str, Any]:
    rule: dict[str, Any] = {}
    shape = draw(st.sampled_from(("peers", "absent", "empty")))
    if shape == "peers":
        rule[peers_field] = draw(st.lists(_k8s_peer(vocab), min_size=1, max_size=3))
    elif shape == "empty":
        rule[peers_field] = []
    if draw(st.booleans()):
        rule["ports"] = draw(st.lists(_k8s_port(vocab), max_size=2))
    return rule


@st.composite
def _k8s_policy_spec(draw: st.DrawFn, vocab: Vocabulary, max_rules: int) -> dict[str, Any]:
    spec: dict[str, Any] = {"podSelector": draw(_label_selector(vocab.label_keys, vocab.label_values))}
    types = draw(st.sampled_from((("Ingress",), ("Egress",), ("Ingress", "Egress"), None)))
    if types is not None:
        spec["policyTypes"] = list(types)
    counted = [t.lower() for t in (types or ("Ingress",))]
    for direction, peers in (("ingress", "from"), ("egress", "to")):
        if direction in counted and draw(st.integers(0, 4)):
            spec[direction] = draw(st.lists(_k8s_rule(vocab, peers), min_size=min(1, max_rules), max_size=max_rules))
        elif draw(st.booleans()):
            spec[direction] = draw(st.lists(_k8s_rule(vocab, peers), max_size=max_rules))
    return spec


@st.composite
def _k8s_policy(draw: st.DrawFn, vocab: Vocabulary, name: str, max_rules: int, staged: bool = False) -> Manifest:
    meta = {"name": name, "namespace": draw(st.sampled_from(vocab.namespaces))}
    spec = draw(_k8s_policy_spec(vocab, max_rules))
    if staged:
        if draw(st.booleans()):
            spec["stagedAction"] = "Set"
        return {"apiVersion": _CALICO, "kind": "StagedKubernetesNetworkPolicy", "metadata": meta, "spec": spec}
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": meta, "spec": spec}


def kubernetes_network_policies(vocab: Vocabulary | None = None, *, name: str = "np0", max_rules: int = 3, staged: bool = False) -> st.SearchStrategy[Manifest]:
    """``networking.k8s.io/v1`` NetworkPolicies (or StagedKubernetesNetworkPolicies):
    podSelector with matchLabels/matchExpressions, policyTypes (or none), rules with
    absent, empty or listed peers (podSelector, namespaceSelector, both, ipBlock with
    except) and ports (protocol, number, name, endPort)."""
    _check_size("max_rules", max_rules, 0, 50)
    return _k8s_policy(_check_vocab(vocab), name, max_rules, staged)


# -- AdminNetworkPolicy / BaselineAdminNetworkPolicy --------------------------------------


@st.composite
def _anp_subject(draw: st.DrawFn, vocab: Vocabulary) -> dict[str, Any]:
    if draw(st.booleans()):
        return {"namespaces": draw(_ns_label_selector(vocab))}
    return {"pods": {"namespaceSelector": draw(_ns_label_selector(vocab)), "podSelector": draw(_label_selector(vocab.label_keys, vocab.label_values))}}


@st.composite
def _anp_peer(draw: st.DrawFn, vocab: Vocabulary, egress: bool) -> dict[str, Any]:
    choice = draw(st.sampled_from(("namespaces", "pods", "networks") if egress else ("namespaces", "pods")))
    if choice == "networks":
        pool = _CIDRS_V4 + (_CIDRS_V6 if vocab.ipv6 else ())
        return {"networks": draw(st.lists(st.sampled_from(pool), min_size=1, max_size=2, unique=True))}
    return draw(_anp_subject(vocab).filter(lambda s: choice in s))


@st.composite
def _anp_port(draw: st.DrawFn, vocab: Vocabulary) -> dict[str, Any]:
    kind = draw(st.sampled_from(("portNumber", "portRange", "namedPort")))
    protocol = draw(st.sampled_from(("TCP", "UDP", "SCTP")))
    if kind == "portNumber":
        return {"portNumber": {"protocol": protocol, "port": draw(st.sampled_from(vocab.ports))}}
    if kind == "portRange":
        start, width = draw(st.sampled_from(vocab.ports)), draw(st.sampled_from((1, 100)))
        start = min(start, 65535 - width)  # start must be below end
        return {"portRange": {"protocol": protocol, "start": start, "end": start + width}}
    return {"namedPort": draw(st.sampled_from(vocab.port_names))}


@st.composite
def _anp_rules(draw: st.DrawFn, vocab: Vocabulary, actions: Sequence[str], max_rules: int, spec: dict[str, Any]) -> None:
    for direction, peers in (("ingress", "from"), ("egress", "to")):
        if draw(st.booleans()):
            rules = []
            for i in range(draw(st.integers(min(1, max_rules), max_rules))):
                rule: dict[str, Any] = {"name": f"{direction[:2]}{i}", "action": draw(st.sampled_from(actions))}
                rule[peers] = draw(st.lists(_anp_peer(vocab, direction == "egress"), min_size=1, max_size=2))
                if draw(st.booleans()):
                    ports = draw(st.lists(_anp_port(vocab), min_size=1, max_size=2))
                    if any("networks" in peer for peer in rule[peers]):
                        # only pods have named ports: upstream rejects namedPort next to networks peers
                        ports = [p for p in ports if "namedPort" not in p]
                    if ports:
                        rule["ports"] = ports
                rules.append(rule)
            spec[direction] = rules


@st.composite
def _anp(draw: st.DrawFn, vocab: Vocabulary, name: str, priority: int, max_rules: int) -> Manifest:
    spec: dict[str, Any] = {"priority": priority, "subject": draw(_anp_subject(vocab))}
    draw(_anp_rules(vocab, ("Allow", "Deny", "Pass"), max_rules, spec))
    return {"apiVersion": _ANP_API, "kind": "AdminNetworkPolicy", "metadata": {"name": name}, "spec": spec}


@st.composite
def _banp(draw: st.DrawFn, vocab: Vocabulary, max_rules: int) -> Manifest:
    spec: dict[str, Any] = {"subject": draw(_anp_subject(vocab))}
    draw(_anp_rules(vocab, ("Allow", "Deny"), max_rules, spec))
    return {"apiVersion": _ANP_API, "kind": "BaselineAdminNetworkPolicy", "metadata": {"name": "default"}, "spec": spec}


def admin_network_policies(vocab: Vocabulary | None = None, *, name: str = "anp0", priority: int | None = None, max_rules: int = 3) -> st.SearchStrategy[Manifest]:
    """AdminNetworkPolicies: priority, subject (namespaces or pods), Allow/Deny/Pass rules
    with namespaces/pods/networks peers and portNumber/portRange/namedPort ports."""
    _check_size("max_rules", max_rules, 0, 100)
    vocab = _check_vocab(vocab)
    if priority is not None:
        _check_size("priority", priority, 0, 1000)
        return _anp(vocab, name, priority, max_rules)
    return st.integers(0, 1000).flatmap(lambda p: _anp(vocab, name, p, max_rules))


def baseline_admin_network_policies(vocab: Vocabulary | None = None, *, max_rules: int = 3) -> st.SearchStrategy[Manifest]:
    """The BaselineAdminNetworkPolicy (always named ``default``): Allow/Deny rules."""
    _check_size("max_rules", max_rules, 0, 100)
    return _banp(_check_vocab(vocab), max_rules)


# -- whole manifests ----------------------------------------------------------------------


@attrs.frozen
class _ManifestArgs:
    policy_kinds: frozenset[str]
    inventory_kinds: frozenset[str]
    max_pods: int
    max_policies: int
    max_rules: int
    max_tiers: int
    min_policies: int
    ipv6: bool
    crd_forms: bool
    wrap: bool
    vocab: st.SearchStrategy[Vocabulary]


@st.composite
def _manifests(draw: st.DrawFn, args: _ManifestArgs) -> list[Manifest]:
    vocab = draw(args.vocab)
    if not args.ipv6 and vocab.ipv6:
        vocab = attrs.evolve(vocab, ipv6=False)
    crd = args.crd_forms
    out: list[Manifest] = [draw(_namespace(vocab, ns)) for ns in vocab.namespaces]
    accounts: dict[str, list[str]] = {ns: [] for ns in vocab.namespaces}
    if "ServiceAccount" in args.inventory_kinds:
        for ns in vocab.namespaces:
            for sa in draw(st.lists(st.sampled_from(vocab.service_accounts), max_size=2, unique=True)):
                out.append(draw(_service_account(vocab, ns, sa)))
                accounts[ns].append(sa)
    n_pods = draw(st.integers(1, args.max_pods))
    for index in range(n_pods):
        ns = draw(st.sampled_from(vocab.namespaces))
        out.append(draw(_pod(vocab, index, ns, tuple(accounts[ns]))))
    pairs = {(k, v) for doc in out if doc["kind"] == "Pod" for k, v in doc["metadata"].get("labels", {}).items()}
    vocab = attrs.evolve(vocab, pairs=tuple(sorted(pairs)))
    profile_names: list[str] = []
    if "Profile" in args.inventory_kinds:
        for i in range(draw(st.sampled_from((0, 1, 2, 1)))):
            profile_names.append(f"prof{i}")
            out.append(draw(_profile(vocab, f"prof{i}", 2, crd)))
    if "WorkloadEndpoint" in args.inventory_kinds:
        for i in range(draw(st.sampled_from((0, 1, 2, 1)))):
            out.append(draw(_workload_endpoint(vocab, 100 + i, tuple(profile_names), crd)))
    if "NetworkSet" in args.inventory_kinds:
        for i in range(draw(st.integers(0, 2))):
            out.append(draw(_network_set(vocab, f"set{i}", draw(st.sampled_from(vocab.namespaces)), crd)))
    if "GlobalNetworkSet" in args.inventory_kinds:
        for i in range(draw(st.integers(0, 2))):
            out.append(draw(_network_set(vocab, f"gset{i}", None, crd)))
    tier_names: list[str] = []
    if "Tier" in args.inventory_kinds and args.max_tiers:
        tier_names = list(draw(st.lists(st.sampled_from(_TIER_POOL[: args.max_tiers]), min_size=1, max_size=args.max_tiers, unique=True)))
        out.extend(draw(_tier(name, crd)) for name in tier_names)
    # Enforced kinds weigh more than staged ones.
    kinds = [k for k in _KIND_WEIGHTS if k in args.policy_kinds]
    priorities = iter(draw(st.permutations((0, 1, 5, 10, 50, 100, 999, 1000))))
    has_banp = False
    n_policies = draw(st.integers(args.min_policies, args.max_policies)) if kinds else 0
    for i in range(n_policies):
        kind = draw(st.sampled_from(kinds))
        if kind == "BaselineAdminNetworkPolicy" and has_banp:
            kind = "AdminNetworkPolicy" if "AdminNetworkPolicy" in kinds else "BaselineAdminNetworkPolicy"
            if kind == "BaselineAdminNetworkPolicy":
                continue
        name = f"pol{i}"
        if kind == "KubernetesNetworkPolicy":
            out.append(draw(_k8s_policy(vocab, name, args.max_rules)))
        elif kind == "StagedKubernetesNetworkPolicy":
            out.append(draw(_k8s_policy(vocab, name, args.max_rules, staged=True)))
        elif kind == "AdminNetworkPolicy":
            out.append(draw(_anp(vocab, name, next(priorities, 500 + i), args.max_rules)))
        elif kind == "BaselineAdminNetworkPolicy":
            has_banp = True
            out.append(draw(_banp(vocab, args.max_rules)))
        else:
            out.append(draw(_calico_policy(vocab, kind, name, tuple(tier_names), args.max_rules, crd)))
    if args.wrap and len(out) > 1 and draw(st.integers(0, 3)) == 0:
        # Wrap a run of documents in a List, as kubectl prints them.
        start = draw(st.integers(0, len(out) - 1))
        end = draw(st.integers(start + 1, len(out)))
        out[start:end] = [{"apiVersion": "v1", "kind": "List", "metadata": {}, "items": out[start:end]}]
    return out


def manifests(
    *,
    kinds: Collection[str] | None = None,
    inventory: Collection[str] | None = None,
    vocab: st.SearchStrategy[Vocabulary] | None = None,
    max_pods: int = 4,
    max_policies: int = 6,
    min_policies: int = 1,
    max_rules: int = 3,
    max_tiers: int = 2,
    ipv6: bool = True,
    crd_forms: bool = True,
    wrap: bool = True,
) -> st.SearchStrategy[list[Manifest]]:
    """Lists of manifest dicts that load: Namespaces and Pods always, the ``inventory``
    kinds (default all of :data:`INVENTORY_KINDS`) and policies of the ``kinds`` (default
    all of :data:`POLICY_KINDS`).

    ``crd_forms`` lets Calico objects use ``crd.projectcalico.org/v1``; ``wrap`` sometimes
    wraps documents in a ``v1 List``; ``ipv6=False`` keeps everything IPv4.
    """
    _validate_manifest_args(kinds, inventory, max_pods, max_policies, min_policies, max_rules, max_tiers, ipv6, crd_forms, wrap, vocab)
    return _manifests(
        _ManifestArgs(
            policy_kinds=_check_kinds(kinds, POLICY_KINDS, "policy kinds"),
            inventory_kinds=_check_kinds(inventory, INVENTORY_KINDS, "inventory kinds"),
            max_pods=max_pods,
            max_policies=max_policies,
            min_policies=min_policies,
            max_rules=max_rules,
            max_tiers=max_tiers,
            ipv6=ipv6,
            crd_forms=crd_forms,
            wrap=wrap,
            vocab=vocab if vocab is not None else vocabularies(ipv6=ipv6),
        )
    )


def _validate_manifest_args(kinds: Any, inventory: Any, max_pods: Any, max_policies: Any, min_policies: Any, max_rules: Any, max_tiers: Any, ipv6: Any, crd_forms: Any, wrap: Any, vocab: Any) -> None:
    # Eager checks: raise now, not at the first draw.
    _check_kinds(kinds, POLICY_KINDS, "policy kinds")
    _check_kinds(inventory, INVENTORY_KINDS, "inventory kinds")
    _check_size("max_pods", max_pods, 1, 200)
    _check_size("max_policies", max_policies, 0, 200)
    _check_size("min_policies", min_policies, 0, max_policies)
    _check_size("max_rules", max_rules, 0, 50)
    _check_size("max_tiers", max_tiers, 0, len(_TIER_POOL))
    for name, value in (("ipv6", ipv6), ("crd_forms", crd_forms), ("wrap", wrap)):
        _check_bool(name, value)
    if vocab is not None and not isinstance(vocab, st.SearchStrategy):
        raise InvalidArgument(f"vocab={vocab!r} must be a strategy of Vocabulary (e.g. st.just(Vocabulary(...)))")


def policy_sets(**kwargs: Any) -> st.SearchStrategy["PolicySet"]:
    """PolicySets loaded with :func:`netpolicy.from_objects` from :func:`manifests`
    (same keyword arguments)."""
    from ..loader import from_objects

    return manifests(**kwargs).map(from_objects)


# -- flows --------------------------------------------------------------------------------


@attrs.frozen
class _FlowPlan:
    endpoints: dict[int, list[Any]]  # family -> endpoints (as namespace/pod or address)
    sides: dict[int, list[Any]]  # family -> other addresses
    ports: tuple[int, ...]
    icmp_types: tuple[int, ...]
    icmp_codes: tuple[int, ...]
    declared: dict[Any, tuple[tuple[int, int], ...]] = attrs.field(factory=dict)  # side -> (protocol, port) it declares
    handmade: dict[int, list[Any]] = attrs.field(factory=lambda: {4: [], 6: []})  # hand-built Endpoint sides


def _net_addresses(net: Any) -> list[Any]:
    """Addresses at the edges of a CIDR and just outside it."""
    out = [net.network_address, net.broadcast_address]
    if net.num_addresses > 2:
        out.append(net.network_address + 1)
    before = int(net.network_address) - 1
    after = int(net.broadcast_address) + 1
    cls = type(net.network_address)
    limit = 2**32 if net.version == 4 else 2**128
    if before >= 0:
        out.append(cls(before))
    if after < limit:
        out.append(cls(after))
    return out


def _walk_rules(ps: "PolicySet") -> Iterable[Any]:
    for policy in tuple(ps.policies) + tuple(ps.staged_policies):
        for rules in (policy.ingress, policy.egress):
            yield from rules or ()
    for profile in ps.profiles.values():
        yield from profile.ingress
        yield from profile.egress


def _plan(ps: "PolicySet | None") -> _FlowPlan:
    from ..model import NamedPort, PortRange

    sides: dict[int, list[Any]] = {4: [], 6: []}
    ports: list[int] = [80]
    icmp_types: list[int] = [8]
    icmp_codes: list[int] = [0]
    if ps is None:
        for text in _EXTERNAL + tuple(str(_POD_V4[i]) for i in (1, 2)) + tuple(str(_POD_V6[i]) for i in (1, 2)):
            address = ipaddress.ip_address(text)
            sides[address.version].append(address)
        return _FlowPlan({4: [], 6: []}, sides, (80, 443, 53, 8080), (0, 3, 8), (0, 1))
    named: dict[str, set[int]] = {}
    endpoints: dict[int, list[Any]] = {4: [], 6: []}
    declared: dict[Any, tuple[tuple[int, int], ...]] = {}
    handmade: dict[int, list[Any]] = {4: [], 6: []}
    for number, endpoint in enumerate(ps.endpoints):
        if endpoint.namespace and not endpoint.is_host:
            # A look-alike that is not in the inventory: same labels, namespace, service
            # account and named ports, at an address no one owns.
            for family, network in ((4, _HANDMADE_V4), (6, _HANDMADE_V6)):
                handmade[family].append(
                    attrs.evolve(endpoint, name=None, ips=(network[number + 1],), profiles=None, effective_labels=None, origin=None, node=None, interface=None)
                )
        pairs = tuple(dict.fromkeys((p.protocol, p.port) for p in endpoint.named_ports))
        if pairs:
            for value in (endpoint.key, *endpoint.ips):
                declared[value] = pairs
        if endpoint.name and not endpoint.is_host and endpoint.namespace:
            if any(ip.version == 4 for ip in endpoint.ips):
                endpoints[4].append(endpoint.key)
        for ip in endpoint.ips:
            endpoints[ip.version].append(ip)
        for port in endpoint.named_ports:
            named.setdefault(port.name, set()).add(port.port)
    nets: list[Any] = []
    for network_set in ps.network_sets:
        nets.extend(network_set.nets)
    for rule in _walk_rules(ps):
        for entity in (rule.source, rule.destination):
            nets.extend(entity.nets)
            nets.extend(entity.not_nets)
            for port in tuple(entity.ports) + tuple(entity.not_ports):
                if isinstance(port, PortRange):
                    ports.extend(p for p in (port.first, port.last, port.first - 1, port.last + 1) if 1 <= p <= 65535)
                elif isinstance(port, NamedPort):
                    ports.extend(sorted(named.get(port.name, ())))
        for icmp in (rule.icmp, rule.not_icmp):
            if icmp is not None:
                icmp_types.extend((icmp.type, (icmp.type + 1) % 255))
                if icmp.code is not None:
                    icmp_codes.extend((icmp.code, (icmp.code + 1) % 256))
    for values in named.values():
        ports.extend(values)
    for net in dict.fromkeys(nets):
        for address in _net_addresses(net):
            sides[address.version].append(address)
    for text in _EXTERNAL:
        address = ipaddress.ip_address(text)
        sides[address.version].append(address)
    known = {value for values in endpoints.values() for value in values}
    return _FlowPlan(
        {family: list(dict.fromkeys(values)) for family, values in endpoints.items()},
        {family: [v for v in dict.fromkeys(values) if v not in known] for family, values in sides.items()},
        tuple(dict.fromkeys(ports)),
        tuple(dict.fromkeys(icmp_types)),
        tuple(dict.fromkeys(icmp_codes)),
        declared,
        handmade,
    )


_PROTOCOLS_V4 = ("TCP", "UDP", "ICMP", "TCP", "SCTP", "UDP", "UDPLite", 47)
_PROTOCOLS_V6 = ("TCP", "UDP", "ICMPv6", "TCP", "SCTP", "UDP", "UDPLite", 47)


def _side_choice(plan: _FlowPlan, family: int) -> st.SearchStrategy[Any]:
    endpoints, others, handmade = plan.endpoints[family], plan.sides[family], plan.handmade[family][:3]
    options = [st.sampled_from(values) for values in (endpoints, others, endpoints) if values]
    choice = st.one_of(options)
    if not handmade:
        return choice
    # One side in ten is a hand-built Endpoint.
    return st.integers(0, 9).flatmap(lambda n: st.sampled_from(handmade) if n == 9 else choice)


@st.composite
def _flow(draw: st.DrawFn, plan: _FlowPlan, ipv6: bool, protocols: tuple[Any, ...] | None) -> "Flow":
    from ..flow import Flow, protocol_number

    families = [f for f in (4, 6) if (plan.sides[f] or plan.endpoints[f]) and (f == 4 or ipv6)]
    if not families:
        raise InvalidArgument("the policy set has no addresses to make flows between")
    family = draw(st.sampled_from(families + [4] if 4 in families else families))
    src = draw(_side_choice(plan, family))
    dst = draw(_side_choice(plan, family))
    if dst == src and bool(plan.sides[family]) and draw(st.integers(0, 3)) > 0:
        dst = draw(st.sampled_from(plan.sides[family]))  # traffic to itself is never policed
    protocol = draw(st.sampled_from(protocols or (_PROTOCOLS_V4 if family == 4 else _PROTOCOLS_V6)))
    number = protocol_number(protocol)
    kwargs: dict[str, Any] = {}
    declared = [p for p in plan.declared.get(dst, ()) if protocols is None or p[0] in {protocol_number(x) for x in protocols}]
    if bool(declared) and draw(st.booleans()):
        # To a port the destination declares, with its protocol.
        number, kwargs["dst_port"] = draw(st.sampled_from(declared))
        protocol = number
        if draw(st.booleans()):
            kwargs["src_port"] = draw(st.one_of(st.sampled_from(plan.ports), st.integers(1, 65535)))
    elif number in (6, 17, 132, 136):
        kwargs["dst_port"] = draw(st.one_of(st.sampled_from(plan.ports), st.integers(1, 65535), st.sampled_from(plan.ports)))
        if draw(st.booleans()):
            kwargs["src_port"] = draw(st.one_of(st.sampled_from(plan.ports), st.integers(1, 65535)))
    elif number in (1, 58) and draw(st.integers(0, 3)) > 0:
        kwargs["icmp_type"] = draw(st.sampled_from(plan.icmp_types))
        if draw(st.booleans()):
            kwargs["icmp_code"] = draw(st.sampled_from(plan.icmp_codes))
    return Flow(src=src, dst=dst, protocol=protocol, **kwargs)


def flows(ps: "PolicySet | None" = None, *, ipv6: bool = True, protocols: Collection[str | int] | None = None) -> st.SearchStrategy["Flow"]:
    """Flows between the endpoints of ``ps`` (as ``namespace/pod`` or by address), the
    members and edges of the CIDRs its sets and rules mention, and external addresses;
    to the ports its rules mention (named ports resolved through the endpoints) and
    others; ICMP types and codes its rules mention; both IP families.

    Without ``ps``, flows between a fixed handful of addresses. ``protocols`` narrows the
    protocols (names or numbers); ``ipv6=False`` keeps to IPv4.
    """
    from ..flow import protocol_number
    from ..errors import PolicyError

    _check_bool("ipv6", ipv6)
    chosen: tuple[Any, ...] | None = None
    if protocols is not None:
        if isinstance(protocols, (str, int)):
            raise InvalidArgument("protocols must be a collection of protocol names or numbers")
        chosen = tuple(protocols)
        if not chosen:
            raise InvalidArgument("protocols must not be empty")
        for protocol in chosen:
            try:
                protocol_number(protocol)
            except PolicyError as error:
                raise InvalidArgument(str(error)) from None
    if ps is not None and not hasattr(ps, "endpoints"):
        raise InvalidArgument(f"ps must be a PolicySet, not {type(ps).__name__}")
    return st.deferred(lambda: _flow(_plan(ps), ipv6, chosen))


@st.composite
def _endpoint(draw: st.DrawFn, vocab: Vocabulary | None) -> Any:
    from ..model import PROTOCOL_NUMBERS, ContainerPort, Endpoint

    vocab = _vocab_or_draw(draw, vocab)
    index = draw(st.integers(0, 9))
    ports = tuple(
        ContainerPort(name, PROTOCOL_NUMBERS[draw(st.sampled_from(("TCP", "UDP", "SCTP")))], draw(st.sampled_from(vocab.ports)))
        for name in draw(st.lists(st.sampled_from(vocab.port_names), max_size=2, unique=True))
    )
    return Endpoint(
        labels=draw(_vocab_labels(vocab)),
        namespace=draw(st.sampled_from(vocab.namespaces)),
        ips=_pod_ips(200 + index, vocab.ipv6 and draw(st.booleans())),
        service_account=draw(st.sampled_from((None,) + vocab.service_accounts)),
        named_ports=ports,
    )


def endpoints(vocab: Vocabulary | None = None) -> st.SearchStrategy[Any]:
    """Hand-built :class:`netpolicy.Endpoint` values (a flow side that is not in the
    inventory): labels, namespace, addresses, service account and named ports."""
    return _endpoint(vocab)


# Register the type strategies even when netpolicy is used from a source tree (the entry
# point only works for an installed distribution). Registering twice is harmless.
from ._hypothesis_hook import _hypothesis_setup_hook as _register_types  # noqa: E402

_register_types()
