"""Tree-sitter pass over one C file: where the VMSDs, field arrays, TypeInfos and
functions are, as raw text ranges.  Meaning is given later by the resolver, which
expands the ranges with the macros of the revision being read.
"""
from __future__ import annotations

import bisect
import itertools
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import NamedTuple

import tree_sitter_c
from tree_sitter import Language, Parser, Query, QueryCursor

from ..model import Step

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
    conditions: tuple[str, ...] = ()  # the `if` conditions around it, outermost first ("!(c)" in an else)


class Assignment(NamedTuple):
    lhs: str
    rhs: str
    line: int


class MemberSet(NamedTuple):
    """`object->member = value;` where value is a function, `&variable`, true or false."""
    object: str
    member: str
    value: str
    line: int


class OpsTable(NamedTuple):
    """A top-level table of operations: `SysemuCPUOps ops = { .legacy_vmsd = &v, ... }`."""
    type: str
    symbol: str
    static: bool
    line: int
    members: tuple[tuple[str, str, int], ...]  # (member, "function" or "&variable", line)


class Function(NamedTuple):
    name: str
    line: int
    end_line: int
    static: bool
    vmsd_assignments: list[Assignment]  # filled after the function is made
    callees: dict[str, None]  # every function it calls, in order of first call
    calls: list[Call]  # the calls whose arguments are kept
    hooks: list[Assignment]  # `x->member = function;`: lhs is the member
    members: list[MemberSet]  # member assignments of a function, a `&variable`, true or false
    class_vars: dict[str, str]  # local or parameter -> its class struct (`VirtioDeviceClass *vdc`)
    events: list[Step]  # only for a function calling qemu_put_* or vmstate_save_state*
    version_checks: list[tuple[str, str]]  # (operator, value) of each `version_id OP value`
    copies: list[tuple[str, str, str, int]]  # (lhs, copied variable, its run-time name or "", line)


@dataclass(slots=True)
class ParseFacts:
    decls: list[Decl] = field(default_factory=list)
    functions: list[Function] = field(default_factory=list)
    tables: list[OpsTable] = field(default_factory=list)
    macro_calls: list[tuple[str, str, int]] = field(default_factory=list)  # (macro, call text, line) at file level


# Calls that make a function one that writes a stream by hand.
SAVE_STATE_CALLS = frozenset({"vmstate_save_state", "vmstate_save_state_v", "vmstate_save_state_with_err"})


def _writes_stream(callee: str) -> bool:
    return callee.startswith("qemu_put_") or callee in SAVE_STATE_CALLS


@cache
def _language() -> Language:
    return Language(tree_sitter_c.language())


QUERY_FILES = ("declarations", "functions", "statements")


def query_text(name: str) -> str:
    """The text of queries/NAME.scm."""
    return resources.files("vmsd_lint.extract").joinpath("queries", f"{name}.scm").read_text()


@cache
def _query(name: str) -> Query:
    return Query(_language(), query_text(name))


@cache
def _all_queries() -> tuple[Query, tuple[int, int]]:
    """The three query files as one query, so a file's tree is walked once (most of a
    query's cost is the walk); and where the functions' and statements' patterns start."""
    query = Query(_language(), "\n".join(query_text(name) for name in QUERY_FILES))
    first_function = _query("declarations").pattern_count
    first_statement = first_function + _query("functions").pattern_count
    return query, (first_function, first_statement)


@cache
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
    tables = []
    for pattern, caps in QueryCursor(query).matches(root):
        if pattern < first_function:
            if "table" in caps:
                tables.append(caps)
            elif "macro_call" in caps:
                node = caps["macro_call"][0]
                facts.macro_calls.append((_text(caps["macro_name"][0], data), _text(node, data),
                                          node.start_point[0] + 1))
            else:
                facts.decls.append(_decl(caps, data))
        elif pattern < first_statement:
            fn = _function(caps, data)
            facts.functions.append(fn)
            body = caps["body"][0]
            bodies.append((body.start_byte, body.end_byte, fn, body))
        else:
            statements.append(caps)
    bodies.sort(key=lambda b: b[0])
    if all(a[1] <= b[0] for a, b in itertools.pairwise(bodies)):
        _add_statements(statements, bodies, data, calls_with_args)
    else:  # nested definitions (a parse gone astray): each body is queried on its own
        for _, _, fn, body in bodies:
            own = [caps for _, caps in QueryCursor(_query("statements")).matches(body)]
            _add_statements(own, None, data, calls_with_args, fn, body)
    starts = [b[0] for b in bodies]
    facts.tables = [table for caps in tables
                    if not _in_a_body(caps["table"][0], starts, bodies) and (table := _table(caps, data)).members]
    return facts


