"""The tree-wide symbol tables of one revision and the rules that pick a definition.

A name (macro, struct, typedef, enum constant) can be defined in several files or
under several #if branches.  A definition is chosen as the compiler of the file
being read would see it: its #if conditions must hold for the build configuration;
then the reading file itself wins, then the headers it includes (transitively),
then the selected target's directory, then any definition outside other targets.
"""
from __future__ import annotations

import functools
import hashlib
import posixpath
import re
from dataclasses import dataclass

from ..model import Definitions
from .buildconfig import BuildConfig
from .cexpr import Unresolved, evaluate, evaluate_int, parse_members, parse_type, split_top
from .ctypes import Array, CType, Prim, Record, layout, type_identity
from .lexer import DIRECTIVE, IDENT, Token, tokenize
from .preprocess import ExpansionError, Macro, expand, make_macro
from .scan import Body, Define, TextFacts, Typedef

# VMStateField's `.offset` is where the field lives in the host's struct: nothing here
# reads it (the wire does not carry it), and its expansion (vmstate_offset_value,
# type_check, typeof_field, ...) was about a fifth of all macro expansion work.
UNREAD_MEMBERS = frozenset({"offset"})
# Conditions whose names are defined under further conditions (evaluated recursively).
MAX_CONDITION_NESTING = 50
_ENUMERATOR_RE = re.compile(r"(?:^|,)\s*(?:/\*.*?\*/\s*|//[^\n]*\n\s*|#[^\n]*\n\s*)*([A-Za-z_]\w*)", re.S)


def _untracked(method):
    """Run a TreeIndex method as internal work: see TreeIndex.internal."""
    @functools.wraps(method)
    def wrapped(self, *args):
        self.internal += 1
        try:
            return method(self, *args)
        finally:
            self.internal -= 1
    return wrapped


@dataclass(slots=True)
class Candidate:
    path: str
    item: object  # Define | Body | Typedef | (Body, index)
    cond: tuple[str, ...]


def _macro_identity(macro: Macro | None) -> tuple | None:
    return macro.identity if macro is not None else None


