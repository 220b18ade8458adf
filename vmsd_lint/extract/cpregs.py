"""Arm coprocessor registers of a tree, and the list a CPU model migrates (issue 15).

Arm sends its system registers as one list (target/arm/machine.c: cpreg_vmstate_array_len,
cpreg_vmstate_indexes, cpreg_vmstate_values), built at realize from the registers the
code defined for that CPU (helper.c: define_one_arm_cp_reg_with_opaque() expands each
ARMCPRegInfo into hash-table entries, add_cpreg_to_hashtable() marks some ALIAS or NO_RAW,
init_cpreg_list() keeps the others).  This module reads:

- every ARMCPRegInfo initializer of target/arm (its fields evaluated with the tree's own
  macros and constants);
- every define_arm_cp_regs*() / define_one_arm_cp_reg*() call, with the `if` conditions
  around it and around the calls that lead to its function;
- a named CPU model's init function: the features it sets and its ID register values;

and estimates, for a model under TCG, the keys of the migrated list.  A condition it
cannot decide is never guessed: the registrations under it are listed as undecided.
"""
from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from ..sources.tree import SourceTree
from .cexpr import Unresolved, split_top, unescape_string
from .context import FileContext, TreeIndex
from .lexer import IDENT, NUMBER, STRING, Token, tokenize
from .machines import partial_index
from .parse import counted, declarator_name, parse_tree
from .preprocess import ExpansionError

REG_TYPE = "ARMCPRegInfo"
DEFINE_CALLS = {"define_arm_cp_regs": False, "define_arm_cp_regs_with_opaque": False,
                "define_one_arm_cp_reg": True, "define_one_arm_cp_reg_with_opaque": True}
# the fields read from each initializer (the others are functions and offsets)
INT_FIELDS = ("cp", "crn", "crm", "opc0", "opc1", "opc2", "state", "secure", "type", "access",
              "resetvalue")
ARM_DIR = "target/arm/"
# what runs after the model's init function: QOM's post_init (features implied by others), realize
REALIZE_ROOTS = ("arm_cpu_post_init", "arm_cpu_realizefn")
ISAR_PREFIX = "isar_feature_"
# the C operators a condition or a loop bound is evaluated with (others: undecided)
BINARY = {"==": operator.eq, "!=": operator.ne, ">=": operator.ge, ">": operator.gt, "<=": operator.le,
          "<": operator.lt, "&": operator.and_, "|": operator.or_, ">>": operator.rshift, "<<": operator.lshift,
          "+": operator.add, "-": operator.sub}
SMALL_FUNCTION = 4  # statements of a function whose value a loop bound may be (arm_num_brps)


@dataclass
class CpReg:
    name: str | None
    fields: dict[str, int | None]  # INT_FIELDS present in the initializer; None: not constant
    banked: bool  # .bank_fieldoffsets given: one field per security state
    path: str
    line: int
    source: str = field(default="", repr=False)  # the initializer, for a re-read in a loop

    def get(self, name: str) -> int:
        return self.fields.get(name) or 0

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"

    def unresolved(self) -> list[str]:
        """The fields the register's keys depend on that are not constant (its reset
        value may be a run-time one: cpu->midr)."""
        return [k for k, v in self.fields.items() if v is None and k != "resetvalue"]


@dataclass
class Cond:
    text: str
    negated: bool  # the call is in the else branch, or after `if (TEXT) return;`


@dataclass
class Call:
    callee: str
    args: tuple[str, ...]
    conds: tuple[Cond, ...]
    path: str
    line: int
    in_loop: bool
    # `for (VAR = START; VAR < BOUND; VAR++)` around the call: (VAR, START, "<" or "<=",
    # BOUND), BOUND as the function last assigned it before the loop (`brps = arm_num_brps(cpu)`)
    loop: tuple[str, str, str, str] | None = None

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass
class Edit:
    """`NAME[INDEX].FIELD = VALUE;` (or `|=`, `&=`; INDEX None for a single struct) in a
    function, after NAME's initializer and before it is registered: realize's
    `vapa_cp_reginfo[0].type = ARM_CP_ALIAS | ARM_CP_NO_GDB` under LPAE."""
    index: int | None
    field: str
    op: str
    value: str
    conds: tuple[Cond, ...]
    path: str
    line: int

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass
class CpuModel:
    name: str
    initfn: str
    features: set[str] = field(default_factory=set)
    values: dict[str, int] = field(default_factory=dict)  # "midr", "isar.id_aa64pfr0", ...
    undecided: list[Call] = field(default_factory=list)  # set_feature() under a condition
    unknown: list[str] = field(default_factory=list)  # fields set to a value not constant
    unknown_fields: set[str] = field(default_factory=set)  # their names ("isar.id_aa64isar0")
    unknown_texts: dict[str, str] = field(default_factory=dict)  # name -> the value's text, spaces left out

    def value(self, name: str) -> int | None:
        """A field of the CPU: what the model set, None if not known, else 0 (QOM zeroes
        the CPU object)."""
        return None if name in self.unknown_fields else self.values.get(name, 0)


@dataclass
class CpRegFacts:
    regs: list[CpReg]
    # "path:name" -> (line, its registers) of each declaration (single structs: one register)
    arrays: dict[str, list[tuple[int, list[CpReg]]]]
    calls: dict[str, list[Call]]  # function -> the calls it makes (to functions of target/arm)
    models: dict[str, str]  # CPU model name -> init function
    isar: dict[str, tuple[str, str]]  # isar_feature_X -> (return expression, path)
    small: dict[str, tuple[str, str]]  # a function of a few statements -> (its body, path)
    # function -> its writes to the CPU's ID registers, in order: `cpu->isar.X = VALUE` as
    # (X, VALUE's text, conditions, file:line)
    id_writes: dict[str, list[tuple[str, str, tuple[Cond, ...], str]]]
    index: TreeIndex = field(repr=False)
    texts: dict[str, bytes] = field(repr=False)
    # "path:name" -> the edits of a local register (array) before its registration
    edits: dict[str, list[Edit]] = field(default_factory=dict)

    def array(self, path: str, name: str, line: int) -> list[CpReg] | None:
        """The registers NAME names at PATH:LINE: the last declaration before it in that
        file (locals of several blocks share a name: `rvbar`), else the only one elsewhere."""
        found = self.arrays.get(f"{path}:{name}")
        if found:
            before = [regs for start, regs in found if start <= line]
            return before[-1] if before else found[0][1]
        matches = [decls for key, decls in self.arrays.items() if key.endswith(f":{name}")]
        return matches[0][-1][1] if len(matches) == 1 else None


