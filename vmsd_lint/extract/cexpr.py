"""Evaluation of preprocessed C expressions, type names and member declarations.

Integer constant expressions with sizeof/typeof of the tree's own types, casts,
member access through null pointers (``((State *)0)->field``, as ``sizeof_field``
expands), string literals, and references to symbols (``&vmstate_foo``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from .ctypes import PRIMITIVE_SIZES, Array, CType, Function, Opaque, Pointer, Prim, Record, Unresolved, layout
from .lexer import CHAR, IDENT, NUMBER, PUNCT, STRING, Token


class TypeEnv(Protocol):
    def constant(self, name: str) -> int | None: ...
    def typedef(self, name: str) -> CType | None: ...
    def record(self, kind: str, tag: str) -> Record | None: ...
    def enum_type(self, tag: str) -> CType: ...


@dataclass(frozen=True, slots=True)
class Symbol:
    """An identifier that is not a constant: a function or variable name."""
    name: str


@dataclass(frozen=True, slots=True)
class Address:
    """``&symbol``."""
    name: str


@dataclass(frozen=True, slots=True)
class Typed:
    """An expression whose type matters more than its value, e.g. ((S *)0)->f."""
    ctype: CType
    value: object = None


@dataclass(frozen=True, slots=True)
class Compound:
    """A compound literal ``(type) { ... }``: type tokens and the brace-list tokens."""
    type_tokens: tuple[Token, ...]
    body: tuple[Token, ...]


_QUALIFIERS = {"const", "volatile", "restrict", "__restrict", "static", "register", "extern",
               "inline", "signed", "unsigned", "short", "long", "int", "char", "_Bool", "float",
               "double", "void", "struct", "union", "enum", "typeof", "__typeof__", "__int128",
               "_Atomic", "__attribute__", "QEMU_PACKED"}
_BASIC = {"signed", "unsigned", "short", "long", "int", "char", "_Bool", "float", "double", "void",
          "__int128"}

# <stdint.h> and <limits.h> are not part of QEMU's tree; their values are the C library's.
_STDINT_CONSTANT_MACROS = {"INT8_C", "INT16_C", "INT32_C", "INT64_C", "UINT8_C", "UINT16_C", "UINT32_C",
                           "UINT64_C", "INTMAX_C", "UINTMAX_C"}
_STDINT_LIMITS = {
    "INT8_MAX": 2**7 - 1, "INT16_MAX": 2**15 - 1, "INT32_MAX": 2**31 - 1, "INT64_MAX": 2**63 - 1,
    "UINT8_MAX": 2**8 - 1, "UINT16_MAX": 2**16 - 1, "UINT32_MAX": 2**32 - 1, "UINT64_MAX": 2**64 - 1,
    "INT8_MIN": -2**7, "INT16_MIN": -2**15, "INT32_MIN": -2**31, "INT64_MIN": -2**63,
    "CHAR_BIT": 8, "INT_MAX": 2**31 - 1, "INT_MIN": -2**31, "UINT_MAX": 2**32 - 1,
    "LONG_MAX": 2**63 - 1, "ULONG_MAX": 2**64 - 1, "SIZE_MAX": 2**64 - 1,
}

_BINARY = {
    "||": 1, "&&": 2, "|": 3, "^": 4, "&": 5, "==": 6, "!=": 6, "<": 7, ">": 7, "<=": 7, ">=": 7,
    "<<": 8, ">>": 8, "+": 9, "-": 9, "*": 10, "/": 10, "%": 10,
}


_POSTFIX = ("->", ".", "[", "(", "++", "--")


def parse_int(text: str) -> int | float:
    t = text.rstrip("uUlL")
    try:
        if t.startswith(("0x", "0X")):
            return int(t, 16)
        if t.startswith(("0b", "0B")):
            return int(t[2:], 2)
        if len(t) > 1 and t.startswith("0") and t.isdigit():
            return int(t, 8)
        return int(t)
    except ValueError:
        try:
            return float(text.rstrip("fFlL"))
        except ValueError:
            raise Unresolved(f"bad number {text!r}") from None


def unescape_string(text: str) -> str:
    body = text[text.index('"') + 1:-1] if text.endswith('"') else text[text.index('"') + 1:]
    return body.encode("latin-1", "backslashreplace").decode("unicode_escape", "replace")


class Evaluator:
    def __init__(self, tokens: list[Token] | tuple[Token, ...], env: TypeEnv):
        self.toks = tokens
        self.pos = 0
        self.env = env

    # -- helpers -----------------------------------------------------------
    def peek(self, offset: int = 0) -> Token | None:
        i = self.pos + offset
        return self.toks[i] if i < len(self.toks) else None

    def next(self) -> Token:
        tok = self.peek()
        if tok is None:
            raise Unresolved("unexpected end of expression")
        self.pos += 1
        return tok

    def expect(self, text: str) -> None:
        tok = self.next()
        if tok.text != text:
            raise Unresolved(f"expected {text!r}, found {tok.text!r}")

    def at(self, text: str) -> bool:
        tok = self.peek()
        return tok is not None and tok.text == text and tok.kind in (PUNCT, IDENT)

    # -- entry points ------------------------------------------------------
    def evaluate(self):
        value = self.conditional()
        if self.peek() is not None:
            raise Unresolved(f"unexpected {self.peek().text!r} in expression")
        return value

    # -- expressions -------------------------------------------------------
    def conditional(self):
        cond = self.binary(1)
        if self.at("?"):
            self.next()
            a = self.conditional()
            self.expect(":")
            b = self.conditional()
            return a if _truth(cond) else b
        return cond

    def binary(self, min_prec: int):
        start = self.pos
        try:
            left = self.unary()
        except Unresolved:
            if not self._cancels_out(start):
                raise
            left = 0  # x - x is 0 whatever x is (QEMU_BUILD_BUG_ON_ZERO)
        while True:
            tok = self.peek()
            if tok is None or tok.kind != PUNCT or tok.text not in _BINARY:
                return left
            prec = _BINARY[tok.text]
            if prec < min_prec:
                return left
            self.next()
            right_start = self.pos
            if (tok.text == "&&" and not _truth(left)) or (tok.text == "||" and _truth(left)):
                self.skip_binary(prec + 1)
                left = 0 if tok.text == "&&" else 1
                continue
            try:
                right = self.binary(prec + 1)
            except Unresolved:
                if tok.text == "-" and self._same_span(start, right_start):
                    left = 0  # x - x is 0 whatever x is (QEMU_BUILD_BUG_ON_ZERO)
                    continue
                raise
            left = _apply(tok.text, left, right)

    def _cancels_out(self, start: int) -> bool:
        """Is the operand at `start` followed by `- <the same tokens>`?  Leaves the
        position after both when it is."""
        self.pos = start
        self.skip_binary(_BINARY["-"] + 1)
        middle = self.pos
        tok = self.peek()
        if tok is None or tok.text != "-" or middle == start:
            return False
        return self._same_span(start, middle + 1)

    def _same_span(self, start: int, right_start: int) -> bool:
        left_span = [t.text for t in self.toks[start:right_start - 1]]
        self.pos = right_start
        self.skip_binary(_BINARY["-"] + 1)
        right_span = [t.text for t in self.toks[right_start:self.pos]]
        return left_span == right_span

    def skip_binary(self, min_prec: int) -> None:
        """Skip an operand without evaluating it (short-circuit)."""
        depth = 0
        while self.peek() is not None:
            tok = self.peek()
            if tok.text in "([{" and tok.kind == PUNCT:
                depth += 1
            elif tok.text in ")]}" and tok.kind == PUNCT:
                if depth == 0:
                    return
                depth -= 1
            elif depth == 0 and tok.kind == PUNCT and (tok.text in ("?", ":", ",") or
                                                       (tok.text in _BINARY and _BINARY[tok.text] < min_prec)):
                return
            self.pos += 1

    def unary(self):
        tok = self.peek()
        if tok is None:
            raise Unresolved("missing operand")
        if tok.kind == PUNCT:
            if tok.text == "-":
                self.next()
                return -_int(self.unary())
            if tok.text == "+":
                self.next()
                return _int(self.unary())
            if tok.text == "!":
                self.next()
                return 0 if _truth(self.unary()) else 1
            if tok.text == "~":
                self.next()
                return ~_int(self.unary())
            if tok.text == "&":
                self.next()
                name, after = self.peek(), self.peek(1)
                if name is not None and name.kind == IDENT and (after is None or after.text not in _POSTFIX):
                    self.next()  # `&symbol`: never an enum constant (not an lvalue), so not looked up
                    return Address(name.text)
                return self.address_of(self.unary())
            if tok.text == "*":
                self.next()
                value = self.unary()
                if isinstance(value, Typed) and isinstance(value.ctype, (Pointer, Array)):
                    inner = value.ctype.target if isinstance(value.ctype, Pointer) else value.ctype.elem
                    return Typed(inner)
                raise Unresolved("dereference of an untyped value")
            if tok.text == "(" and self.is_type_start(1):
                self.next()
                ctype, type_tokens = self.type_name()
                self.expect(")")
                if self.at("{"):
                    body = self.balanced("{", "}")
                    return Compound(tuple(type_tokens), tuple(body))
                value = self.unary()
                if isinstance(ctype, (Pointer, Array, Record)):
                    return Typed(ctype, value)
                if isinstance(value, (int, float)) and isinstance(ctype, Prim):
                    return _convert(value, ctype)
                return value
        if tok.kind == IDENT and tok.text in ("sizeof", "__alignof__", "_Alignof", "alignof"):
            self.next()
            ctype = self.operand_type()
            return ctype.size if tok.text == "sizeof" else ctype.align
        return self.postfix(self.primary())

    def operand_type(self) -> CType:
        if self.at("(") and self.is_type_start(1):
            self.next()
            ctype, _ = self.type_name()
            self.expect(")")
            return ctype
        return _type_of(self.unary())

    def address_of(self, value):
        if isinstance(value, Symbol):
            return Address(value.name)
        if isinstance(value, Typed):
            return Typed(Pointer(value.ctype), value.value)
        raise Unresolved("address of a non-symbol")

    def primary(self):
        tok = self.next()
        if tok.kind == NUMBER:
            return parse_int(tok.text)
        if tok.kind == STRING:
            parts = [unescape_string(tok.text)]
            while self.peek() is not None and self.peek().kind == STRING:
                parts.append(unescape_string(self.next().text))
            return "".join(parts)
        if tok.kind == CHAR:
            body = tok.text[1:-1].encode("latin-1", "backslashreplace").decode("unicode_escape")
            return ord(body[0]) if body else 0
        if tok.kind == PUNCT and tok.text == "(":
            value = self.comma_expression()
            self.expect(")")
            return value
        if tok.kind == PUNCT and tok.text == "{":
            raise Unresolved("unexpected brace list")
        if tok.kind != IDENT:
            raise Unresolved(f"unexpected {tok.text!r}")
        return self.identifier(tok)

    def comma_expression(self):
        value = self.conditional()
        while self.at(","):
            self.next()
            value = self.conditional()
        return value

    def identifier(self, tok: Token):
        name = tok.text
        if name == "NULL":
            return 0
        if name in ("true", "false"):
            return int(name == "true")
        if name == "__builtin_types_compatible_p":
            self.expect("(")
            a, _ = self.type_name()
            self.expect(",")
            b, _ = self.type_name()
            self.expect(")")
            return int(_same_type(a, b))
        if name in ("offsetof", "__builtin_offsetof"):
            self.balanced("(", ")")
            raise Unresolved("offsetof is not evaluated")
        if name in _STDINT_CONSTANT_MACROS and self.at("("):
            return self.postfix_args_value()
        if name in _STDINT_LIMITS:
            return _STDINT_LIMITS[name]
        if name in ("__builtin_constant_p",):
            self.balanced("(", ")")
            return 0
        value = self.env.constant(name)
        if value is not None:
            return value
        return Symbol(name)

    def postfix_args_value(self):
        """INT64_C(x) and friends (from <stdint.h>, outside the tree): the value of x."""
        args = self.balanced("(", ")")
        return Evaluator(args, self.env).evaluate()

    def postfix(self, value):
        while True:
            tok = self.peek()
            if tok is None or tok.kind != PUNCT:
                return value
            if tok.text in ("->", "."):
                self.next()
                member = self.next().text
                value = Typed(_member_type(value, member, tok.text == "->"))
            elif tok.text == "[":
                self.next()
                self.conditional()
                self.expect("]")
                value = Typed(_element_type(value))
            elif tok.text == "(":
                args = self.balanced("(", ")")
                name = value.name if isinstance(value, Symbol) else "?"
                raise Unresolved(f"call to {name}() in a constant expression ({len(args)} tokens)")
            else:
                return value

    def balanced(self, open_text: str, close_text: str) -> list[Token]:
        self.expect(open_text)
        depth = 1
        start = self.pos
        while True:
            tok = self.next()
            if tok.kind == PUNCT and tok.text == open_text:
                depth += 1
            elif tok.kind == PUNCT and tok.text == close_text:
                depth -= 1
                if depth == 0:
                    return list(self.toks[start:self.pos - 1])

    # -- types -------------------------------------------------------------
    def is_type_start(self, offset: int = 0) -> bool:
        tok = self.peek(offset)
        if tok is None or tok.kind != IDENT:
            return False
        if tok.text in _QUALIFIERS or tok.text in PRIMITIVE_SIZES:
            return True
        if self.env.constant(tok.text) is not None:
            return False
        following = self.peek(offset + 1)
        if offset and following is not None and following.text == "*":
            # `(Name *)` and `(Name **)` can only be casts
            j = offset + 1
            while self.peek(j) is not None and self.peek(j).text == "*":
                j += 1
            if self.peek(j) is not None and self.peek(j).text == ")":
                return True
        if self.env.typedef(tok.text) is not None:
            return following is None or following.text in (")", "*", "[", ",", "(") or following.kind == IDENT
        return False

    def type_name(self) -> tuple[CType, list[Token]]:
        start = self.pos
        base = self.specifiers()
        ctype = self.abstract_declarator(base)
        return ctype, list(self.toks[start:self.pos])

    def specifiers(self) -> CType:
        words: list[str] = []
        ctype: CType | None = None
        while self.peek() is not None and self.peek().kind == IDENT:
            word = self.peek().text
            if word in ("const", "volatile", "restrict", "__restrict", "static", "register",
                        "extern", "inline", "_Atomic", "QEMU_PACKED"):
                self.next()
                continue
            if word == "__attribute__":
                self.next()
                self.balanced("(", ")")
                continue
            if word in ("struct", "union", "enum"):
                self.next()
                tag = self.next()
                if tag.text == "{":
                    raise Unresolved(f"anonymous {word} in a type name")
                ctype = self.env.enum_type(tag.text) if word == "enum" else self.env.record(word, tag.text)
                if ctype is None:  # an incomplete type: fine behind a pointer
                    ctype = Opaque(f"{word} {tag.text}", f"{word} {tag.text} is not defined in the tree")
                continue
            if word in ("typeof", "__typeof__", "__typeof"):
                self.next()
                self.expect("(")
                if self.is_type_start():
                    ctype, _ = self.type_name()
                else:
                    ctype = _type_of(self.comma_expression())
                self.expect(")")
                continue
            if word in _BASIC:
                words.append(word)
                self.next()
                continue
            if ctype is None and not words:
                if word in PRIMITIVE_SIZES:
                    ctype = Prim(word, PRIMITIVE_SIZES[word])
                    self.next()
                    continue
                resolved = self.env.typedef(word)
                if resolved is not None:
                    ctype = resolved
                    self.next()
                    continue
                if self.peek(1) is not None and self.peek(1).text == "*":
                    self.next()
                    return Opaque(word, f"type '{word}' is not defined in the tree")
            break
        if ctype is not None:
            return ctype
        if not words:
            tok = self.peek()
            raise Unresolved(f"unknown type {tok.text if tok else '<end>'!r}")
        return _basic_type(words)

    def abstract_declarator(self, base: CType) -> CType:
        ctype = base
        while self.at("*") or (self.peek() is not None and self.peek().text in ("const", "volatile", "restrict")):
            if self.next().text == "*":
                ctype = Pointer(ctype)
        if self.at("(") and self.peek(1) is not None and self.peek(1).text == "*":
            # pointer to array or function: (*)[n] or (*)(args)
            self.next()
            self.next()
            while self.at("*"):
                self.next()
            self.expect(")")
            inner = self.array_suffix(ctype)
            if self.at("("):
                self.balanced("(", ")")
                inner = Function()
            return Pointer(inner)
        return self.array_suffix(ctype)

    def array_suffix(self, ctype: CType) -> CType:
        dims: list[int] = []
        while self.at("["):
            body = self.balanced("[", "]")
            dims.append(_int(Evaluator(body, self.env).evaluate()) if body else 0)
        for dim in reversed(dims):
            ctype = Array(ctype, dim)
        return ctype


def _basic_type(words: list[str]) -> CType:
    signed = [w for w in words if w not in ("signed", "unsigned")]
    longs = signed.count("long")
    if "char" in signed:
        return Prim("char", 1)
    if "short" in signed:
        return Prim("short", 2)
    if longs:
        if longs == 1 and "double" not in signed:
            return Prim("long", 8)
        return Prim("long long", 8 if "double" not in signed else 16)
    if "_Bool" in signed:
        return Prim("_Bool", 1)
    if "float" in signed:
        return Prim("float", 4)
    if "double" in signed:
        return Prim("double", 8)
    if "void" in signed:
        return Prim("void", 1)
    if "__int128" in signed:
        return Prim("__int128", 16)
    return Prim("int", 4)


def _type_of(value) -> CType:
    if isinstance(value, Typed):
        return value.ctype
    if isinstance(value, bool):
        return Prim("int", 4)
    if isinstance(value, int):
        return Prim("int", 4) if -2**31 <= value < 2**31 else Prim("long", 8)
    if isinstance(value, float):
        return Prim("double", 8)
    if isinstance(value, str):
        return Array(Prim("char", 1), len(value.encode()) + 1)
    if isinstance(value, Address):
        return Pointer(Prim("void", 1))
    raise Unresolved(f"type of {value!r} is unknown")


def _member_type(value, member: str, arrow: bool) -> CType:
    ctype = _type_of(value)
    if arrow:
        if not isinstance(ctype, (Pointer, Array)):
            raise Unresolved(f"'->{member}' on a non-pointer")
        ctype = ctype.target if isinstance(ctype, Pointer) else ctype.elem
    if not isinstance(ctype, Record):
        raise Unresolved(f"member '{member}' of a non-struct type")
    if member not in ctype.members:
        raise Unresolved(f"{ctype.kind} {ctype.name} has no member '{member}'")
    return ctype.members[member]


def _element_type(value) -> CType:
    ctype = _type_of(value)
    if isinstance(ctype, Array):
        return ctype.elem
    if isinstance(ctype, Pointer):
        return ctype.target
    raise Unresolved("subscript of a non-array")


def _same_type(a: CType, b: CType) -> bool:
    if isinstance(a, Array) and isinstance(b, Array):
        return _same_type(a.elem, b.elem) and a.count == b.count
    if isinstance(a, Pointer) and isinstance(b, Pointer):
        return _same_type(a.target, b.target)
    if isinstance(a, Record) or isinstance(b, Record):
        return a is b
    return type(a) is type(b) and a == b


def _convert(value: int | float, ctype: Prim) -> int | float:
    """A C conversion to an arithmetic type: integers wrap to the type's width."""
    if ctype.name in ("float", "double", "long double"):
        return float(value)
    if ctype.name in ("_Bool", "bool"):
        return int(bool(value))
    bits = ctype.size * 8
    value = int(value) & ((1 << bits) - 1)
    unsigned = ctype.name.startswith(("u", "unsigned", "g", "size_t")) and not ctype.name.startswith(
        ("gint", "gchar", "gshort", "glong", "gssize", "gfloat", "gdouble"))
    if not unsigned and value >= 1 << (bits - 1):
        value -= 1 << bits
    return value


