"""QOM types (TypeInfo) and the VMSD each device class installs in its class_init."""
from __future__ import annotations

import re

from ..model import Diagnostic, FunctionInfo, QomType
from .cexpr import Address, Symbol, Unresolved
from .context import FileContext, _split_commas
from .lexer import tokenize
from .parse import Decl, Function
from .preprocess import ExpansionError
from .vmsd import designated


def type_infos(ctx: FileContext, decl: Decl, diagnostics: list[Diagnostic]) -> list[QomType]:
    """The QOM types declared by one TypeInfo variable (or array of them)."""
    tokens = _initializer(ctx, decl, diagnostics)
    if tokens is None:
        return []
    if decl.is_array:
        elements = [e[1:-1] for e in (_element(ctx, e, decl, diagnostics) for e in _split_commas(tokens))
                    if e and e[0].text == "{"]
    else:
        elements = [tokens]
    types = []
    for element in elements:
        qom = _type_info(ctx, decl, element, diagnostics)
        if qom is not None:
            types.append(qom)
    return types


def _initializer(ctx: FileContext, decl: Decl, diagnostics: list[Diagnostic]):
    """DECL's initializer tokens inside its braces, with the build's #if branches (None
    when a limit of the expander was hit)."""
    try:
        tokens = ctx.apply_conditionals(tokenize(decl.init_text, decl.init_line, directives=True))
    except (ExpansionError, RecursionError) as exc:
        diagnostics.append(Diagnostic("unresolved", ctx.path, decl.line, f"{decl.type} {decl.symbol}: not read: {exc}"))
        return None
    return tokens[1:-1] if tokens and tokens[0].text == "{" else tokens


def _member_values(ctx: FileContext, decl: Decl, tokens, members: tuple[str, ...],
                   diagnostics: list[Diagnostic]) -> tuple[dict, bool]:
    """The values of the designated MEMBERS in TOKENS, and whether all of them could be
    evaluated (each one that could not is a diagnostic)."""
    values, complete = {}, True
    for member, value_tokens, _ in designated(tokens):
        if member not in members:
            continue
        try:
            values[member] = ctx.evaluate(ctx.expand(value_tokens))
        except (Unresolved, ExpansionError, RecursionError, IndexError) as exc:
            complete = False
            line = value_tokens[0].line if value_tokens else tokens[0].line if tokens else decl.line
            diagnostics.append(Diagnostic("unresolved", ctx.path, line, f"{decl.type} {decl.symbol}: .{member}: {exc}"))
    return values, complete


def _function_name(value) -> str | None:
    return value.name if isinstance(value, (Symbol, Address)) else None


def _element(ctx: FileContext, tokens, decl: Decl, diagnostics):
    """An array element, with a macro that builds one (`DEFINE_SPAPR_CPU_CORE_TYPE("power9_v2.2")`) expanded."""
    if not tokens or tokens[0].text == "{":
        return tokens
    try:
        return ctx.expand(tokens)
    except (ExpansionError, RecursionError) as exc:
        diagnostics.append(Diagnostic("unresolved", ctx.path, tokens[0].line,
                                      f"TypeInfo {decl.symbol}: element {tokens[0].text}: {exc}"))
        return []


def _type_info(ctx: FileContext, decl: Decl, tokens, diagnostics) -> QomType | None:
    line = tokens[0].line if tokens else decl.line
    values, _ = _member_values(ctx, decl, tokens, ("name", "parent", "class_init", "instance_init", "abstract"),
                               diagnostics)
    name = values.get("name")
    if not isinstance(name, str):
        if "name" in values or not values:
            diagnostics.append(Diagnostic("unresolved", ctx.path, line,
                                          f"TypeInfo {decl.symbol}: type name could not be resolved"))
        return None
    parent = values.get("parent")
    return QomType(name=name, symbol=decl.symbol, file=ctx.path, line=line,
                   parent=parent if isinstance(parent, str) else None,
                   class_init=_function_name(values.get("class_init")),
                   abstract=bool(values.get("abstract")) if isinstance(values.get("abstract"), int) else False,
                   instance_init=_function_name(values.get("instance_init")),
                   class_struct=_class_struct(tokens))


def _class_struct(tokens) -> str | None:
    """The struct named by `.class_size = sizeof(VirtioDeviceClass)`: which class struct's
    members this type's class has (typing `vdc->vmsd` against `dc->vmsd`)."""
    for member, value, _ in designated(tokens):
        texts = [t.text for t in value]
        if member == "class_size" and len(texts) == 4 and texts[:2] == ["sizeof", "("] and texts[3] == ")":
            return texts[2]
    return None