# -- reading the tree -------------------------------------------------------------

def arm_sources(tree: SourceTree) -> list[str]:
    return sorted(f.path for f in tree.files if f.path.startswith(ARM_DIR) and f.path.endswith(".c"))


def extract(tree: SourceTree) -> CpRegFacts:
    paths = arm_sources(tree)
    headers = sorted(f.path for f in tree.files if f.path.startswith(ARM_DIR) and f.path.endswith(".h"))
    index = partial_index(tree, paths + headers, "aarch64")
    wanted = {f.path: f for f in tree.files if f.path in set(paths + headers)}
    texts = tree.read(list(wanted.values()))
    facts = CpRegFacts([], {}, {}, {}, {}, {}, {}, index, texts)
    defined: set[str] = set()
    for path in paths + headers:
        _read_file(facts, path, texts[path], defined)
    # keep only the calls between functions of target/arm, and the registrations
    for fn, calls in facts.calls.items():
        facts.calls[fn] = [c for c in calls if c.callee in defined or c.callee in DEFINE_CALLS
                           or c.callee in ("set_feature", "unset_feature")]
    return facts


def _read_file(facts: CpRegFacts, path: str, data: bytes, defined: set[str]) -> None:
    root = parse_tree(data).root_node
    ctx = facts.index.context(path)
    for node in _walk(root):
        if node.type in ("declaration", "function_definition") and not _compiled(facts, path, node):
            continue
        if node.type == "declaration" and _text(node.child_by_field_name("type"), data) == REG_TYPE:
            _read_declaration(facts, ctx, path, node, data)
        elif node.type == "function_definition":
            name = declarator_name(node.child_by_field_name("declarator"), data)
            if name:
                defined.add(name)
                facts.calls[name] = _calls_of(facts, path, node, data)
                facts.id_writes[name] = _id_writes(facts, path, node, data)
                _read_edits(facts, path, node, data)
                if name.startswith(ISAR_PREFIX):
                    ret = _return_expression(node, data)
                    if ret:
                        facts.isar[name] = (ret, path)
                body = node.child_by_field_name("body")
                if body is not None and len(body.named_children) <= SMALL_FUNCTION:
                    facts.small[name] = (_text(body, data), path)
        elif node.type == "initializer_list" and _compiled(facts, path, node):
            _read_model_entry(facts, node, data)  # arm's "max" is `#ifndef TARGET_AARCH64`


def _compiled(facts: CpRegFacts, path: str, node) -> bool:
    """Whether the #if conditions around NODE hold for a system emulator of aarch64
    (internals.h's empty stub `#ifdef CONFIG_USER_ONLY` is not the function)."""
    line = node.start_point[0] + 1
    return all(facts.index.condition_true(c, path) for c in facts.index.files[path].cond_at(line) if c != "1")


def _walk(node):
    stack = [node]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(node.children))


def _text(node, data: bytes) -> str:
    return data[node.start_byte:node.end_byte].decode("utf-8", "replace") if node is not None else ""


def _read_declaration(facts: CpRegFacts, ctx: FileContext, path: str, node, data: bytes) -> None:
    for init in node.children_by_field_name("declarator"):
        value = init.child_by_field_name("value")
        if init.type != "init_declarator" or value is None or value.type != "initializer_list":
            continue
        decl = init.child_by_field_name("declarator")
        is_array = decl.type == "array_declarator"
        while decl.type != "identifier" and decl.child_by_field_name("declarator") is not None:
            decl = decl.child_by_field_name("declarator")
        entries = [c for c in value.named_children if c.type == "initializer_list"] if is_array else [value]
        regs = [_read_reg(ctx, path, entry, data) for entry in entries]
        facts.arrays.setdefault(f"{path}:{_text(decl, data)}", []).append((node.start_point[0] + 1, regs))
        facts.regs.extend(regs)


def _read_reg(ctx: FileContext, path: str, entry, data: bytes) -> CpReg:
    """One `{ .name = ..., .cp = ..., ... }`, read as tokens: tree-sitter does not parse an
    #ifdef inside an initializer (ID_AA64PFR0_EL1's .type), the token reader drops the
    branches the build does not take."""
    return read_reg_source(ctx, path, entry.start_point[0] + 1, _text(entry, data))


def read_reg_source(ctx: FileContext, path: str, line: int, source: str,
                    binding: dict[str, int] | None = None) -> CpReg:
    """A register from its initializer's text; BINDING gives locals a value (a loop's `i`)."""
    tokens = ctx.apply_conditionals(tokenize(source, line, directives=True))[1:-1]
    if binding:
        tokens = [Token(NUMBER, str(binding[t.text]), t.line) if t.kind == IDENT and t.text in binding else t
                  for t in tokens]
    fields: dict[str, int | None] = {}
    name = None
    banked = False
    for part in split_top(tokens, ","):
        if len(part) < 4 or part[0].text != "." or part[2].text != "=":
            continue
        key, value = part[1].text, part[3:]
        if key == "name":
            name = unescape_string(value[0].text) if len(value) == 1 and value[0].kind == STRING else None
        elif key == "bank_fieldoffsets":
            banked = True
        elif key in INT_FIELDS:
            fields[key] = _value(ctx, value)
    return CpReg(name, fields, banked, path, line, source)


def _value(ctx: FileContext, tokens) -> int | None:
    try:
        return ctx.evaluate_int(ctx.expand(tokens))
    except (Unresolved, ExpansionError, ArithmeticError, ValueError, TypeError):
        return None  # not constant: a local, a call, a field of the CPU


def constant_value(ctx: FileContext, text: str, line: int = 1) -> int | None:
    """TEXT's value with the file's macros and constants, or None if it is not constant."""
    return _value(ctx, ctx.expand_text(text, line))


