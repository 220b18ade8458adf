"""The named x86 CPU models of a tree (`builtin_x86_defs[]` in target/i386/cpu.c) and what
each released version of each gives a guest.

A model is a base definition (level, vendor, family/model/stepping, a feature word per
CPUID leaf, model-id, ...) and versions: version N is the base with the `props` of
versions 2..N applied in order (x86_cpu_apply_version_props()).  CPUID is not on the
wire, so QEMU prints nothing when a model changes: the guest simply sees another CPU
after migration.  QEMU's way to change a model is a new version; a released version must
stay as it was.

Feature words are evaluated with the tree's own macros (`CPUID_SSE | PPRO_FEATURES`); the
names in the message are the identifiers written, with macros that only join other names
by `|` (PPRO_FEATURES) opened.  Nothing is executed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from tree_sitter import Node

from ..sources.tree import SourceTree
from .cexpr import Unresolved
from .context import FileContext
from .lexer import tokenize
from .machines import partial_index
from .parse import declarator_name, parse_tree
from .preprocess import ExpansionError

CPU_FILE = "target/i386/cpu.c"
TABLE = "builtin_x86_defs"
# the models QOM types of their own define (not builtin_x86_defs): not versioned, not
# migration-stable by design; "host" lives with the accelerators, outside cpu.c
UNSTABLE = ("max",)


@dataclass(frozen=True)
class Setting:
    """One thing a version gives the guest: a base field or a property."""
    value: str  # as evaluated ("0x4000") or as written, for what cannot be evaluated
    names: frozenset[str] = frozenset()  # for a feature word: the flag names written
    line: int = 0


@dataclass
class X86Model:
    name: str
    line: int
    base: dict[str, Setting] = field(default_factory=dict)  # ".level", ".features[FEAT_1_EDX]", ...
    versions: dict[int, dict[str, Setting]] = field(default_factory=dict)  # N -> its own props
    version_lines: dict[int, int] = field(default_factory=dict)

    def settings(self, version: int) -> dict[str, Setting]:
        """What version VERSION gives: the base, then the props of 2..VERSION in order."""
        found = dict(self.base)
        for number in sorted(self.versions):
            if number <= version:
                found.update(self.versions[number])
        return found


def _setting_record(key: str, setting: Setting) -> tuple:
    return key, setting.value, tuple(sorted(setting.names)), setting.line


def to_record(models: dict[str, X86Model] | None) -> tuple | None:
    """MODELS as plain tuples, for the cache (which stores no classes of its own choosing)."""
    if models is None:
        return None
    return tuple((m.name, m.line, tuple(_setting_record(k, v) for k, v in m.base.items()),
                  tuple((n, m.version_lines.get(n, 0), tuple(_setting_record(k, v) for k, v in props.items()))
                        for n, props in m.versions.items()))
                 for m in models.values())


def from_record(record: tuple | None) -> dict[str, X86Model] | None:
    if record is None:
        return None
    models = {}
    for name, line, base, versions in record:
        model = X86Model(name, line, {k: Setting(v, frozenset(names), ln) for k, v, names, ln in base})
        for number, vline, props in versions:
            model.versions[number] = {k: Setting(v, frozenset(names), ln) for k, v, names, ln in props}
            model.version_lines[number] = vline
        models[name] = model
    return models


def x86_models(tree: SourceTree) -> dict[str, X86Model] | None:
    """The models of TREE's builtin_x86_defs, by name; None when the tree has no such table."""
    data = tree.read_path(CPU_FILE)
    if data is None or TABLE.encode() not in data:
        return None
    ctx = partial_index(tree, [CPU_FILE], "x86_64").context(CPU_FILE)
    table = _table(parse_tree(data).root_node)
    if table is None:
        return None
    models = {}
    for entry in table.named_children:
        if entry.type == "initializer_list":
            model = _model(entry, ctx)
            if model is not None:
                models[model.name] = model
    return models


def unstable_signatures(tree: SourceTree) -> dict[str, tuple[int, tuple[str, ...]]]:
    """For max: the line of its TypeInfo in cpu.c, and the tokens of the functions it
    installs (instance_init, class_init), comments and spacing left out.  Equal tokens:
    max did not change."""
    data = tree.read_path(CPU_FILE)
    if data is None:
        return {}
    root = parse_tree(data).root_node
    bodies = {name: tuple(t.text for t in tokenize(_text(node)))
              for node in root.named_children if node.type == "function_definition"
              for name in [declarator_name(node.child_by_field_name("declarator"), data)] if name}
    found = {}
    for node in root.named_children:
        if node.type != "declaration" or b"TypeInfo" not in (node.text or b"")[:200]:
            continue
        for declarator in node.children_by_field_name("declarator"):
            value = declarator.child_by_field_name("value")
            pairs = {_designator(p): _text(_value(p) or p) for p in (value.named_children if value else ())
                     if p.type == "initializer_pair"}
            model = next((m for m in UNSTABLE if f'"{m}"' in pairs.get(".name", "")), None)
            if model is not None:
                found[model] = (node.start_point[0] + 1, tuple(tok for key in (".instance_init", ".class_init")
                                                               for tok in bodies.get(pairs.get(key, ""), ())))
    return found


