"""The named CPU models of the targets other than x86 and Arm, and the text that defines
each (issue 15).

A target directory (target/riscv, target/ppc, target/s390x, ...) is read with tree-sitter
(queries/cpu_models.scm), and its macros are opened with the tree's own #defines
(`FileContext.expand`), so that a row such as
`DEFINE_VENDOR_CPU(TYPE_RISCV_CPU_SIFIVE_U54, MXL_RV64, rv64_sifive_u_cpu_init)` becomes
the TypeInfo it is, named "sifive-u54" "-" "riscv-cpu".  Two idioms name a model:

- a TypeInfo (in an array, alone, or made by a macro standing alone, as ppc's
  `POWERPC_DEF("405d2", ...)`) whose type name is `MODEL-BASE`, BASE being a type of the
  directory whose parent is TYPE_CPU ("riscv-cpu"), and which is not abstract;
- a row of a table of CPU definitions, an array whose element type ends in `def_t` or `Def`
  (`mips_def_t mips_defs[]`, `S390CPUDef s390_cpu_defs[]` of `CPUDEF_INIT(...)` rows), named
  by its `.name`.

A model's definition is the text (tree-sitter's tokens: comments and spacing dropped) of
its row, as written and as its macros expand, and the bodies of its init functions: the
TypeInfo's instance_init and class_init and those of its parents in the directory (ppc's
`POWERPC_FAMILY(405)` class_init for "405d2"; the base type's are not followed), then the
static functions of the directory they name whose names say they initialise or register
(`init`, `register_`: ppc's `init_proc_405` and the `register_*_sprs` it calls), to a depth
of INIT_DEPTH.  On s390x a row's CPU features are gen-features.c's lists: the `base_`,
`default_` and `full_` arrays of its generation and of every earlier one (the generator
adds them up, print_feature_defs()), with the S390_FEAT_GROUP_* macros they name opened.

Nothing is evaluated: equal definitions are an unchanged model, a changed definition may or
may not change what the guest sees.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from tree_sitter import Node, Query, QueryCursor

from ..sources.tree import SourceTree
from .context import FileContext
from .lexer import STRING, Token, tokenize
from .machines import partial_index
from .parse import _language, declarator_name, parse_tree, query_text
from .preprocess import ExpansionError

SKIPPED_DIRS = ("i386", "arm")  # compared by diff/cpumodels.py and diff/armmodels.py
CPU_TYPE = "cpu"  # TYPE_CPU: a type of the directory whose parent it is is the target's base CPU type
INIT_DEPTH = 3  # calls followed from a model's init functions
FOLLOWED = re.compile(r"init|register_")  # the functions followed: they initialise or register
TABLE_TYPE = re.compile(r"^(\w+_def_t|\w*CPUDef)$")  # the element type of a table of CPU definitions
# the lines of #if blocks, blanked out (offsets kept) where they break the parse
CONDITIONAL = re.compile(rb"(?m)^[ \t]*#[ \t]*(if|ifdef|ifndef|elif|else|endif)\b[^\n]*")
ENUMERATOR = re.compile(r"(?m)^[ \t]*([A-Z][A-Z0-9_]+)[ \t]*=[ \t]*([^,\n/]+),")  # NAME = value, of an enum
CALLED = re.compile(rb"\b([A-Za-z_]\w*)[ \t]*\(")
MODEL_MARKERS = (b"TypeInfo", b"_def_t", b"CPUDef")  # a file that may define models
# not migration-stable by design, by target directory ("" for every one): the model, why
UNSTABLE: dict[str, dict[str, str]] = {
    "": {"max": "it enables what the release can (not migration-stable by design)",
         "host": "it is the host's CPU under KVM (not migration-stable by design)"},
    "riscv": {"any": "a generic CPU whose extensions follow the release (not migration-stable by design)"},
    "s390x": {"qemu": "its features are set by the machine type (s390_set_qemu_cpu_model(), gen-features.c "
                      "qemu_V*): a machine type's own list is what must stay"},
}
DYNAMIC = "a dynamic CPU whose extensions are options that follow the release (not migration-stable by design)"


@dataclass(frozen=True, slots=True)
class Model:
    """One named model of a target directory in one tree."""
    target: str  # the directory under target/: "riscv"
    name: str
    file: str
    line: int
    digest: str  # of the normalized text of everything that defines it
    inits: tuple[str, ...]  # the init functions read, "name (file:line)"
    unstable: str = ""  # why it is not migration-stable by design, or ""
    row: str = ""  # the digest of its own row or TypeInfo (and s390x feature lists)
    bodies: tuple[tuple[str, str], ...] = ()  # (function read, the digest of its own body)


@dataclass
class TargetModels:
    """The models of one target directory, and what was not understood."""
    models: dict[str, Model] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def to_record(found: TargetModels) -> tuple[object, ...]:
    return (tuple((m.target, m.name, m.file, m.line, m.digest, m.inits, m.unstable, m.row, m.bodies)
                  for m in found.models.values()), tuple(found.notes))


def from_record(record: tuple[Any, ...]) -> TargetModels:
    models, notes = record
    return TargetModels({m[1]: Model(m[0], m[1], m[2], m[3], m[4], tuple(m[5]), m[6], m[7],
                                     tuple(tuple(b) for b in m[8])) for m in models}, list(notes))


def users(found: TargetModels) -> dict[str, int]:
    """Function -> how many of the directory's models read it."""
    count: dict[str, int] = {}
    for model in found.models.values():
        for name, _ in model.bodies:
            count[name] = count.get(name, 0) + 1
    return count