class FileContext:
    """Name resolution as seen from one file (its includes decide ties)."""

    def __init__(self, tree: TreeIndex, path: str):
        self.tree = tree
        self.path = path
        self._macro_cache: dict[str, Macro | None] = {}
        self.used: set[str] = set()  # origins of definitions used: the cache's dependency key
        self.notes: list[str] = []
        self.lookups: dict | None = None  # while recording: every answer this file was given
        # while one field is built: the definitions it used, in first-use order (the
        # causes a diff can name: diff/causes.py); a dict keeps each once, in order
        self.depends: dict[str, None] | None = None

    # -- recording: what a file's resolution depended on ---------------------------
    def record_lookups(self) -> None:
        self.lookups = {}

    def recorded_lookups(self) -> dict:
        lookups, self.lookups = self.lookups or {}, None
        return lookups

    def same_answers(self, lookups: dict) -> bool:
        """Whether every lookup a cached resolution of this file made answers the same now."""
        for key, answer in lookups.items():
            kind = key[0]
            if kind == "m":
                now = _macro_identity(self.macro(key[1]))
            elif kind == "c":
                now = self.tree.enum_constant_at(key[1], self.path)
            elif kind == "t":
                now = type_identity(self.typedef(key[1]))
            elif kind == "r":
                now = type_identity(self.tree.record(key[1], key[2], self.path))
            else:
                now = self.tree.condition_true(key[1], self.path)
            if now != answer:
                return False
        return True

    def _note(self, key: tuple, answer) -> None:
        if self.lookups is not None:
            self.lookups[key] = answer

    # -- macros --------------------------------------------------------------
    def macro(self, name: str) -> Macro | None:
        try:
            macro = self._macro_cache[name]
        except KeyError:
            pass
        else:
            if self.lookups is not None:
                self._note(("m", name), _macro_identity(macro))
            if self.depends is not None and macro is not None and not self.tree.internal:
                self.depends[self.tree.definition(macro)] = None
            return macro
        macro = None
        candidates = self.tree.macros.get(name)
        if candidates:
            chosen = self.tree.choose(candidates, self.path, name, strict=True)
            if chosen is not None and chosen.path != self.path and chosen.path not in self.tree.includes(self.path) \
                    and self.tree.sees_enumerator(name, self.path):
                chosen = None  # an enumerator the file includes hides a macro of a header it does not
            if chosen is not None:
                define: Define = chosen.item
                macro = self.tree.macro_object(chosen.path, define)
                self.used.add(macro.origin)
        self._macro_cache[name] = macro
        if self.lookups is not None:
            self._note(("m", name), _macro_identity(macro))
        if self.depends is not None and macro is not None and not self.tree.internal:
            self.depends[self.tree.definition(macro)] = None
        return macro

    def expand(self, tokens: list[Token]) -> list[Token]:
        return expand(tokens, self.macro, unread_members=UNREAD_MEMBERS)

    def expand_text(self, text: str, line: int = 1) -> list[Token]:
        return self.expand(self.apply_conditionals(tokenize(text, line, directives=True)))

    # -- conditionals --------------------------------------------------------
    def apply_conditionals(self, tokens: list[Token]) -> list[Token]:
        """Drop tokens in #if branches that are false for the build configuration."""
        if not any(t.kind == DIRECTIVE for t in tokens):
            return tokens
        out: list[Token] = []
        stack: list[tuple[bool, bool]] = []  # (branch active, some branch already taken)
        active = True
        for tok in tokens:
            if tok.kind != DIRECTIVE:
                if active:
                    out.append(tok)
                continue
            word, _, rest = tok.text.lstrip("#").strip().partition(" ")
            if word in ("if", "ifdef", "ifndef"):
                expr = rest if word == "if" else (f"defined({rest})" if word == "ifdef" else f"!defined({rest})")
                value = active and self._condition(expr)
                stack.append((active, value))
                active = value
            elif word == "elif" and stack:
                outer, taken = stack[-1]
                value = outer and not taken and self._condition(rest)
                stack[-1] = (outer, taken or value)
                active = value
            elif word == "else" and stack:
                outer, taken = stack[-1]
                active = outer and not taken
                stack[-1] = (outer, True)
            elif word == "endif" and stack:
                active = stack.pop()[0]
        return out

    def _condition(self, expr: str) -> bool:
        value = self.tree.condition_true(expr, self.path)
        self._note(("i", expr), value)
        return value

    # -- the TypeEnv protocol used by cexpr ----------------------------------
    def constant(self, name: str) -> int | None:
        # the place is part of the answer: a field's depends names it (diff/causes.py)
        answer = self.tree.enum_constant_at(name, self.path)
        self._note(("c", name), answer)
        value, origin = answer
        if self.depends is not None and value is not None and origin is not None and not self.tree.internal:
            digest = hashlib.sha1(str(value).encode()).hexdigest()[:12]
            self.depends[f"{name}\t{origin}\t{digest}\t{digest[:4]}"] = None
        return value

    def typedef(self, name: str) -> CType | None:
        found = self.tree.typedef(name, self.path)
        if found is None:
            # QOM's OBJECT_DECLARE_*TYPE(Name, ...) and qemu/typedefs.h declare
            # `typedef struct Name Name;`: a typedef name is also its struct's tag.
            found = self.tree.record("struct", name, self.path)
        if self.lookups is not None:
            self._note(("t", name), type_identity(found))
        return found

    def record(self, kind: str, tag: str) -> Record | None:
        found = self.tree.record(kind, tag, self.path)
        if self.lookups is not None:
            self._note(("r", kind, tag), type_identity(found))
        return found

    def enum_type(self, tag: str) -> CType:
        return Prim("int", 4)

    # -- convenience ---------------------------------------------------------
    def evaluate(self, tokens: list[Token]):
        return evaluate(tokens, self)

    def evaluate_int(self, tokens: list[Token]) -> int:
        return evaluate_int(tokens, self)


