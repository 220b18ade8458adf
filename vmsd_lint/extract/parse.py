"""Tree-sitter pass over one C file: where the VMSDs, field arrays, TypeInfos and
functions are, as raw text ranges.  Meaning is given later by the resolver, which
expands the ranges with the macros of the revision being read.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import NamedTuple

import tree_sitter_c
from tree_sitter import Language, Parser, Query, QueryCursor

# The identifiers that mark a file as worth a parse; the commonest first, so that most
# files worth one are known after one search.
INTERESTING_WORDS = (b"TypeInfo", b"VMStateDescription", b"VMStateField", b"vmsd", b"vmstate_register",
                     b"register_savevm_live")


# Named tuples: quick to pickle, and a tree has a hundred thousand calls.
class Decl(NamedTuple):
    """A variable of type VMStateDescription, VMStateField, TypeInfo or
    VirtioPCIDeviceTypeInfo with an initializer."""
    type: str
    symbol: str
    is_array: bool
    is_pointer: bool
    static: bool
    line: int
    init_text: str
    init_line: int


class Call(NamedTuple):
    callee: str
    args: tuple[str, ...]
    line: int


class Assignment(NamedTuple):
    lhs: str
    rhs: str
    line: int


class Function(NamedTuple):
    name: str
    line: int
    end_line: int
    static: bool
    vmsd_assignments: list[Assignment]  # filled after the function is made
    callees: dict[str, None]  # every function it calls, in order of first call
    calls: list[Call]  # the calls whose arguments are kept
    hooks: list[Assignment]  # `x->member = function;`: lhs is the member


@dataclass(slots=True)
class ParseFacts:
    decls: list[Decl] = field(default_factory=list)
    functions: list[Function] = field(default_factory=list)


@lru_cache(maxsize=None)
def _language() -> Language:
    return Language(tree_sitter_c.language())


QUERY_FILES = ("declarations", "functions", "statements")


@lru_cache(maxsize=None)
def _query(name: str) -> Query:
    text = resources.files("vmsd_lint.extract").joinpath("queries", f"{name}.scm").read_text()
    return Query(_language(), text)


@lru_cache(maxsize=None)
def _all_queries() -> tuple[Query, tuple[int, int]]:
    """The three query files as one query, so a file's tree is walked once (most of a
    query's cost is the walk); and where the functions' and statements' patterns start."""
    query = Query(_language(), "\n".join(
        resources.files("vmsd_lint.extract").joinpath("queries", f"{name}.scm").read_text()
        for name in QUERY_FILES))
    first_function = _query("declarations").pattern_count
    first_statement = first_function + _query("functions").pattern_count
    return query, (first_function, first_statement)


@lru_cache(maxsize=None)
def _parser() -> Parser:
    return Parser(_language())


def is_interesting(data: bytes) -> bool:
    return any(word in data for word in INTERESTING_WORDS)


def parse_tree(data: bytes):
    """The tree-sitter tree of one file."""
    return _parser().parse(data)


def parse_file(data: bytes, calls_with_args: frozenset[str] | None = None, tree=None) -> ParseFacts:
    """Declarations and functions of one file (TREE: its tree, when already parsed).
    Of a function's calls, the callees are kept; the calls themselves (line, argument
    texts) only for the callees in `calls_with_args` (all when None)."""
    tree = tree if tree is not None else parse_tree(data)
    facts = ParseFacts()
    root = tree.root_node
    query, (first_function, first_statement) = _all_queries()
    bodies: list[tuple[int, int, Function, object]] = []  # (start, end, function, body node)
    statements: list[dict] = []
    for pattern, caps in QueryCursor(query).matches(root):
        if pattern < first_function:
            facts.decls.append(_decl(caps, data))
        elif pattern < first_statement:
            fn = _function(caps, data)
            facts.functions.append(fn)
            body = caps["body"][0]
            bodies.append((body.start_byte, body.end_byte, fn, body))
        else:
            statements.append(caps)
    bodies.sort(key=lambda b: b[0])
    if all(a[1] <= b[0] for a, b in zip(bodies, bodies[1:])):
        _add_statements(statements, bodies, data, calls_with_args)
    else:  # nested definitions (a parse gone astray): each body is queried on its own
        for _, _, fn, body in bodies:
            own = [caps for _, caps in QueryCursor(_query("statements")).matches(body)]
            _add_statements(own, None, data, calls_with_args, fn)
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
    return Function(_text(caps["name"][0], data), node.start_point[0] + 1, node.end_point[0] + 1, static, [], {}, [], [])


def _add_statements(statements, bodies, data: bytes, calls_with_args, only: Function | None = None) -> None:
    """Give each vmsd assignment and call to the function whose body holds it; `bodies`
    are disjoint and sorted (or None, and `only` is the function of every statement)."""
    starts = [b[0] for b in bodies] if bodies is not None else None
    for caps in statements:
        node = (caps.get("assign") or caps.get("hook") or caps["call"])[0]
        fn = only
        if fn is None:
            i = bisect.bisect_right(starts, node.start_byte) - 1
            if i < 0 or node.end_byte > bodies[i][1]:
                continue  # outside every function
            fn = bodies[i][2]
        if "hook" in caps:
            fn.hooks.append(Assignment(_text(caps["hook_member"][0], data), _text(caps["hook_target"][0], data),
                                       node.start_point[0] + 1))
            continue
        if "assign" in caps:
            fn.vmsd_assignments.append(Assignment(_text(node.child_by_field_name("left"), data),
                                                  _text(caps["rhs"][0], data), node.start_point[0] + 1))
            continue
        callee = _text(caps["callee"][0], data)
        if calls_with_args is not None and callee not in calls_with_args:
            fn.callees[callee] = None
            continue
        arguments = node.child_by_field_name("arguments")
        if arguments is None or arguments.type != "argument_list":
            continue  # the grammar gives every call one; a damaged parse may not
        fn.callees[callee] = None
        args = tuple(_text(a, data) for a in arguments.named_children if a.type != "comment")
        fn.calls.append(Call(callee, args, node.start_point[0] + 1))
