"""QOM types (TypeInfo) and the VMSD each device class installs in its class_init."""
from __future__ import annotations

import re

from ..model import Diagnostic, QomType
from .cexpr import Address, Symbol, Unresolved
from .context import FileContext, _split_commas
from .lexer import IDENT, tokenize
from .parse import Decl, Function
from .preprocess import ExpansionError
from .vmsd import designated


def type_infos(ctx: FileContext, decl: Decl, diagnostics: list[Diagnostic]) -> list[QomType]:
    """The QOM types declared by one TypeInfo variable (or array of them)."""
    tokens = ctx.apply_conditionals(tokenize(decl.init_text, decl.init_line, directives=True))
    tokens = tokens[1:-1] if tokens and tokens[0].text == "{" else tokens
    if decl.is_array:
        elements = [e[1:-1] for e in _split_commas(tokens) if e and e[0].text == "{"]
    else:
        elements = [tokens]
    types = []
    for element in elements:
        qom = _type_info(ctx, decl, element, diagnostics)
        if qom is not None:
            types.append(qom)
    return types


def _type_info(ctx: FileContext, decl: Decl, tokens, diagnostics) -> QomType | None:
    values = {}
    line = tokens[0].line if tokens else decl.line
    for member, value_tokens, _ in designated(tokens):
        if member not in ("name", "parent", "class_init", "abstract"):
            continue
        try:
            values[member] = ctx.evaluate(ctx.expand(value_tokens))
        except (Unresolved, ExpansionError, RecursionError, IndexError) as exc:
            diagnostics.append(Diagnostic("unresolved", ctx.path, value_tokens[0].line if value_tokens else line,
                                          f"TypeInfo {decl.symbol}: .{member}: {exc}"))
    name = values.get("name")
    if not isinstance(name, str):
        if "name" in values or not values:
            diagnostics.append(Diagnostic("unresolved", ctx.path, line,
                                          f"TypeInfo {decl.symbol}: type name could not be resolved"))
        return None
    parent = values.get("parent")
    class_init = values.get("class_init")
    return QomType(name=name, symbol=decl.symbol, file=ctx.path, line=line,
                   parent=parent if isinstance(parent, str) else None,
                   class_init=class_init.name if isinstance(class_init, (Symbol, Address)) else None,
                   abstract=bool(values.get("abstract")) if isinstance(values.get("abstract"), int) else False)


_MEMBER_ASSIGN_RE = r"\b{var}\s*\.\s*(name|parent|class_init)\s*=\s*([^;]+);"


def loop_registered_types(ctx: FileContext, function: Function, text: str, arrays: dict[str, list[dict]],
                          diagnostics: list[Diagnostic]) -> list[QomType]:
    """Types registered from a loop: a local TypeInfo filled from an array of
    descriptors (`ti.name = info->name; type_register(&ti);`, as e1000 does)."""
    body = "\n".join(text.splitlines()[function.line - 1:function.end_line])
    result = []
    for call in function.calls:
        if call.callee not in ("type_register", "type_register_static") or not call.args:
            continue
        m = re.fullmatch(r"&\s*(\w+)", call.args[0].strip())
        if not m:
            continue
        var = m.group(1)
        assigned = dict(re.findall(_MEMBER_ASSIGN_RE.format(var=re.escape(var)), body))
        name_expr = assigned.get("name", "")
        source = re.fullmatch(r"(\w+)\s*(?:->|\.)\s*(\w+)", name_expr.strip())
        if not source:
            continue
        pointer, member = source.groups()
        array_name = _array_behind(pointer, body)
        if array_name not in arrays:
            diagnostics.append(Diagnostic("unresolved", ctx.path, call.line,
                                          f"types registered in a loop over '{pointer}': array not found"))
            continue
        parent = _evaluate_text(ctx, assigned.get("parent"))
        class_init = assigned.get("class_init", "").strip() or None
        for entry in arrays[array_name]:
            name = _evaluate_text(ctx, entry.get(member))
            if isinstance(name, str):
                result.append(QomType(name=name, symbol=f"{array_name}[]", file=ctx.path, line=call.line,
                                      parent=parent if isinstance(parent, str) else None,
                                      class_init=class_init if class_init and re.fullmatch(r"\w+", class_init) else None))
    return result


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
    """Arrays of designated initializers in a file: name -> [{member: text}]."""
    arrays: dict[str, list[dict]] = {}
    for m in _STRUCT_ARRAY_RE.finditer(text):
        start = m.end() - 1
        depth = 0
        end = None
        for i in range(start, min(len(text), start + 20000)):
            c = text[i]
            if c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
                if depth == 0:
                    end = i
                    break
        if end is None:
            continue
        entries = []
        for element in re.finditer(r"\{([^{}]*)\}", text[start + 1:end]):
            entry = dict(re.findall(r"\.\s*(\w+)\s*=\s*([^,]+(?:\([^)]*\)[^,]*)?)", element.group(1)))
            if entry:
                entries.append(entry)
        if entries:
            arrays[m.group(1)] = entries
    return arrays


def vmsd_assignment(ctx: FileContext, function: Function, functions: dict[str, Function],
                    seen: set[str] | None = None) -> tuple[str, int] | None:
    """The VMSD symbol a class_init assigns to `dc->vmsd` (following calls within the file)."""
    seen = seen if seen is not None else set()
    seen.add(function.name)
    for assign in function.vmsd_assignments:
        try:
            value = ctx.evaluate(ctx.expand(tokenize(assign.rhs)))
        except (Unresolved, ExpansionError, RecursionError, IndexError):
            continue
        if isinstance(value, Address):
            return value.name, assign.line
    for call in function.calls:
        callee = functions.get(call.callee)
        if callee is not None and callee.name not in seen:
            found = vmsd_assignment(ctx, callee, functions, seen)
            if found:
                return found
    return None


def is_identifier(text: str) -> bool:
    return bool(text) and text.isidentifier()


__all__ = ["type_infos", "loop_registered_types", "struct_arrays", "vmsd_assignment", "IDENT"]
