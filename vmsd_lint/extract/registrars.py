"""QOM types that C code registers from data rather than from a top-level TypeInfo:

- a TypeInfo declared in a loop body, filled from an array of descriptors
  (`TypeInfo ti = { .name = known_devices[i].part_name, ... }; type_register_static(&ti);`,
  m25p80, tmp421, armsse), or assigned member by member (`ti.name = info->name;` with
  `info = &e1000_devices[i]`, e1000);
- a helper that builds the TypeInfo from its parameters, called for each element of an
  array (`arm_cpu_register(&arm_tcg_cpus[i])`, `x86_register_cpudef_types(&builtin_x86_defs[i])`
  -> `x86_register_cpu_model_type(def->name, m)`), possibly from another file, with the
  name made by `g_strdup_printf()` or a helper returning one (`x86_cpu_type_name()`);
- a pointer walking an array (`for (vdef = versions; vdef->version; vdef++)`).

The parse side (`registrar_facts`, in the worker processes, cached with the file's parse)
keeps, for the few files that do this, the functions involved as small syntax trees
(`Expr`, from the tree-sitter query queries/registrars.scm) and the text of the file's
arrays.  The resolve side (`FileTypes`) runs those functions symbolically with the
revision's own macros: an array indexed by a loop variable stands for each of its
elements in turn.  Whatever cannot be read is a diagnostic naming it.
"""
from __future__ import annotations

import bisect
import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, partial
from typing import NamedTuple

from ..model import Diagnostic, QomType
from .cexpr import Address, Symbol, Unresolved
from .context import _split_commas
from .lexer import matching, tokenize
from .parse import ParseFacts, _language, _text, declarator_name
from .preprocess import ExpansionError

TYPE_REGISTER = ("type_register", "type_register_static")
MAX_DEPTH = 12  # nested calls, loops and expression levels followed before giving up
BUDGET = 200_000  # registrations and calls run for one file (QEMU's largest, x86, needs ~1,000)
MAX_UNPARSED = 200  # ERROR nodes searched for an array initializer, per file


class Expr(NamedTuple):
    """A C expression as far as registrations need it: kind, source text, line, parts.
    kinds: id, field (object, member), index (array, index), addr (operand; also `*x`,
    casts and parentheses), call (callee name, args...), cond (test, then or None, else),
    add (left, right), list ((member or None, value)...), text (anything else: evaluated
    as a constant expression)."""
    kind: str
    text: str
    line: int
    parts: tuple = ()


class Loop(NamedTuple):
    """`for (var = start; test; var++)`: var walks an array (index loops need no record)."""
    var: str
    start: Expr
    test: Expr | None
    begin: int  # byte range of the loop
    end: int


class Func(NamedTuple):
    name: str
    line: int
    static: bool
    params: tuple[str, ...]
    locals: tuple[tuple[str, str, Expr, int], ...]  # (variable, type, initializer, line)
    assigns: tuple[tuple[Expr, Expr, int], ...]  # (left, right, line)
    calls: tuple[tuple[str, tuple[Expr, ...], int, int], ...]  # (callee, args, line, byte offset)
    loops: tuple[Loop, ...]
    guards: tuple[tuple[Expr, int, int], ...]  # (test, byte range) of each `if (test) {...}` branch
    returns: Expr | None  # the value of its last return statement


class Text(NamedTuple):
    """A member's initializer text, tokenized only if it is read."""
    text: str
    line: int


class Array(NamedTuple):
    """A declaration with a brace initializer: its element type and initializer text;
    `items`, when every element is a brace list of designated members: each element's
    (member, Text) pairs, so that only the members read are tokenized."""
    name: str
    type: str
    init_text: str
    line: int
    items: tuple | None = None


@dataclass(slots=True)
class RegistrarFacts:
    functions: dict[str, Func] = field(default_factory=dict)
    arrays: dict[str, Array] = field(default_factory=dict)  # file level
    includes: tuple[str, ...] = ()  # the .inc files it includes (arrays may be there)


# -- parse side ----------------------------------------------------------------------

# `f(&arr[i])`: the element of an array at a loop variable (not `&words[0]`)
_ELEMENT_ARG_RE = re.compile(rb"\(\s*&\s*(\w+)\s*\[\s*[A-Za-z_]\w*\s*\]\s*[,)]")
_INC_RE = re.compile(rb'^\s*#\s*include\s+"([^"]+\.inc)"', re.M)


def registers_dynamically(parse: ParseFacts, data: bytes) -> bool:
    """Whether a file may register types from data: a type_register*() of anything but a
    top-level TypeInfo, or an array element `&arr[i]` passed to a function."""
    registered = {_registered_name(call.args[0]) for fn in parse.functions for call in fn.calls
                  if call.callee in TYPE_REGISTER and call.args}
    if registered:  # (most files register nothing: they skip this)
        starts = sorted((fn.line, fn.end_line) for fn in parse.functions)
        top_level = {d.symbol for d in parse.decls if d.type == "TypeInfo" and not _within(d.line, starts)}
        if registered - top_level:
            return True
    return passes_array_elements(data)