def _return_expression(node, data: bytes) -> str | None:
    body = node.child_by_field_name("body")
    statements = [c for c in body.named_children if c.type != "comment"] if body is not None else []
    if len(statements) == 1 and statements[0].type == "return_statement" and statements[0].named_children:
        return _text(statements[0].named_children[0], data)
    return None


def _read_model_entry(facts: CpRegFacts, node, data: bytes) -> None:
    """`{ .name = "cortex-a57", .initfn = aarch64_a57_initfn }` of an ARMCPUInfo table."""
    pairs = {}
    for pair in node.named_children:
        if pair.type == "initializer_pair":
            key = _text(pair.child_by_field_name("designator"), data).lstrip(".").strip()
            pairs[key] = pair.child_by_field_name("value")
    if "initfn" in pairs and "name" in pairs and pairs["name"].type == "string_literal":
        facts.models[unescape_string(_text(pairs["name"], data))] = _text(pairs["initfn"], data)


# -- calls and the conditions around them -----------------------------------------

def _calls_of(facts: CpRegFacts, path: str, fn, data: bytes) -> list[Call]:
    calls = []
    for node in _walk(fn.child_by_field_name("body")):
        if node.type != "call_expression":
            continue
        callee = node.child_by_field_name("function")
        if callee is None or callee.type != "identifier":
            continue
        if not _compiled(facts, path, node):
            continue
        line = node.start_point[0] + 1
        args = tuple(_text(a, data) for a in node.child_by_field_name("arguments").named_children)
        conds, in_loop = conditions_around(node, data)
        calls.append(Call(_text(callee, data), args, conds, path, line, in_loop, _loop(fn, node, data)))
    return calls


def _loop(fn, node, data: bytes) -> tuple[str, str, str, str] | None:
    """The counting loop NODE is in, if it is the innermost loop and reads as one."""
    parent = node.parent
    while parent is not None and parent.type not in ("for_statement", "while_statement", "do_statement"):
        parent = parent.parent
    found = counted(parent, data) if parent is not None else None
    if found is None:
        return None
    var, start, op, bound = found
    return var, start, op, _assigned_before(fn, bound, parent, data)


def _assigned_before(fn, name: str, before, data: bytes) -> str:
    """What the local NAME was last set to before BEFORE in FN (NAME itself if never)."""
    value = name
    for node in _walk(fn.child_by_field_name("body")):
        if node.start_byte >= before.start_byte:
            break
        if node.type in ("assignment_expression", "init_declarator") \
                and _text(node.child_by_field_name("left") or node.child_by_field_name("declarator"), data) == name:
            right = node.child_by_field_name("right") or node.child_by_field_name("value")
            if right is not None:
                value = _text(right, data)
    return value


def _id_writes(facts: CpRegFacts, path: str, fn, data: bytes) -> list[tuple[str, str, tuple[Cond, ...], str]]:
    """FN's compiled `cpu->FIELD = VALUE` writes (realize's `cpu->ctr = ...` is user-mode only)."""
    found = []
    for node in _walk(fn.child_by_field_name("body")):
        if node.type == "assignment_expression" and _compiled(facts, path, node):
            left = _text(node.child_by_field_name("left"), data).replace(" ", "")
            if left.startswith("cpu->") and "->" not in left[len("cpu->"):]:
                found.append((left[len("cpu->"):], _text(node.child_by_field_name("right"), data),
                              conditions_around(node, data)[0], f"{path}:{node.start_point[0] + 1}"))
    return found


def _read_edits(facts: CpRegFacts, path: str, fn, data: bytes) -> None:
    """FN's compiled assignments to a field of a register (INT_FIELDS) of a local array or
    struct: `NAME[INDEX].FIELD op VALUE`."""
    for node in _walk(fn.child_by_field_name("body")):
        if node.type != "assignment_expression" or not _compiled(facts, path, node):
            continue
        left = node.child_by_field_name("left")
        if left is None or left.type != "field_expression" or _text(left.child_by_field_name("operator"), data) != ".":
            continue
        name = _text(left.child_by_field_name("field"), data)
        target = left.child_by_field_name("argument")
        index: int | None = None
        if target is not None and target.type == "subscript_expression":
            number = _text(target.child_by_field_name("index"), data).strip()
            if not number.isdigit():
                continue
            index, target = int(number), target.child_by_field_name("argument")
        if name not in INT_FIELDS or target is None or target.type != "identifier":
            continue
        op = _text(node.child_by_field_name("operator"), data)
        facts.edits.setdefault(f"{path}:{_text(target, data)}", []).append(
            Edit(index, name, op, _text(node.child_by_field_name("right"), data), conditions_around(node, data)[0],
                 path, node.start_point[0] + 1))


def conditions_around(node, data: bytes) -> tuple[tuple[Cond, ...], bool]:
    """The `if` conditions NODE runs under within its function, outermost first."""
    conds: list[Cond] = []
    in_loop = False
    child, parent = node, node.parent
    while parent is not None and parent.type != "function_definition":
        if parent.type == "if_statement":
            test = _text(parent.child_by_field_name("condition"), data)
            if child == parent.child_by_field_name("consequence"):
                conds.append(Cond(test, False))
            elif child == parent.child_by_field_name("alternative"):
                conds.append(Cond(test, True))
        elif parent.type in ("for_statement", "while_statement", "do_statement"):
            in_loop = True
        elif parent.type == "compound_statement":
            conds.extend(_early_returns(parent, child, data))
        child, parent = parent, parent.parent
    return tuple(reversed(conds)), in_loop


def _early_returns(block, child, data: bytes) -> list[Cond]:
    """`if (X) { return; }` before CHILD in BLOCK: CHILD runs only when X is false.  A
    return that reports an error (error_setg, error_propagate) is not a guard: the model
    is of a realize that succeeded, which did not take it."""
    found = []
    for statement in block.named_children:
        if statement == child:
            break
        consequence = statement.child_by_field_name("consequence")
        if statement.type == "if_statement" and statement.child_by_field_name("alternative") is None \
                and _returns(consequence) and not _reports_error(consequence, data):
            found.append(Cond(_text(statement.child_by_field_name("condition"), data), True))
    return found


def _reports_error(node, data: bytes) -> bool:
    return any(n.type == "call_expression" and _text(n.child_by_field_name("function"), data).startswith("error_")
               for n in _walk(node))