def _in_a_body(node, starts: list[int], bodies) -> bool:
    i = bisect.bisect_right(starts, node.start_byte) - 1
    return i >= 0 and node.end_byte <= bodies[i][1]


def _table(caps, data: bytes) -> OpsTable:
    """An operations table: its members whose value is a function or `&variable`."""
    node = caps["table"][0]
    members = []
    for pair in caps["tvalue"][0].named_children:
        if pair.type != "initializer_pair":
            continue
        designator, value = pair.child_by_field_name("designator"), pair.child_by_field_name("value")
        if designator is None or value is None or designator.type != "field_designator":
            continue
        if value.type == "pointer_expression" and value.named_children and \
                value.named_children[0].type == "identifier":
            text = "&" + _text(value.named_children[0], data)
        elif value.type == "identifier":
            text = _text(value, data)
        else:
            continue
        members.append((_text(designator, data).lstrip("."), text, pair.start_point[0] + 1))
    static = any(c.type == "storage_class_specifier" and c.text == b"static" for c in node.children)
    type_name = " ".join(_text(caps["ttype"][0], data).split()).removeprefix("struct ")
    return OpsTable(type_name, _text(caps["tsymbol"][0], data), static, node.start_point[0] + 1, tuple(members))


def _text(node, data: bytes) -> str:
    return data[node.start_byte:node.end_byte].decode("utf-8", "replace")


def declarator_name(node, data: bytes) -> str | None:
    """The identifier a declarator declares, through pointers, arrays and parameter lists
    (`*f(void)` -> f); a function_definition's: of its "declarator" field."""
    while node is not None and node.type != "identifier":
        node = node.child_by_field_name("declarator")
    return _text(node, data) if node is not None else None


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
    return Function(_text(caps["name"][0], data), node.start_point[0] + 1, node.end_point[0] + 1, static, [], {}, [],
                    [], [], _class_parameters(node, data), [], [], [])


STREAM_TYPE = b"QEMUFile"  # a function given a stream to write (or read)


def _class_parameters(node, data: bytes) -> dict[str, str]:
    """Parameters declared as pointers to a class struct (`VirtioBusClass *k`), and
    STREAM_TYPE under the name "" when a parameter is a `QEMUFile *`."""
    declarator = node.child_by_field_name("declarator")
    if declarator is None or (b"Class" not in data[declarator.start_byte:declarator.end_byte]
                              and STREAM_TYPE not in data[declarator.start_byte:declarator.end_byte]):
        return {}  # most functions: nothing to look at in their parameters
    while declarator is not None and declarator.type == "pointer_declarator":
        declarator = declarator.child_by_field_name("declarator")
    parameters = declarator.child_by_field_name("parameters") if declarator is not None else None
    found = {}
    for param in parameters.named_children if parameters is not None else ():
        kind, inner = param.child_by_field_name("type"), param.child_by_field_name("declarator")
        if kind is not None and kind.text == STREAM_TYPE:
            found[""] = STREAM_TYPE.decode()
        elif kind is not None and inner is not None and kind.type == "type_identifier" \
                and inner.type == "pointer_declarator" and kind.text.endswith(b"Class"):
            name = inner.child_by_field_name("declarator")
            if name is not None and name.type == "identifier":
                found[_text(name, data)] = _text(kind, data)
    return found