def virtio_pci_types(ctx: FileContext, decl: Decl, diagnostics: list[Diagnostic]) -> list[QomType]:
    """The QOM types virtio_pci_types_register() (hw/virtio/virtio-pci.c) registers for a
    VirtioPCIDeviceTypeInfo, as that function builds them (unchanged since QEMU 4.0):
    - an abstract base type: .base_name, or "<generic_name>-base-type" when there is
      none; its parent is .parent, else TYPE_VIRTIO_PCI;
    - the generic, transitional and non-transitional types, children of the base.
    The descriptor's .class_init runs for the base type when .base_name is given, else
    for the generic type (virtio_pci_base_class_init calls it); the other types' class
    hooks only add properties."""
    tokens = _initializer(ctx, decl, diagnostics)
    if tokens is None:
        return []
    members = ("base_name", "generic_name", "transitional_name", "non_transitional_name", "parent",
               "class_init", "instance_init")
    values, complete = _member_values(ctx, decl, tokens, members, diagnostics)
    if not complete:
        return []
    names = {member: values.get(member) for member in members[:4]}
    parent = values.get("parent") or _evaluate_text(ctx, "TYPE_VIRTIO_PCI")
    if not all(name is None or isinstance(name, str) for name in names.values()) or not isinstance(parent, str) \
            or names["base_name"] is None and not names["generic_name"]:
        diagnostics.append(Diagnostic("unresolved", ctx.path, decl.line,
                                      f"VirtioPCIDeviceTypeInfo {decl.symbol}: type names could not be resolved"))
        return []
    class_init, instance_init = _function_name(values.get("class_init")), _function_name(values.get("instance_init"))
    base = names["base_name"] or f"{names['generic_name']}-base-type"

    def qom(name: str, parent: str, own_class_init: bool, abstract: bool = False) -> QomType:
        return QomType(name=name, symbol=decl.symbol, file=ctx.path, line=decl.line, parent=parent,
                       class_init=class_init if own_class_init else None, abstract=abstract,
                       instance_init=instance_init if abstract else None)

    types = [qom(base, parent, names["base_name"] is not None, abstract=True)]
    if names["generic_name"]:
        types.append(qom(names["generic_name"], base, names["base_name"] is None))
    for member in ("non_transitional_name", "transitional_name"):
        if names[member]:
            types.append(qom(names[member], base, False))
    return types


# The class structs whose `vmsd` member qdev registers (None: the variable's type is not
# declared in the function, as in `DEVICE_CLASS(oc)->vmsd = ...`).
DEVICE_VMSD_STRUCTS = (None, "DeviceClass")

_MEMBER_ASSIGN_RE = r"\b{var}\s*\.\s*(name|parent|class_init)\s*=\s*([^;]+);"


def loop_registered_types(ctx: FileContext, function: Function, text: str, arrays: dict[str, list[dict]],
                          local_infos: list[Decl], diagnostics: list[Diagnostic]) -> list[QomType]:
    """Types registered from a loop: a local TypeInfo filled from an array of
    descriptors (`ti.name = info->name; type_register_static(&ti);`, as e1000 does)."""
    body = None
    result = []
    for call in function.calls:
        if call.callee not in ("type_register", "type_register_static") or not call.args:
            continue
        if body is None:  # (most functions register nothing: they do not pay for the split)
            body = "\n".join(text.splitlines()[function.line - 1:function.end_line])
        m = re.fullmatch(r"&\s*(\w+)", call.args[0].strip())
        if not m:
            continue
        var = m.group(1)
        defaults = _local_defaults(ctx, var, local_infos)
        assigned = dict(re.findall(_MEMBER_ASSIGN_RE.format(var=re.escape(var)), body))
        source = _name_source(assigned.get("name", ""), body)
        if source is None:
            continue
        array_name, member = source
        if array_name not in arrays:
            diagnostics.append(Diagnostic("unresolved", ctx.path, call.line,
                                          f"types registered in a loop over '{array_name}': array not found"))
            continue
        parent = _evaluate_text(ctx, assigned.get("parent")) if "parent" in assigned else defaults.get("parent")
        class_init = assigned.get("class_init", "").strip() or defaults.get("class_init")
        for entry in arrays[array_name]:
            name = _evaluate_text(ctx, entry.get(member))
            data_vmsd = re.fullmatch(r"&?\s*\(?\s*(\w+)\s*\)?", entry.get("vmsd", "").strip())
            if isinstance(name, str):
                result.append(QomType(name=name, symbol=f"{array_name}[]", file=ctx.path, line=call.line,
                                      parent=parent if isinstance(parent, str) else None,
                                      class_init=class_init if class_init and re.fullmatch(r"\w+", class_init) else None,
                                      data_vmsd=data_vmsd.group(1) if data_vmsd else None))
    return result


