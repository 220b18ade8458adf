"""C tokenizer for preprocessing: identifiers, numbers, strings, punctuators.

Comments vanish, line continuations are joined, and every token keeps the source
line it came from, so expanded fields still point at the line a developer wrote.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

IDENT, NUMBER, STRING, CHAR, PUNCT, DIRECTIVE = "ident", "number", "string", "char", "punct", "directive"

_TOKEN_RE = re.compile(
    r"""
    (?P<ws>[ \t\r\f\v]+|\\\r?\n)
  | (?P<nl>\n)
  | (?P<comment>//[^\n]*|/\*.*?(?:\*/|\Z))
  | (?P<ident>[A-Za-z_$][A-Za-z0-9_$]*)
  | (?P<number>\.?[0-9](?:[eEpP][+-]|[A-Za-z0-9_.'])*)
  | (?P<string>(?:L|u8|u|U)?"(?:[^"\\\n]|\\.)*"?)
  | (?P<char>'(?:[^'\\\n]|\\.)*'?)
  | (?P<punct>\.\.\.|<<=|>>=|->|\+\+|--|<<|>>|<=|>=|==|!=|&&|\|\||\#\#|[-+*/%&|^!~<>=?:;,.(){}\[\]\#])
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)


@dataclass(slots=True)
class Token:
    kind: str
    text: str
    line: int
    hide: frozenset = frozenset()
    space_before: bool = False

    def __repr__(self) -> str:
        return f"{self.text!r}@{self.line}"


def tokenize(text: str, first_line: int = 1, directives: bool = False) -> list[Token]:
    """Tokenize C source.  With ``directives``, a line starting with '#' becomes a
    single DIRECTIVE token holding the directive text (for #if inside initializers)."""
    tokens: list[Token] = []
    line = first_line
    at_line_start = True
    space = False
    pos = 0
    n = len(text)
    while pos < n:
        m = _TOKEN_RE.match(text, pos)
        kind = m.lastgroup
        value = m.group()
        if kind == "ws" or kind == "comment":
            line += value.count("\n")
            space = True
            pos = m.end()
            continue
        if kind == "nl":
            line += 1
            at_line_start = True
            space = True
            pos = m.end()
            continue
        if directives and at_line_start and value == "#":
            end = _directive_end(text, pos)
            body = text[pos:end]
            tokens.append(Token(DIRECTIVE, _clean_directive(body), line))
            line += body.count("\n")
            pos = end
            continue
        at_line_start = False
        if kind == "other":
            kind = PUNCT
        tokens.append(Token(kind, value, line, frozenset(), space))
        space = False
        pos = m.end()
    return tokens


def _directive_end(text: str, pos: int) -> int:
    """End offset of a preprocessor directive starting at pos (honours '\\' continuations)."""
    while True:
        nl = text.find("\n", pos)
        if nl < 0:
            return len(text)
        if (nl > 0 and text[nl - 1] == "\\") or (nl > 1 and text[nl - 1] == "\r" and text[nl - 2] == "\\"):
            pos = nl + 1
            continue
        return nl


_COMMENT_RE = re.compile(r"//[^\n]*|/\*.*?(?:\*/|\Z)", re.DOTALL)


def _clean_directive(body: str) -> str:
    body = body.replace("\\\r\n", " ").replace("\\\n", " ")
    body = _COMMENT_RE.sub(" ", body)
    return " ".join(body.split())


def matching(tokens, start: int, opening: str = "(", closing: str = ")") -> int | None:
    """The index of the token closing the OPENING bracket at or after START, or None."""
    depth = 0
    for i in range(start, len(tokens)):
        if tokens[i].text == opening:
            depth += 1
        elif tokens[i].text == closing:
            depth -= 1
            if depth == 0:
                return i
    return None


def join_tokens(tokens: list[Token]) -> str:
    """Spell tokens back as C text (used for stringizing and messages)."""
    out = []
    for i, tok in enumerate(tokens):
        if i and tok.space_before:
            out.append(" ")
        out.append(tok.text)
    return "".join(out)