class TreeIndex:
    """Symbol tables over every scanned file of one revision."""

    def __init__(self, files: dict[str, TextFacts], config: BuildConfig):
        self.files: dict[str, TextFacts] = {}
        self.config = config
        self.macros: dict[str, list[Candidate]] = {}
        self.bodies: dict[tuple[str, str], list[Candidate]] = {}
        self.typedefs: dict[str, list[Candidate]] = {}
        self.enumerators: dict[str, list[Candidate]] = {}
        self.calls_by_arg: dict[str, list[tuple[str, str, str, int]]] = {}  # arg → (path, macro, args, line)
        self._generated: dict[tuple[str, int], dict[str, int]] = {}
        self._suffixes: dict[str, tuple[str, ...]] = {}  # _called_suffixes
        self._contexts: dict[str, FileContext] = {}
        self._includes: dict[str, frozenset[str]] = {}
        self._direct: dict[str, tuple[str, ...]] = {}
        self._include_targets: dict[tuple[str, str], str | None] = {}
        self._macro_objects: dict[str, Macro] = {}
        self._definitions: dict[str, str] = {}  # origin -> definition()
        self._shared_definitions: dict[tuple[str, ...], Definitions] = {}
        # inside the index's own memoized work (a struct's layout, an enum's values, an
        # #if): what it looks up is not a field's dependency, as only the first field to
        # ask would see it (the answer is kept), and which one is first depends on order
        self.internal = 0
        self._cond_cache: dict[tuple[str, str], bool] = {}
        self._records: dict[tuple[str, str, str], Record | None] = {}
        self._typedef_cache: dict[tuple[str, str], CType | None] = {}
        self._enum_values: dict[tuple[str, int], dict[str, int]] = {}
        self._evaluating: set[str] = set()
        self.target_dir = f"target/{config.base_arch}/" if config.base_arch else None
        for path in sorted(files):
            self.add(path, files[path])

    def add(self, path: str, facts: TextFacts) -> None:
        """Index one more file (in path order: the extractor adds each scan as it arrives)."""
        self.files[path] = facts
        self._index(path, facts)
        self._suffixes.clear()

    def _index(self, path: str, facts: TextFacts) -> None:
        for define in facts.defines:
            self.macros.setdefault(define.name, []).append(Candidate(path, define, define.cond))
        for body in facts.bodies:
            if body.kind == "enum":
                for index, m in enumerate(_ENUMERATOR_RE.finditer(_strip_enum_body(body.text))):
                    self.enumerators.setdefault(m.group(1), []).append(Candidate(path, (body, index), body.cond))
                if body.typedef:
                    self.typedefs.setdefault(body.typedef, []).append(Candidate(path, body, body.cond))
                continue
            if body.name:
                self.bodies.setdefault((body.kind, body.name), []).append(Candidate(path, body, body.cond))
            if body.typedef:
                self.typedefs.setdefault(body.typedef, []).append(Candidate(path, body, body.cond))
        for typedef in facts.typedefs:
            self.typedefs.setdefault(typedef.name, []).append(Candidate(path, typedef, typedef.cond))
        for macro, args, line in facts.calls:
            for arg in args.split(","):
                arg = arg.strip()
                if arg.isidentifier():
                    self.calls_by_arg.setdefault(arg, []).append((path, macro, args, line))

    def context(self, path: str) -> FileContext:
        ctx = self._contexts.get(path)
        if ctx is None:
            ctx = self._contexts[path] = FileContext(self, path)
        return ctx

    def definition(self, macro: Macro) -> str:
        """How a field's `depends` names MACRO: "NAME\tfile:line\tdigest\tline digests".
        The digest is of its parameters and body (what a cached resolution compares, its
        place aside, so that a macro that only moved is not a cause); the line digests,
        one a line of the #define, say which line of a long macro changed."""
        found = self._definitions.get(macro.origin)
        if found is None:
            _, params, body, _ = macro.identity
            digest = hashlib.sha1(repr((params, body)).encode()).hexdigest()[:12]
            lines: dict[int, list[str]] = {1: [repr(params)]}  # the body's lines count from the #define's
            for tok in macro.body:
                lines.setdefault(tok.line, []).append(tok.text)
            per_line = ",".join(hashlib.sha1(" ".join(lines.get(n, ())).encode()).hexdigest()[:4]
                                for n in range(1, max(lines) + 1))
            found = self._definitions[macro.origin] = f"{macro.name}\t{macro.origin}\t{digest}\t{per_line}"
        return found

    def definitions(self, entries: tuple[str, ...]) -> Definitions:
        """The one Definitions record of ENTRIES in this tree (shared: see the record)."""
        found = self._shared_definitions.get(entries)
        if found is None:
            found = self._shared_definitions[entries] = Definitions(entries)
        return found

    def macro_object(self, path: str, define: Define) -> Macro:
        origin = f"{path}:{define.line}"
        macro = self._macro_objects.get(origin)
        if macro is None:
            macro = self._macro_objects[origin] = make_macro(define.name, define.params, define.body, origin)
        return macro

    # -- choosing among definitions ----------------------------------------
    def choose(self, candidates: list[Candidate], path: str, name: str, strict: bool = False) -> Candidate | None:
        """Pick the definition `path` sees.  `strict` (macros): a definition in a file the
        reader does not include is only used when it lives in a shared header
        (include/, the reader's directory, the target's directory)."""
        if len(candidates) == 1 and not strict:
            only = candidates[0]
            return only if self._holds(only, name) else None
        live = [c for c in candidates if self._holds(c, name)]
        if len(live) <= 1 and not strict:
            return live[0] if live else None
        if not live:
            return None
        same_file = [c for c in live if c.path == path]
        if same_file:
            return same_file[-1]
        included = self.includes(path)
        seen = [c for c in live if c.path in included]
        if seen:
            return seen[-1]
        if strict:
            directory = posixpath.dirname(path) + "/"
            live = [c for c in live if c.path.endswith(".h") and (
                c.path.startswith(("include/", directory)) or
                (self.target_dir and c.path.startswith(self.target_dir)))]
            if not live:
                return None
        if self.target_dir:
            in_target = [c for c in live if c.path.startswith(self.target_dir)]
            if in_target:
                return in_target[0]
            live = [c for c in live if not c.path.startswith("target/")] or live
        near = _nearest(live, path)
        return near

    def _holds(self, candidate: Candidate, name: str) -> bool:
        for cond in candidate.cond:
            if cond == "1":
                continue
            if not self.condition_true(cond, candidate.path, defining=name):
                return False
        return True

    def condition_true(self, expr: str, path: str, defining: str | None = None) -> bool:
        key = (expr, path, defining or "")
        cached = self._cond_cache.get(key)
        if cached is not None:
            return cached
        if expr in self._evaluating:
            return False
        if len(self._evaluating) >= MAX_CONDITION_NESTING:
            raise ExpansionError(f"#if condition '{expr[:60]}' depends on more than {MAX_CONDITION_NESTING} "
                                 f"nested conditional definitions")
        self._evaluating.add(expr)
        try:
            value = self._evaluate_condition(expr, path, defining)
        finally:
            self._evaluating.discard(expr)
        self._cond_cache[key] = value
        return value

    @_untracked
    def _evaluate_condition(self, expr: str, path: str, defining: str | None) -> bool:
        tokens = tokenize(expr)
        resolved: list[Token] = []
        i = 0
        while i < len(tokens):
            tok = tokens[i]
            if tok.text == "defined":
                if i + 1 < len(tokens) and tokens[i + 1].text == "(":
                    name = tokens[i + 2].text if i + 2 < len(tokens) else ""
                    i += 4
                else:
                    name = tokens[i + 1].text if i + 1 < len(tokens) else ""
                    i += 2
                value = self.is_defined(name, path, defining)
                resolved.append(Token("number", "1" if value else "0", tok.line))
                continue
            resolved.append(tok)
            i += 1
        ctx = self.context(path)
        expanded = ctx.expand(resolved)
        final = []
        for tok in expanded:
            if tok.kind == IDENT:
                value = self.config.value(tok.text)
                if value is None and tok.text.startswith("CONFIG_") and self.config.is_defined(tok.text) is None:
                    value = 1  # host features are assumed enabled
                tok = Token("number", str(value if isinstance(value, int) else 0), tok.line)
            final.append(tok)
        try:
            return bool(evaluate_int(final, ctx))
        except Unresolved:
            return True

    def is_defined(self, name: str, path: str, defining: str | None = None) -> bool:
        decided = self.config.is_defined(name)
        if decided is not None:
            return decided
        if name == defining:
            return False
        candidates = self.macros.get(name)
        if candidates:
            # `#ifndef X ... #define X ... #endif` provides X only when nothing else
            # does: definitions inside their own !defined(X) block do not count.
            guard = f"!defined({name})"
            others = [c for c in candidates if guard not in c.cond]
            return bool(others) and self.choose(others, path, name, strict=True) is not None
        return name.startswith("CONFIG_")

    def includes(self, path: str) -> frozenset[str]:
        """Every file `path` includes, transitively (quoted includes only)."""
        cached = self._includes.get(path)
        if cached is not None:
            return cached
        self._includes[path] = frozenset()  # cycle guard
        seen: set[str] = set()
        stack = [path]
        while stack:
            for target in self._direct_includes(stack.pop()):
                if target not in seen:
                    seen.add(target)
                    stack.append(target)
        result = frozenset(seen)
        self._includes[path] = result
        return result

    def _direct_includes(self, path: str) -> tuple[str, ...]:
        """The files `path` itself includes that are in the tree (memoized: every
        transitive walk goes through the common headers)."""
        found = self._direct.get(path)
        if found is None:
            facts = self.files.get(path)
            targets = (self._resolve_include(path, inc) for inc in facts.includes) if facts else ()
            found = self._direct[path] = tuple(t for t in targets if t)
        return found

    def _resolve_include(self, current: str, inc: str) -> str | None:
        key = (posixpath.dirname(current), inc)
        try:
            return self._include_targets[key]
        except KeyError:
            pass
        found = self._include_targets[key] = self._find_include(current, inc)
        return found

    def _find_include(self, current: str, inc: str) -> str | None:
        candidates = [posixpath.normpath(posixpath.join(posixpath.dirname(current), inc)),
                      posixpath.normpath(posixpath.join("include", inc)), inc]
        if self.target_dir:
            candidates.append(self.target_dir + inc)
        parts = current.split("/")
        if len(parts) > 2 and parts[0] == "target":  # QEMU builds target/<arch>/ code with -Itarget/<arch>
            candidates.append(f"target/{parts[1]}/{inc}")
        for cand in candidates:
            if cand in self.files:
                return cand
        return None

    # -- enum constants ----------------------------------------------------
    def sees_enumerator(self, name: str, path: str) -> bool:
        """Whether PATH or a file it includes declares the enumerator NAME (imx7_ccm.h's
        `CCM_MAX = 0xBE00 / sizeof(uint32_t) + 1`, not imx6_ccm.h's `#define CCM_MAX 35`)."""
        included = self.includes(path)
        return any((c.path == path or c.path in included) and self._holds(c, name)
                   for c in self.enumerators.get(name) or ())

    def enum_constant(self, name: str, path: str) -> int | None:
        return self.enum_constant_at(name, path)[0]

    def enum_constant_at(self, name: str, path: str) -> tuple[int | None, str | None]:
        """The value of the enum constant NAME as PATH sees it, and where it is declared
        ("file:line"; for a generated one, the macro call's): (None, None) when unknown."""
        candidates = self.enumerators.get(name)
        if not candidates:
            return self._generated_constant(name, path)
        chosen = self.choose(candidates, path, name)
        if chosen is None:
            return None, None
        body, _ = chosen.item
        value = self._enum_body_values(chosen.path, body).get(name)
        return (value, f"{chosen.path}:{body.line + _line_in(body.text, name)}") if value is not None else (None, None)

    def _generated_constant(self, name: str, path: str) -> tuple[int | None, str | None]:
        """An enum constant declared by a file-scope macro call, such as
        `REG32(CRB_DATA_BUFFER, 0x80)` declaring R_CRB_DATA_BUFFER: expand the calls
        whose arguments name a suffix of `name` and read the enums they produce."""
        included = None
        for suffix in self._called_suffixes(name):
            for call_path, macro, args, line in self.calls_by_arg.get(suffix, ()):
                if call_path != path:
                    included = included if included is not None else self.includes(path)
                    if call_path not in included:
                        continue
                values = self.generated_values(call_path, macro, args, line)
                if name in values:
                    return values[name], f"{call_path}:{line}"
        return None, None

    def _called_suffixes(self, name: str) -> tuple[str, ...]:
        """The proper suffixes of NAME that some file-scope macro call has as an argument
        (most names have none: asked once per name, not once per file)."""
        found = self._suffixes.get(name)
        if found is None:
            found = self._suffixes[name] = tuple(name[cut:] for cut in range(1, len(name))
                                                 if self.calls_by_arg.get(name[cut:]))
        return found

    @_untracked
    def generated_values(self, path: str, macro: str, args: str, line: int) -> dict[str, int]:
        """The enumerators MACRO(ARGS) generates at PATH:LINE (`FIELD(REG, F, 0, 4)` ->
        R_REG_F_SHIFT, ...), by name; what cannot be expanded gives none."""
        key = (path, line)
        values = self._generated.get(key)
        if values is None:
            values = self._generated[key] = {}
            ctx = self.context(path)
            try:
                tokens = ctx.expand(tokenize(f"{macro}({args})", line))
            except ExpansionError:
                return values
            for i, tok in enumerate(tokens):
                if tok.text == "enum" and i + 1 < len(tokens):
                    j = i + 1 if tokens[i + 1].text == "{" else i + 2
                    depth, k = 0, j
                    while k < len(tokens):
                        if tokens[k].text == "{":
                            depth += 1
                        elif tokens[k].text == "}":
                            depth -= 1
                            if depth == 0:
                                break
                        k += 1
                    values.update(self._enumerate(ctx, tokens[j + 1:k]))
        return values

    def _enumerate(self, ctx: FileContext, tokens: list[Token], values: dict[str, int] | None = None) -> dict[str, int]:
        """Enumerator values in order; `values` is filled as it goes, so a later
        enumerator can use an earlier one (`B = A << 2`)."""
        values = {} if values is None else values
        current = -1
        for part in _split_commas(tokens):
            if not part or part[0].kind != IDENT:
                continue
            if len(part) > 2 and part[1].text == "=":
                try:
                    current = ctx.evaluate_int(part[2:])
                except Unresolved:
                    current += 1
            else:
                current += 1
            values[part[0].text] = current
        return values

    @_untracked
    def _enum_body_values(self, path: str, body: Body) -> dict[str, int]:
        key = (path, body.line)
        values = self._enum_values.get(key)
        if values is not None:
            return values
        ctx = self.context(path)
        values = self._enum_values[key] = {}
        try:
            tokens = ctx.expand_text(body.text, body.line)
        except (ExpansionError, RecursionError):  # a limit of the expander: its constants stay unknown
            return values
        return self._enumerate(ctx, tokens, values)

    # -- types ---------------------------------------------------------------
    def record(self, kind: str, tag: str, path: str) -> Record | None:
        key = (kind, tag, path)
        if key in self._records:
            return self._records[key]
        candidates = self.bodies.get((kind, tag))
        if not candidates:
            self._records[key] = None
            return None
        chosen = self.choose(candidates, path, tag)
        if chosen is None:
            self._records[key] = None
            return None
        record = self._layout_body(chosen.path, chosen.item)
        self._records[key] = record
        return record

    @_untracked
    def _layout_body(self, path: str, body: Body) -> Record:
        key = ("@", body.kind, f"{path}:{body.line}")
        existing = self._records.get(key)
        if existing is not None:
            return existing
        record = Record(body.kind, body.name or body.typedef or "<anonymous>")
        self._records[key] = record  # registered first: members may point back to it
        ctx = self.context(path)
        try:
            tokens = ctx.expand_text(body.text, body.line)
            members = parse_members(tokens, ctx)
        except (Unresolved, ExpansionError, IndexError, RecursionError) as exc:
            record.incomplete = f"{path}:{body.line}: {body.kind} {record.name} could not be read: {exc}"
            return record
        packed = False
        if body.attributes:
            try:
                packed = any(t.text in ("packed", "__packed__") for t in ctx.expand(tokenize(body.attributes)))
            except ExpansionError:
                pass
        layout(body.kind, record.name, members, packed, record)
        return record

    def typedef(self, name: str, path: str) -> CType | None:
        key = (name, path)
        if key in self._typedef_cache:
            return self._typedef_cache[key]
        self._typedef_cache[key] = None  # recursion guard
        candidates = self.typedefs.get(name)
        result = None
        if candidates:
            chosen = self.choose(candidates, path, name)
            if chosen is not None:
                result = self._typedef_type(chosen)
        self._typedef_cache[key] = result
        return result

    @_untracked
    def _typedef_type(self, chosen: Candidate) -> CType | None:
        item = chosen.item
        if isinstance(item, Body):
            return Prim("int", 4) if item.kind == "enum" else self._layout_body(chosen.path, item)
        typedef: Typedef = item
        ctx = self.context(chosen.path)
        try:
            ctype = parse_type(ctx.expand(tokenize(typedef.target)), ctx)
            if typedef.dims:
                for dim in reversed(re.findall(r"\[([^\]]*)\]", typedef.dims)):
                    ctype = Array(ctype, ctx.evaluate_int(ctx.expand(tokenize(dim))))
            return ctype
        except (Unresolved, ExpansionError, IndexError, RecursionError):
            return None


