"""Tokens of Rust source (rustparse.Tok) as extract.rust reads them: paths, macro calls,
comma-separated arguments, integer and string literals, integer arithmetic."""
from __future__ import annotations

import ast
import re

from .lexer import matching
from .rustparse import Tok

MAX_INT = 1 << 128
KEYWORDS = {"as", "unsafe", "mut", "const", "let", "move", "ref", "static", "dyn", "impl", "where", "in", "for"}


class Unread(Exception):
    """Something of the Rust source extract.rust does not understand (said in a diagnostic)."""


_OPEN, _CLOSE = {"(": ")", "[": "]", "{": "}"}, {")", "]", "}"}
INT_OPERATORS = {"+": "+", "-": "-", "*": "*", "/": "//", "%": "%", "<<": "<<", ">>": ">>", "&": "&", "|": "|",
                  "^": "^", "!": "~", "(": "(", ")": ")"}


def split_top(tokens: list[Tok]) -> list[list[Tok]]:
    """Split at the commas outside brackets and generic arguments (`Foo<A, B>`)."""
    parts: list[list[Tok]] = [[]]
    depth = angle = 0
    for i, tok in enumerate(tokens):
        if tok.text in _OPEN:
            depth += 1
        elif tok.text in _CLOSE:
            depth = max(0, depth - 1)
        elif tok.text == "<" and i > 0 and (tokens[i - 1].kind == "id" or tokens[i - 1].text == "::"):
            angle += 1
        elif tok.text == ">" and angle:
            angle -= 1
        elif tok.text == "," and depth == 0 and angle == 0:
            parts.append([])
            continue
        parts[-1].append(tok)
    return parts if any(parts) else []


def skip_group(tokens, i: int) -> int:
    """The index after the bracket group opening at tokens[i]."""
    depth = 0
    for j in range(i, len(tokens)):
        if tokens[j].text in _OPEN:
            depth += 1
        elif tokens[j].text in _CLOSE:
            depth -= 1
            if depth == 0:
                return j + 1
    return len(tokens)


def skip_type(tokens, i: int) -> int:
    """The index after a (path) type, as after `as`."""
    if i < len(tokens) and tokens[i].kind == "id":
        _, i = read_path(tokens, i)
    return i


def read_path(tokens, i: int) -> tuple[tuple[str, ...], int]:
    """The path starting at tokens[i] (`a::b::C`, a leading `::`, turbofish `::<T>` skipped)."""
    segments = []
    while i < len(tokens):
        tok = tokens[i]
        if tok.kind == "id" and (not segments or tokens[i - 1].text == "::"):
            segments.append(tok.text)
            i += 1
        elif tok.text == "::" and i + 1 < len(tokens) and tokens[i + 1].kind == "id":
            i += 1
        elif tok.text == "::" and i + 1 < len(tokens) and tokens[i + 1].text == "<" and segments:
            i = _skip_angle(tokens, i + 1)
        else:
            break
    return tuple(segments), i


def _skip_angle(tokens, i: int) -> int:
    close = matching(tokens, i, "<", ">")
    return len(tokens) if close is None else close + 1


def the_path(tokens) -> tuple[str, ...] | None:
    """The one path an expression refers to, past wrappers (`Some(&X)`, `unsafe { addr_of!(X) }`,
    `X.as_ptr()`): paths that name a macro or a called function, and keywords, do not count."""
    found = []
    i = 0
    while i < len(tokens):
        if _path_starts(tokens, i):
            segments, end = read_path(tokens, i)
            if segments and not (end < len(tokens) and tokens[end].text in ("(", "!")):
                found.append(segments)
            i = max(end, i + 1)
        else:
            i += 1
    return found[0] if len(found) == 1 else None


def _path_starts(tokens, i: int) -> bool:
    """A path starts here: an identifier (not a keyword, not a method or a later segment),
    or a leading `::`."""
    tok = tokens[i]
    before = tokens[i - 1] if i else None
    if tok.kind == "id":
        return tok.text not in KEYWORDS and (before is None or before.text not in (".", "::"))
    return tok.text == "::" and i + 1 < len(tokens) and tokens[i + 1].kind == "id" and \
        (before is None or (before.kind != "id" and before.text != ">"))