def _within(line: int, spans: list[tuple[int, int]]) -> bool:
    """Whether LINE is inside one of the sorted, disjoint (first, last) line SPANS."""
    i = bisect.bisect_right(spans, (line, float("inf"))) - 1
    return i >= 0 and spans[i][0] <= line <= spans[i][1]


def passes_array_elements(data: bytes) -> bool:
    """Whether a file's text passes an element `&arr[i]` of an array it initializes
    (`arr[] = {`) to a function."""
    names = {m.group(1) for m in _ELEMENT_ARG_RE.finditer(data)}
    if not names:
        return False
    initialized = rb"\b(?:" + b"|".join(re.escape(n) for n in sorted(names)) + rb")\s*\[[^\]\n]*\]\s*=\s*\{"
    return re.search(initialized, data) is not None


# the capture naming the whole statement, by pattern index in queries/registrars.scm
_MAIN_CAPTURE = {1: "declaration", 2: "assign", 3: "call", 4: "return", 5: "for", 6: "if"}


@cache
def _query():
    from importlib import resources

    from tree_sitter import Query
    return Query(_language(), resources.files("vmsd_lint.extract").joinpath("queries", "registrars.scm").read_text())


def registrar_facts(tree, data: bytes, parse: ParseFacts) -> RegistrarFacts | None:
    """The functions that register types from data, the functions of the file they call
    and that call them, and the file's arrays (None when no function of the file
    registers anything so).  PARSE, the file's parse, tells which functions: only those
    are queried."""
    from tree_sitter import QueryCursor
    arrays = _file_arrays(tree, data)
    relevant = _relevant(parse, data, arrays)
    if not relevant:
        return None
    facts = RegistrarFacts(arrays=arrays, includes=tuple(m.group(1).decode("utf-8", "replace")
                                                          for m in _INC_RE.finditer(data)))
    for fn in relevant:
        cursor = QueryCursor(_query())
        cursor.set_point_range((fn.line - 1, 0), (fn.end_line, 0))
        function, own = None, []
        for pattern, caps in cursor.matches(tree.root_node):
            if pattern == 0:
                if _text(caps["name"][0], data) == fn.name:
                    function = caps
            elif pattern != 1 or _in_function(caps["declaration"][0]):
                own.append((pattern, caps, caps[_MAIN_CAPTURE[pattern]][0]))
        if function is not None:
            body = function["body"][0]
            own = [item for item in own if body.start_byte <= item[2].start_byte and item[2].end_byte <= body.end_byte]
            facts.functions[fn.name] = _func(fn.name, function, own, data)
    return facts


def _file_arrays(tree, data: bytes) -> dict[str, Array]:
    """The file-level arrays with a brace initializer (also inside a top-level #if)."""
    from tree_sitter import QueryCursor
    cursor = QueryCursor(_query())
    cursor.set_max_start_depth(2)  # the file's declarations, and those in an #if of it
    arrays = {}
    for pattern, caps in cursor.matches(tree.root_node):
        if pattern == 1 and caps["var"][0].type == "array_declarator" \
                and caps["init"][0].type == "initializer_list" and not _in_function(caps["declaration"][0]):
            name = declarator_name(caps["var"][0], data)
            if name:
                init = caps["init"][0]
                arrays[name] = Array(name, _text(caps["decl_type"][0], data), _text(init, data),
                                     init.start_point[0] + 1, _designated_items(init, data))
    arrays.update(_unparsed_arrays(tree.root_node, data, arrays))
    return arrays


def _designated_items(init, data: bytes) -> tuple | None:
    """Each element's (member, Text) pairs, when every element is `{ .member = value, ... }`
    (None otherwise: a macro builds one, a value is positional, an #if is inside)."""
    items = []
    for element in init.named_children:
        if element.type == "comment":
            continue
        if element.type != "initializer_list":
            return None
        members = []
        for pair in element.named_children:
            if pair.type == "comment":
                continue
            value = pair.child_by_field_name("value")
            if pair.type != "initializer_pair" or value is None:
                return None
            designators = [c for c in pair.children if c.type in ("field_designator", "subscript_designator")]
            if not designators or designators[0].type != "field_designator":
                return None
            member = "".join(_text(d, data) for d in designators)
            member = member[1:].strip() if len(designators) == 1 else member  # `.features[X]` stays whole
            members.append((member, Text(_text(value, data), value.start_point[0] + 1)))
        items.append(tuple(members))
    return tuple(items)


def _unparsed_arrays(root, data: bytes, known: dict[str, Array]) -> dict[str, Array]:
    """File-level arrays whose initializer the grammar could not parse: an `#if` inside
    one (s390_cpu_defs[]) leaves `T name[] = {` in an ERROR node.  The initializer is
    then the text up to the matching brace."""
    found = {}
    errors = [node for node in root.children if node.type == "ERROR"]
    for node in errors[:MAX_UNPARSED]:  # (mangled files have thousands)
        kinds = [c.type for c in node.children]
        for i in range(len(kinds) - 3):
            if kinds[i + 1:i + 4] == ["array_declarator", "=", "{"] and kinds[i] in ("type_identifier",
                                                                                    "primitive_type"):
                name = declarator_name(node.children[i + 1], data)
                start = node.children[i + 3].start_byte
                end = _matching_brace(data, start)
                if name and name not in known and end is not None:
                    found[name] = Array(name, _text(node.children[i], data),
                                        data[start:end + 1].decode("utf-8", "replace"),
                                        node.children[i + 3].start_point[0] + 1)
    return found


