"""Tree-sitter pass over one Rust file (queries/rust.scm): its statics and consts, structs,
trait impls and module-level macro calls, as plain records that depend on the file's
bytes alone (so they are cached by blob id).  What they mean -- a VMSD, a QOM type, a
field's wire size -- is worked out over the whole crate by extract.rust.

Values are kept as token lists: most of what matters sits inside macro calls
(`vmstate_fields! { vmstate_of!(S, f), ... }`), which the grammar leaves as token trees.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import NamedTuple

import tree_sitter_rust
from tree_sitter import Language, Parser, Query, QueryCursor

MAX_TOKENS = 100_000  # per value: a longer one is cut (and said so) rather than held whole
MAX_TYPE_DEPTH = 32  # types nested deeper than this are kept as text


class Tok(NamedTuple):
    kind: str  # "id", "int", "str" or "p" (punctuation, keywords that are not identifiers)
    text: str
    line: int


class Item(NamedTuple):
    """A module-level `static` or `const`."""
    name: str
    kind: str  # "static" or "const"
    public: bool
    type: tuple  # a TypeRef (see _type)
    value: tuple[Tok, ...]
    line: int
    # for a struct-expression value (`VMStateDescription { a: x, ... }`): (member, tokens, line)
    members: tuple[tuple[str, tuple[Tok, ...], int], ...] | None = None


class Struct(NamedTuple):
    name: str
    line: int
    fields: tuple[tuple[str, tuple, int], ...]  # named fields: (name, TypeRef, line)
    elements: tuple[tuple, ...]  # tuple-struct elements: TypeRefs
    attributes: tuple[tuple[Tok, ...], ...]  # the tokens of each #[...] before it


class Impl(NamedTuple):
    trait: str  # the trait's last path segment
    type: str  # the implementing type's last path segment
    line: int
    consts: tuple[tuple[str, tuple[Tok, ...], int], ...]
    types: tuple[tuple[str, tuple], ...]  # associated types: (name, TypeRef)
    functions: tuple[tuple[str, tuple[Tok, ...], int], ...]  # (name, body tokens, line)


class MacroCall(NamedTuple):
    name: str
    args: tuple[Tok, ...]
    line: int


@dataclass(slots=True)
class RustFacts:
    items: list[Item] = field(default_factory=list)
    structs: list[Struct] = field(default_factory=list)
    impls: list[Impl] = field(default_factory=list)
    macros: list[MacroCall] = field(default_factory=list)
    cut: list[int] = field(default_factory=list)  # lines of values longer than MAX_TOKENS


@cache
def _language() -> Language:
    return Language(tree_sitter_rust.language())


@cache
def _query() -> Query:
    text = resources.files("vmsd_lint.extract").joinpath("queries", "rust.scm").read_text()
    return Query(_language(), text)


def parse_rust(data: bytes) -> RustFacts:
    """The items of one Rust file, in source order."""
    tree = Parser(_language()).parse(data)
    facts = RustFacts()
    items: dict[int, dict] = {}
    structs: dict[int, dict] = {}
    impls: dict[int, dict] = {}
    cursor = QueryCursor(_query())
    cursor.set_max_start_depth(0)  # every pattern starts at the file: no need to look deeper for starts
    for _, caps in cursor.matches(tree.root_node):
        if "init_item" in caps:
            node = caps["init_item"][0]
            member = caps["member"][0]
            items.setdefault(node.start_byte, {}).setdefault("members", []).append(
                (member.start_byte, _text(member), _tokens(caps["member_value"][0], facts), _line(member)))
        elif "item" in caps:
            items.setdefault(caps["item"][0].start_byte, {})["caps"] = caps
        elif "struct_item" in caps:
            entry = structs.setdefault(caps["struct_item"][0].start_byte, {"caps": caps, "fields": [], "elements": []})
            if "field" in caps:
                entry["fields"].append((caps["field"][0].start_byte, _text(caps["field"][0]),
                                        _type(caps["field_type"][0]), _line(caps["field"][0])))
            elif "field_type" in caps:
                entry["elements"].append((caps["field_type"][0].start_byte, _type(caps["field_type"][0])))
        elif "impl" in caps:
            entry = impls.setdefault(caps["impl"][0].start_byte, {"caps": caps, "consts": [], "types": [], "fns": []})
            if "const" in caps:
                entry["consts"].append((caps["const"][0].start_byte, _text(caps["const"][0]),
                                        _tokens(caps["value"][0], facts), _line(caps["const"][0])))
            elif "assoc" in caps:
                entry["types"].append((caps["assoc"][0].start_byte, _text(caps["assoc"][0]),
                                       _type(caps["assoc_type"][0])))
            elif "fn" in caps:
                entry["fns"].append((caps["fn"][0].start_byte, _text(caps["fn"][0]),
                                     _tokens(caps["fn_body"][0], facts), _line(caps["fn"][0])))
        elif "macro" in caps:
            facts.macros.append(MacroCall(_last_segment(_text(caps["macro"][0])), _tokens(caps["args"][0], facts),
                                          _line(caps["macro"][0])))
    facts.items = [_item(entry, facts) for _, entry in sorted(items.items()) if "caps" in entry]
    facts.structs = [_struct(entry) for _, entry in sorted(structs.items())]
    facts.impls = [_impl(entry) for _, entry in sorted(impls.items())]
    facts.macros.sort(key=lambda m: m.line)
    return facts


def _item(entry: dict, facts: RustFacts) -> Item:
    caps = entry["caps"]
    node = caps["item"][0]
    public = any(c.type == "visibility_modifier" for c in node.children)
    members = None
    if "members" in entry:
        members = tuple((name, tokens, line) for _, name, tokens, line in sorted(entry["members"]))
    return Item(_text(caps["name"][0]), "static" if node.type == "static_item" else "const", public,
                _type(caps["type"][0]), _tokens(caps["value"][0], facts), _line(node), members)


def _struct(entry: dict) -> Struct:
    node = entry["caps"]["struct_item"][0]
    return Struct(_text(entry["caps"]["struct"][0]), _line(node),
                  tuple((name, ref, line) for _, name, ref, line in sorted(entry["fields"])),
                  tuple(ref for _, ref in sorted(entry["elements"])), _attributes(node))


def _impl(entry: dict) -> Impl:
    caps = entry["caps"]
    return Impl(_last_segment(_text(caps["trait"][0])), _last_segment(_text(caps["self"][0])), _line(caps["impl"][0]),
                tuple((n, t, line) for _, n, t, line in sorted(entry["consts"])),
                tuple((n, ref) for _, n, ref in sorted(entry["types"])),
                tuple((n, t, line) for _, n, t, line in sorted(entry["fns"])))


def _attributes(node) -> tuple[tuple[Tok, ...], ...]:
    """The #[...] attributes written before an item (doc comments may sit between them)."""
    found = []
    sibling = node.prev_named_sibling
    while sibling is not None and sibling.type in ("attribute_item", "line_comment", "block_comment"):
        if sibling.type == "attribute_item":
            found.append(_tokens(sibling, None))
        sibling = sibling.prev_named_sibling
    return tuple(reversed(found))


