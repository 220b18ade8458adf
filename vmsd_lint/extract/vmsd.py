"""Build the VMSD model from a declaration's initializer, expanding each field macro
with the definitions of the revision being read."""
from __future__ import annotations

import hashlib
from dataclasses import replace

from ..model import Diagnostic, Field, Vmsd
from .cexpr import Address, Symbol, Typed, Unresolved
from .context import FileContext, _split_commas
from .lexer import IDENT, PUNCT, Token, join_tokens, matching, tokenize
from .parse import Decl
from .preprocess import ExpansionError

HOOKS = ("needed", "pre_load", "post_load", "pre_save", "post_save", "post_load_errp", "pre_load_errp",
         "pre_save_errp", "dev_unplug_pending")
_INT_MEMBERS = ("version_id", "struct_version_id", "start", "num")


class VmsdBuilder:
    def __init__(self, ctx: FileContext, arrays: dict[str, Decl], vms_flags: dict[str, int]):
        self.ctx = ctx
        self.arrays = arrays  # VMStateField / subsection arrays of this file, by symbol
        self.vms_flags = vms_flags
        self.diagnostics: list[Diagnostic] = []

    def build(self, decl: Decl) -> Vmsd:
        try:
            return self._build(decl)
        except (ExpansionError, RecursionError) as exc:  # a limit of the expander was hit
            self._diag(decl.line, f"VMSD {decl.symbol}: not read: {exc}")
            return Vmsd(symbol=decl.symbol, file=self.ctx.path, line=decl.line, name=None, version_id=None,
                        minimum_version_id=None, fields=None, subsections=None, hooks={}, unmigratable=False,
                        priority=None, early_setup=False, static=decl.static)

    def _build(self, decl: Decl) -> Vmsd:
        members = designated(self._tokens(decl.init_text, decl.init_line))
        values: dict = {"name": None, "version_id": 0, "minimum_version_id": 0}
        fields: tuple[Field, ...] | None = None
        subsections: tuple[str, ...] | None = None
        hooks: dict[str, str] = {}
        for member, tokens, _line in members:
            if member is None:
                continue
            if member == "fields":
                fields = tuple(self._fields(tokens, decl))
            elif member == "subsections":
                subsections = tuple(self._subsections(tokens, decl))
            elif member in HOOKS:
                value = self._value(tokens, decl, member)
                if isinstance(value, (Symbol, Address)):
                    hooks[member] = value.name
            elif member in ("name", "version_id", "minimum_version_id", "unmigratable", "early_setup", "priority"):
                values[member] = self._value(tokens, decl, member)
        name = values["name"] if isinstance(values["name"], str) else None
        if name is None:
            self._diag(decl.line, f"VMSD {decl.symbol}: .name could not be resolved")
        priority = values.get("priority")
        return Vmsd(
            symbol=decl.symbol, file=self.ctx.path, line=decl.line, name=name,
            version_id=_as_int(values["version_id"]), minimum_version_id=_as_int(values["minimum_version_id"]),
            fields=fields, subsections=subsections, hooks=hooks,
            unmigratable=bool(_as_int(values.get("unmigratable")) or 0),
            priority=priority.name if isinstance(priority, Symbol) else (str(priority) if priority else None),
            early_setup=bool(_as_int(values.get("early_setup")) or 0), static=decl.static,
        )

    # -- pieces --------------------------------------------------------------
    def _tokens(self, text: str, line: int) -> list[Token]:
        """Initializer tokens with #if branches settled, not yet macro-expanded."""
        tokens = self.ctx.apply_conditionals(tokenize(text, line, directives=True))
        return tokens[1:-1] if tokens and tokens[0].text == "{" else tokens

    def _value(self, tokens: list[Token], decl: Decl, member: str):
        try:
            return self.ctx.evaluate(self.ctx.expand(tokens))
        except (Unresolved, ExpansionError, RecursionError, IndexError) as exc:
            line = tokens[0].line if tokens else decl.line
            self._diag(line, f"VMSD {decl.symbol}: .{member} = {join_tokens(tokens)[:80]}: {exc}")
            return None

    def _element_list(self, tokens: list[Token], decl: Decl, what: str) -> list[list[Token]] | None:
        """The elements of `(type) { a, b, ... }` or of a named array of this file."""
        close = matching(tokens, 0) if tokens and tokens[0].text == "(" else None
        if close is not None:
            body = tokens[close + 1:]
            if body and body[0].text == "{" and body[-1].text == "}":
                return [e for e in _split_commas(body[1:-1]) if e]
        if len(tokens) == 1 and tokens[0].kind == IDENT:
            array = self.arrays.get(tokens[0].text)
            if array is not None:
                return [e for e in _split_commas(self._tokens(array.init_text, array.init_line)) if e]
        expanded = self.ctx.expand(tokens)
        if expanded != tokens and expanded:
            return self._element_list(expanded, decl, what)
        self._diag(tokens[0].line if tokens else decl.line,
                   f"VMSD {decl.symbol}: .{what} = {join_tokens(tokens)[:60]} is not a list this tool can read")
        return None

    def _fields(self, tokens: list[Token], decl: Decl) -> list[Field]:
        try:
            return self._read_fields(tokens, decl)
        finally:
            self.ctx.depends = None

    def _read_fields(self, tokens: list[Token], decl: Decl) -> list[Field]:
        elements = self._element_list(tokens, decl, "fields")
        fields: list[Field] = []
        for element in elements or []:
            self.ctx.depends = {}
            try:
                expanded = self.ctx.expand(element)
            except ExpansionError as exc:
                self._diag(element[0].line, f"VMSD {decl.symbol}: {element[0].text}: {exc}")
                continue
            if not (expanded and expanded[0].text == "{"):
                # not a VMStateField initializer: an unknown macro, or one this tree lacks
                self._diag(element[0].line, f"VMSD {decl.symbol}: {join_tokens(element)[:80]} does not expand "
                                            f"to a VMStateField (is {element[0].text} defined in the tree?)")
                fields.append(Field(name=None, line=element[0].line, macro=element[0].text,
                                    unresolved=("expansion",)))
                continue
            for item in _brace_items(expanded):
                field = self._field(item, element, decl)
                if field is None:
                    return fields  # VMSTATE_END_OF_LIST
                fields.append(self._with_depends(field, element))
        if elements is not None:
            self._diag(decl.line, f"VMSD {decl.symbol}: field list has no VMSTATE_END_OF_LIST()")
        return fields

    def _field(self, item: list[Token], source: list[Token], decl: Decl) -> Field | None:
        line = source[0].line
        macro = source[0].text if source[0].kind == IDENT else "{...}"
        members = {m: toks for m, toks, _ in designated(item) if m}
        if "name" not in members:
            return None  # QEMU walks fields `while (field->name)`: a nameless entry ends the list
        flags_value = self._member_int(members, "flags", decl, line, [])
        flag_names = tuple(sorted(n for n, bit in self.vms_flags.items() if flags_value and bit & flags_value))
        unresolved: list[str] = []
        name = self._member(members, "name", decl, line, unresolved)
        exists = self._member(members, "field_exists", decl, line, unresolved) if "field_exists" in members else 0
        info = _compound_info(members.get("info")) or \
            (self._member(members, "info", decl, line, unresolved) if "info" in members else None)
        vmsd = self._member(members, "vmsd", decl, line, unresolved) if "vmsd" in members else None
        size = self._member_int(members, "size", decl, line, unresolved, quiet=vmsd is not None)
        ints = {m: self._member_int(members, m, decl, line, unresolved) for m in _INT_MEMBERS if m in members}
        num_field = _offset_member(members.get("num_offset")) or _offset_member(members.get("size_offset"))
        return Field(
            name=name if isinstance(name, str) else None, line=line, macro=macro,
            version_id=ints.get("version_id", 0),
            field_exists=_symbol_name(exists),
            size=size, num=ints.get("num"), num_field=num_field, flags=flag_names,
            info=info if isinstance(info, str) else _symbol_name(info), vmsd=_symbol_name(vmsd),
            struct_version_id=ints.get("struct_version_id"), start=ints.get("start"),
            unresolved=tuple(unresolved),
        )

    def _with_depends(self, field: Field, element: list[Token]) -> Field:
        """FIELD with its own text's digest and the definitions its element used (the
        element's expansion and the evaluation of its members, recorded since
        _fields() set ctx.depends)."""
        depends = self.ctx.tree.definitions(tuple(self.ctx.depends or ()))
        text = hashlib.sha1(" ".join(t.text for t in element).encode()).hexdigest()[:12]
        return replace(field, text=text, depends=depends)

    def _member(self, members, member: str, decl: Decl, line: int, unresolved: list[str]):
        tokens = members.get(member)
        if tokens is None:
            return None
        try:
            return self.ctx.evaluate(tokens)
        except (Unresolved, RecursionError, IndexError) as exc:
            unresolved.append(member)
            self._diag(line, f"VMSD {decl.symbol}: field .{member} = {join_tokens(tokens)[:80]}: {exc}")
            return None

    def _member_int(self, members, member: str, decl: Decl, line: int, unresolved: list[str],
                    quiet: bool = False) -> int | None:
        tokens = members.get(member)
        if tokens is None:
            return None if member != "version_id" else 0
        try:
            return self.ctx.evaluate_int(tokens)
        except (Unresolved, RecursionError, IndexError) as exc:
            if not quiet:
                unresolved.append(member)
                self._diag(line, f"VMSD {decl.symbol}: field .{member} = {join_tokens(tokens)[:80]}: {exc}")
            return None

    def _subsections(self, tokens: list[Token], decl: Decl) -> list[str]:
        elements = self._element_list(tokens, decl, "subsections")
        names: list[str] = []
        for element in elements or []:
            try:
                value = self.ctx.evaluate(self.ctx.expand(element))
            except (Unresolved, ExpansionError) as exc:
                self._diag(element[0].line, f"VMSD {decl.symbol}: subsection {join_tokens(element)}: {exc}")
                continue
            name = _symbol_name(value)
            if name:
                names.append(name)
            elif value in (0, None):
                break
        return names

    def _diag(self, line: int, message: str) -> None:
        self.diagnostics.append(Diagnostic("unresolved", self.ctx.path, line, message))