def _matching_brace(data: bytes, start: int) -> int | None:
    """The offset of the brace closing the one at START (strings, characters and
    comments skipped); None when the file ends first."""
    depth, i, n = 0, start, len(data)
    while i < n:
        c = data[i]
        if c in b'"\'':
            quote, i = c, i + 1
            while i < n and data[i] != quote:
                i += 2 if data[i] == 0x5C else 1  # a backslash escapes the next byte
        elif data.startswith(b"/*", i):
            i = data.find(b"*/", i + 2)
            if i < 0:
                return None
            i += 1
        elif data.startswith(b"//", i):
            i = data.find(b"\n", i)
            if i < 0:
                return None
        elif c == 0x7B:
            depth += 1
        elif c == 0x7D:
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return None


def included_arrays(path: str, facts: RegistrarFacts | None, read) -> dict[str, Array]:
    """The arrays of the .inc files a file includes (target/mips/cpu.c includes
    cpu-defs.c.inc, which holds mips_defs[]), read with READ(path) -> bytes | None."""
    if facts is None or not facts.includes or read is None:
        return {}
    from .parse import parse_tree
    found: dict[str, Array] = {}
    for name in facts.includes:
        data = read(posixpath.normpath(posixpath.join(posixpath.dirname(path), name)))
        if not data:
            continue
        for array_name, array in _file_arrays(parse_tree(data), data).items():
            found.setdefault(array_name, array)
    return found


def _in_function(node) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.type == "function_definition":
            return True
        parent = parent.parent
    return False


def _relevant(parse: ParseFacts, data: bytes, arrays: dict[str, Array]) -> list:
    """The functions (of PARSE) that register a local TypeInfo, with the functions of the
    file that lead to them and those they call (name helpers, version lists), and the
    functions passing an element of a file array to a function (`arm_cpu_register(&cpus[i])`)."""
    functions = {fn.name: fn for fn in parse.functions}
    lines = data.split(b"\n")
    registering, passing = [], []
    for fn in parse.functions:
        infos = {d.symbol for d in parse.decls if d.type == "TypeInfo" and fn.line <= d.line <= fn.end_line}
        if any(call.callee in TYPE_REGISTER and call.args and _registered_name(call.args[0]) in infos
               for call in fn.calls):
            registering.append(fn.name)
        elif arrays and any(m.group(1).decode("utf-8", "replace") in arrays for m in _ELEMENT_ARG_RE.finditer(
                b"\n".join(lines[fn.line - 1:fn.end_line]))):
            passing.append(fn.name)
    callers: dict[str, set[str]] = {}
    for fn in parse.functions:
        for callee in fn.callees:
            callers.setdefault(callee, set()).add(fn.name)
    seen = list(dict.fromkeys(registering))
    for name in seen:  # grows while walked: the functions leading to them
        seen.extend(caller for caller in sorted(callers.get(name, ())) if caller not in seen)
    for name in seen:  # and those they call
        seen.extend(callee for callee in functions[name].callees if callee in functions and callee not in seen)
    seen.extend(name for name in passing if name not in seen)
    return [functions[name] for name in seen]


def _registered_name(arg: str) -> str:
    """`ti` of `&ti`, `(TypeInfo *)&ti`."""
    m = re.fullmatch(r"\s*(?:\([^()]*\)\s*)?&?\s*(\w+)\s*", arg)
    return m.group(1) if m else ""


def _params(caps, data: bytes) -> tuple[str, ...]:
    names = []
    for param in caps["params"][0].named_children:
        if param.type == "parameter_declaration":
            declarator = param.child_by_field_name("declarator")
            name = declarator_name(declarator, data) if declarator is not None else None
            if name:
                names.append(name)
    return tuple(names)


def _func(name: str, caps, own, data: bytes) -> Func:
    locals_, assigns, calls, loops, guards, returns = [], [], [], [], [], None
    for pattern, c, node in own:
        line = node.start_point[0] + 1
        if pattern == 1:
            var = declarator_name(c["var"][0], data)
            if var:
                locals_.append((var, _text(c["decl_type"][0], data), expr(c["init"][0], data), line))
        elif pattern == 2:
            assigns.append((expr(c["lhs"][0], data), expr(c["rhs"][0], data), line))
        elif pattern == 3:
            args = tuple(expr(a, data) for a in c["args"][0].named_children if a.type != "comment")
            calls.append((_text(c["callee"][0], data), args, line, node.start_byte))
        elif pattern == 4:
            returns = expr(c["value"][0], data)
        elif pattern == 5:
            loop = _pointer_loop(node, data)
            if loop is not None:
                loops.append(loop)
        elif pattern == 6:
            body = c["if_body"][0]
            guards.append((expr(c["if_test"][0], data), body.start_byte, body.end_byte))
    function = caps["function"][0]
    static = any(ch.type == "storage_class_specifier" and ch.text == b"static" for ch in function.children)
    return Func(name, function.start_point[0] + 1, static, _params(caps, data), tuple(locals_), tuple(assigns),
                tuple(calls), tuple(loops), tuple(guards), returns)


