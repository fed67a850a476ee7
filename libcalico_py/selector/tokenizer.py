"""Selector tokenizer: text -> tokens, with Calico's exact lexical rules.

Mirrors `libcalico-go/lib/selector/tokenizer/tokenizer.go`:

- Whitespace is space or TAB only, allowed between any tokens.
- Strings are '...' or "..." with no escapes; the other quote may appear inside.
- A label is 1..512 of [A-Za-z0-9_./-].
- Operator words (`contains`, `starts with`, `ends with`, `not in`, `in`) are only
  recognised right after a label, must end at a word boundary, and the two-word ones
  accept any run of spaces between the words, including none (`startswith`, `notin`).
  So `contains contains "x"` is the label `contains` and the operator `contains`.
- `has(`, `all(` and `global(` must be written with no space before `(`; spaces are
  allowed inside (`has( a )`). `has (a)` is the label `has` followed by `(`: an error.
- A lone `=`, `&` or `|` is an error; `!` is NOT unless followed by `=`.

Every token carries its offset so parse errors can point at it.
"""
from __future__ import annotations

import re
from typing import NamedTuple

from libcalico_py.selector.errors import SelectorError

MAX_LABEL_LENGTH = 512

LABEL, STRING, LBRACE, RBRACE, COMMA, EQ, NE, IN, NOT, NOT_IN = range(10)
CONTAINS, STARTS_WITH, ENDS_WITH, ALL, HAS, LPAREN, RPAREN, AND, OR, GLOBAL, EOF = range(10, 21)

DESCRIPTIONS = {
    LABEL: "label", STRING: "string", LBRACE: "'{'", RBRACE: "'}'", COMMA: "','",
    EQ: "'=='", NE: "'!='", IN: "'in'", NOT: "'!'", NOT_IN: "'not in'",
    CONTAINS: "'contains'", STARTS_WITH: "'starts with'", ENDS_WITH: "'ends with'",
    ALL: "'all()'", HAS: "'has()'", LPAREN: "'('", RPAREN: "')'", AND: "'&&'", OR: "'||'",
    GLOBAL: "'global()'", EOF: "end of selector",
}


class Token(NamedTuple):
    kind: int
    value: str
    pos: int

    def describe(self) -> str:
        if self.kind == LABEL:
            return f"label {self.value!r}"
        if self.kind == STRING:
            return f"string {self.value!r}"
        if self.kind == HAS:
            return f"'has({self.value})'"
        return DESCRIPTIONS[self.kind]


_SPACE = re.compile(r"[ \t]*")
_IDENT = re.compile(r"[A-Za-z0-9_./-]*")
# Operators after a label; the lookahead is Calico's word-boundary check.
_LABEL_OPERATOR = re.compile(
    r"(?:(contains)|(starts)[ \t]*with|(ends)[ \t]*with|(not)[ \t]*in|(in))(?![A-Za-z0-9_./-])"
)
_OPERATOR_KINDS = (CONTAINS, STARTS_WITH, ENDS_WITH, NOT_IN, IN)
_SINGLE = {"(": LPAREN, ")": RPAREN, "{": LBRACE, "}": RBRACE, ",": COMMA}
_DOUBLE = {"=": ("==", EQ), "&": ("&&", AND), "|": ("||", OR)}
_FUNCTIONS = (("has(", HAS), ("all(", ALL), ("global(", GLOBAL))
EXPECTED_OPERATOR = "an operator (==, !=, in, not in, contains, starts with, ends with)"


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    append = tokens.append
    n = len(text)
    pos = _SPACE.match(text, 0).end()
    while pos < n:
        c = text[pos]
        kind = _SINGLE.get(c)
        if kind is not None:
            append(Token(kind, c, pos))
            pos += 1
        elif c == '"' or c == "'":
            end = text.find(c, pos + 1)
            if end < 0:
                raise SelectorError(text, pos, "unterminated string", f"a closing {c}")
            append(Token(STRING, text[pos + 1:end], pos))
            pos = end + 1
        elif c in _DOUBLE:
            pair, kind = _DOUBLE[c]
            if not text.startswith(pair, pos):
                raise SelectorError(text, pos, f"lone {c!r}", repr(pair))
            append(Token(kind, pair, pos))
            pos += 2
        elif c == "!":
            if text.startswith("!=", pos):
                append(Token(NE, "!=", pos))
                pos += 2
            else:
                append(Token(NOT, "!", pos))
                pos += 1
        elif tokens and tokens[-1].kind == LABEL:
            m = _LABEL_OPERATOR.match(text, pos)
            if m is None:
                raise SelectorError(text, pos, f"unexpected text after label {tokens[-1].value!r}",
                                    EXPECTED_OPERATOR)
            append(Token(_OPERATOR_KINDS[m.lastindex - 1], m.group(0), pos))
            pos = m.end()
        else:
            pos = _function_or_label(text, pos, tokens)
        pos = _SPACE.match(text, pos).end()
    append(Token(EOF, "", n))
    return tokens


def _function_or_label(text: str, pos: int, tokens: list[Token]) -> int:
    for prefix, kind in _FUNCTIONS:
        if text.startswith(prefix, pos):
            name = prefix[:-1]
            inner = _SPACE.match(text, pos + len(prefix)).end()
            label = ""
            if kind == HAS:
                label, inner = _label_at(text, inner, f"a label name inside {name}(")
                inner = _SPACE.match(text, inner).end()
            if not text.startswith(")", inner):
                raise SelectorError(text, inner, f"no closing ')' after {name}(", "')'")
            tokens.append(Token(kind, label, pos))
            return inner + 1
    label, end = _label_at(text, pos, "a label, has(), all(), global(), '!' or '('")
    tokens.append(Token(LABEL, label, pos))
    return end


def _label_at(text: str, pos: int, expected: str) -> tuple[str, int]:
    end = _IDENT.match(text, pos).end()
    if end == pos:
        what = f"unexpected character {text[pos]!r}" if pos < len(text) else "unexpected end of selector"
        raise SelectorError(text, pos, what, expected)
    if end - pos > MAX_LABEL_LENGTH:
        raise SelectorError(text, pos, f"label longer than {MAX_LABEL_LENGTH} characters",
                            f"a label of at most {MAX_LABEL_LENGTH} characters")
    return text[pos:end], end
