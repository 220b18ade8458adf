"""Whether a VMSD's .needed function, or a field's test function, is a simple function of
one device property: `return s->migrate;`, `return !s->x;`, `return s->flags & (1 <<
BIT);`, `return s->a && <run-time condition>;`, `if (!s->a) { return false; } return
...;`.  Then the state it guards is only sent while the property has a value, and a
machine type whose compat properties give it the other value never sends it.

The body is read with tree-sitter: its pointers' types (gate_body.scm), then the result
as a conjunction; one conjunct reading a field (or a bit of one) is the property, the
others are the run-time condition.  Which property that field is comes from the
device properties (extract.properties): the same struct, field and bit.
"""
from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from functools import cache
from importlib import resources

from tree_sitter import Node, Query, QueryCursor

from ..model import Diagnostic, Extraction, FunctionInfo, Registration
from .context import FileContext
from .ctypes import Unresolved
from .lexer import tokenize
from .parse import _language, parse_tree
from .preprocess import ExpansionError
from .properties import DeviceProperties, DeviceProperty

BOOL_INFOS = ("qdev_prop_bool", "qdev_prop_bit", "qdev_prop_bit64")
NUMBER_INFO = re.compile(r"qdev_prop_(u?int\d+|size(32)?)$")  # qdev-properties.c's integer PropertyInfos
TRUE_WORDS = frozenset({"on", "yes", "true", "y"})
FALSE_WORDS = frozenset({"off", "no", "false", "n"})
# `virtio_has_feature(features, bit)` tests a bit of a feature word (include/hw/virtio/virtio.h)
FEATURE_TESTS = frozenset({"virtio_has_feature"})


@dataclass(frozen=True, slots=True)
class FieldRead:
    """What a .needed or test function's result depends on: one field (or bit) of the
    device state, and the rest of the conjunction."""
    function: str
    file: str
    line: int
    struct: str | None  # the pointer's type; None when read through a cast call (`RAMFB(opaque)->x`)
    field: str  # "migrate", "conf.x"
    bit: int | None
    sends_when: bool  # the result can be true only while the field (bit) is non-zero (True) or zero
    condition: str | None  # the other conjuncts, as written: a run-time condition


@dataclass(frozen=True, slots=True)
class Gate:
    """A function whose result is off while DRIVER's PROPERTY is DISABLES."""
    function: str
    file: str
    line: int
    driver: str  # the type whose class defines the property
    property: str
    disables: str  # "off", "on", or "0" for a number
    condition: str | None  # the run-time condition it also needs (None: the property alone)
    prop: DeviceProperty


def parse_value(value: str) -> bool | int | None:
    """A property value as qdev reads it from a string: a boolean word or a number."""
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    try:
        return int(word, 0)
    except ValueError:
        return None


def default_value(prop: DeviceProperty) -> bool | int | None:
    """A property's default, as parse_value() reads a value (None without one)."""
    if prop.value is None:
        return None
    return bool(prop.value) if prop.info in BOOL_INFOS else prop.value


@cache
def _query(name: str) -> Query:
    return Query(_language(), resources.files("vmsd_lint.extract").joinpath("queries", f"{name}.scm").read_text())


def gating_functions(extraction: Extraction) -> dict[str, dict[str, int]]:
    """VMSD file -> {function: line of the first VMSD naming it} of the functions its
    VMSDs name as .needed or as a field's test."""
    found: dict[str, dict[str, int]] = {}
    for vmsd in sorted(extraction.vmsds.values(), key=lambda v: (v.file, v.line)):
        if vmsd.synthetic:
            continue  # modelled from code writing a stream by hand: no such function
        names = found.setdefault(vmsd.file, {})
        if "needed" in vmsd.hooks:
            names.setdefault(vmsd.hooks["needed"], vmsd.line)
        for f in vmsd.fields or ():
            if f.field_exists:
                names.setdefault(f.field_exists, f.line)
    return found