def _truth(value) -> bool:
    if isinstance(value, (Symbol, Address, str, Compound)):
        return True
    if isinstance(value, Typed):
        return bool(value.value) if isinstance(value.value, (int, float)) else True
    return bool(value)


def _int(value) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    if isinstance(value, Typed) and isinstance(value.value, (int, float)):
        return int(value.value)
    if isinstance(value, Symbol):
        raise Unresolved(f"'{value.name}' is not a constant defined in the tree")
    raise Unresolved(f"{value!r} is not an integer")


def _apply(op: str, a, b):
    if op in ("&&", "||"):
        return int(_truth(a) and _truth(b)) if op == "&&" else int(_truth(a) or _truth(b))
    x, y = _int(a), _int(b)
    if op == "+": return x + y
    if op == "-": return x - y
    if op == "*": return x * y
    if op in ("/", "%"):
        if y == 0:
            raise Unresolved("division by zero")
        q = abs(x) // abs(y) * (1 if (x >= 0) == (y >= 0) else -1)
        return q if op == "/" else x - q * y
    if op == "<<": return x << y if 0 <= y < 256 else 0
    if op == ">>": return x >> y if 0 <= y < 256 else 0
    if op == "&": return x & y
    if op == "|": return x | y
    if op == "^": return x ^ y
    if op == "==": return int(x == y)
    if op == "!=": return int(x != y)
    if op == "<": return int(x < y)
    if op == ">": return int(x > y)
    if op == "<=": return int(x <= y)
    if op == ">=": return int(x >= y)
    raise Unresolved(f"operator {op}")