def _returns(node) -> bool:
    if node is None:
        return False
    if node.type == "return_statement":
        return True
    return node.type == "compound_statement" and any(c.type == "return_statement" for c in node.named_children)


# -- a CPU model ------------------------------------------------------------------

def cpu_model(facts: CpRegFacts, name: str, options: dict[str, bool] | None = None) -> CpuModel:
    """The features and ID register values NAME's init function sets (KeyError if unknown);
    OPTIONS decide its conditions (`kvm_enabled()`: False under TCG)."""
    model = CpuModel(name, facts.models[name])
    _apply_initfn(facts, model, model.initfn, set(), options or {})
    return model


def _apply_initfn(facts: CpRegFacts, model: CpuModel, fn: str, seen: set[str], options: dict[str, bool]) -> None:
    if fn in seen or fn not in facts.calls:
        return
    seen.add(fn)
    # the model it starts from first (max: aarch64_a57_initfn(obj)), then its own changes
    for call in facts.calls[fn]:
        if call.callee.endswith("_initfn") and _all_hold(facts, call.conds, model.features, model, options):
            _apply_initfn(facts, model, call.callee, seen, options)
    for call in facts.calls[fn]:
        if call.callee not in ("set_feature", "unset_feature") or len(call.args) != 2:
            continue
        verdict = _all_hold(facts, call.conds, model.features, model, options)
        if verdict is None:  # not applied, listed
            model.undecided.append(call)
        elif not verdict:
            continue
        elif call.callee == "set_feature":
            model.features.add(call.args[1])
        else:
            model.features.discard(call.args[1])
    if facts.calls[fn]:
        _read_assignments(facts, model, fn, facts.calls[fn][0].path)


def _function_node(data: bytes, fn: str):
    """The definition of function FN in a file's DATA, None if it has none."""
    for node in _walk(parse_tree(data).root_node):
        if node.type == "function_definition" and declarator_name(node.child_by_field_name("declarator"),
                                                                   data) == fn:
            return node
    return None


def _read_assignments(facts: CpRegFacts, model: CpuModel, fn: str, path: str) -> None:
    data = facts.texts[path]
    ctx = facts.index.context(path)
    node = _function_node(data, fn)
    if node is None:
        return
    for stmt in _walk(node.child_by_field_name("body")):
        if stmt.type == "assignment_expression" and _text(stmt.child_by_field_name("operator"), data) == "=":
            left = _text(stmt.child_by_field_name("left"), data).replace(" ", "")
            right = stmt.child_by_field_name("right")
            if left.startswith("cpu->") and right.type != "string_literal":  # not dtb_compatible
                value = constant_value(ctx, _text(right, data))
                if value is not None:
                    model.values[left[len("cpu->"):]] = value
                else:  # max's `cpu->isar.id_aa64isar0 = t;`: not known, and said so
                    model.values.pop(left[len("cpu->"):], None)
                    model.unknown_fields.add(left[len("cpu->"):])
                    model.unknown_texts[left[len("cpu->"):]] = "".join(_text(right, data).split())
                    model.unknown.append(f"{path}:{stmt.start_point[0] + 1}: {left}")


def realize_features(facts: CpRegFacts, model: CpuModel, options: dict[str, bool]) -> tuple[set[str], list[Call]]:
    """The features after realize: set_feature/unset_feature calls of the realize functions
    whose conditions hold, repeated until nothing changes.  Calls under conditions that
    cannot be decided are returned, not applied."""
    features = set(model.features)
    undecided: list[Call] = []
    for _ in range(10):
        before = set(features)
        undecided = []
        for call, conds in _reachable(facts, list(REALIZE_ROOTS), ("set_feature", "unset_feature")):
            verdict = _all_hold(facts, conds, features, model, options)
            if verdict is None:
                undecided.append(call)
            elif verdict and len(call.args) == 2:
                (features.add if call.callee == "set_feature" else features.discard)(call.args[1])
        if features == before:
            break
    return features, undecided


# -- evaluating a condition for a model -------------------------------------------

def _all_hold(facts, conds, features, model, options) -> bool | None:
    return all_hold(conds, lambda text: evaluate_condition(facts, text, features, model, options))


def all_hold(conds, decide: Callable[[str], bool | None]) -> bool | None:
    """Whether every one of CONDS holds (a negated one: does not), each decided by DECIDE
    from its text: False as soon as one fails, None when one cannot be decided."""
    result: bool | None = True
    for cond in conds:
        value = decide(cond.text)
        if value is not None and cond.negated:
            value = not value
        if value is False:
            return False
        if value is None:
            result = None
    return result


def evaluate_value(facts: CpRegFacts, text: str, path: str, features: set[str], model: CpuModel,
                   options: dict[str, bool]) -> int | None:
    """TEXT (a C expression of PATH: a loop's bound) for MODEL, or None."""
    expr, data = expression_node(text)
    value = _eval(facts, expr, data, features, model, options, path)
    return None if value is None else int(value)


def evaluate_condition(facts: CpRegFacts, text: str, features: set[str], model: CpuModel,
                       options: dict[str, bool]) -> bool | None:
    """TEXT (a C condition) for MODEL: True, False, or None when it cannot be decided."""
    expr, data = expression_node(text)
    value = _eval(facts, expr, data, features, model, options, None)
    return None if value is None else bool(value)


def expression_node(text: str):
    """TEXT, a C expression, parsed: its (parenthesized) node and the bytes it is in."""
    data = f"int f(void) {{ return ({text}); }}".encode()
    return next(n for n in _walk(parse_tree(data).root_node) if n.type == "parenthesized_expression"), data


