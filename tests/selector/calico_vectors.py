"""Calico's own selector test vectors, as data.

Selector strings and expected outcomes are taken from projectcalico/calico
libcalico-go/lib/selector (parser/parser_test.go: selector, bad-selector, canonical and
visitor tables; parser/label_restriction_test.go; tokenizer/tokenizer_test.go) and
hack/cmd/calico-selector/calico-selector_test.go. Kinds of tokens use the terminal names
of netpolicy/selector/selector.lark. Spec-cited vectors of the current tokenizer (§A.1)
are listed separately at the end.
"""

# (selector, label maps that match, label maps that do not match)
MATCH = [
    ('a == "b"', [{"a": "b"}, {"a": "b", "c": "d"}], [{}, {"a": "c"}, {"c": "d"}]),
    (
        'a == "b" && c == "d"',
        [{"a": "b", "c": "d"}],
        [{}, {"a": "b", "c": "e"}, {"a": "c", "c": "d"}, {"c": "d"}, {"a": "b"}],
    ),
    (
        'a == "b" || c == "d"',
        [{"a": "b", "c": "d"}, {"a": "b"}, {"c": "d"}],
        [{}, {"a": "e", "c": "e"}, {"c": "e"}, {"a": "e"}],
    ),
    ("a in {\"'\", '\"', \"c\"}", [{"a": "c"}, {"a": '"'}, {"a": "'"}], [{}, {"a": "e"}]),
    ("a not in {\"'\", '\"', \"c\"}", [{}, {"a": "e"}], [{"a": "c"}, {"a": '"'}, {"a": "'"}]),
    ("a == 'a'", [{"a": "a"}], []),
    ('a == "a"', [{"a": "a"}], []),
    ('a != "b"', [{"a": "a"}], []),
    ('a != "a"', [{}], []),
    ('a contains "a"', [{"a": "a"}, {"a": "bab"}, {"a": "aaa", "b": "c"}], [{}, {"a": "b"}, {"b": "aaa"}]),
    (
        'a starts with "a"',
        [{"a": "a"}, {"a": "abb"}, {"a": "aaa", "b": "c"}],
        [{}, {"a": "b"}, {"a": "baa"}, {"b": "aaa"}],
    ),
    (
        'a ends with "a"',
        [{"a": "a"}, {"a": "bba"}, {"a": "aaa", "b": "c"}],
        [{}, {"a": "b"}, {"a": "aab"}, {"b": "aaa"}],
    ),
    ('a in {"a"}', [{"a": "a"}], []),
    ('!a in {"a"}', [{"a": "b"}], []),
    ('a in {"a", "b"}', [{"a": "a"}], []),
    ('a in {"a", "b"}', [{"a": "b"}], []),
    ('a not in {"d", "e"}', [{"a": "a"}], []),
    ("has(a)", [{"a": "b"}], []),
    ("!has(a)", [{"b": "b"}], []),
    ("", [{}], []),
    (" ", [{}], []),
    ("", [{"a": "b"}], []),
    ("all()", [{}], []),
    (" all()", [{}], []),
    (" all()", [{"a": "b"}], []),
    ("global()", [{}], []),
    (" global()", [{}], []),
    (" global()", [{"a": "b"}], []),
    ("a == 'a'", [], [{"a": "b"}]),
    ("a == 'a'", [], [{}]),
    ('a != "a"', [], [{"a": "a"}]),
    ("a != 'a'", [], [{"a": "a"}]),
    ('a in {"a"}', [], [{"a": "b"}]),
    ('a not in {"a"}', [], [{"a": "a"}]),
    ('a in {"a", "b"}', [], [{"a": "c"}]),
    ("has(b)", [], [{"a": "b"}]),
    ("!!has(b)", [], [{"a": "b"}]),
    ("! has(a)", [], [{"a": "b"}]),
    ("!has(a)", [], [{"a": "b"}]),
    ("!!! has(a)", [], [{"a": "b"}]),
    ("!!!has(a)", [], [{"a": "b"}]),
    ("!! ! has(a)", [], [{"a": "b"}]),
    ("! !!has(a)", [], [{"a": "b"}]),
    ("a == 'a1' && b == 'b1'", [{"a": "a1", "b": "b1"}], []),
    ("a == 'a1' && b != 'b1'", [], [{"a": "a1", "b": "b1"}]),
    ("a != 'a1' && b == 'b1'", [], [{"a": "a1", "b": "b1"}]),
    ("a != 'a1' && b != 'b1'", [], [{"a": "a1", "b": "b1"}]),
    ("a != 'a1' && !b == 'b1'", [], [{"a": "a1", "b": "b1"}]),
    ("!a == 'a1' && b == 'b1'", [], [{"a": "a1", "b": "b1"}]),
    ("has(a) && !has(b)", [{"a": "a"}], []),
    ("!has(b) && has(a)", [{"a": "a"}], []),
    ("!(!has(a) || has(b))", [{"a": "a"}], []),
    ("!(has(b) || !has(a))", [{"a": "a"}], []),
    ("a == 'a1' || b == 'b1'", [{"a": "a1", "b": "b1"}], []),
    ("a == 'a1' || b != 'b1'", [{"a": "a1", "b": "b1"}], []),
    ("a != 'a1' || b == 'b1'", [{"a": "a1", "b": "b1"}], []),
    ("a != 'a1' || b != 'b1'", [], [{"a": "a1", "b": "b1"}]),
    ("! a == 'a1' || ! b == 'b1'", [], [{"a": "a1", "b": "b1"}]),
]