def _add_statements(statements, bodies, data: bytes, calls_with_args, only: Function | None = None,
                    only_body=None) -> None:
    """Give each vmsd assignment and call to the function whose body holds it; `bodies`
    are disjoint and sorted (or None, and `only` is the function of every statement)."""
    starts = [b[0] for b in bodies] if bodies is not None else None
    steps: dict[int, list] = {}  # id(function) -> [(node, kind)]: its calls, for its events
    writers: dict[int, Function] = {}  # the functions that write a stream by hand
    for caps in statements:
        node = (caps.get("assign") or caps.get("hook") or caps.get("set") or caps.get("call")
                or caps.get("class_decl") or caps.get("version_check")
                or caps.get("copy") or caps["rename"])[0]
        fn = only
        if fn is None:
            i = bisect.bisect_right(starts, node.start_byte) - 1
            if i < 0 or node.end_byte > bodies[i][1]:
                continue  # outside every function
            fn = bodies[i][2]
        line = node.start_point[0] + 1
        if "hook" in caps:
            member, target = _text(caps["hook_member"][0], data), _text(caps["hook_target"][0], data)
            fn.hooks.append(Assignment(member, target, line))
            fn.members.append(MemberSet(_text(caps["hook_object"][0], data), member, target, line))
        elif "set" in caps:
            value = " ".join(_text(caps["set_value"][0], data).split())
            fn.members.append(MemberSet(_text(caps["set_object"][0], data), _text(caps["set_member"][0], data),
                                        value, line))
        elif "assign" in caps:
            fn.vmsd_assignments.append(Assignment(_text(node.child_by_field_name("left"), data),
                                                  _text(caps["rhs"][0], data), line))
        elif "class_decl" in caps:
            fn.class_vars[_text(caps["class_var"][0], data)] = _text(caps["class_type"][0], data)
        elif "copy" in caps:
            fn.copies.append((" ".join(_text(caps["copy_lhs"][0], data).split()), _text(caps["copy_of"][0], data),
                              "", line))
        elif "rename" in caps:
            target = " ".join(_text(caps["rename_object"][0], data).split())
            value = " ".join(_text(caps["rename_value"][0], data).split())
            fn.copies[:] = [(lhs, of, value if lhs == target else name, ln) for lhs, of, name, ln in fn.copies]
        elif "version_check" in caps:
            operator = node.child_by_field_name("operator")
            fn.version_checks.append((operator.type if operator is not None else "?",
                                      " ".join(_text(caps["check_value"][0], data).split())))
        else:
            callee = _text(caps["callee"][0], data)
            steps.setdefault(id(fn), []).append((node, "call"))
            if _writes_stream(callee):
                writers[id(fn)] = fn
            if calls_with_args is not None and callee not in calls_with_args:
                fn.callees[callee] = None
                continue
            arguments = node.child_by_field_name("arguments")
            if arguments is None or arguments.type != "argument_list":
                continue  # the grammar gives every call one; a damaged parse may not
            fn.callees[callee] = None
            fn.calls.append(Call(callee, _arguments(arguments, data), line, _context(node, data)[1]))
    if only is not None and "" in only.class_vars:
        writers[id(only)] = only
    elif bodies is not None:  # a function given a stream writes it, also through others only
        writers.update((id(fn), fn) for _, _, fn, _ in bodies if "" in fn.class_vars)
    for key, fn in writers.items():
        fn.class_vars.pop("", None)
        body = only_body if only is not None else next((b[3] for b in bodies if b[2] is fn), None)
        if body is not None:  # calls through a member: looked for only in the few functions that write
            steps.setdefault(key, []).extend((caps["dispatch"][0], "dispatch")
                                             for _, caps in QueryCursor(_dispatch_query()).matches(body))
        ordered = sorted(steps.get(key, ()), key=lambda s: s[0].start_byte)
        guards = _entry_guards(body, ordered[0][0].start_byte, data) if body is not None and ordered else ()
        fn.events.extend(_event(node, kind, data, guards) for node, kind in ordered)
    for _, _, fn, _ in bodies or ():
        fn.class_vars.pop("", None)


DISPATCH_QUERY = """(call_expression
  function: (field_expression argument: (_) field: (field_identifier))) @dispatch"""


@cache
def _dispatch_query() -> Query:
    """Calls through a member (`k->save_config(...)`), for the functions that write a stream."""
    return Query(_language(), DISPATCH_QUERY)


def _arguments(arguments, data: bytes) -> tuple[str, ...]:
    return tuple(_text(a, data) for a in arguments.named_children if a.type != "comment")


def _entry_guards(body, first: int, data: bytes) -> tuple[str, ...]:
    """The conditions under which a function gets past its guard clauses (`if (!c) {
    return; }` in its body before its first call), as `if` conditions of every step:
    `flush_compressed_data()` writes nothing unless compression is on.  A guard that
    returns an error is not one: the migration fails there rather than going on."""
    guards = []
    for statement in body.named_children:
        if statement.start_byte >= first:
            break
        if statement.type != "if_statement" or statement.child_by_field_name("alternative") is not None:
            continue
        consequence = statement.child_by_field_name("consequence")
        inner = [c for c in consequence.named_children if c.type != "comment"] \
            if consequence is not None and consequence.type == "compound_statement" else [consequence]
        if inner and inner[-1] is not None and _succeeds(inner[-1], data):
            guards.append(_negated(_condition_text(statement, data)))
    return tuple(guards)


def _succeeds(statement, data: bytes) -> bool:
    """A `return;`, `return 0;` or `return true;`: a way out that writes nothing and fails
    nothing (`return -1;` after a failed setup ends the migration instead)."""
    if statement.type != "return_statement":
        return False
    value = [c for c in statement.named_children if c.type != "comment"]
    return not value or _text(value[0], data) in ("0", "true")