def _local_defaults(ctx: FileContext, var: str, local_infos: list[Decl]) -> dict:
    """.parent/.class_init from the local TypeInfo's own initializer."""
    for decl in local_infos:
        if decl.symbol != var:
            continue
        tokens = tokenize(decl.init_text, decl.init_line)[1:-1]
        values = {}
        for member, value_tokens, _ in designated(tokens):
            if member in ("parent", "class_init"):
                try:
                    value = ctx.evaluate(ctx.expand(value_tokens))
                except (Unresolved, ExpansionError, RecursionError, IndexError):
                    continue
                values[member] = value.name if isinstance(value, (Symbol, Address)) else value
        return values
    return {}


def _name_source(name_expr: str, body: str) -> tuple[str, str] | None:
    """The array and member a loop takes type names from: `info->name` (info = &arr[i])
    or `arr[i].name`."""
    name_expr = name_expr.strip()
    direct = re.fullmatch(r"(\w+)\s*\[[^\]]*\]\s*\.\s*(\w+)", name_expr)
    if direct:
        return direct.group(1), direct.group(2)
    through = re.fullmatch(r"(\w+)\s*(?:->|\.)\s*(\w+)", name_expr)
    if through:
        array = _array_behind(through.group(1), body)
        return (array, through.group(2)) if array else None
    return None


def _array_behind(pointer: str, body: str) -> str | None:
    m = re.search(rf"\b{re.escape(pointer)}\s*=\s*&?\s*(\w+)\s*\[", body)
    if m:
        return m.group(1)
    m = re.search(rf"\b{re.escape(pointer)}\s*=\s*(\w+)\s*\+", body)
    return m.group(1) if m else None


def _evaluate_text(ctx: FileContext, text: str | None):
    if not text:
        return None
    try:
        return ctx.evaluate(ctx.expand(tokenize(text)))
    except (Unresolved, ExpansionError, RecursionError, IndexError):
        return None


_STRUCT_ARRAY_RE = re.compile(r"\b(\w+)\s*\[\s*\w*\s*\]\s*=\s*\{", re.M)


def struct_arrays(text: str) -> dict[str, list[dict]]:
    """Arrays of designated initializers in a file: name -> [{member: value text}]."""
    arrays: dict[str, list[dict]] = {}
    for m in _STRUCT_ARRAY_RE.finditer(text):
        start = m.end() - 1
        end = _closing_brace(text, start)
        if end is None:
            continue
        entries = []
        for element in _top_level_braces(text, start + 1, end):
            entry = {}
            for part in _split_commas(tokenize(element)):
                if len(part) >= 3 and part[0].text == "." and part[2].text == "=":
                    entry[part[1].text] = " ".join(t.text for t in part[3:])
            if entry:
                entries.append(entry)
        if entries:
            arrays[m.group(1)] = entries
    return arrays


def _closing_brace(text: str, start: int) -> int | None:
    depth = 0
    for i in range(start, min(len(text), start + 100000)):
        c = text[i]
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i
    return None


def _top_level_braces(text: str, start: int, end: int) -> list[str]:
    """The contents of each `{...}` directly inside text[start:end]."""
    items = []
    i = start
    while i < end:
        if text[i] == "{":
            close = _closing_brace(text, i)
            if close is None or close > end:
                break
            items.append(text[i + 1:close])
            i = close + 1
        else:
            i += 1
    return items


def vmsd_assignment(ctx: FileContext, function: FunctionInfo, functions: dict[str, FunctionInfo],
                    seen: set[str] | None = None, elsewhere=None) -> tuple[str, int, str] | None:
    """The VMSD symbol a class_init assigns to `dc->vmsd`, with its line and file,
    following the calls it makes (within its file, then to non-static functions
    elsewhere through `elsewhere(name) -> (ctx, function, functions) | None`)."""
    seen = seen if seen is not None else set()
    seen.add(function.name)
    for value_text, line, struct in function.vmsd_assignments:
        if struct not in DEVICE_VMSD_STRUCTS:
            continue  # another class's VMSD (`vdc->vmsd` of a VirtioDeviceClass): not what qdev registers
        try:
            value = ctx.evaluate(ctx.expand(tokenize(value_text)))
        except (Unresolved, ExpansionError, RecursionError, IndexError):
            continue
        if isinstance(value, Address):
            return value.name, line, ctx.path
    for callee_name in function.calls:
        if callee_name in seen:
            continue
        callee = functions.get(callee_name)
        if callee is not None:
            found = vmsd_assignment(ctx, callee, functions, seen, elsewhere)
        elif elsewhere is not None and (target := elsewhere(callee_name)) is not None:
            found = vmsd_assignment(*target, seen, elsewhere)
        else:
            continue
        if found:
            return found
    return None