def _eval(facts, node, data, features, model, options, isar_path):
    kind = node.type
    text = _text(node, data).replace(" ", "")
    if text in options:  # a machine or CPU option, the accelerator (kvm_enabled()), a local
        return None if options[text] is None else int(options[text])
    if kind == "parenthesized_expression":
        return _eval(facts, node.named_children[0], data, features, model, options, isar_path)
    if kind == "unary_expression":
        value = _eval(facts, node.child_by_field_name("argument"), data, features, model, options, isar_path)
        op = _text(node.child_by_field_name("operator"), data)
        if value is None:
            return None
        return {"!": lambda v: int(not v), "-": lambda v: -v, "~": lambda v: ~v}.get(op, lambda v: None)(value)
    if kind == "binary_expression":
        return _binary(facts, node, data, features, model, options, isar_path)
    if kind == "number_literal":
        return constant_value(facts.index.context(isar_path or ARM_DIR + "cpu.h"), _text(node, data))
    if kind == "call_expression":
        return _call(facts, node, data, features, model, options, isar_path)
    if kind in ("true", "false"):
        return int(kind == "true")
    if text.startswith("cpu->isar."):  # an ID register: what the model set, else 0 (QOM zeroes it)
        return model.value(text[len("cpu->"):])
    if kind == "field_expression" and text.startswith("cpu->") and text[len("cpu->"):] in model.values:
        return model.values[text[len("cpu->"):]]  # what the model set (`cpu->revidr`); else a default: not known
    if text.startswith("id->") and isar_path:  # the same, in an isar_feature_*() function
        return model.value("isar." + text[len("id->"):])
    if kind == "identifier" and isar_path:  # an enum constant or a macro (PMCRN_MASK)
        return constant_value(facts.index.context(isar_path), text)
    if kind == "field_expression" and text.startswith("cpu->isar."):
        return model.value(text[len("cpu->"):])
    return None


def _binary(facts, node, data, features, model, options, isar_path):
    op = _text(node.child_by_field_name("operator"), data)
    left = _eval(facts, node.child_by_field_name("left"), data, features, model, options, isar_path)
    if op in ("&&", "||"):
        if left is not None and bool(left) == (op == "||"):
            return int(op == "||")  # decided by its left side, as C does
        right = _eval(facts, node.child_by_field_name("right"), data, features, model, options, isar_path)
        if right is not None and bool(right) == (op == "||"):
            return int(op == "||")
        if left is None or right is None:
            return None
        return int(bool(right))
    right = _eval(facts, node.child_by_field_name("right"), data, features, model, options, isar_path)
    if left is None or right is None:
        return None
    return int(BINARY[op](left, right)) if op in BINARY else None


def _call(facts, node, data, features, model, options, isar_path):
    name = _text(node.child_by_field_name("function"), data)
    args = [_text(a, data).replace(" ", "") for a in node.child_by_field_name("arguments").named_children]
    if name == "arm_feature" and len(args) == 2:
        return int(args[1] in features)
    if name in ("cpu_isar_feature", "isar_feature") and args:
        return _isar_feature(facts, ISAR_PREFIX + args[0], features, model, options)
    if name.startswith(ISAR_PREFIX):
        return _isar_feature(facts, name, features, model, options)
    if name in facts.small:
        return _small_function(facts, name, features, model, options)
    if name in ("extract32", "extract64") and len(args) == 3:
        value, start, length = (_eval(facts, a, data, features, model, options, isar_path)
                                for a in node.child_by_field_name("arguments").named_children)
        if value is None or start is None or length is None:
            return None
        return (value >> start) & ((1 << length) - 1)
    if name in ("FIELD_EX64", "FIELD_EX32", "FIELD_SEX64", "FIELD_SEX32") and len(args) == 3 and isar_path:
        return _id_field(facts, name, args, model, isar_path)
    if name in ("FIELD_DP64", "FIELD_DP32") and len(args) == 4 and isar_path:
        return _id_deposit(facts, node, data, args, (features, model, options, isar_path))
    return None


def _small_function(facts, name, features, model, options):
    """A function of `if (C) { return X; } else { return Y; }` or `return X;` after
    declarations (arm_num_brps(), pmu_num_counters()): the value it returns for MODEL."""
    body_text, path = facts.small[name]
    data = f"int f(void) {body_text}".encode()
    body = next(n for n in _walk(parse_tree(data).root_node) if n.type == "compound_statement")
    value = _returned(facts, body, data, features, model, options, path)
    return None if value is _FALLS_THROUGH else value


_FALLS_THROUGH = object()  # a block that ends without a return


def _returned(facts, block, data, features, model, options, path):
    """The value BLOCK returns (None: undecided), or _FALLS_THROUGH.  Locals set on the way
    (`int key = FIELD_EX64(...);`) are known by name to what follows (through OPTIONS)."""
    options = dict(options)
    for statement in _statements(block):
        if statement.type == "return_statement" and statement.named_children:
            return _eval(facts, statement.named_children[0], data, features, model, options, path)
        if statement.type == "if_statement":
            cond = _eval(facts, statement.child_by_field_name("condition"), data, features, model, options, path)
            if cond is None:
                return None
            branch = statement.child_by_field_name("consequence") if cond \
                else statement.child_by_field_name("alternative")
            found = _FALLS_THROUGH if branch is None else \
                _returned(facts, branch, data, features, model, options, path)
            if found is not _FALLS_THROUGH:
                return found
        elif statement.type in ("declaration", "expression_statement"):
            for name, value in _locals_set(statement):
                options[_text(name, data)] = _eval(facts, value, data, features, model, options, path)
        elif statement.type != "comment":
            return None
    return _FALLS_THROUGH


def _locals_set(statement):
    """(name node, value node) of `int x = v;` and `x = v;`."""
    for node in statement.named_children:
        if node.type == "init_declarator":
            yield node.child_by_field_name("declarator"), node.child_by_field_name("value")
        elif node.type == "assignment_expression" and node.child_by_field_name("left").type == "identifier":
            yield node.child_by_field_name("left"), node.child_by_field_name("right")


def _statements(node):
    if node.type in ("compound_statement", "translation_unit", "else_clause"):
        return list(node.named_children)
    return [node]


def _isar_feature(facts, name, features, model, options):
    found = facts.isar.get(name)
    if found is None:  # not a single return: isar_feature_aa64_scxtnum() has a local
        return _small_function(facts, name, features, model, options) if name in facts.small else None
    text, path = found
    data = f"int f(void) {{ return ({text}); }}".encode()
    expr = next(n for n in _walk(parse_tree(data).root_node) if n.type == "parenthesized_expression")
    return _eval(facts, expr, data, features, model, options, path)