def evaluate(tokens, env: TypeEnv):
    return Evaluator(tokens, env).evaluate()


def evaluate_int(tokens, env: TypeEnv) -> int:
    return _int(evaluate(tokens, env))


def parse_type(tokens, env: TypeEnv) -> CType:
    ev = Evaluator(tokens, env)
    ctype, _ = ev.type_name()
    if ev.peek() is not None:
        raise Unresolved(f"unexpected {ev.peek().text!r} in type")
    return ctype


# -- struct bodies -----------------------------------------------------------

def parse_members(tokens: list[Token], env: TypeEnv) -> list[tuple[str | None, CType, int | None]]:
    """Member declarations of a preprocessed struct/union body."""
    members: list[tuple[str | None, CType, int | None]] = []
    for decl in split_top(tokens, ";"):
        if not decl:
            continue
        members.extend(_member_declaration(decl, env))
    return members


def split_top(tokens: list[Token], sep: str) -> list[list[Token]]:
    """Split tokens at `sep` outside any brackets."""
    current: list[Token] = []
    parts: list[list[Token]] = [current]
    depth = 0
    for tok in tokens:
        if tok.kind == PUNCT:
            text = tok.text
            if text in _OPENING:
                depth += 1
            elif text in _CLOSING:
                depth -= 1
            elif depth == 0 and text == sep:
                current = []
                parts.append(current)
                continue
        current.append(tok)
    return parts