def _pointer_loop(node, data: bytes) -> Loop | None:
    init, test, update = (node.child_by_field_name(f) for f in ("initializer", "condition", "update"))
    if init is None or update is None or init.type != "assignment_expression" \
            or update.type != "update_expression":
        return None
    left = init.child_by_field_name("left")
    target = update.child_by_field_name("argument")
    if left is None or target is None or left.type != "identifier" or _text(left, data) != _text(target, data):
        return None
    return Loop(_text(left, data), expr(init.child_by_field_name("right"), data),
                expr(test, data) if test is not None else None, node.start_byte, node.end_byte)


def expr(node, data: bytes, depth: int = 0) -> Expr:
    """The Expr of a tree-sitter expression node."""
    text, line, kind = _text(node, data), node.start_point[0] + 1, node.type
    if depth > MAX_DEPTH * 4:
        return Expr("text", text, line)
    sub = lambda n: expr(n, data, depth + 1)  # noqa: E731
    field_of = node.child_by_field_name
    if kind == "identifier":
        return Expr("id", text, line)
    if kind == "field_expression" and field_of("argument") is not None and field_of("field") is not None:
        return Expr("field", text, line, (sub(field_of("argument")), _text(field_of("field"), data)))
    if kind == "subscript_expression" and field_of("argument") is not None and field_of("index") is not None:
        return Expr("index", text, line, (sub(field_of("argument")), sub(field_of("index"))))
    if kind == "pointer_expression" and field_of("argument") is not None:
        return Expr("addr", text, line, (sub(field_of("argument")),))
    if kind == "cast_expression" and field_of("value") is not None:
        return Expr("addr", text, line, (sub(field_of("value")),))
    if kind == "parenthesized_expression" and len(node.named_children) == 1:
        return Expr("addr", text, line, (sub(node.named_children[0]),))
    if kind == "call_expression" and field_of("function") is not None and field_of("function").type == "identifier" \
            and field_of("arguments") is not None:
        args = tuple(sub(a) for a in field_of("arguments").named_children if a.type != "comment")
        return Expr("call", text, line, (_text(field_of("function"), data),) + args)
    if kind == "conditional_expression" and field_of("condition") is not None and field_of("alternative") is not None:
        then = field_of("consequence")
        return Expr("cond", text, line, (sub(field_of("condition")), sub(then) if then is not None else None,
                                         sub(field_of("alternative"))))
    if kind == "binary_expression" and field_of("operator") is not None and field_of("operator").type == "+":
        return Expr("add", text, line, (sub(field_of("left")), sub(field_of("right"))))
    if kind == "initializer_list":
        items = []
        for child in node.named_children:
            if child.type == "initializer_pair":
                designator = child.child_by_field_name("designator")
                value = child.child_by_field_name("value")
                if designator is not None and designator.type == "field_designator" and value is not None:
                    items.append((_text(designator, data).lstrip(".").strip(), sub(value)))
            elif child.type != "comment":
                items.append((None, sub(child)))
        return Expr("list", text, line, tuple(items))
    return Expr("text", text, line)


# -- resolve side --------------------------------------------------------------------

class Struct(NamedTuple):
    """A brace-initialized element (of an array, or a variable): its members' tokens, read
    in the context of the file at `path`."""
    path: str
    type: str
    members: tuple[tuple[str | None, tuple], ...]
    line: int


class Elements(NamedTuple):
    """An array value: where it comes from and its elements."""
    name: str
    items: tuple[Struct, ...]


class Each(Exception):
    """An array indexed by a loop variable: the expression has one value per element."""

    def __init__(self, array: Elements):
        super().__init__(array.name)
        self.array = array


class Pending(NamedTuple):
    """A call to a function of another file, with each element-wise set of argument
    values: resolved once every file's facts are known (linking.assemble)."""
    callee: str
    args: tuple
    file: str
    line: int


class NotRead(Exception):
    """Something a registration needs that the extractor does not read."""


class Unknown(NamedTuple):
    """An argument that could not be read: an error only where it is used."""
    reason: str


class Env(NamedTuple):
    file: FileTypes
    func: Func
    args: tuple  # parameter values
    choice: dict  # array name -> the element an indexing loop stands at
    loops: dict  # pointer loop variable -> its current element
    depth: int