BAD = [
    "b == b",
    "b contains b",
    "b starts with b",
    "b ends with b",
    "'b1' == b",
    "b",
    "a b",
    "!",
    'foo == "bar" &',
    'foo == "bar" |',
    "foo != ||",
    'foo in {"", ||',
    'foo in ""',
    '"FOO',
    "\"FOO'",
    "'FOO",
    "(",
    '(a == "foo"',
    ")",
    "()",
    "%",
    'a == "b" && %',
    'a == "b" || %',
    "a ",
    "has(foo) &&",
]

# (input, canonical text, unique ID or None)
CANONICAL = [
    ("", "all()", "s:5y5I3VdRZfDU01O--xXAPx2yxCQQqMf0M6IWug"),
    (" all() ", "all()", "s:5y5I3VdRZfDU01O--xXAPx2yxCQQqMf0M6IWug"),
    (" (all() )", "all()", "s:5y5I3VdRZfDU01O--xXAPx2yxCQQqMf0M6IWug"),
    ("! (has( b)||! has(a ))", "!(has(b) || !has(a))", "s:Iss0uCleLYv1GSv_pNm7hAO58kE9jAx1NKyG3Q"),
    ('! (a == "b"&&! c != "d")', '!(a == "b" && !c != "d")', "s:lh3haoY1ikTRkd4UZu0nWSaIBknYLPJLX16d-w"),
    ('a == "\'"', 'a == "\'"', None),
    ("a == '\"'", "a == '\"'", None),
    ("a contains '\"'", "a contains '\"'", None),
    ('a contains "\'"', 'a contains "\'"', None),
    ("a startswith '\"'", "a starts with '\"'", None),
    ('a endswith "\'"', 'a ends with "\'"', None),
    ("a!='\"'", "a != '\"'", None),
    ('a in {"d"}', 'a in {"d"}', None),
    ('a in {"a", "b"}', 'a in {"a", "b"}', None),
    ('a in {"d", "a", "b"}', 'a in {"a", "b", "d"}', None),
    ('a in {"z", "x", "y", "a"}', 'a in {"a", "x", "y", "z"}', None),
    ('a in {"z", "z", "x", "y", "x", "a"}', 'a in {"a", "x", "y", "z"}', None),
]