_OPENING, _CLOSING = frozenset("([{"), frozenset(")]}")


def _member_declaration(decl: list[Token], env: TypeEnv):
    ev = Evaluator(decl, env)
    # nested struct/union definitions: struct [tag] { ... } declarators
    first = ev.peek()
    while first is not None and first.text in ("const", "volatile"):
        ev.next()
        first = ev.peek()
    if first is not None and first.text in ("struct", "union") and any(t.text == "{" for t in decl[:4]):
        kind = ev.next().text
        tag = None if ev.at("{") else ev.next().text
        body = ev.balanced("{", "}")
        packed = False
        while ev.peek() is not None and ev.peek().text == "__attribute__":
            ev.next()
            packed = packed or "packed" in " ".join(t.text for t in ev.balanced("(", ")"))
        base: CType = layout(kind, tag or "<anonymous>", parse_members(body, env), packed)
        if ev.peek() is None:
            return [(None, base, None)]
    else:
        try:
            base = ev.specifiers()
        except Unresolved as exc:
            base = Opaque(first.text if first else "?", str(exc))
            _skip_to_declarator(ev)
    result = []
    rest = list(ev.toks[ev.pos:])
    for part in split_top(rest, ","):
        if not part:
            continue
        try:
            result.append(_declarator(part, base, env))
        except Unresolved as exc:  # one unreadable member does not hide the others
            names = [t.text for t in part if t.kind == IDENT]
            result.append((names[0] if names else None, Opaque(names[0] if names else "?", str(exc)), None))
    return result