def model_dirs(tree: SourceTree) -> list[str]:
    """The directories under target/ of TREE whose models this module reads."""
    return sorted({f.path.split("/")[1] for f in tree.files if f.path.startswith("target/")
                   and f.path.count("/") >= 2 and f.path.split("/")[1] not in SKIPPED_DIRS})


@cache
def _query() -> Query:
    """cpu_models.scm after functions.scm (a function's name and body: what a model's init
    functions are)."""
    return Query(_language(), query_text("functions") + "\n" + query_text("cpu_models"))


@dataclass
class _Function:
    file: str
    line: int
    tokens: tuple[str, ...]
    names: frozenset[str]  # the identifiers its body names


@dataclass
class _Type:
    """A TypeInfo (or a table row) of the directory."""
    name: str
    parent: str | None
    inits: tuple[str, ...]  # instance_init, class_init
    abstract: bool
    file: str
    line: int
    tokens: tuple[str, ...]  # the row as written and as expanded
    table: bool = False  # a row of a table of CPU definitions (named by .name alone)
    expanded: tuple[str, ...] = ()


@dataclass
class _File:
    functions: dict[str, _Function] = field(default_factory=dict)
    types: list[_Type] = field(default_factory=list)
    arrays: dict[str, tuple[Node, int]] = field(default_factory=dict)  # name -> (initializer, line)
    context: FileContext | None = None
    enumerators: dict[str, str] = field(default_factory=dict)


def target_models(tree: SourceTree, target: str) -> TargetModels:
    """The named models of target/TARGET/ in TREE, each with the digest of its definition."""
    prefix = f"target/{target}/"
    paths = sorted(f.path for f in tree.files if f.path.startswith(prefix) and f.path.endswith((".c", ".c.inc")))
    tree.prefetch(paths)
    headers = [f.path for f in tree.files if f.path.startswith(prefix) and f.path.endswith(".h")]
    tree.prefetch(headers)
    texts = {path: tree.read_path(path) or b"" for path in paths}
    enumerators = _enumerators({path: tree.read_path(path) or b"" for path in headers})
    model_files = [path for path, data in texts.items() if any(m in data for m in MODEL_MARKERS)]
    index = partial_index(tree, model_files, None) if model_files else None
    files = {path: _read(path, texts[path], index.context(path) if index is not None else None, enumerators)
             for path in model_files}
    found = TargetModels()
    types = [t for f in files.values() for t in f.types]
    functions = _Functions(texts, files)
    by_name = {t.name: t for t in types if not t.table}
    bases = {t.name for t in types if t.parent == CPU_TYPE}
    features = _s390x_features(tree, files, index) if target == "s390x" else None
    for t in types:
        model = _model_name(t, bases)
        if model is None or model in found.models:
            continue
        tokens, inits = list(t.tokens), []
        listed = features(t.expanded) if features is not None and t.table else []  # s390x's feature lists
        chain: _Type | None = t
        seen: set[str] = set()
        while chain is not None and chain.name not in seen:
            seen.add(chain.name)
            inits += [name for name in chain.inits if name not in inits]
            chain = by_name.get(chain.parent or "") if chain.parent not in bases else None
        read: list[str] = []
        for name in inits:
            tokens += _function_tokens(name, functions, read, 0)
        tokens += listed
        defined = [(name, function) for name in read if (function := functions.get(name)) is not None]
        where = tuple(f"{name} ({function.file}:{function.line})" for name, function in defined)
        bodies = tuple((name, _digest(function.tokens)) for name, function in defined)
        why = UNSTABLE[""].get(model) or UNSTABLE.get(target, {}).get(model) or \
            (DYNAMIC if "dynamic" in (t.parent or "") else "")
        found.models[model] = Model(target, model, t.file, t.line, _digest(tokens), where, why,
                                    _digest([*t.tokens, *listed]), bodies)
    if not found.models and paths:
        shown = model_files or paths[:3]
        found.notes.append(f"CPU models of target/{target}: no named model found in {', '.join(shown[:4])}"
                           f"{', ...' if len(shown) > 4 else ''} (neither a TypeInfo named MODEL-BASE-cpu nor a "
                           f"table of *_def_t/*CPUDef rows): its models, if any, are not compared")
    return found