def _id_field(facts, macro, args, model, path):
    """FIELD_EX64(id->id_aa64pfr0, ID_AA64PFR0, EL2): the field of the model's ID register."""
    storage, reg, name = args
    if storage.startswith("id->"):
        value = model.value("isar." + storage[len("id->"):])
    elif storage.startswith("cpu->isar."):
        value = model.value(storage[len("cpu->"):])
    else:
        return None
    if value is None:
        return None
    shift, length = (_field_constant(facts.index, reg, name, part, path) for part in ("SHIFT", "LENGTH"))
    if shift is None or length is None:
        return None
    field_value = (value >> shift) & ((1 << length) - 1)
    if macro.startswith("FIELD_SEX") and field_value >> (length - 1):
        field_value -= 1 << length
    return field_value


def _id_deposit(facts, node, data, args, env):
    """FIELD_DP64(storage, REG, FIELD, value): STORAGE with VALUE put in the field."""
    values = node.child_by_field_name("arguments").named_children
    storage, value = (_eval(facts, values[i], data, *env) for i in (0, 3))
    shift, length = (_field_constant(facts.index, args[1], args[2], part, env[3]) for part in ("SHIFT", "LENGTH"))
    if None in (storage, value, shift, length):
        return None
    mask = ((1 << length) - 1) << shift
    return (storage & ~mask) | ((value << shift) & mask)


def _field_constant(index: TreeIndex, reg: str, name: str, part: str, path: str) -> int | None:
    """R_<REG>_<NAME>_<PART> of a `FIELD(REG, NAME, shift, length)` call.  The index finds
    a generated constant by a suffix of its name (REG32(X, ...) -> R_X); FIELD's names end
    in _SHIFT/_LENGTH after its arguments, so its calls are found by the field's name."""
    wanted = f"R_{reg}_{name}_{part}"
    found = index.context(path).constant(wanted)
    if found is not None:
        return found
    for call_path, macro, args, line in index.calls_by_arg.get(name, ()):
        if args.replace(" ", "").startswith(f"{reg},{name},"):
            value = index.generated_values(call_path, macro, args, line).get(wanted)
            if value is not None:
                return value
    return None


# -- which registrations run for a model ------------------------------------------

def _reachable(facts: CpRegFacts, roots: list[str], wanted) -> list[tuple[Call, tuple[Cond, ...]]]:
    """Calls to WANTED reached from ROOTS, each with every condition on the way."""
    found: list[tuple[Call, tuple[Cond, ...]]] = []
    stack: list[tuple[str, tuple[Cond, ...], tuple[str, ...]]] = [(r, (), (r,)) for r in reversed(roots)]
    while stack:
        fn, conds, path = stack.pop()
        for call in reversed(facts.calls.get(fn, [])):
            if call.callee in wanted:
                found.append((call, conds + call.conds))
            elif call.callee in facts.calls and call.callee not in path:
                stack.append((call.callee, conds + call.conds, path + (call.callee,)))
    found.reverse()  # the stack visits them last to first
    return found


@dataclass
class Registration:
    call: Call
    conds: tuple[Cond, ...]
    regs: list[CpReg] | None  # None: the argument is not an array or struct this module read


@dataclass
class Estimate:
    model: CpuModel
    features: set[str]
    registered: list[Registration]  # conditions hold
    undecided: list[Registration]  # a condition could not be decided
    keys: dict[int, tuple[CpReg, bool]]  # kvm-style index -> (register, migrated)
    unread: list[str] = field(default_factory=list)  # what could not be expanded, with file:line
    # ID registers realize changes in a way not followed (a value in a local, an undecided
    # condition): "file:line: isar.X (why)"; the others are applied to the model
    id_changes: list[str] = field(default_factory=list)

    @property
    def migrated(self) -> list[int]:
        return sorted(k for k, (_, migrated) in self.keys.items() if migrated)


def estimate(facts: CpRegFacts, model_name: str, options: dict[str, bool]) -> Estimate:
    """The migrated register list of MODEL_NAME under TCG: OPTIONS are the CPU properties
    the machine sets (e.g. {"cpu->has_el3": False} for virt without secure=on)."""
    model = cpu_model(facts, model_name, options)
    features, _ = realize_features(facts, model, options)
    result = Estimate(model, features, [], [], {})
    for call, conds in _reachable(facts, [model.initfn, *REALIZE_ROOTS], DEFINE_CALLS):
        regs = _argument_regs(facts, call)
        registration = Registration(call, conds, regs)
        verdict = _all_hold(facts, conds, features, model, options)
        if verdict is None:
            result.undecided.append(registration)
        elif verdict:
            result.registered.append(registration)
    _apply_realize_id_writes(facts, result, options)
    constants = Constants(facts)
    for registration in result.registered:
        regs = _edited(facts, registration, result, features, model, options)
        for reg in regs or ():
            if not reg.unresolved():
                _add_reg(result, constants, reg, features)
                continue
            values = _loop_values(facts, registration.call, features, model, options)
            if values is None:
                loop = " (defined in a loop: its encoding uses the loop's variable)" \
                    if registration.call.in_loop else ""
                result.unread.append(f"{reg.where}: {reg.name}: not constant: {', '.join(reg.unresolved())}{loop}")
                continue
            var = registration.call.loop[0] if registration.call.loop else ""
            ctx = facts.index.context(reg.path)
            for value in values:
                instance = read_reg_source(ctx, reg.path, reg.line, reg.source, {var: value})
                if instance.unresolved():
                    result.unread.append(f"{reg.where}: {reg.name}: not constant with {var} = {value}")
                else:
                    _add_reg(result, constants, instance, features)
        if registration.regs is None:
            result.unread.append(f"{registration.call.where}: {registration.call.callee}"
                                 f"({', '.join(registration.call.args)})")
    return result


EDIT_OPS: dict[str, Callable[[int, int], int]] = {"=": lambda _, v: v, "|=": operator.or_, "&=": operator.and_}