class FileTypes:
    """Runs the registering functions of one file symbolically.  `context(path)` gives
    the FileContext of a path; `others(name)` the (FileTypes, Func) of a non-static
    function of another file (None when unknown, or at record time)."""

    def __init__(self, path: str, facts: RegistrarFacts, context: Callable, arrays: dict[str, Array] | None = None,
                 others: Callable | None = None):
        self.path, self.facts, self.context = path, facts, context
        self.arrays = dict(facts.arrays)
        self.arrays.update(arrays or {})
        self.others = others
        self.types: list[QomType] = []
        self.pending: list[Pending] = []
        self.diagnostics: list[Diagnostic] = []
        self._element_cache: dict[str, Elements | Struct] = {}
        self._constants: dict[str, object] = {}
        self._pinned: list = []
        self._steps = 0
        self.called: set[str] = set()
        self.called_elsewhere: set[str] = set()  # helpers of other files it called

    @property
    def ctx(self):
        return self.context(self.path)

    def run(self) -> None:
        """Every function of the file without parameters (the type_init() functions)."""
        called = {callee for fn in self.facts.functions.values() for callee, *_ in fn.calls}
        for fn in self.facts.functions.values():
            if not fn.params and fn.name not in called:
                self.call(fn, (), 0)

    def uncalled_helpers(self) -> list[Func]:
        """The functions that register types from their parameters and that no run
        called (static ones can only be called from this file)."""
        return [fn for fn in self.facts.functions.values() if fn.params and fn.name not in self.called
                and any(callee in TYPE_REGISTER and args and _base(args[0]).text in {var for var, *_ in fn.locals}
                        for callee, args, *_ in fn.calls)]

    def call(self, fn: Func, args: tuple, depth: int) -> None:
        if depth > MAX_DEPTH:
            self._note(fn.line, f"{fn.name}(): calls nested more than {MAX_DEPTH} deep: not read")
            return
        self.called.add(fn.name)
        env = Env(self, fn, args, {}, {}, depth)
        for callee, call_args, line, offset in fn.calls:
            if callee in TYPE_REGISTER and call_args:
                action = partial(self._register, target=call_args[0], line=line)
            elif callee in self.facts.functions and callee != fn.name:
                action = partial(self._call_here, target=self.facts.functions[callee], call_args=call_args,
                                 depth=depth)
            elif callee not in self.facts.functions and any(_indexes_array(a, self) for a in call_args):
                action = partial(self._elsewhere, callee=callee, call_args=call_args, line=line, depth=depth)
            else:
                continue
            loops = [loop for loop in fn.loops if loop.begin <= offset < loop.end]
            guards = [test for test, begin, end in fn.guards if begin <= offset < end]
            self._each_loop(env, loops, line, partial(self._guarded, guards=guards, action=action))

    def _guarded(self, env: Env, guards: list[Expr], action) -> None:
        """ACTION unless the test of an enclosing `if` is false (`if (vdef->alias)`);
        a test that cannot be read does not stop it."""
        for test in guards:
            try:
                if not _truthy(self.value(env, test)):
                    return
            except NotRead:
                pass
        action(env)

    def _call_here(self, env: Env, target: Func, call_args, depth: int) -> None:
        self.call(target, tuple(self._argument(env, a) for a in call_args), depth + 1)

    def _each_loop(self, env: Env, loops: list[Loop], line: int, action) -> None:
        """ACTION for each element the pointer LOOPS walk, then each element of any array
        indexed by a loop variable."""
        if loops:
            loop, rest = loops[0], loops[1:]
            try:
                start = self.value(env, loop.start)
            except (NotRead, Each) as exc:
                self._note(line, f"loop over '{loop.start.text}' not read: {_why(exc)}")
                return
            if isinstance(start, int) and not isinstance(start, bool):
                self._each_loop(env, rest, line, action)  # an index: `arr[i]` stands for each element
                return
            if not isinstance(start, Elements):
                self._note(line, f"loop over '{loop.start.text}' not read: not an array")
                return
            for item in start.items:
                inner = env._replace(loops={**env.loops, loop.var: item})
                try:
                    going = loop.test is None or _truthy(self.value(inner, loop.test))
                except (NotRead, Each) as exc:
                    self._note(line, f"loop test '{loop.test.text}' not read: {_why(exc)}")
                    return
                if not going:
                    break
                self._each_loop(inner, rest, line, action)
            return
        self._each(env, line, action)

    def _each(self, env: Env, line: int, action) -> None:
        if len(env.choice) > MAX_DEPTH:
            self._note(line, "arrays nested too deep: not read")
            return
        self._steps += 1
        if self._steps > BUDGET:
            if self._steps == BUDGET + 1:
                self._note(line, f"more than {BUDGET} registrations and calls: the rest is not read")
            return
        try:
            action(env)
        except Each as each:
            for item in each.array.items:
                self._each(env._replace(choice={**env.choice, each.array.name: item}), line, action)
        except NotRead as exc:
            self._note(line, str(exc))

    def _elsewhere(self, env: Env, callee: str, call_args, line: int, depth: int) -> None:
        args = tuple(self._argument(env, a) for a in call_args)
        found = self.others(callee) if self.others is not None else None
        if found is None:
            self.pending.append(Pending(callee, args, self.path, line))
            return
        other, fn = found
        other.call(fn, args, depth + 1)
        self.called_elsewhere.add(fn.name)
        self.types.extend(other.types)
        self.diagnostics.extend(other.diagnostics)
        other.types, other.diagnostics = [], []

    def _argument(self, env: Env, e: Expr):
        try:
            return self.value(env, e)
        except NotRead as exc:
            return Unknown(str(exc))

    def note_uncalled(self, fn: Func) -> None:
        self._note(fn.line, f"{fn.name}() registers types from its parameters, but no call of it was read: "
                            f"those types are not known")

    def _note(self, line: int, message: str) -> None:
        self.diagnostics.append(Diagnostic("unresolved", self.path, line, f"type registration: {message}"))

    # -- a registration ----------------------------------------------------------------
    def _register(self, env: Env, target: Expr, line: int) -> None:
        """One type_register*(&ti) call: a QomType (for the current elements)."""
        members = self._type_info(env, target, line)
        if not members:
            return
        values = {}
        for member in ("name", "parent", "class_init", "instance_init", "abstract", "class_data"):
            if member in members:
                value_env, value = members[member]
                try:
                    values[member] = self.value(value_env, value)
                except NotRead as exc:
                    if member in ("name", "parent"):
                        raise NotRead(f"type_register of '{target.text}': .{member} = {value.text}: {exc}") from None
        name = values.get("name")
        if name is None and not members.get("name"):
            return  # an empty terminator element
        if not isinstance(name, str):
            raise NotRead(f"type_register of '{target.text}': .name is not a string")
        if not name:
            return
        parent = values.get("parent")
        data = values.get("class_data")
        vmsd = None
        if isinstance(data, Struct):  # a descriptor naming the VMSD (`dc->vmsd = info->vmsd`)
            try:
                vmsd = _member_value(self, data, "vmsd")
            except NotRead:
                pass
        symbol = next(iter(env.choice), None)
        self.types.append(QomType(
            name=name, symbol=f"{symbol}[]" if symbol else _base(target).text, file=self.path, line=line,
            parent=parent if isinstance(parent, str) else None,
            class_init=_function(values.get("class_init")),
            abstract=bool(values.get("abstract")) if isinstance(values.get("abstract"), int) else False,
            instance_init=_function(values.get("instance_init")),
            data_vmsd=vmsd.name if isinstance(vmsd, Address) else None))

    def _type_info(self, env: Env, target: Expr, line: int) -> dict[str, tuple[Env, Expr]]:
        """The members of the TypeInfo a registration passes: the local variable's
        initializer and the assignments to its members before the call."""
        base = _base(target)
        if base.kind != "id":
            raise NotRead(f"type_register of '{target.text}': not a local TypeInfo")
        var = base.text
        local = [init for name, _, init, _ in env.func.locals if name == var]
        if not local and var not in env.func.params:
            return {}  # a TypeInfo of the file: read with the others (qom.type_infos)
        members: dict[str, tuple[Env, Expr]] = {}
        for init in local:
            if init.kind == "list":
                members = {m: (env, v) for m, v in init.parts if m}
        for left, right, assign_line in env.func.assigns:
            if assign_line <= line and left.kind == "field" and _base(left.parts[0]).text == var:
                members[left.parts[1]] = (env, right)
        if not members:
            if not local:
                raise NotRead(f"type_register of parameter '{var}': not read")
            raise NotRead(f"type_register of '{target.text}': no TypeInfo '{var}' with members found")
        return members

    # -- values --------------------------------------------------------------------------
    def value(self, env: Env, e: Expr):
        """The value of E: str, int, Symbol/Address (functions, symbols), Struct,
        Elements or None; raises Each for an array indexed by a loop variable, NotRead
        when it cannot be read."""
        if env.depth > MAX_DEPTH:
            raise NotRead(f"'{e.text}': nested too deep")
        kind = e.kind
        if kind == "id":
            return self._identifier(env, e)
        if kind == "addr":
            return self.value(env, e.parts[0])
        if kind == "field":
            return _member_value(self, self.value(env, e.parts[0]), e.parts[1], e.text)
        if kind in ("index", "add"):
            array = self.value(env, e.parts[0])
            if not isinstance(array, Elements):
                return self._constant(e)
            try:
                index = self._constant(e.parts[1])
            except NotRead:
                index = None
            if isinstance(index, int) and not isinstance(index, bool):
                if 0 <= index < len(array.items):
                    return array.items[index]
                raise NotRead(f"'{e.text}': index out of range")
            if array.name in env.choice:
                return env.choice[array.name]
            raise Each(array)
        if kind == "call":
            return self._call(env, e)
        if kind == "cond":
            test = self.value(env, e.parts[0])
            if _truthy(test):
                return test if e.parts[1] is None else self.value(env, e.parts[1])
            return self.value(env, e.parts[2])
        if kind == "list":
            return Struct(self.path, "", tuple((m, tuple(tokenize(v.text, v.line))) for m, v in e.parts), e.line)
        return self._constant(e)

    def _identifier(self, env: Env, e: Expr):
        name = e.text
        if name in env.loops:
            return env.loops[name]
        if name in env.func.params:
            index = env.func.params.index(name)
            if index < len(env.args):
                if isinstance(env.args[index], Unknown):
                    raise NotRead(env.args[index].reason)
                return env.args[index]
            raise NotRead(f"parameter '{name}' of {env.func.name}() has no value")
        for var, type_name, init, _ in reversed(env.func.locals):
            if var == name:
                return self._local(env, var, type_name, init)
        for left, right, _ in reversed(env.func.assigns):
            if left.kind == "id" and left.text == name:
                return self.value(env._replace(depth=env.depth + 1), right)
        array = self._array(name)
        if array is not None:
            return array
        return self._constant(e)

    def _local(self, env: Env, var: str, type_name: str, init: Expr):
        if init.kind == "list":  # constant data: an array of elements, or one structure
            key = f"{env.func.name}:{var}"
            if any(member for member, _ in init.parts):
                if key not in self._element_cache:
                    self._element_cache[key] = _struct(self, type_name, tokenize(init.text, init.line)[1:-1])
                return self._element_cache[key]
            return self._elements(Array(var, type_name, init.text, init.line), key)
        return self.value(env._replace(depth=env.depth + 1), init)

    def _call(self, env: Env, e: Expr):
        callee, args = e.parts[0], e.parts[1:]
        ctx = self.ctx
        if ctx.macro(callee) is not None:
            return self._constant(e)
        if callee == "g_strdup_printf" and args:
            return _printf(self.value(env, args[0]), [self.value(env, a) for a in args[1:]], e.text)
        if callee in ("g_strdup", "g_strconcat") and args:
            parts = [self.value(env, a) for a in args if a.text != "NULL"]
            if all(isinstance(p, str) for p in parts):
                return "".join(parts)
        fn = self.facts.functions.get(callee)
        if fn is not None and fn.returns is not None:
            values = tuple(self.value(env, a) for a in args)
            return self.value(Env(self, fn, values, {}, {}, env.depth + 1), fn.returns)
        raise NotRead(f"'{e.text}': {callee}() is not read")

    def _constant(self, e: Expr):
        """E as a constant expression of the file (the same text has the same value:
        remembered, as a helper's constants are met once per element)."""
        try:
            value = self._constants[e.text]
        except KeyError:
            ctx = self.ctx
            try:
                value = ctx.evaluate(ctx.expand(tokenize(e.text, e.line)))
            except (Unresolved, ExpansionError, RecursionError, IndexError) as exc:
                value = NotRead(f"'{e.text}': {exc}")
            self._constants[e.text] = value
        if isinstance(value, NotRead):
            raise NotRead(str(value))
        return value

    def _array(self, name: str) -> Elements | None:
        array = self.arrays.get(name)
        return self._elements(array, name) if array is not None else None

    def _elements(self, array: Array, key: str, tokens=None) -> Elements:
        """The elements of an array (from its text, or its TOKENS), each with a macro that
        builds one (`{ INFO("at25fs010", ...) }`) expanded, and the build's #if branches applied."""
        if key in self._element_cache:
            return self._element_cache[key]
        if tokens is None and array.items is not None:
            result = Elements(key, tuple(Struct(self.path, array.type, members, members[0][1].line if members
                                                else array.line) for members in array.items))
            self._element_cache[key] = result
            return result
        ctx = self.ctx
        try:
            tokens = ctx.apply_conditionals(tokens if tokens is not None
                                            else tokenize(array.init_text, array.line, directives=True))
        except (ExpansionError, RecursionError) as exc:
            raise NotRead(f"array '{array.name}': {exc}") from None
        if tokens and tokens[0].text == "{":
            tokens = tokens[1:-1]
        items = []
        for part in _split_commas(tokens):
            if not part:
                continue  # after a trailing comma
            if part[0].text == "{" and part[-1].text == "}":
                part = part[1:-1]
            items.append(_struct(self, array.type, part))
        result = Elements(key, tuple(items))
        self._element_cache[key] = result
        return result