def _digest(tokens: Sequence[str]) -> str:
    return hashlib.sha1("\0".join(tokens).encode()).hexdigest()


class _Functions:
    """The functions of a directory by name, its files parsed when one is asked for."""

    def __init__(self, texts: dict[str, bytes], files: dict[str, _File]):
        self.texts, self.files = texts, dict(files)
        self.known: dict[str, _Function | None] = {}
        self.calls: dict[str, frozenset[str]] | None = None
        for f in files.values():
            for name, function in f.functions.items():
                self.known.setdefault(name, function)

    def get(self, name: str) -> _Function | None:
        if name not in self.known:
            if self.calls is None:  # the names written before a "(" in each file not read yet
                self.calls = {path: frozenset(m.decode() for m in CALLED.findall(data))
                              for path, data in self.texts.items() if path not in self.files}
            for path, names in self.calls.items():
                if path not in self.files and name in names:
                    self.files[path] = _read(path, self.texts[path], None)
                    for other, function in self.files[path].functions.items():
                        self.known.setdefault(other, function)
                    if name in self.known:
                        break
            self.known.setdefault(name, None)  # asked once: not a function of the directory
        return self.known[name]

    def __contains__(self, name: str) -> bool:
        return self.get(name) is not None


def _read(path: str, data: bytes, context: FileContext | None, enumerators: dict[str, str] | None = None) -> _File:
    """PATH's functions, and with CONTEXT (a file that may define models) its TypeInfos,
    table rows and arrays."""
    found = _File(context=context, enumerators=enumerators or {})
    root = parse_tree(data).root_node
    in_error = root.has_error
    if in_error:  # an #if inside an initializer (s390_cpu_defs[]): read both branches
        root = parse_tree(CONDITIONAL.sub(lambda m: b" " * len(m.group()), data)).root_node
    for _, caps in QueryCursor(_query()).matches(root):
        if "function" in caps:
            name = caps["name"][0].text.decode() if caps["name"][0].text else ""
            line = caps["function"][0].start_point[0] + 1
            found.functions.setdefault(name, _Function(path, line, _leaves(caps["body"][0]),
                                                       frozenset(_identifiers(caps["body"][0]))))
            continue
        nodes = caps.get("declaration") or caps.get("statement") or caps.get("head_statement") \
            or caps.get("head_definition") or []
        node = nodes[0] if nodes else None
        if node is None or context is None or _in_function(node):
            continue
        if "declaration" in caps:
            _declaration(found, path, caps, data)
        elif "row" in caps:
            if _defines_types(context, caps["macro"][0]):
                found.types += _types(context, caps["row"][0], path, found.enumerators)
        elif _defines_types(context, caps["head_macro"][0]):
            head = f"{_text(caps['head_macro'][0])}({_text(caps['head_argument'][0])})" if "head_argument" in caps \
                else _text(caps["head"][0])
            _head(found, path, head, node, caps["head_body"][0])
    return found


def _defines_types(ctx: FileContext, macro: Node | str) -> bool:
    """Whether MACRO is a function-like macro whose body defines a TypeInfo or a row (or
    names a macro that does: POWERPC_DEF, by POWERPC_DEF_SVR)."""
    found = ctx.macro(macro if isinstance(macro, str) else _text(macro))
    return found is not None and found.params is not None and _defining_body(ctx, found.body, 0)


def _defining_body(ctx: FileContext, body: Sequence[Token], depth: int) -> bool:
    if any(t.text in ("TypeInfo", "name") for t in body):
        return True
    inner = (ctx.macro(t.text) for t in body if t.kind == "ident") if depth < 3 else ()
    return any(m is not None and _defining_body(ctx, m.body, depth + 1) for m in inner)