# PrefixVisitor with prefix "visited/": (input, output)
PREFIX = "visited/"
PREFIXED = [
    ("k == 'v'", 'visited/k == "v"'),
    ("k != 'v'", 'visited/k != "v"'),
    ("k contains 'v'", 'visited/k contains "v"'),
    ("k starts with 'v'", 'visited/k starts with "v"'),
    ("k ends with 'v'", 'visited/k ends with "v"'),
    ("k == 'v' && x == 'y'", '(visited/k == "v" && visited/x == "y")'),
    ("k == 'v' || has(x)", '(visited/k == "v" || has(visited/x))'),
    ("!(k == 'v')", '!visited/k == "v"'),
    ("k in {'v'}", 'visited/k in {"v"}'),
    ("k not in {'v'}", 'visited/k not in {"v"}'),
    (
        "!(!(k == 'v' && has(t) || all()) && (a in {'b', 'c'}))",
        '!(!((visited/k == "v" && has(visited/t)) || all()) && visited/a in {"b", "c"})',
    ),
]

# (selector, {label: (must_be_present, must_be_absent, one_of values or None)} )
RESTRICTIONS = [
    ("", {}),
    ("all()", {}),
    ("global()", {}),
    ("a == 'value'", {"a": (True, False, {"value"})}),
    ("has(a)", {"a": (True, False, None)}),
    ("a in {'v1','v2'}", {"a": (True, False, {"v1", "v2"})}),
    ("a not in {'v1','v2'}", {}),
    ("a contains 'foo'", {"a": (True, False, None)}),
    ("a ends with 'foo'", {"a": (True, False, None)}),
    ("a starts with 'foo'", {"a": (True, False, None)}),
    ("a != 'value'", {}),
    ("a == 'v1' && a == 'v1'", {"a": (True, False, {"v1"})}),
    ("a == 'v1' && a == 'v2'", {"a": (True, False, set())}),
    ("a == 'v1' && has(a)", {"a": (True, False, {"v1"})}),
    ("a in {'v1','v2'} && a in {'v2','v3'} ", {"a": (True, False, {"v2"})}),
    ("a in {'v1','v2', 'v3'} && a in {'v2','v3'} ", {"a": (True, False, {"v2", "v3"})}),
    ("has(a) && a == 'v1'", {"a": (True, False, {"v1"})}),
    ("has(a) && !has(a)", {"a": (True, True, None)}),
    ("a == 'v1' && b == 'v2'", {"a": (True, False, {"v1"}), "b": (True, False, {"v2"})}),
    ("a == 'v1' && all()", {"a": (True, False, {"v1"})}),
    ("all() && a == 'v1'", {"a": (True, False, {"v1"})}),
    ("a == 'v1' || a == 'v2'", {"a": (True, False, {"v1", "v2"})}),
    ("has(a) || a == 'v2'", {"a": (True, False, None)}),
    ("a=='v2' || has(a)", {"a": (True, False, None)}),
    ("a=='v2' || has(b)", {}),
    ("a=='v2' || (has(b) && has(a))", {"a": (True, False, None)}),
    ("a == 'v1' || b == 'v2'", {}),
    ("a == 'v1' || all()", {}),
    ("all() || b == 'v2'", {}),
    ("!(a == 'value')", {}),
    ("!has(a)", {"a": (False, True, None)}),
    ("!!has(a)", {"a": (True, False, None)}),
]