def _edited(facts: CpRegFacts, registration: Registration, result: Estimate, features: set[str],
            model: CpuModel, options: dict[str, bool]) -> list[CpReg] | None:
    """The registers of REGISTRATION as its function leaves them before the call: each edit
    of the local between its initializer and the call applied when its conditions hold
    (one undecided, or a value not constant, is listed in `unread`, never guessed)."""
    regs, call = registration.regs, registration.call
    if not regs or len(call.args) < 2:
        return regs
    name = call.args[1].strip().lstrip("&").strip()
    edits = [e for e in facts.edits.get(f"{call.path}:{name}", ())
             if max(r.line for r in regs) < e.line < call.line]
    if not edits:
        return regs
    out = list(regs)
    ctx = facts.index.context(call.path)
    for edit in edits:
        at = 0 if edit.index is None else edit.index
        if at >= len(out) or (edit.index is None and len(out) != 1):
            continue
        verdict = _all_hold(facts, edit.conds, features, model, options)
        if verdict is False:
            continue
        value = constant_value(ctx, edit.value, edit.line)
        old = out[at].fields.get(edit.field, 0)
        if verdict is None or value is None or edit.op not in EDIT_OPS or (old is None and edit.op != "="):
            why = "condition undecided" if verdict is None else "value not constant"
            result.unread.append(f"{edit.where}: {out[at].name}: .{edit.field} {edit.op} {edit.value} ({why})")
            continue
        out[at] = replace(out[at], fields={**out[at].fields, edit.field: EDIT_OPS[edit.op](old, value)})
    return out


def _loop_values(facts: CpRegFacts, call: Call, features: set[str], model: CpuModel,
                 options: dict[str, bool]) -> range | None:
    """The values the loop variable takes around CALL, or None if they cannot be known."""
    if call.loop is None:
        return None
    _, start_text, op, bound_text = call.loop
    start = evaluate_value(facts, start_text, call.path, features, model, options)
    bound = evaluate_value(facts, bound_text, call.path, features, model, options)
    if start is None or bound is None:
        return None
    return range(start, bound + (op == "<="))


def _apply_realize_id_writes(facts: CpRegFacts, result: Estimate, options: dict[str, bool]) -> None:
    """Realize edits ID registers before it registers the cpregs (without EL3:
    `cpu->isar.id_aa64pfr0 = FIELD_DP64(cpu->isar.id_aa64pfr0, ID_AA64PFR0, EL3, 0)`):
    apply those whose condition holds and whose value is known; list the others."""
    model, features = result.model, result.features
    for fn in REALIZE_ROOTS:
        for name, value_text, conds, where in facts.id_writes.get(fn, ()):
            if not name.startswith("isar.") and name not in model.values and name not in model.unknown_fields:
                continue  # not one the model defines (a timer, the PMU's state): no register reads it
            verdict = _all_hold(facts, conds, features, model, options)
            if verdict is False:
                continue
            value = evaluate_value(facts, value_text, where.rpartition(":")[0], features, model, options) \
                if verdict else None
            if value is None:
                why = "condition undecided" if verdict is None else "value not known"
                result.id_changes.append(f"{where}: {name} ({why})")
                model.values.pop(name, None)
                model.unknown_fields.add(name)
            else:
                model.values[name] = value
                model.unknown_fields.discard(name)


def _argument_regs(facts: CpRegFacts, call: Call) -> list[CpReg] | None:
    if len(call.args) < 2:
        return None
    arg = call.args[1].strip()
    if DEFINE_CALLS[call.callee]:
        if not arg.startswith("&"):
            return None
        arg = arg[1:].strip()
    return facts.array(call.path, arg, call.line)


class Constants:
    """The cpregs.h names add_cpreg_to_hashtable() tests, with the tree's own values."""
    NAMES = ("ARM_CP_NO_RAW", "ARM_CP_ALIAS", "ARM_CP_SPECIAL_MASK", "ARM_CP_64BIT", "ARM_CP_CONST",
             "ARM_CP_EL3_NO_EL2_UNDEF", "ARM_CP_STATE_AA32", "ARM_CP_STATE_AA64", "ARM_CP_STATE_BOTH",
             "ARM_CP_SECSTATE_S", "ARM_CP_SECSTATE_NS", "ARM_CP_SECSTATE_BOTH", "CP_ANY", "PL1_RW", "PL2_RW",
             "CP_REG_ARM64_SYSREG_CP", "CP_REG_AA64_MASK", "CP_REG_NS_SHIFT", "CP_REG_SIZE_U32",
             "CP_REG_SIZE_U64", "CP_REG_ARM", "CP_REG_ARM64")

    def __init__(self, facts: CpRegFacts):
        ctx = facts.index.context(ARM_DIR + "helper.c")
        self.values = {name: constant_value(ctx, name) for name in self.NAMES}

    def __getattr__(self, name: str) -> int:
        value = self.values.get(name)
        return value if value is not None else 0


def _add_reg(result: Estimate, c: Constants, reg: CpReg, features: set[str]) -> None:
    """define_one_arm_cp_reg_with_opaque(): each instance of REG, as add_cpreg_to_hashtable
    keeps it; a later definition of a key replaces an earlier one (ARM_CP_OVERRIDE)."""
    def span(value: int, top: int) -> range:
        return range(top + 1) if value == c.CP_ANY else range(value, value + 1)
    states = [s for s in (c.ARM_CP_STATE_AA32, c.ARM_CP_STATE_AA64)
              if reg.get("state") in (s, c.ARM_CP_STATE_BOTH)]
    for crm in span(reg.get("crm"), 15):
        for opc1 in span(reg.get("opc1"), 7):
            for opc2 in span(reg.get("opc2"), 7):
                for state in states:
                    if state == c.ARM_CP_STATE_AA64:
                        secstates = [c.ARM_CP_SECSTATE_NS]
                    elif reg.get("secure") == c.ARM_CP_SECSTATE_BOTH:
                        secstates = [c.ARM_CP_SECSTATE_S, c.ARM_CP_SECSTATE_NS]
                    else:
                        secstates = [reg.get("secure")]
                    for secstate in secstates:
                        _add_instance(result, c, reg, features, state, secstate, (crm, opc1, opc2))