def _line_in(text: str, name: str) -> int:
    """How many lines into an enum's body TEXT the enumerator NAME is declared (0 when not
    found: the body's first line), counted from the line of the `enum` keyword (bodies
    open on that line, as QEMU writes them)."""
    found = re.search(rf"(?:^|[{{,])\s*(?:/\*.*?\*/\s*|//[^\n]*\n\s*|#[^\n]*\n\s*)*{re.escape(name)}\b",
                      text, re.S)
    return text.count("\n", 0, found.end()) if found else 0


def _strip_enum_body(text: str) -> str:
    text = re.sub(r"/\*.*?\*/|//[^\n]*", " ", text, flags=re.S)
    text = re.sub(r"^\s*#[^\n]*$", " ", text, flags=re.M)
    text = re.sub(r"=[^,]*", "", text)
    return text


def _split_commas(tokens: list[Token]) -> list[list[Token]]:
    return split_top(tokens, ",")


def _nearest(candidates: list[Candidate], path: str) -> Candidate:
    """The definition whose file shares the longest directory prefix with `path`."""
    def shared(c: Candidate) -> int:
        a, b = c.path.split("/"), path.split("/")
        n = 0
        while n < min(len(a), len(b)) - 1 and a[n] == b[n]:
            n += 1
        return n
    return max(candidates, key=lambda c: (shared(c), c.path.startswith("include/"), -len(c.path)))
