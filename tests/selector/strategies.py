"""Hypothesis strategies for selector trees and selector-ish text (test helpers)."""

from hypothesis import strategies as st

from netpolicy.selector import _ast

IDENT_CHARS = "abcxyzABZ019_./-"
KEYWORDS = ["in", "not", "notin", "contains", "has", "all", "global", "starts", "with", "endswith", "startswith"]

labels = st.one_of(
    st.text(IDENT_CHARS, min_size=1, max_size=12),
    st.sampled_from(KEYWORDS),
    st.sampled_from(["app", "tier", "k8s-app", "projectcalico.org/namespace", "pcns.team"]),
)

values = st.one_of(
    st.sampled_from(["", "a", "b", "web", "db", "it's", 'say "hi"', "a b", "&&", "é"]),
    st.text(max_size=8),
).filter(lambda v: not ('"' in v and "'" in v))


def leaves():
    value_leaf = st.builds(
        lambda cls, k, v: cls(k, v),
        st.sampled_from([_ast.Eq, _ast.Ne, _ast.Contains, _ast.StartsWith, _ast.EndsWith]),
        labels,
        values,
    )
    set_leaf = st.builds(
        lambda cls, k, vs: cls(k, vs),
        st.sampled_from([_ast.In, _ast.NotIn]),
        labels,
        st.lists(values, max_size=4),
    )
    return st.one_of(
        value_leaf,
        set_leaf,
        st.builds(_ast.Has, labels),
        st.just(_ast.All()),
        st.just(_ast.Global()),
    )


def trees(double_not=False, max_leaves=12):
    """Selector trees. Without ``double_not`` no ``!`` applies directly to a ``!``:
    Calico's canonical text of such a tree (``!!x``) reparses as ``x``, while ``str()``
    prints it ``!(!x)``."""

    def extend(children):
        def negate(node):
            if isinstance(node, _ast.Not) and not double_not:
                return node.operand
            return _ast.Not(node)

        return st.one_of(
            children.map(negate),
            st.lists(children, min_size=2, max_size=4).map(_ast.And),
            st.lists(children, min_size=2, max_size=4).map(_ast.Or),
        )

    return st.recursive(leaves(), extend, max_leaves=max_leaves)


label_maps = st.dictionaries(
    st.one_of(labels, st.sampled_from(["app", "tier", "a", "b"])),
    st.one_of(values, st.sampled_from(["web", "a", "b", ""])),
    max_size=6,
)

# Text built from selector pieces, often near-valid, joined by random blanks.
PIECES = [
    "a", "b", "app", "in", "not", "has", "all", "global", "contains", "starts", "with", "ends",
    "startswith", "endswith", "notin", "==", "!=", "!", "=", "&&", "||", "&", "|", "(", ")",
    "{", "}", ",", "'x'", '"y"', "''", "'", '"', "has(a)", "all()", "global()", "has(", "all(",
    "global(", "%", "é", "\n",
]
selectorish = st.lists(
    st.tuples(st.sampled_from(PIECES), st.sampled_from(["", " ", "", "\t", "  "])), max_size=14
).map(lambda parts: "".join(p + sep for p, sep in parts))