def _condition_text(if_statement, data: bytes) -> str:
    """An `if`'s condition on one line, without its parentheses."""
    condition = if_statement.child_by_field_name("condition")
    text = " ".join(_text(condition, data).split()) if condition is not None else "?"
    return text[1:-1].strip() if text.startswith("(") and text.endswith(")") else text


_SIMPLE = re.compile(r"!\s*[\w.>-]+\s*(\([^()]*\))?")


def _negated(text: str) -> str:
    """!(TEXT), without a double negation of a plain name or call (`!foo(x)` -> `foo(x)`)."""
    return text[1:].strip() if _SIMPLE.fullmatch(text) else f"!({text})"


def _event(node, kind: str, data: bytes, guards: tuple[str, ...] = ()) -> Step:
    function = node.child_by_field_name("function")
    arguments = node.child_by_field_name("arguments")
    args = _arguments(arguments, data) if arguments is not None and arguments.type == "argument_list" else ()
    loop, conditions = _context(node, data)
    conditions = guards + conditions
    line = node.start_point[0] + 1
    if kind == "dispatch":
        member = function.child_by_field_name("field")
        obj = function.child_by_field_name("argument")
        return Step("dispatch", _text(member, data) if member else "", (_text(obj, data) if obj else "",) + args,
                     line, loop, conditions)
    callee = _text(function, data)
    what = "put" if callee.startswith("qemu_put_") else "save" if callee in SAVE_STATE_CALLS else "call"
    return Step(what, callee, args, line, loop, conditions)


LOOPS = frozenset({"for_statement", "while_statement", "do_statement"})


EXITS = frozenset({"break_statement", "return_statement", "goto_statement"})


def counted(loop, data: bytes) -> tuple[str, str, str, str] | None:
    """(counter, start, operator, bound) of a loop `for (i = START; i < BOUND; i++)`
    (`<=` too), else None."""
    if loop.type != "for_statement":
        return None
    init, test, update = (loop.child_by_field_name(f) for f in ("initializer", "condition", "update"))
    if init is None or test is None or update is None or init.type != "assignment_expression" \
            or test.type != "binary_expression":
        return None
    var = _text(init.child_by_field_name("left"), data)
    op = _text(test.child_by_field_name("operator"), data)
    if _text(test.child_by_field_name("left"), data) != var or op not in ("<", "<=") \
            or _text(update, data).replace(" ", "") not in (f"{var}++", f"++{var}"):
        return None
    return var, _text(init.child_by_field_name("right"), data), op, _text(test.child_by_field_name("right"), data)


def _loop_of(loop, data: bytes) -> tuple[int, str, str]:
    """A loop as Step.loop has it: (line, counter, count): the count is the bound of a
    loop `for (i = 0; i < N; i++)` that nothing leaves early (no break, return, goto)."""
    line = loop.start_point[0] + 1
    found = counted(loop, data)
    if found is None:
        return line, "", ""
    var, start, op, bound = found
    body = loop.child_by_field_name("body")
    exits = body is not None and any(n.type in EXITS for n in _inside(body))
    return line, var, bound if start == "0" and op == "<" and not exits else ""


def _inside(node):
    """NODE's descendants, not those of loops and switches in it (their `break`s are theirs)."""
    for child in node.children:
        yield child
        if child.type not in LOOPS and child.type != "switch_statement":
            yield from _inside(child)


def _context(node, data: bytes) -> tuple[tuple, tuple[str, ...]]:
    """The innermost loop NODE is inside (a C loop: Step.loop; the block after a
    `QTAILQ_FOREACH(...)` style macro: a loop of no count), and the `if` conditions
    around it, up to its function's body."""
    loop: tuple = ()
    conditions = []
    child, parent = node, node.parent
    while parent is not None and parent.type != "function_definition":
        if parent.type in LOOPS:
            loop = loop or _loop_of(parent, data)
        elif parent.type == "if_statement":
            text = _condition_text(parent, data)
            in_else = child.type == "else_clause"
            if child != parent.child_by_field_name("condition"):
                conditions.append(f"!({text})" if in_else else text)
        elif parent.type == "compound_statement" and child.type == "compound_statement":
            before = child.prev_named_sibling
            if before is not None and before.type == "expression_statement" and b"FOREACH" in before.text:
                loop = loop or (before.start_point[0] + 1, "", "")
        child, parent = parent, parent.parent
    return loop, tuple(reversed(conditions))