def _add_instance(result: Estimate, c: Constants, reg: CpReg, features: set[str], state: int, secstate: int,
                  where: tuple[int, int, int]) -> None:
    crm, opc1, opc2 = where
    rtype, access = reg.get("type"), reg.get("access")
    ns = bool(secstate & c.ARM_CP_SECSTATE_NS)
    key = _kvm_index(c, reg, state, ns, crm, opc1, opc2)
    if "ARM_FEATURE_EL3" in features:
        min_el = ((access & -access).bit_length() - 1) // 2 if access else 0
        # an EL2 register without EL2 is UNDEF, or made constant (still migrated)
        if min_el == 2 and "ARM_FEATURE_EL2" not in features and rtype & c.ARM_CP_EL3_NO_EL2_UNDEF:
            return
    else:
        max_el = c.PL2_RW if "ARM_FEATURE_EL2" in features else c.PL1_RW
        if access & max_el == 0:
            return
    alias = False
    if state == c.ARM_CP_STATE_AA32:
        if reg.banked:
            alias = (reg.get("state") == c.ARM_CP_STATE_BOTH and ns) or ("ARM_FEATURE_V8" in features and not ns)
        elif secstate != reg.get("secure") and not ns:
            alias = True
    if (reg.get("crm") == c.CP_ANY and crm) or (reg.get("opc1") == c.CP_ANY and opc1) \
            or (reg.get("opc2") == c.CP_ANY and opc2):
        alias = True
    no_raw = bool(rtype & (c.ARM_CP_SPECIAL_MASK | c.ARM_CP_NO_RAW))
    result.keys[key] = (reg, not (alias or no_raw or rtype & c.ARM_CP_ALIAS))


def _kvm_index(c: Constants, reg: CpReg, state: int, ns: bool, crm: int, opc1: int, opc2: int) -> int:
    """The hash-table key as cpreg_to_kvm_id() sends it (the list's index)."""
    cp, crn = reg.get("cp"), reg.get("crn")
    if state == c.ARM_CP_STATE_AA64:
        if cp == 0 or reg.get("state") == c.ARM_CP_STATE_BOTH:
            cp = c.CP_REG_ARM64_SYSREG_CP
        return (c.CP_REG_SIZE_U64 | c.CP_REG_ARM64 | cp << 16 | reg.get("opc0") << 14 | opc1 << 11
                | crn << 7 | crm << 3 | opc2)
    if cp == 0 and reg.get("state") == c.ARM_CP_STATE_BOTH:
        cp = 15
    is64 = bool(reg.get("type") & c.ARM_CP_64BIT)
    size = c.CP_REG_SIZE_U64 if is64 else c.CP_REG_SIZE_U32
    return (size | c.CP_REG_ARM | int(ns) << c.CP_REG_NS_SHIFT | cp << 16 | crn << 11 | crm << 7
            | opc1 << 3 | opc2)


def describe_index(index: int) -> str:
    """A kvm-style register index as its encoding, e.g. 'AA64 3,0,1,0,0' or 'AA32 p15 ...'."""
    if index >> 56 == 0x60:
        return (f"AA64 op0={index >> 14 & 3} op1={index >> 11 & 7} crn={index >> 7 & 15} "
                f"crm={index >> 3 & 15} op2={index & 7}")
    is64 = index >> 52 & 0xf == 3
    ns = "" if index >> 29 & 1 else " S"
    if is64:
        return f"AA32 p{index >> 16 & 0xff} opc1={index >> 3 & 15} crm={index >> 7 & 15} 64-bit{ns}"
    return (f"AA32 p{index >> 16 & 0xff} crn={index >> 11 & 15} opc1={index >> 3 & 7} crm={index >> 7 & 15} "
            f"opc2={index & 7}{ns}")


def differences(old: Estimate, new: Estimate) -> tuple[list[tuple[int, CpReg]], list[tuple[int, CpReg]]]:
    """The indexes NEW migrates and OLD does not (added), and the reverse (removed), each
    with the register that defines it on the side that has it."""
    added = [(k, new.keys[k][0]) for k in sorted(set(new.migrated) - set(old.migrated))]
    removed = [(k, old.keys[k][0]) for k in sorted(set(old.migrated) - set(new.migrated))]
    return added, removed


def const_values(facts: CpRegFacts, est: Estimate, options: dict[str, bool]) -> dict[int, int | None]:
    """The value each migrated ARM_CP_CONST register of EST reads as (its .resetvalue:
    a constant, or an expression of the model's ID registers such as
    `cpu->isar.id_aa64pfr0`), None when it cannot be evaluated.  write_list_to_cpustate()
    rejects an incoming value that differs: these are what both sides must agree on."""
    const = Constants(facts).ARM_CP_CONST
    found: dict[int, int | None] = {}
    for index in est.migrated:
        reg = est.keys[index][0]
        if not reg.get("type") & const:
            continue
        value = reg.fields.get("resetvalue")
        if value is None:
            text = _reset_text(facts.index.context(reg.path), reg)
            value = evaluate_value(facts, text, reg.path, est.features, est.model, options) if text else 0
        found[index] = value
    return found


def _reset_text(ctx: FileContext, reg: CpReg) -> str | None:
    """The text of REG's `.resetvalue = ...` (None: not given, the register resets to 0)."""
    tokens = ctx.apply_conditionals(tokenize(reg.source, reg.line, directives=True))[1:-1]
    for part in split_top(tokens, ","):
        if len(part) >= 4 and part[0].text == "." and part[1].text == "resetvalue" and part[2].text == "=":
            return " ".join(t.text for t in part[3:])
    return None


def init_signature(facts: CpRegFacts, name: str) -> tuple[str, int, tuple]:
    """Where model NAME's init function is (file, line), and what its init functions (its
    own and the *_initfn it calls) are: their bodies' tokens (comments, spacing and lines
    left out; `max` builds its ID registers in locals, so only the text says what it
    sets).  Equal signatures: the definition of the model did not change."""
    found = []
    where: tuple[str, int] = ("", 0)
    pending, seen = [facts.models[name]], set()
    while pending:
        fn = pending.pop(0)
        if fn in seen or fn not in facts.calls:
            continue
        seen.add(fn)
        path, line, tokens = _body_tokens(facts, fn)
        where = where if where[0] else (path, line)
        found.append((fn, tokens))
        pending.extend(c.callee for c in facts.calls[fn] if c.callee.endswith("_initfn"))
    return where[0], where[1], tuple(found)


def _body_tokens(facts: CpRegFacts, fn: str) -> tuple[str, int, tuple[str, ...]]:
    calls = facts.calls[fn]
    data = facts.texts.get(calls[0].path) if calls else None
    node = _function_node(data, fn) if data is not None else None
    if data is None or node is None:
        return "", 0, ()
    return calls[0].path, node.start_point[0] + 1, tuple(t.text for t in tokenize(_text(node, data)))