def read_gates(extraction: Extraction, text: Callable[[str], bytes | None], context: Callable[[str], FileContext],
               files: Collection[str] | None = None) -> tuple[dict[str, tuple[FieldRead, ...]], list[Diagnostic]]:
    """"vmsd file:function" -> what each .needed or test function of EXTRACTION's VMSDs
    can return true only with (gating_functions()), an empty tuple when nothing of a
    device's fields; and a diagnostic for each function that could not be read (made by
    a macro, written in Rust).  TEXT(path) gives a file's bytes, CONTEXT(path) its
    FileContext.  FILES: only the functions of VMSDs in, or defined in, these files."""
    starts = _function_starts(extraction)
    by_name: dict[str, list[FunctionInfo]] = {}
    for fn in extraction.functions.values():
        by_name.setdefault(fn.name, []).append(fn)
    found: dict[str, tuple[FieldRead, ...]] = {}
    diagnostics = []
    for vmsd_file, names in sorted(gating_functions(extraction).items()):
        for name, line in sorted(names.items()):
            where = _definition(extraction.functions, by_name, vmsd_file, name)
            if files is not None and vmsd_file not in files and (where is None or where.file not in files):
                continue
            data = text(where.file) if where is not None else None
            reads = _read_function(context(where.file), data, where, starts[where.file]) \
                if where is not None and data is not None else None
            if reads is None:
                diagnostics.append(Diagnostic("unresolved", vmsd_file, line, f"{name}: no C definition read: "
                                                                             f"what gates it is not known"))
            else:
                found[f"{vmsd_file}:{name}"] = reads
    for reg in conditional_registrations(extraction):
        where = extraction.functions.get(f"{reg.file}:{reg.enclosing}")
        if where is None or (files is not None and reg.file not in files):
            continue
        data = text(reg.file)
        reads = _read_registration(context(reg.file), data, where, starts[reg.file], reg) \
            if data is not None else None
        if reads:
            found[registration_gate(reg.file, reg.enclosing, reg.line)] = reads
    return found, diagnostics


def conditional_registrations(extraction: Extraction) -> list[Registration]:
    """The registrations made only under an `if` (`if (vmem->early_migration)
    vmstate_register_any(...)`): a property may decide whether the section is sent."""
    return [reg for reg in extraction.registrations if reg.conditions]


def registration_gate(path: str, function: str, line: int) -> str:
    """The key of the conditions around a registration call, among the gating functions'."""
    return f"{path}:{function}@{line}"


def _read_registration(ctx: FileContext, data: bytes, fn: FunctionInfo, starts: list[int],
                       reg: Registration) -> tuple[FieldRead, ...] | None:
    """What the `if` conditions around REG's call (in FN) read: the call is made only
    while all of them hold, a conjunction like a .needed function's result."""
    following = starts[bisect.bisect_right(starts, fn.line):]
    lines = data.split(b"\n")
    text = b"\n".join(lines[fn.line - 1:following[0] - 1 if following else len(lines)])
    for _, caps in QueryCursor(_query("gates")).matches(parse_tree(text).root_node):
        if _spelling(caps["name"][0]) != fn.name:
            continue
        call = _call_at(caps["body"][0], reg.function, reg.line - fn.line)
        if call is None:
            return None
        pointers = {_spelling(c["var"][0]): _type_name(_spelling(c["type"][0]))
                    for _, c in QueryCursor(_query("gate_body")).matches(caps["function"][0])}
        return _reads_of_terms(ctx, reg.file, f"{fn.name}@{reg.line}", _conditions_around(call),
                               pointers, reg.line)
    return None


def _call_at(body: Node, callee: str, row: int) -> Node | None:
    stack = [body]
    while stack:
        node = stack.pop()
        function = node.child_by_field_name("function") if node.type == "call_expression" else None
        if function is not None and _spelling(function) == callee and node.start_point[0] == row:
            return node
        stack.extend(node.children)
    return None


def _conditions_around(node: Node) -> list[Term]:
    """The `if` conditions NODE is inside (negated in an else), as conjunction terms."""
    terms: list[Term] = []
    child, parent = node, node.parent
    while parent is not None and parent.type != "function_definition":
        condition = parent.child_by_field_name("condition") if parent.type == "if_statement" else None
        if condition is not None and child != condition:
            terms.extend(_conjuncts(condition, child.type == "else_clause"))
        child, parent = parent, parent.parent
    return terms


def _function_starts(extraction: Extraction) -> dict[str, list[int]]:
    starts: dict[str, list[int]] = {}
    for fn in extraction.functions.values():
        starts.setdefault(fn.file, []).append(fn.line)
    return {path: sorted(lines) for path, lines in starts.items()}


def _definition(functions: dict[str, FunctionInfo], by_name: dict[str, list[FunctionInfo]], path: str,
                name: str) -> FunctionInfo | None:
    """NAME as PATH sees it: its own function, else the one non-static function of the name."""
    own = functions.get(f"{path}:{name}")
    if own is not None:
        return own
    others = [fn for fn in by_name.get(name, ()) if not fn.static]
    return others[0] if len(others) == 1 else None