def _declaration(found: _File, path: str, caps: dict[str, list[Node]], data: bytes) -> None:
    kind = _text(caps["type"][0])
    declarator, value = caps["declarator"][0], caps["value"][0]
    name = declarator_name(declarator, data) or ""
    found.arrays[name] = (value, value.start_point[0] + 1)
    assert found.context is not None
    if "TypeInfo" in kind:
        elements = _elements(value) if declarator.type == "array_declarator" else [value]
        for element in elements:
            found.types += _types(found.context, element, path, found.enumerators)
    elif declarator.type == "array_declarator" and TABLE_TYPE.search(kind.split()[-1]):
        for element in _elements(value):
            found.types += _types(found.context, element, path, found.enumerators, table=True)


def _head(found: _File, path: str, head: str, statement: Node, body: Node) -> None:
    """MACRO(args)(params) { body }: the function the macro declares (its last name), and
    the TypeInfo it defines."""
    assert found.context is not None
    expanded = _expand_text(found.context, head, statement.start_point[0] + 1)
    names = [t.text for t in expanded if t.kind == "ident"]
    if not names or "TypeInfo" not in names or names[-1] in found.functions:
        return
    found.functions[names[-1]] = _Function(path, statement.start_point[0] + 1, _leaves(body),
                                           frozenset(_identifiers(body)))
    found.types += _types(found.context, statement, path, found.enumerators, tokens=expanded)


def _elements(value: Node) -> list[Node]:
    """The rows of an array's initializer, through #if blocks."""
    rows = []
    for child in value.named_children:
        if child.type.startswith("preproc_"):
            rows += _elements(child)
        elif child.type != "comment" and not child.type.startswith("preproc"):
            rows.append(child)
    return rows


def _types(ctx: FileContext, node: Node, path: str, enumerators: dict[str, str], table: bool = False,
           tokens: list[Token] | None = None) -> list[_Type]:
    """The TypeInfos (or table rows) NODE's text expands to: each `{ .name = ..., ... }`."""
    expanded = tokens if tokens is not None else _expand(ctx, node)
    row = _leaves(node) + ("=>",) + tuple(t.text for t in expanded) + _constants(enumerators, expanded)
    found = []
    for group in _groups(expanded):
        fields = _designated(group)
        name = _string(fields.get("name", []))
        if name is None:
            continue
        inits = tuple(v[-1].text for key in ("instance_init", "class_init")
                      for v in [[t for t in fields.get(key, []) if t.text not in "()"]] if len(v) == 1)
        found.append(_Type(name, _string(fields.get("parent", [])), inits,
                           [t.text for t in fields.get("abstract", [])] in (["true"], ["1"]),
                           path, node.start_point[0] + 1, row, table, tuple(t.text for t in group)))
    return found


def _constants(enumerators: dict[str, str], tokens: list[Token]) -> tuple[str, ...]:
    """The definitions of the enum constants TOKENS name (ppc's `CPU_POWERPC_405D2 =
    0x20010000,` in cpu-models.h: a model's PVR), as the directory's headers write them."""
    return tuple(f"{name}={enumerators[name]}" for name in dict.fromkeys(t.text for t in tokens if t.kind == "ident")
                 if name in enumerators)


def _enumerators(texts: dict[str, bytes]) -> dict[str, str]:
    """`NAME = value,` of the enums of the directory's headers."""
    found: dict[str, str] = {}
    for path in sorted(texts):
        if path.endswith(".h") and b"enum" in texts[path]:
            for name, value in ENUMERATOR.findall(texts[path].decode("utf-8", "replace")):
                found.setdefault(name, " ".join(value.split()))
    return found


def _expand(ctx: FileContext, node: Node) -> list[Token]:
    return _expand_text(ctx, _text(node), node.start_point[0] + 1)


def _expand_text(ctx: FileContext, text: str, line: int) -> list[Token]:
    try:
        return ctx.expand(tokenize(text, line))
    except (ExpansionError, RecursionError, IndexError):
        return tokenize(text, line)


def _groups(tokens: list[Token]) -> list[list[Token]]:
    """The brace groups of TOKENS that hold a `.name =` at their own level."""
    found, stack = [], []
    for i, token in enumerate(tokens):
        if token.text == "{":
            stack.append(i)
        elif token.text == "}" and stack:
            start = stack.pop()
            inner = tokens[start + 1:i]
            if _has_name(inner):
                found.append(inner)
    return found


def _has_name(tokens: list[Token]) -> bool:
    depth = 0
    for i, token in enumerate(tokens):
        depth += token.text in "({[" and token.kind == "punct"
        depth -= token.text in ")}]" and token.kind == "punct"
        if depth == 0 and token.text == "." and i + 2 < len(tokens) and tokens[i + 1].text == "name" \
                and tokens[i + 2].text == "=":
            return True
    return False


