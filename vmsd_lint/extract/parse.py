"""Tree-sitter pass over one C file: where the VMSDs, field arrays, TypeInfos and
functions are, as raw text ranges.  Meaning is given later by the resolver, which
expands the ranges with the macros of the revision being read.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

import tree_sitter_c
from tree_sitter import Language, Parser, Query, QueryCursor

# The identifiers that mark a file as worth a parse.
INTERESTING_WORDS = (b"VMStateDescription", b"VMStateField", b"TypeInfo", b"vmstate_register",
                     b"register_savevm_live", b"vmsd")


@dataclass(frozen=True, slots=True)
class Decl:
    """A variable of type VMStateDescription, VMStateField or TypeInfo with an initializer."""
    type: str
    symbol: str
    is_array: bool
    is_pointer: bool
    static: bool
    line: int
    init_text: str
    init_line: int


@dataclass(frozen=True, slots=True)
class Call:
    callee: str
    args: tuple[str, ...]
    line: int


@dataclass(frozen=True, slots=True)
class Assignment:
    lhs: str
    rhs: str
    line: int


@dataclass(slots=True)
class Function:
    name: str
    line: int
    end_line: int
    static: bool
    vmsd_assignments: list[Assignment] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)


@dataclass(slots=True)
class ParseFacts:
    decls: list[Decl] = field(default_factory=list)
    functions: list[Function] = field(default_factory=list)
    error_lines: list[int] = field(default_factory=list)


@lru_cache(maxsize=None)
def _language() -> Language:
    return Language(tree_sitter_c.language())


@lru_cache(maxsize=None)
def _query(name: str) -> Query:
    text = resources.files("vmsd_lint.extract").joinpath("queries", f"{name}.scm").read_text()
    return Query(_language(), text)


@lru_cache(maxsize=None)
def _parser() -> Parser:
    return Parser(_language())


def is_interesting(data: bytes) -> bool:
    return any(word in data for word in INTERESTING_WORDS)


def parse_file(data: bytes) -> ParseFacts:
    tree = _parser().parse(data)
    facts = ParseFacts()
    root = tree.root_node
    for _, caps in QueryCursor(_query("declarations")).matches(root):
        facts.decls.append(_decl(caps, data))
    for _, caps in QueryCursor(_query("functions")).matches(root):
        facts.functions.append(_function(caps, data))
    if root.has_error:
        facts.error_lines = _error_lines(root)
    return facts


def _text(node, data: bytes) -> str:
    return data[node.start_byte:node.end_byte].decode("utf-8", "replace")


def _decl(caps, data: bytes) -> Decl:
    decl = caps["decl"][0]
    declarator = caps["declarator"][0]
    value = caps["value"][0]
    is_array = declarator.type == "array_declarator"
    is_pointer = declarator.type == "pointer_declarator"
    name_node = declarator
    while name_node.type != "identifier" and name_node.child_by_field_name("declarator") is not None:
        name_node = name_node.child_by_field_name("declarator")
    static = any(c.type == "storage_class_specifier" and c.text == b"static" for c in decl.children)
    return Decl(caps["type"][0].text.decode(), _text(name_node, data), is_array, is_pointer, static,
                decl.start_point[0] + 1, _text(value, data), value.start_point[0] + 1)


def _function(caps, data: bytes) -> Function:
    node = caps["function"][0]
    static = any(c.type == "storage_class_specifier" and c.text == b"static" for c in node.children)
    fn = Function(_text(caps["name"][0], data), node.start_point[0] + 1, node.end_point[0] + 1, static)
    for _, inner in QueryCursor(_query("statements")).matches(caps["body"][0]):
        if "assign" in inner:
            fn.vmsd_assignments.append(Assignment(_text(inner["assign"][0].child_by_field_name("left"), data),
                                                  _text(inner["rhs"][0], data),
                                                  inner["assign"][0].start_point[0] + 1))
        else:
            args = tuple(_text(a, data) for a in inner["args"][0].named_children if a.type != "comment")
            fn.calls.append(Call(_text(inner["callee"][0], data), args, inner["call"][0].start_point[0] + 1))
    return fn


def _error_lines(root) -> list[int]:
    lines = []
    stack = [root]
    while stack and len(lines) < 50:
        node = stack.pop()
        if not node.has_error:
            continue
        if node.type == "ERROR" or node.is_missing:
            lines.append(node.start_point[0] + 1)
            continue
        stack.extend(node.children)
    return sorted(lines)