# (input, tokens as (kind, value) with value only for LABEL/STRING/HAS, or None = error)
TOKENS = [
    ('a=="b"', [("LABEL", "a"), ("_EQ", None), ("STRING", "b")]),
    ('label == "value"', [("LABEL", "label"), ("_EQ", None), ("STRING", "value")]),
    ('label contains "value"', [("LABEL", "label"), ("_CONTAINS", None), ("STRING", "value")]),
    ('contains contains "contains"', [("LABEL", "contains"), ("_CONTAINS", None), ("STRING", "contains")]),
    ("contains contains 'contains'", [("LABEL", "contains"), ("_CONTAINS", None), ("STRING", "contains")]),
    ('label contains"value"', [("LABEL", "label"), ("_CONTAINS", None), ("STRING", "value")]),
    ('label startswith "value"', [("LABEL", "label"), ("_STARTSWITH", None), ("STRING", "value")]),
    ('label endswith "value"', [("LABEL", "label"), ("_ENDSWITH", None), ("STRING", "value")]),
    ('label starts with "value"', [("LABEL", "label"), ("_STARTSWITH", None), ("STRING", "value")]),
    ('startswith starts with "value"', [("LABEL", "startswith"), ("_STARTSWITH", None), ("STRING", "value")]),
    ('label ends with "value"', [("LABEL", "label"), ("_ENDSWITH", None), ("STRING", "value")]),
    ('endswith ends with "value"', [("LABEL", "endswith"), ("_ENDSWITH", None), ("STRING", "value")]),
    ('label starts  with "value"', [("LABEL", "label"), ("_STARTSWITH", None), ("STRING", "value")]),
    ('label ends  with "value"', [("LABEL", "label"), ("_ENDSWITH", None), ("STRING", "value")]),
    ('label starts foo "value"', None),
    ('label ends foo "value"', None),
    ('label squiggles "value"', None),
    (
        'a not in "bar" && !has(foo) || b in c',
        [
            ("LABEL", "a"), ("_NOTIN", None), ("STRING", "bar"), ("_AND", None), ("NOT", None),
            ("HAS", "foo"), ("_OR", None), ("LABEL", "b"), ("_IN", None), ("LABEL", "c"),
        ],
    ),
    ("has(calico/k8s_ns)", [("HAS", "calico/k8s_ns")]),
    ("has(calico/k8s_ns/role)", [("HAS", "calico/k8s_ns/role")]),
    ("has(calico/k8s_NS-.1/role)", [("HAS", "calico/k8s_NS-.1/role")]),
    (
        'calico/k8s_ns == "kube-system" && k8s-app == "kube-dns"',
        [
            ("LABEL", "calico/k8s_ns"), ("_EQ", None), ("STRING", "kube-system"), ("_AND", None),
            ("LABEL", "k8s-app"), ("_EQ", None), ("STRING", "kube-dns"),
        ],
    ),
    (
        'a  not  in  "bar"  &&  ! has( foo )  ||  b  in  c ',
        [
            ("LABEL", "a"), ("_NOTIN", None), ("STRING", "bar"), ("_AND", None), ("NOT", None),
            ("HAS", "foo"), ("_OR", None), ("LABEL", "b"), ("_IN", None), ("LABEL", "c"),
        ],
    ),
    (
        'a notin"bar"&&!has(foo)||b in"c"',
        [
            ("LABEL", "a"), ("_NOTIN", None), ("STRING", "bar"), ("_AND", None), ("NOT", None),
            ("HAS", "foo"), ("_OR", None), ("LABEL", "b"), ("_IN", None), ("STRING", "c"),
        ],
    ),
    ("a not in {}", [("LABEL", "a"), ("_NOTIN", None), ("_LBRACE", None), ("_RBRACE", None)]),
    (
        'a not in {"a"}',
        [("LABEL", "a"), ("_NOTIN", None), ("_LBRACE", None), ("STRING", "a"), ("_RBRACE", None)],
    ),
    (
        'a not in {"a","B"}',
        [
            ("LABEL", "a"), ("_NOTIN", None), ("_LBRACE", None), ("STRING", "a"), ("_COMMA", None),
            ("STRING", "B"), ("_RBRACE", None),
        ],
    ),
    ("global()", [("GLOBAL", None)]),
    ("all()", [("ALL", None)]),
]

# calico-selector's tree printer: OR(AND(...9 operands...), global(), all())
TREE_SELECTOR = (
    "a == 'b' && c != 'd' && q in  {'1', '2'} && z not in {'6', '7'} && b startswith 'g' && "
    "b endswith 'h' && w contains 'u' && has(o) && !has(r) || global() || all()"
)
TREE_AND_OPERANDS = [
    'a == "b"',
    'c != "d"',
    'q in {"1", "2"}',
    'z not in {"6", "7"}',
    'b starts with "g"',
    'b ends with "h"',
    'w contains "u"',
    "has(o)",
    "!has(r)",
]

# Vectors the spec (§A.1-A.2) cites from the current hand-written tokenizer's tests.
SPEC_TOKEN_ERRORS = [
    'label ends withs "value"',
    "a" * 513 + ' == "x"',
]
SPEC_VALID = [
    "a" * 512 + ' == "x"',
    'label startswith "value"',
    'a notin {"x"}',
    "a not in {}",
]
