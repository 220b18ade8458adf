"""C macro expansion with the macro definitions of the revision being read.

A standard rescanning expander: function-like and object-like macros, argument
pre-expansion, '#' stringizing, '##' pasting, __VA_ARGS__ / named variadics, and
hide sets so recursive definitions terminate.  Every token produced by an expansion
carries the line of the invocation it came from.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .lexer import IDENT, NUMBER, PUNCT, STRING, Token, join_tokens, tokenize

MAX_EXPANSION_TOKENS = 200_000
MAX_ARGUMENT_NESTING = 100  # macro calls nested in macro arguments (each level pre-expands the next)


class ExpansionError(Exception):
    """A macro could not be expanded (runaway growth, unbalanced arguments)."""


@dataclass(frozen=True, slots=True)
class Macro:
    name: str
    params: tuple[str, ...] | None
    body: tuple[Token, ...]
    origin: str  # "file:line" of the #define, for diagnostics and cache keys
    plan: tuple = field(default=(), compare=False)  # the body as substitution steps (_plan)
    self_hide: frozenset = field(default=frozenset(), compare=False)  # {name}
    # what a cached resolution compares: where it is defined, its parameters, its body,
    # and the body's lines (a field's `depends` says which line of a macro changed)
    identity: tuple = field(default=(), compare=False)

    @property
    def variadic(self) -> bool:
        return bool(self.params) and self.params[-1].endswith("...")


def make_macro(name: str, params: tuple[str, ...] | None, body_text: str, origin: str) -> Macro:
    body = tokenize(body_text)
    if body:
        body[0].space_before = False  # whitespace before a replacement list is not part of it
    return Macro(name, params, tuple(body), origin, _plan(params, tuple(body)), frozenset((name,)),
                 (origin, params, tuple(t.text for t in body), tuple(t.line for t in body)))


# Substitution steps: what _substitute does with each part of a body, worked out once
# per macro (which tokens are parameters, '#', '##') instead of at every use.
_COPY, _ARG, _STRINGIZE, _PASTE = range(4)


def _plan(params: tuple[str, ...] | None, body: tuple[Token, ...]) -> tuple:
    names = set(_param_names(params))
    steps = []
    i, n = 0, len(body)
    while i < n:
        tok = body[i]
        if tok.text == "#" and tok.kind == PUNCT and params is not None and i + 1 < n and body[i + 1].text in names:
            steps.append((_STRINGIZE, tok, body[i + 1].text))
            i += 2
            continue
        if tok.text == "##" and tok.kind == PUNCT:
            if i + 1 < n:
                right = body[i + 1]
                steps.append((_PASTE, right, right.text if right.text in names else None))
            i += 2
            continue
        if tok.kind == IDENT and tok.text in names:
            # an operand of ## is substituted without being expanded first
            next_pastes = i + 1 < n and body[i + 1].text == "##"
            previous_pastes = i > 0 and body[i - 1].text == "##"
            steps.append((_ARG, tok, tok.text, next_pastes, previous_pastes))
        else:
            steps.append((_COPY, tok))  # body tokens have no hide set of their own
        i += 1
    return tuple(steps)


def _param_names(params: tuple[str, ...] | None) -> list[str]:
    """The names _bind gives the arguments."""
    names = []
    for param in params or ():
        if param.endswith("..."):
            names.append(param[:-3] or "__VA_ARGS__")
            break
        names.append(param)
    return names


MacroLookup = Callable[[str], "Macro | None"]


def expand(tokens: list[Token], lookup: MacroLookup, depth: int = 0,
           unread_members: frozenset[str] = frozenset()) -> list[Token]:
    """Fully macro-expand a token list (depth: how deep inside macro arguments it is).
    The value of a designated initializer `.member = value` whose member is in
    `unread_members` is copied as written: its value is never read, so not expanded."""
    out: list[Token] = []
    pending = list(reversed(tokens))  # a stack: the next token is pending[-1]
    produced = 0
    while pending:
        tok = pending.pop()
        if tok.kind != IDENT or tok.text in tok.hide:
            out.append(tok)
            continue
        if unread_members and _unread_value(out, unread_members):
            out.append(tok)
            _copy_call_arguments(pending, out)
            continue
        macro = lookup(tok.text)
        if macro is None:
            out.append(tok)
            continue
        if macro.params is None:
            hide = tok.hide | macro.self_hide if tok.hide else macro.self_hide
            replacement = _substitute(macro, {}, hide, tok, lookup, depth)
        else:
            if not pending or pending[-1].text != "(":
                out.append(tok)  # a function-like macro name not followed by '(' is plain
                continue
            args, closing = _collect_args(pending)
            common = tok.hide & closing.hide if tok.hide and closing.hide else None
            hide = common | macro.self_hide if common else macro.self_hide
            replacement = _substitute(macro, _bind(macro, args), hide, tok, lookup, depth)
        if replacement:
            first = replacement[0]
            replacement[0] = Token(first.kind, first.text, first.line, first.hide, tok.space_before)
        produced += len(replacement)
        if produced > MAX_EXPANSION_TOKENS:
            raise ExpansionError(f"expansion of {macro.name} exceeds {MAX_EXPANSION_TOKENS} tokens")
        replacement.reverse()
        pending.extend(replacement)
    return out


def _unread_value(out: list[Token], members: frozenset[str]) -> bool:
    """Whether `out` ends with `.member =` for one of `members`."""
    return len(out) > 2 and out[-1].text == "=" and out[-2].text in members and out[-3].text == "."


def _copy_call_arguments(pending: list[Token], out: list[Token]) -> None:
    """Move a parenthesized argument list, if one comes next, from pending to out as is."""
    if not pending or pending[-1].text != "(":
        return
    level = 0
    while pending:
        tok = pending.pop()
        out.append(tok)
        if tok.text == "(" and tok.kind == PUNCT:
            level += 1
        elif tok.text == ")" and tok.kind == PUNCT:
            level -= 1
            if level == 0:
                return


def _collect_args(pending: list[Token]) -> tuple[list[list[Token]], Token]:
    pending.pop()  # '('
    args: list[list[Token]] = [[]]
    depth = 0
    while pending:
        tok = pending.pop()
        if tok.text in ("(", "[", "{") and tok.kind == PUNCT:
            depth += 1
        elif tok.text in (")", "]", "}") and tok.kind == PUNCT:
            if depth == 0 and tok.text == ")":
                return args, tok
            depth -= 1
        elif tok.text == "," and depth == 0 and tok.kind == PUNCT:
            args.append([])
            continue
        args[-1].append(tok)
    raise ExpansionError("unterminated macro argument list")


def _bind(macro: Macro, args: list[list[Token]]) -> dict[str, list[Token]]:
    params = macro.params or ()
    if not params and args == [[]]:
        return {}
    bound: dict[str, list[Token]] = {}
    for i, param in enumerate(params):
        if param.endswith("..."):
            name = param[:-3] or "__VA_ARGS__"
            rest: list[Token] = []
            for j, arg in enumerate(args[i:]):
                if j:
                    rest.append(Token(PUNCT, ",", arg[0].line if arg else 0))
                rest.extend(arg)
            bound[name] = rest
            return bound
        if i < len(args):
            bound[param] = args[i]
        else:
            bound[param] = []
    if len(args) > len(params):
        raise ExpansionError(f"macro {macro.name} takes {len(params)} arguments, got {len(args)}")
    return bound


def _substitute(macro: Macro, bound: dict[str, list[Token]], hide: frozenset, site: Token,
                lookup: MacroLookup, depth: int = 0) -> list[Token]:
    expanded_args: dict[str, list[Token]] = {}
    out: list[Token] = []
    line = site.line
    for step in macro.plan:
        kind = step[0]
        if kind == _COPY:
            tok = step[1]
            out.append(Token(tok.kind, tok.text, line, hide, tok.space_before))
        elif kind == _ARG:
            _, tok, name, next_pastes, previous_pastes = step
            if next_pastes or (out and previous_pastes):
                source = bound[name]
            else:
                source = expanded_args.get(name)
                if source is None:
                    if depth >= MAX_ARGUMENT_NESTING:
                        raise ExpansionError(f"macro calls nested more than {MAX_ARGUMENT_NESTING} deep in the "
                                             f"arguments of {macro.name}")
                    source = expanded_args[name] = expand(bound[name], lookup, depth + 1)
            if source:
                first = source[0]
                out.append(Token(first.kind, first.text, line, first.hide, tok.space_before))
                out.extend([Token(t.kind, t.text, line, t.hide, t.space_before) for t in source[1:]])
        elif kind == _STRINGIZE:
            tok, name = step[1], step[2]
            text = join_tokens(bound[name]).replace("\\", "\\\\").replace('"', '\\"')
            out.append(Token(STRING, f'"{text}"', line, hide, tok.space_before))
        else:  # _PASTE
            right, name = step[1], step[2]
            _paste(out, bound[name] if name is not None else [right], line, hide)
    return out


def _paste(out: list[Token], right_tokens: list[Token], line: int, hide: frozenset) -> None:
    if not right_tokens:
        if out and out[-1].text == ",":
            out.pop()  # GNU ", ## __VA_ARGS__" with no variadic arguments drops the comma
        return
    if not out:
        out.extend(right_tokens)
        return
    left = out.pop()
    pasted_text = left.text + right_tokens[0].text
    if left.text == "," and right_tokens[0].kind != PUNCT:
        # GNU ", ## __VA_ARGS__" keeps the comma when arguments are present.
        out.append(left)
        out.extend(Token(t.kind, t.text, line, hide, t.space_before) for t in right_tokens)
        return
    pasted = tokenize(pasted_text, line)
    kind = pasted[0].kind if len(pasted) == 1 else (IDENT if pasted_text.isidentifier() else NUMBER)
    out.append(Token(kind, pasted_text, line, hide, left.space_before))
    out.extend(Token(t.kind, t.text, line, hide, t.space_before) for t in right_tokens[1:])

