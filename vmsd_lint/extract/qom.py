"""QOM types (TypeInfo) and the VMSD each device class installs in its class_init."""
from __future__ import annotations

from ..model import Diagnostic, FunctionInfo, QomType
from .cexpr import Address, Symbol, Unresolved
from .context import FileContext, _split_commas
from .lexer import tokenize
from .parse import Decl
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
            or (names["base_name"] is None and not names["generic_name"]):
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


def _evaluate_text(ctx: FileContext, text: str | None):
    if not text:
        return None
    try:
        return ctx.evaluate(ctx.expand(tokenize(text)))
    except (Unresolved, ExpansionError, RecursionError, IndexError):
        return None


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