def _struct(file: FileTypes, type_name: str, tokens) -> Struct:
    """An element's members; one written as a macro call is expanded first."""
    line = tokens[0].line if tokens else 0
    members = [(m, tuple(v)) for m, v, _ in _designated(tokens)]
    if any(m is None for m, _ in members):
        try:
            expanded = file.ctx.expand(list(tokens))
        except (ExpansionError, RecursionError) as exc:
            raise NotRead(f"element at line {line}: {exc}") from None
        if expanded and expanded[0].text == "{" and expanded[-1].text == "}":
            expanded = expanded[1:-1]
        members = [(m, tuple(v)) for m, v, _ in _designated(expanded)]
    return Struct(file.path, type_name, tuple(members), line)


def _designated(tokens) -> list:
    """(member, value tokens, line) of each initializer: member None for a positional
    one; a designator into a member (`.features[FEAT_1_EDX] = ...`, `[2] = ...`) is
    named by its text, so that it is neither taken for the member nor positional."""
    out = []
    for part in _split_commas(list(tokens)):
        if not part:
            continue
        equals = _designator_end(part)
        if equals is None:
            out.append((None, part, part[0].line))
        elif equals == 2 and part[0].text == ".":
            out.append((part[1].text, part[3:], part[0].line))
        else:
            out.append(("".join(t.text for t in part[:equals]), part[equals + 1:], part[0].line))
    return out