def _read_function(ctx: FileContext, data: bytes, fn: FunctionInfo, starts: list[int]) -> tuple[FieldRead, ...] | None:
    """Parse only FN's lines, up to the next function of its file: the few functions read
    are in some hundred files, whose whole parses would cost seconds."""
    following = starts[bisect.bisect_right(starts, fn.line):]
    lines = data.split(b"\n")
    text = b"\n".join(lines[fn.line - 1:following[0] - 1 if following else len(lines)])
    for _, caps in QueryCursor(_query("gates")).matches(parse_tree(text).root_node):
        if _spelling(caps["name"][0]) == fn.name:
            return _field_reads(ctx, fn.file, fn.name, caps["function"][0], caps["body"][0], fn.line - 1)
    return None


def _field_reads(ctx: FileContext, path: str, function: str, node: Node, body: Node,
                 offset: int) -> tuple[FieldRead, ...]:
    pointers = {_spelling(caps["var"][0]): _type_name(_spelling(caps["type"][0]))
                for _, caps in QueryCursor(_query("gate_body")).matches(node)}
    return _reads_of_terms(ctx, path, function, _result_terms(body) or [], pointers,
                           node.start_point[0] + 1 + offset)


def _reads_of_terms(ctx: FileContext, path: str, function: str, terms: list[Term], pointers: dict[str, str],
                    line: int) -> tuple[FieldRead, ...]:
    """Each term of a conjunction that reads a field (or a bit), the others its condition."""
    found = []
    for index, (term, negated) in enumerate(terms):
        read = _read(ctx, term, negated, pointers)
        if read is None:
            continue
        rest = [_spelled(t, n) for i, (t, n) in enumerate(terms) if i != index]
        struct, field, bit, sends_when = read
        found.append(FieldRead(function, path, line, struct, field, bit, sends_when, " && ".join(rest) or None))
    return tuple(found)


def _type_name(text: str) -> str:
    words = [w for w in text.split() if w not in ("const", "struct", "volatile")]
    return " ".join(words)


Term = tuple[Node, bool]  # a term of a conjunction, and whether it is negated


def _spelling(node: Node) -> str:
    return (node.text or b"").decode("utf-8", "replace")


def _result_terms(body: Node) -> list[Term] | None:
    """The conjunction the function returns, as (term node, negated): each `if (c) return
    false;` before the final `return e;` adds !c.  None for other control flow."""
    terms: list[Term] = []
    for statement in body.named_children:
        kind = statement.type
        if kind in ("comment", "declaration", "expression_statement"):
            continue  # locals, asserts, traces: nothing the result depends on by itself
        condition = statement.child_by_field_name("condition") if kind == "if_statement" else None
        if condition is not None and _returns_false_only(statement):
            terms.extend(_conjuncts(condition, True))
            continue
        if kind == "return_statement" and statement.named_children:
            return terms + _conjuncts(statement.named_children[0], False)
        return None
    return None


def _returns_false_only(statement: Node) -> bool:
    if statement.child_by_field_name("alternative") is not None:
        return False
    then = statement.child_by_field_name("consequence")
    while then is not None and then.type == "compound_statement":
        inner = [c for c in then.named_children if c.type != "comment"]
        then = inner[0] if len(inner) == 1 else None
    if then is None or then.type != "return_statement" or not then.named_children:
        return False
    return then.named_children[0].text in (b"false", b"0")


def _unparen(node: Node) -> Node:
    while node.type == "parenthesized_expression" and node.named_children:
        node = node.named_children[0]
    return node


def _operands(node: Node) -> tuple[str, Node, Node] | None:
    """(operator, left, right) of a binary expression, unparenthesized."""
    operator, left, right = (node.child_by_field_name(f) for f in ("operator", "left", "right"))
    if node.type != "binary_expression" or operator is None or left is None or right is None:
        return None
    return operator.type, _unparen(left), _unparen(right)


def _negated(node: Node) -> Node | None:
    """X of `!X`."""
    operator, argument = node.child_by_field_name("operator"), node.child_by_field_name("argument")
    if node.type == "unary_expression" and operator is not None and operator.type == "!" and argument is not None:
        return argument
    return None


def _conjuncts(node: Node, negated: bool) -> list[Term]:
    """NODE (negated or not) as the terms of a conjunction: `a && b`, and `!(a || b)`."""
    node = _unparen(node)
    operands = _operands(node)
    if operands is not None and operands[0] == ("||" if negated else "&&"):
        return _conjuncts(operands[1], negated) + _conjuncts(operands[2], negated)
    inner = _negated(node)
    if inner is not None:
        return _conjuncts(inner, not negated)
    return [(node, negated)]


def _spelled(node: Node, negated: bool) -> str:
    text = " ".join(_spelling(node).split())
    return f"!({text})" if negated else text


Read = tuple[str | None, str, int | None, bool]  # (struct, field, bit, sends_when) of a term