def _designated(tokens: list[Token]) -> dict[str, list[Token]]:
    """`.key = value, ...` at the group's own level: key -> the value's tokens."""
    found: dict[str, list[Token]] = {}
    depth, key = 0, None
    value: list[Token] = []
    for i, token in enumerate(tokens):
        if depth == 0 and token.text == "," and token.kind == "punct":
            if key is not None:
                found[key] = value
            key, value = None, []
            continue
        if depth == 0 and key is None and token.text == "." and i + 2 < len(tokens) and tokens[i + 2].text == "=":
            key = tokens[i + 1].text
            continue
        if token.kind == "punct":
            depth += token.text in "({["
            depth -= token.text in ")}]"
        if key is not None and not (not value and (token.text == "=" or token.text == key)):
            value.append(token)
    if key is not None:
        found[key] = value
    return found


def _string(tokens: list[Token]) -> str | None:
    """The string a value of string literals (and parentheses) makes; None otherwise."""
    parts = [t for t in tokens if t.text not in "()"]
    if not parts or any(t.kind != STRING for t in parts):
        return None
    return "".join(t.text[1:-1] for t in parts)


def _model_name(t: _Type, bases: set[str]) -> str | None:
    if t.table:  # a QOM type name has no spaces: sparc's register function makes them '-'
        return t.name.replace(" ", "-")
    if t.abstract:
        return None
    return next((t.name[:-len(base) - 1] for base in sorted(bases, key=len, reverse=True)
                 if t.name.endswith("-" + base) and len(t.name) > len(base) + 1), None)


def _function_tokens(name: str, functions: _Functions, read: list[str], depth: int) -> list[str]:
    """NAME's body and the bodies of the init functions it names, once each, depth first."""
    function = functions.get(name)
    if function is None or name in read or depth > INIT_DEPTH:
        return []
    read.append(name)
    tokens = [name, *function.tokens]
    for callee in sorted(function.names):
        if callee != name and FOLLOWED.search(callee) and callee in functions:
            tokens += _function_tokens(callee, functions, read, depth + 1)
    return tokens


def _s390x_features(tree: SourceTree, files: dict[str, _File],
                    index: object) -> Callable[[tuple[str, ...]], list[str]] | None:
    """For s390x: a function giving a row's feature lists' text (see the module's doc)."""
    path = "target/s390x/gen-features.c"
    data = tree.read_path(path)
    if data is None:
        return None
    gen = files.get(path) or _read(path, data, partial_index(tree, [path], None).context(path))
    order = [m.decode() for m in re.findall(rb"CPU_FEAT_INITIALIZER\((\w+)\)", data)]
    printer = gen.functions.get("print_feature_defs")
    common = list(printer.tokens) if printer is not None else []
    context = gen.context
    if context is None:
        return None

    def features(row: tuple[str, ...]) -> list[str]:
        key = next((m.group(1) for word in row for m in [re.fullmatch(r"S390_FEAT_LIST_(\w+)_BASE", word)] if m),
                   None)
        if key is None or key not in order:
            return ["(no feature list)"]
        tokens = list(common)
        for earlier in order[:order.index(key) + 1]:
            for kind in ("base", "default", "full"):
                array = gen.arrays.get(f"{kind}_{earlier}")
                if array is not None:
                    tokens += [f"{kind}_{earlier}", *(t.text for t in _expand(context, array[0]))]
        return tokens
    return features


def _in_function(node: Node) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.type in ("function_definition", "compound_statement"):
            return True
        parent = parent.parent
    return False


def _leaves(node: Node) -> tuple[str, ...]:
    """NODE's tokens as tree-sitter reads them, comments and spacing dropped."""
    found: list[str] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type == "comment":
            continue
        if current.child_count == 0 or current.type in ("string_literal", "char_literal"):
            text = _text(current)
            if current.type == "preproc_arg":
                found += re.sub(r"/\*.*?\*/|//[^\n]*", " ", text, flags=re.S).split()
            elif text:
                found.append(text)
            continue
        stack.extend(reversed(current.children))
    return tuple(found)


def _identifiers(node: Node) -> set[str]:
    found = set()
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type == "identifier" and current.text:
            found.add(current.text.decode())
        stack.extend(current.children)
    return found


def _text(node: Node) -> str:
    return node.text.decode("utf-8", "replace") if node.text is not None else ""