def _designator_end(part) -> int | None:
    """The index of the `=` ending a designator (`.a`, `.a[3].b`, `[2]`), if PART has one."""
    if part[0].text not in (".", "["):
        return None
    depth = 0
    for i, tok in enumerate(part):
        if tok.text == "[":
            depth += 1
        elif tok.text == "]":
            depth -= 1
        elif depth == 0 and tok.text == "=":
            return i
        elif depth == 0 and tok.text not in (".",) and not tok.text.isidentifier():
            return None
    return None


def _member_value(file: FileTypes, value, member: str, text: str | None = None):
    """A member of a Struct value (None when the initializer leaves it out: C zeroes it)."""
    if not isinstance(value, Struct):
        raise NotRead(f"'{text or member}': not a structure")
    tokens = None
    for name, value_tokens in value.members:
        if name == member:
            tokens = value_tokens
    if tokens is None and any(name is None for name, _ in value.members):
        tokens = _positional(file, value, member)
    if tokens is None:
        return None
    ctx = file.context(value.path)
    if isinstance(tokens, Text):
        key = f"compound:{tokens.line}:{tokens.text}"
        tokens = tuple(tokenize(tokens.text, tokens.line))
    else:
        key = f"compound:{id(tokens)}"
        file._pinned.append(tokens)  # so that its id names it while it is remembered
    if tokens and tokens[0].text == "(":  # a compound literal array: `(T[]) { {...}, ... }`
        close = matching(tokens, 0)
        if close is not None and close + 1 < len(tokens) and tokens[close + 1].text == "{":
            body = list(tokens[close + 1:])
            element_type = " ".join(t.text for t in tokens[1:close]).replace("[ ]", "").strip()
            owner = file if value.path == file.path else FileTypes(value.path, RegistrarFacts(), file.context)
            return owner._elements(Array(member, element_type, "", body[0].line), f"{value.path}:{key}", body)
    if tokens and tokens[0].text == "{":
        return _struct(file, "", tokens[1:-1])
    try:
        result = ctx.evaluate(ctx.expand(list(tokens)))
    except (Unresolved, ExpansionError, RecursionError, IndexError) as exc:
        raise NotRead(f"'{text or member}': {exc}") from None
    if isinstance(result, Address) and result.name in file.arrays:  # `.config = &core`
        array = file.arrays[result.name]
        return _struct(file, array.type, tokenize(array.init_text, array.line)[1:-1])
    return result