_LEAVES = ("string_literal", "raw_string_literal", "char_literal")
_COMMENTS = ("line_comment", "block_comment")


def _tokens(node, facts: RustFacts | None) -> tuple[Tok, ...]:
    """The leaves of a node as tokens, in order (an explicit stack: no recursion, however
    deep the tree)."""
    out: list[Tok] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type in _COMMENTS:
            continue
        if current.child_count == 0 or current.type in _LEAVES:
            if len(out) >= MAX_TOKENS:
                if facts is not None:
                    facts.cut.append(_line(node))
                break
            out.append(_token(current))
            continue
        stack.extend(reversed(current.children))
    return tuple(out)


def _token(node) -> Tok:
    text = _text(node)
    if node.type == "integer_literal":
        kind = "int"
    elif node.type in ("string_literal", "raw_string_literal"):
        kind = "str"
    elif text.isidentifier() or (text.startswith("$") and text[1:].isidentifier()):
        kind = "id"
    else:
        kind = "p"
    return Tok(kind, text, _line(node))


def _type(node, depth: int = 0) -> tuple:
    """A type as a small tuple: ("prim", "u32"), ("path", segments, type arguments),
    ("array", element, length tokens), ("ptr", inner), ("ref", inner) or ("other", text)."""
    kind = node.type
    if depth > MAX_TYPE_DEPTH:
        return ("other", _text(node)[:200])
    if kind == "primitive_type":
        return ("prim", _text(node))
    if kind in ("type_identifier", "scoped_type_identifier"):
        return _path_type(_text(node), ())
    if kind == "generic_type":
        base = node.child_by_field_name("type")
        arguments = node.child_by_field_name("type_arguments")
        args = tuple(_type(a, depth + 1) for a in (arguments.named_children if arguments else ())
                     if a.type not in ("lifetime", "block", *_COMMENTS))
        return _path_type(_text(base), args) if base is not None else ("other", _text(node)[:200])
    if kind == "array_type":
        element = node.child_by_field_name("element")
        length = node.child_by_field_name("length")
        if element is None or length is None:
            return ("other", _text(node)[:200])
        return ("array", _type(element, depth + 1), _tokens(length, None))
    if kind in ("pointer_type", "reference_type"):
        inner = node.child_by_field_name("type")
        if inner is None:
            return ("other", _text(node)[:200])
        return ("ptr" if kind == "pointer_type" else "ref", _type(inner, depth + 1))
    return ("other", _text(node)[:200])


def _path_type(text: str, args: tuple) -> tuple:
    if "<" in text or " as " in text:  # a qualified path such as <T as Trait>::Class
        return ("other", text[:200])
    return ("path", tuple(part.strip() for part in text.split("::") if part.strip()), args)


def _last_segment(text: str) -> str:
    head = text.split("<", 1)[0]
    return head.rsplit("::", 1)[-1].strip()


def _text(node) -> str:
    return node.text.decode("utf-8", "replace")


def _line(node) -> int:
    return node.start_point[0] + 1
