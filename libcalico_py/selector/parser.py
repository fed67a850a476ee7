"""Selector parser: tokens -> syntax tree, with Calico's grammar and precedence.

Mirrors `libcalico-go/lib/selector/parser/parser.go`:

    selector = [ or ] EOF                 empty or blank text means all()
    or       = and { "||" and }           lowest precedence
    and      = op { "&&" op }
    op       = { "!" } ( has(k) | all() | global() | "(" or ")"
                         | k ("==" | "!=" | contains | starts with | ends with) string
                         | k ("in" | "not in") "{" [ string { "," string } [","] ] "}" )

A run of `!` binds to the one operand after it and collapses by parity (`!!has(a)` is
`has(a)`), so `!a == "x"` means `!(a == "x")`. Redundant parentheses disappear from
the tree; sets are sorted and de-duplicated. `(a && b) && c` stays nested, as in
Calico, so its canonical text is `((a && b) && c)`.

Calico has no nesting limit; we stop at `MAX_NESTING` levels of parentheses so that
hostile input raises SelectorError instead of exhausting Python's stack.
"""
from __future__ import annotations

from functools import lru_cache

from libcalico_py.selector import ast
from libcalico_py.selector import tokenizer as tk
from libcalico_py.selector.errors import SelectorError
from libcalico_py.selector.selector import Selector

MAX_NESTING = 128

_LABEL_OPS = {
    tk.EQ: ast.EQ, tk.NE: ast.NE, tk.CONTAINS: ast.CONTAINS,
    tk.STARTS_WITH: ast.STARTS_WITH, tk.ENDS_WITH: ast.ENDS_WITH,
}
_OPERAND_START = "a label, has(), all(), global(), '!' or '('"


@lru_cache(maxsize=8192)
def parse(text: str) -> Selector:
    """Parse a selector; raises SelectorError saying where and what was expected.
    Results are cached by text and immutable, so sharing them is safe."""
    if not isinstance(text, str):
        raise TypeError(f"selector must be a string, not {type(text).__name__}")
    return Selector(_Parser(text).parse_root())


def validate_selector(text: str) -> str | None:
    """None if `text` is a valid selector, else the reason (as Calico's
    `selector.Validate`; `global()` is syntactically valid anywhere)."""
    try:
        parse(text)
    except SelectorError as e:
        return e.reason
    return None


GLOBAL_ONLY_IN_ENTITY_NAMESPACE_SELECTOR = "global() can only be used in an EntityRule namespaceSelector"
GLOBAL_NOT_COMBINABLE = "global() cannot be combined with other selectors"


def global_selector_error(text: str, *, entity_namespace_selector: bool = False) -> str | None:
    """Calico's rules for `global()` (validator.go): it is only meaningful in an
    EntityRule's namespaceSelector, and there it must be the whole selector. Returns
    the reason, or None if `text` respects them. Raises SelectorError if `text` does
    not parse (validate it first with `validate_selector`)."""
    sel = parse(text)
    if not sel.uses_global:
        return None
    if not entity_namespace_selector:
        return GLOBAL_ONLY_IN_ENTITY_NAMESPACE_SELECTOR
    if type(sel.root) is not ast.Global:
        return GLOBAL_NOT_COMBINABLE
    return None


class _Parser:
    __slots__ = ("text", "tokens", "i", "depth")

    def __init__(self, text: str):
        self.text = text
        self.tokens = tk.tokenize(text)
        self.i = 0
        self.depth = 0

    def fail(self, token: tk.Token, expected: str) -> SelectorError:
        return SelectorError(self.text, token.pos, f"unexpected {token.describe()}", expected)

    def parse_root(self) -> ast.Node:
        if self.tokens[0].kind == tk.EOF:
            return ast.All()
        node = self.parse_or()
        tok = self.tokens[self.i]
        if tok.kind != tk.EOF:
            raise self.fail(tok, "'&&', '||' or end of selector")
        return node

    def parse_or(self) -> ast.Node:
        operands = [self.parse_and()]
        tokens = self.tokens
        while tokens[self.i].kind == tk.OR:
            self.i += 1
            operands.append(self.parse_and())
        return operands[0] if len(operands) == 1 else ast.Or(tuple(operands))

    def parse_and(self) -> ast.Node:
        operands = [self.parse_op()]
        tokens = self.tokens
        while tokens[self.i].kind == tk.AND:
            self.i += 1
            operands.append(self.parse_op())
        return operands[0] if len(operands) == 1 else ast.And(tuple(operands))

    def parse_op(self) -> ast.Node:
        tokens = self.tokens
        negated = False
        while tokens[self.i].kind == tk.NOT:
            negated = not negated
            self.i += 1
        tok = tokens[self.i]
        kind = tok.kind
        if kind == tk.HAS:
            node: ast.Node = ast.Has(tok.value)
            self.i += 1
        elif kind == tk.ALL:
            node = ast.All()
            self.i += 1
        elif kind == tk.GLOBAL:
            node = ast.Global()
            self.i += 1
        elif kind == tk.LABEL:
            node = self.parse_label_op()
        elif kind == tk.LPAREN:
            self.depth += 1
            if self.depth > MAX_NESTING:
                raise SelectorError(self.text, tok.pos,
                                    f"parentheses nested more than {MAX_NESTING} deep")
            self.i += 1
            node = self.parse_or()
            close = tokens[self.i]
            if close.kind != tk.RPAREN:
                raise self.fail(close, "')'" if close.kind == tk.EOF else "'&&', '||' or ')'")
            self.i += 1
            self.depth -= 1
        else:
            raise self.fail(tok, _OPERAND_START)
        return ast.Not(node) if negated else node

    def parse_label_op(self) -> ast.Node:
        tokens = self.tokens
        label = tokens[self.i].value
        op = tokens[self.i + 1]
        if op.kind in _LABEL_OPS:
            value = tokens[self.i + 2]
            if value.kind != tk.STRING:
                raise self.fail(value, f"a quoted string after {op.describe()}")
            self.i += 3
            return ast.LabelOp(_LABEL_OPS[op.kind], label, value.value)
        if op.kind == tk.IN or op.kind == tk.NOT_IN:
            brace = tokens[self.i + 2]
            if brace.kind != tk.LBRACE:
                raise self.fail(brace, f"'{{' starting a set after {op.describe()}")
            self.i += 3
            values = set()
            while tokens[self.i].kind == tk.STRING:
                values.add(tokens[self.i].value)
                self.i += 1
                if tokens[self.i].kind != tk.COMMA:
                    break
                self.i += 1
            end = tokens[self.i]
            if end.kind != tk.RBRACE:
                raise self.fail(end, "a quoted string, ',' or '}'")
            self.i += 1
            return ast.LabelSetOp(op.kind == tk.NOT_IN, label, tuple(sorted(values)))
        raise self.fail(op, f"{tk.EXPECTED_OPERATOR} after label {label!r}")