def _skip_to_declarator(ev: Evaluator) -> None:
    """After a type this tool cannot read, skip its words up to the member name
    (the word followed by nothing, '[', ',', ':' or ';')."""
    while ev.peek() is not None and ev.peek().kind == IDENT:
        following = ev.peek(1)
        if following is None or following.text in ("[", ",", ":", ";"):
            return
        ev.next()


def _declarator(part: list[Token], base: CType, env: TypeEnv):
    ev = Evaluator(part, env)
    ctype = base
    while ev.peek() is not None and ev.peek().text in ("*", "const", "volatile", "restrict", "__restrict"):
        if ev.next().text == "*":
            ctype = Pointer(ctype)
    if ev.at("("):  # function pointer or pointer to array: (*name)(...) / (*name)[n]
        inner = ev.balanced("(", ")")
        names = [t.text for t in inner if t.kind == IDENT and t.text not in ("const",)]
        name = names[-1] if names else None
        if ev.at("["):
            ctype = ev.array_suffix(ctype)
        return name, Pointer(Function() if ev.at("(") or not isinstance(ctype, Array) else ctype), None
    name_tok = ev.peek()
    name = None
    if name_tok is not None and name_tok.kind == IDENT:
        name = ev.next().text
    ctype = ev.array_suffix(ctype)
    bits = None
    if ev.at(":"):
        ev.next()
        bits = _int(ev.conditional())
    while ev.peek() is not None and ev.peek().text in ("__attribute__", "QEMU_ALIGNED", "QEMU_PACKED"):
        ev.next()
        if ev.at("("):
            ev.balanced("(", ")")
    if ev.at("("):
        return name, Function(), None
    return name, ctype, bits