def _read(ctx: FileContext, node: Node, negated: bool, pointers: dict[str, str]) -> Read | None:
    """What NODE reads, when it is a field or a bit of one."""
    node = _unparen(node)
    if node.type == "field_expression":
        found = _field_path(node, pointers)
        return (*found, None, not negated) if found else None
    inner = _negated(node)
    if inner is not None:
        return _read(ctx, inner, not negated, pointers)
    operands = _operands(node)
    if operands is not None:
        return _binary_read(ctx, operands, negated, pointers)
    function, arguments = node.child_by_field_name("function"), node.child_by_field_name("arguments")
    if node.type == "call_expression" and function is not None and _spelling(function) in FEATURE_TESTS \
            and arguments is not None:
        args = [a for a in arguments.named_children if a.type != "comment"]
        if len(args) == 2:
            return _bit_read(ctx, args[0], args[1], negated, pointers, mask=False)
    return None


def _binary_read(ctx: FileContext, operands: tuple[str, Node, Node], negated: bool,
                 pointers: dict[str, str]) -> Read | None:
    operator, left, right = operands
    if operator == "&":
        return _bit_read(ctx, left, right, negated, pointers) or _bit_read(ctx, right, left, negated, pointers)
    if operator in ("==", "!="):
        for value, other in ((right, left), (left, right)):
            # `x != 0`, `x == true` keep the sense of x; `x == 0`, `x != true` invert it.
            # `x == 1` is not `x` for a number: only the words true and false stand for one
            constant = 1 if value.type == "true" else 0 if value.type == "false" else _evaluate(ctx, _spelling(value))
            if constant == 0 or value.type == "true":
                keeps = (operator == "!=") == (constant == 0)
                return _read(ctx, other, negated if keeps else not negated, pointers)
    return None


def _bit_read(ctx: FileContext, word: Node, bit_node: Node, negated: bool, pointers: dict[str, str],
              mask: bool = True) -> Read | None:
    """`word & mask` (MASK: a single bit) or virtio_has_feature(word, bit)."""
    word = _unparen(word)
    if word.type != "field_expression":
        return None
    found = _field_path(word, pointers)
    value = _evaluate(ctx, _spelling(bit_node))
    if found is None or not isinstance(value, int) or value < 0:
        return None
    if mask:
        if value <= 0 or value & (value - 1):
            return None  # not a single bit: more than one property may set it
        value = value.bit_length() - 1
    return (*found, value, not negated)


def _field_path(node: Node, pointers: dict[str, str]) -> tuple[str | None, str] | None:
    """(pointer type, "a.b") of `p->a.b`, `CAST(opaque)->a.b`, `((T *)opaque)->a`."""
    fields = []
    current: Node | None = node
    while current is not None and current.type == "field_expression":
        field = current.child_by_field_name("field")
        fields.append(_spelling(field) if field is not None else "?")
        argument = current.child_by_field_name("argument")
        current = _unparen(argument) if argument is not None else None
    path = ".".join(reversed(fields))
    if current is None:
        return None
    if current.type == "identifier":
        name = _spelling(current)
        return (pointers[name], path) if name in pointers else None
    if current.type == "call_expression":
        return None, path
    cast = current.child_by_field_name("type") if current.type == "cast_expression" else None
    return (_type_name(_spelling(cast).rstrip("* ")), path) if cast is not None else None


def _evaluate(ctx: FileContext, text: str) -> object:
    try:
        return ctx.evaluate(ctx.expand(tokenize(text)))
    except (Unresolved, ExpansionError, RecursionError, IndexError):
        return None


def gate(read: FieldRead, props: DeviceProperties, types: tuple[str, ...] = ()) -> Gate | None:
    """The property behind READ: among the properties TYPES have (own and inherited),
    or when TYPES is empty, any type's; None when no property sets that field."""
    prop = _matching(read, props, types)
    if prop is None:
        return None
    driver, found = prop
    if found.info in BOOL_INFOS:
        disables = "off" if read.sends_when else "on"
    elif read.sends_when and read.bit is None and NUMBER_INFO.match(found.info):
        disables = "0"  # a number: zero is false (an enum's zero, ON_OFF_AUTO_AUTO, says nothing)
    else:
        return None
    return Gate(read.function, read.file, read.line, driver, found.name, disables, read.condition, found)


def _matching(read: FieldRead, props: DeviceProperties, types: tuple[str, ...]) -> tuple[str, DeviceProperty] | None:
    owners = types or tuple(props.own)
    for type_name in owners:
        for owner, prop in props.of(type_name):
            if prop.field != read.field or prop.bit != read.bit:
                continue
            if read.struct is not None and prop.struct is not None and read.struct != prop.struct:
                continue
            return owner, prop
    return None