def _positional(file: FileTypes, value: Struct, member: str):
    """A positional member, by the order of the element type's members."""
    try:
        record = file.context(value.path).typedef(value.type) if value.type else None
    except (Unresolved, RecursionError):
        record = None
    names = list(getattr(record, "members", {}) or {})
    if member not in names:
        raise NotRead(f"member '{member}' of a positional initializer of '{value.type or '?'}'")
    index = names.index(member)
    positional = [v for name, v in value.members if name is None]
    return positional[index] if index < len(positional) else None



def _printf(fmt, values: list, text: str) -> str:
    """g_strdup_printf() with %s and integer conversions."""
    if not isinstance(fmt, str):
        raise NotRead(f"'{text}': format is not a string")
    out, args = [], iter(values)
    for piece in re.split(r"(%[-+ #0-9.]*(?:l|ll|z|h)?[sduixX%])", fmt):
        if not piece.startswith("%") or len(piece) < 2:
            out.append(piece)
            continue
        if piece == "%%":
            out.append("%")
            continue
        value = next(args, None)
        conversion = piece[-1]
        if (conversion == "s" and isinstance(value, str)) or (conversion != "s" and isinstance(value, int)):
            out.append(("%" + piece[1:].replace("l", "").replace("z", "").replace("h", "")) % value)
        else:
            raise NotRead(f"'{text}': {piece} of {value!r}")
    return "".join(out)


def _truthy(value) -> bool:
    if value is None:
        return False
    if isinstance(value, (int, str)):
        return bool(value)
    return True


def _function(value) -> str | None:
    return value.name if isinstance(value, (Symbol, Address)) else None


def _base(e: Expr) -> Expr:
    while e.kind == "addr" and e.parts:
        e = e.parts[0]
    return e


def _indexes_array(e: Expr, file: FileTypes) -> bool:
    """Whether an argument is an element of a file array (`&arr[i]`)."""
    e = _base(e)
    return e.kind == "index" and e.parts[0].kind == "id" and e.parts[0].text in file.arrays


def _why(exc: Exception) -> str:
    return f"indexes '{exc.array.name}'" if isinstance(exc, Each) else str(exc)