def _table(root: Node) -> Node | None:
    for node in root.named_children:
        if node.type != "declaration":
            continue
        for declarator in node.children_by_field_name("declarator"):
            inner = declarator.child_by_field_name("declarator")
            value = declarator.child_by_field_name("value")
            if inner is not None and value is not None and TABLE in _text(inner):
                return value
    return None


def _model(entry: Node, ctx: FileContext) -> X86Model | None:
    pairs = [p for p in entry.named_children if p.type == "initializer_pair"]
    name = next((_string(_value(p)) for p in pairs if _designator(p) == ".name"), None)
    if not name:
        return None
    model = X86Model(name, entry.start_point[0] + 1)
    for pair in pairs:
        key, value = _designator(pair), _value(pair)
        if key == ".versions":
            _versions(model, value)
        elif key != ".name" and value is not None:
            model.base[key] = _setting(value, ctx)
    if not model.versions:  # "If NULL, version 1 will be registered automatically."
        model.versions[1] = {}
        model.version_lines[1] = model.line
    return model


def _versions(model: X86Model, value: Node | None) -> None:
    body = value.child_by_field_name("value") if value is not None and \
        value.type == "compound_literal_expression" else value
    for item in body.named_children if body is not None else ():
        if item.type != "initializer_list":
            continue
        fields = {_designator(p): _value(p) for p in item.named_children if p.type == "initializer_pair"}
        number = fields.get(".version")
        if number is None or not _text(number).isdigit():
            continue  # the end of the list
        props = {}
        for prop in _initializers(fields.get(".props")):
            parts = [c for c in prop.named_children if c.type != "comment"]
            if len(parts) == 2:
                props[f"prop {_string(parts[0])}"] = Setting(_string(parts[1]) or _text(parts[1]),
                                                              line=prop.start_point[0] + 1)
        if fields.get(".cache_info") is not None:
            props[".cache_info"] = Setting(_text(fields[".cache_info"]), line=item.start_point[0] + 1)
        model.versions[int(_text(number))] = props
        model.version_lines[int(_text(number))] = item.start_point[0] + 1


def _initializers(value: Node | None) -> list[Node]:
    body = value.child_by_field_name("value") if value is not None and \
        value.type == "compound_literal_expression" else value
    return [c for c in body.named_children if c.type == "initializer_list"] if body is not None else []


def _setting(value: Node, ctx: FileContext) -> Setting:
    text = " ".join(_text(value).split())
    line = value.start_point[0] + 1
    if value.type == "string_literal":
        return Setting(_string(value) or "", line=line)
    try:
        number = ctx.evaluate(ctx.expand(tokenize(text, line)))
    except (Unresolved, ExpansionError, RecursionError, IndexError, ZeroDivisionError):
        number = None
    shown = hex(number) if isinstance(number, int) else text
    return Setting(shown, _flag_names(text, ctx), line)


def _flag_names(text: str, ctx: FileContext, depth: int = 0) -> frozenset[str]:
    """The names a `A | B | C` value joins, with macros that only join names opened."""
    words = [w.strip().strip("()").strip() for w in text.split("|")]
    if not all(re.fullmatch(r"\w+", w) for w in words):
        return frozenset()
    names: set[str] = set()
    for word in words:
        macro = ctx.macro(word) if depth < 4 else None
        body = " ".join(t.text for t in macro.body) if macro is not None and macro.params is None else ""
        inner = _flag_names(body, ctx, depth + 1) if "|" in body else frozenset()
        names |= inner or {word}
    return frozenset(names)


def _designator(pair: Node) -> str:
    return "".join(_text(c) for c in pair.children_by_field_name("designator")).replace(" ", "")


def _value(pair: Node) -> Node | None:
    return pair.child_by_field_name("value")


def _string(node: Node | None) -> str | None:
    if node is None:
        return None
    if node.type == "concatenated_string":
        return "".join(_string(c) or "" for c in node.named_children)
    if node.type != "string_literal":
        return None
    return "".join(_text(c) for c in node.named_children if c.type in ("string_content", "escape_sequence"))


def _text(node: Node) -> str:
    return node.text.decode("utf-8", "replace") if node.text is not None else ""
