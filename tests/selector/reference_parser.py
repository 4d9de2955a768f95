"""A test oracle: a plain recursive-descent parser that follows the structure of Calico's
parser (parseOrExpression / parseAndExpression / parseOperation), reading our tokenizer's
output. It renders Calico's canonical text directly. Small inputs only (it recurses)."""

from netpolicy.selector._tokenizer import tokenize


class Reject(Exception):
    pass


def _quote(v):
    q = "'" if '"' in v else '"'
    return q + v + q


class _Parser:
    def __init__(self, text):
        self.toks = [(k, v) for k, v, _ in tokenize(text)] + [("EOF", None)]
        self.i = 0

    def peek(self, ahead=0):
        j = min(self.i + ahead, len(self.toks) - 1)
        return self.toks[j][0]

    def take(self):
        tok = self.toks[self.i]
        self.i = min(self.i + 1, len(self.toks) - 1)
        return tok

    def or_expr(self):
        parts = [self.and_expr()]
        while self.peek() == "_OR":
            self.take()
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else "(" + " || ".join(parts) + ")"

    def and_expr(self):
        parts = [self.operation()]
        while self.peek() == "_AND":
            self.take()
            parts.append(self.operation())
        return parts[0] if len(parts) == 1 else "(" + " && ".join(parts) + ")"

    def operation(self):
        negated = False
        while self.peek() == "NOT":
            self.take()
            negated = not negated
        kind, value = self.take()
        if kind == "HAS":
            out = f"has({value})"
        elif kind == "ALL":
            out = "all()"
        elif kind == "GLOBAL":
            out = "global()"
        elif kind == "LABEL":
            op, _ = self.take()
            words = {"_EQ": "==", "_NE": "!=", "_CONTAINS": "contains", "_STARTSWITH": "starts with",
                     "_ENDSWITH": "ends with"}
            if op in words:
                lit, body = self.take()
                if lit != "STRING":
                    raise Reject("expected string")
                out = f"{value} {words[op]} {_quote(body)}"
            elif op in ("_IN", "_NOTIN"):
                if self.take()[0] != "_LBRACE":
                    raise Reject("expected set")
                items = set()
                while self.peek() == "STRING":
                    items.add(self.take()[1])
                    if self.peek() == "_COMMA":
                        self.take()
                    else:
                        break
                if self.take()[0] != "_RBRACE":
                    raise Reject("expected }")
                word = "in" if op == "_IN" else "not in"
                out = f"{value} {word} {{" + ", ".join(_quote(v) for v in sorted(items)) + "}"
            else:
                raise Reject("expected operator")
        elif kind == "_LPAR":
            out = self.or_expr()
            if self.take()[0] != "_RPAR":
                raise Reject("expected )")
        else:
            raise Reject("unexpected token")
        return "!" + out if negated else out


def canonical(text):
    """Calico's canonical text of ``text``; raises Reject (or SelectorSyntaxError from
    the tokenizer) when Calico would reject it."""
    p = _Parser(text)
    if p.peek() == "EOF":
        return "all()"
    out = p.or_expr()
    if p.peek() != "EOF":
        raise Reject("trailing tokens")
    return out