def macro_call(tokens) -> tuple[str | None, list[Tok], list[Tok]]:
    """(name, tokens inside its brackets, tokens after them) of `path::name!(...)`."""
    segments, i = read_path(tokens, 0) if tokens and (tokens[0].kind == "id" or tokens[0].text == "::") else ((), 0)
    if not segments or i + 1 >= len(tokens) or tokens[i].text != "!" or tokens[i + 1].text not in _OPEN:
        return None, [], list(tokens)
    end = skip_group(tokens, i + 1)
    return segments[-1], list(tokens[i + 2:end - 1]), list(tokens[end:])


_INT_LITERAL = re.compile(r"(0x[0-9a-f_]+|0o[0-7_]+|0b[01_]+|[0-9][0-9_]*)(?:[ui](?:8|16|32|64|128|size))?")


def rust_int(text: str) -> int:
    """An integer literal: 0x10, 1_000u32, 0b1010_i8."""
    match = _INT_LITERAL.fullmatch(text.lower())
    if match is None:
        raise Unread(f"'{text}' is not an integer literal")
    digits = match.group(1).replace("_", "")
    try:
        return int(digits, 0) if digits[:2] in ("0x", "0o", "0b") else int(digits, 10)
    except ValueError:  # "0x" alone, or more digits than Python converts
        raise Unread(f"'{text[:40]}' is not an integer literal this tool reads") from None


def eval_int(expression: str) -> int:
    """Integer arithmetic, evaluated over its syntax tree (nothing is run)."""
    try:
        tree = ast.parse(expression, mode="eval")
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        raise Unread(f"'{expression[:60]}' is not an integer expression") from None
    try:
        return _eval_node(tree.body)
    except RecursionError:
        raise Unread("integer expression nested too deep") from None


_BINARY = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
           ast.FloorDiv: lambda a, b: a // b, ast.Mod: lambda a, b: a % b, ast.BitAnd: lambda a, b: a & b,
           ast.BitOr: lambda a, b: a | b, ast.BitXor: lambda a, b: a ^ b,
           ast.LShift: lambda a, b: a << b, ast.RShift: lambda a, b: a >> b}


def _eval_node(node) -> int:
    if isinstance(node, ast.Constant) and type(node.value) is int:
        value = node.value
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd, ast.Invert)):
        operand = _eval_node(node.operand)
        value = -operand if isinstance(node.op, ast.USub) else ~operand if isinstance(node.op, ast.Invert) \
            else operand
    elif isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _eval_node(node.left), _eval_node(node.right)
        if isinstance(node.op, (ast.LShift, ast.RShift)) and not 0 <= right <= 128:
            raise Unread("shift out of range")
        if isinstance(node.op, (ast.FloorDiv, ast.Mod)) and right == 0:
            raise Unread("division by zero")
        value = _BINARY[type(node.op)](left, right)
    else:
        raise Unread("not an integer expression")
    if abs(value) >= MAX_INT:
        raise Unread("integer out of range")
    return value


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "\\": "\\", "'": "'", '"': '"'}


def rust_string(text: str) -> str:
    """The characters of a (C, byte, raw) string literal, without its final NUL."""
    prefix = text[:text.index('"')] if '"' in text else ""
    body = text[len(prefix):].strip("#")
    body = body[1:-1] if len(body) >= 2 else ""
    if "r" not in prefix:
        body = _unescape(body)
    return body[:-1] if body.endswith("\0") else body


def _unescape(body: str) -> str:
    out, i = [], 0
    while i < len(body):
        ch = body[i]
        if ch != "\\" or i + 1 >= len(body):
            out.append(ch)
            i += 1
            continue
        code = body[i + 1]
        if code == "x" and i + 3 < len(body) + 1:
            try:
                out.append(chr(int(body[i + 2:i + 4], 16)))
            except ValueError:
                out.append(body[i:i + 4])
            i += 4
        elif code == "u" and "}" in body[i:]:
            end = body.index("}", i)
            try:
                out.append(chr(int(body[i + 3:end], 16)))
            except (ValueError, OverflowError):
                out.append(body[i:end + 1])
            i = end + 1
        elif code == "\n":  # a line continuation skips the newline and the next line's indentation
            i += 2
            while i < len(body) and body[i] in " \t\n\r":
                i += 1
        else:
            out.append(_ESCAPES.get(code, code))
            i += 2
    return "".join(out)


def token_text(tokens) -> str:
    return " ".join(t.text for t in tokens)