def designated(tokens: list[Token]) -> list[tuple[str | None, list[Token], int]]:
    """Split `.a = x, .b = y, z` into (member, value tokens, line)."""
    out = []
    for part in _split_commas(tokens):
        if not part:
            continue
        if len(part) >= 3 and part[0].text == "." and part[1].kind == IDENT and part[2].text == "=":
            out.append((part[1].text, part[3:], part[0].line))
        else:
            out.append((None, part, part[0].line))
    return out


def _brace_items(tokens: list[Token]) -> list[list[Token]]:
    """An expanded field element is one `{...}` (or, rarely, several)."""
    items = []
    for part in _split_commas(tokens):
        if part and part[0].text == "{" and part[-1].text == "}":
            items.append(part[1:-1])
        elif part:
            items.append(part)
    return items


def _offset_member(tokens: list[Token] | None) -> str | None:
    """The member named in `offsetof(State, member)` inside an offset expression."""
    if not tokens:
        return None
    for i, tok in enumerate(tokens):
        if tok.text == "offsetof" and i + 1 < len(tokens) and tokens[i + 1].text == "(":
            depth = 0
            start = None
            for j in range(i + 1, len(tokens)):
                t = tokens[j]
                if t.kind == PUNCT and t.text == "(":
                    depth += 1
                elif t.kind == PUNCT and t.text == ")":
                    depth -= 1
                    if depth == 0:
                        return join_tokens(tokens[start:j]) if start is not None else None
                elif t.kind == PUNCT and t.text == "," and depth == 1 and start is None:
                    start = j + 1
    return None


def _compound_info(tokens: list[Token] | None) -> str | None:
    """`&(const VMStateInfo) { .name = "x", .get = g, .put = p }`, an info written in place,
    named by its put function: `(VMStateInfo){.put = p}` (extract.saves reads it)."""
    texts = [t.text for t in tokens or ()]
    if len(texts) < 6 or texts[0] != "&" or texts[1] != "(" or "VMStateInfo" not in texts[2:5]:
        return None
    for i, text in enumerate(texts[:-3]):
        if text == "." and texts[i + 1] == "put" and texts[i + 2] == "=" and texts[i + 3].isidentifier():
            return f"(VMStateInfo){{.put = {texts[i + 3]}}}"
    return None


def _symbol_name(value) -> str | None:
    if isinstance(value, (Symbol, Address)):
        return value.name
    if isinstance(value, Typed) and isinstance(value.value, (Symbol, Address)):
        return value.value.name
    return None


def _as_int(value) -> int | None:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    return None
