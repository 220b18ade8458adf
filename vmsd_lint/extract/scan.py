"""Text-level facts of one file: #defines, #includes, conditional regions, and the
byte ranges of struct/union/enum bodies and typedefs.

This pass is cheap (regular expressions, no parse) so it can run over every header
of the tree; the tree-sitter pass (``parse.py``) only runs on files that can hold
migration state.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from typing import NamedTuple

# A directive: '#' first on its line, its name, and the rest up to an unescaped newline.
# The pattern starts at the newline before the line (a literal, which the regex engine
# finds fast); the first line of a file is matched on its own.
_DIRECTIVE_RE = re.compile(r"\n[ \t]*#[ \t]*(\w+)((?:[^\n\\]+|\\\r?\n?|\\.)*)")
_FIRST_DIRECTIVE_RE = re.compile(r"[ \t]*#[ \t]*(\w+)((?:[^\n\\]+|\\\r?\n?|\\.)*)")
_DEFINE_RE = re.compile(r"\s*([A-Za-z_]\w*)(\()?")
_INCLUDE_RE = re.compile(r'\s*"([^"]+)"')
_COMMENT_RE = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)
# __attribute__((...)) with up to two levels of parentheses inside, matched balanced: a lazy
# `\(\(.*?\)\)` could also span several attributes, which backtracks exponentially in their number.
_ATTRIBUTE = r"__attribute__\s*\(\((?:[^;{()]|\((?:[^;{()]|\([^;{()]*\))*\))*\)\)"
_BODY_START_RE = re.compile(r"\b(struct|union|enum)\s+((?:QEMU_[A-Z0-9_]*(?:\([^()]*\))?\s+|" + _ATTRIBUTE +
                            r"\s*)*)([A-Za-z_]\w*)?\s*\{")
_ATTRIBUTES_AFTER_RE = re.compile(r"\s*((?:QEMU_[A-Z0-9_]*(?:\([^()]*\))?\s*|__attribute__\s*\(\([^;{]*?\)\)\s*)*)")
_TYPEDEF_RE = re.compile(r"\btypedef\s+([^;{}()]*?)\s*\b([A-Za-z_]\w*)\s*((?:\[[^\];]*\]\s*)*);")
# Where _TYPEDEF_RE, failing at a typedef, fails at every later one too: up to the next ; { } ( )
# (a match there would also be one here).  Skipping them keeps a run of typedefs linear.
_TYPEDEF_FAILS_RE = re.compile(r"\btypedef\s+[^;{}()]*")
_TYPEDEF_BODY_END_RE = re.compile(r"\s*(?:QEMU_PACKED\s*|" + _ATTRIBUTE + r"\s*)*\*?\s*([A-Za-z_]\w*)\s*[;,\[]")
_BRACE_RE = re.compile(r"[{}]")
# A file-scope macro call on a line of its own, e.g. `REG32(CTRL, 0x10)`: such macros
# can declare enum constants the VMSDs use.
# (Matched from the newline before, like directives.)
_TOP_LEVEL_CALL_RE = re.compile(r"\n([A-Z][A-Z0-9_]*)\(([^()\n]*)\)[ \t]*;?[ \t]*$", re.M)
_FIRST_TOP_LEVEL_CALL_RE = re.compile(r"([A-Z][A-Z0-9_]*)\(([^()\n]*)\)[ \t]*;?[ \t]*$", re.M)
# Where _BODY_START_RE and _TYPEDEF_RE can start: they are only tried there.
_BODY_KEYWORDS = ("struct", "union", "enum")
_TYPEDEF_KEYWORDS = ("typedef",)


# The facts are named tuples: a tree has a hundred thousand of them, and tuples are
# the quickest to pickle (they travel from worker processes and live in the cache).
class Define(NamedTuple):
    name: str
    params: tuple[str, ...] | None  # None: object-like macro
    body: str
    line: int
    cond: tuple[str, ...]  # enclosing #if conditions, outermost first


class Body(NamedTuple):
    """A struct/union/enum body, or a typedef of one."""
    kind: str  # "struct", "union", "enum"
    name: str | None  # tag name
    typedef: str | None  # typedef name when declared as `typedef struct {...} Name;`
    text: str  # text between the braces
    line: int
    cond: tuple[str, ...]
    attributes: str = ""  # e.g. "QEMU_PACKED": macros/__attribute__ around the body (layout)


class Typedef(NamedTuple):
    name: str
    target: str  # the aliased type's spelling, e.g. "uint64_t" or "struct Foo"
    dims: str  # array dimensions, e.g. "[4]"
    line: int
    cond: tuple[str, ...]


@dataclass(slots=True)
class TextFacts:
    defines: list[Define] = field(default_factory=list)
    includes: list[str] = field(default_factory=list)
    bodies: list[Body] = field(default_factory=list)
    typedefs: list[Typedef] = field(default_factory=list)
    calls: list[tuple[str, str, int]] = field(default_factory=list)  # top-level macro calls
    # conditional regions: sorted start lines and the condition stack in force from there
    cond_lines: list[int] = field(default_factory=list)
    cond_stacks: list[tuple[str, ...]] = field(default_factory=list)

    def cond_at(self, line: int) -> tuple[str, ...]:
        i = bisect.bisect_right(self.cond_lines, line) - 1
        return self.cond_stacks[i] if i >= 0 else ()


def scan_text(text: str, want_bodies: bool = True) -> TextFacts:
    facts = TextFacts()
    _scan_directives(text, facts, _LineCounter(text))
    if want_bodies:
        _scan_bodies(text, facts, _LineCounter(text))
        line_of = _LineCounter(text)
        for start, m in _line_matches(_FIRST_TOP_LEVEL_CALL_RE, _TOP_LEVEL_CALL_RE, text):
            facts.calls.append((m.group(1), m.group(2), line_of(start)))
    return facts


class _LineCounter:
    """Line number of an offset.  Each pass asks in increasing order, so counting the
    newlines since the previous question is cheaper than a table of line starts."""

    __slots__ = ("line", "offset", "text")

    def __init__(self, text: str):
        self.text = text
        self.offset = 0
        self.line = 1

    def __call__(self, offset: int) -> int:
        if offset < self.offset:
            self.offset, self.line = 0, 1
        self.line += self.text.count("\n", self.offset, offset)
        self.offset = offset
        return self.line


def _line_matches(first_re: re.Pattern, rest_re: re.Pattern, text: str):
    """(line start offset, match) of a line-anchored pattern: `first_re` at the start
    of the text, `rest_re` (the same pattern behind a newline) after it."""
    pos = 0
    m = first_re.match(text)
    if m:
        yield 0, m
        pos = m.end()
    for m in rest_re.finditer(text, pos):
        yield m.start() + 1, m


def _matches_at(pattern: re.Pattern, words: tuple[str, ...], text: str, fails: re.Pattern | None = None):
    """pattern.finditer(text) for a pattern that can only match where one of `words`
    starts: it is tried there alone (trying every offset is what makes a search slow;
    str.find skips to the words much faster than a regex can).  When `pattern` fails
    where `fails` matches, the starts inside that match are skipped as well."""
    starts = []
    for word in words:
        offset = text.find(word)
        while offset >= 0:
            starts.append(offset)
            offset = text.find(word, offset + 1)
    starts.sort()
    end = 0
    for offset in starts:
        if offset < end:
            continue
        m = pattern.match(text, offset)
        if m:
            end = m.end()
            yield m
        elif fails is not None:
            skip = fails.match(text, offset)
            end = skip.end() if skip else end


def _scan_directives(text: str, facts: TextFacts, line_of) -> None:
    stack: list[str] = []
    facts.cond_lines.append(0)
    facts.cond_stacks.append(())
    guard = None
    for index, (start, m) in enumerate(_line_matches(_FIRST_DIRECTIVE_RE, _DIRECTIVE_RE, text)):
        name = m.group(1)
        rest = m.group(2)
        line = line_of(start)
        if index == 0 and name == "ifndef":
            guard = _clean(rest)
        if index == 1 and guard and name == "define" and _clean(rest).split(" ")[0] == guard:
            # an include guard: its condition is true wherever the header is read
            stack[0:1] = ["1"]
            facts.cond_stacks[-1] = tuple(stack)
        if name == "define":
            _add_define(facts, rest, line, tuple(stack))
        elif name == "include":
            inc = _INCLUDE_RE.match(rest)
            if inc:
                facts.includes.append(inc.group(1))
        elif name in ("if", "ifdef", "ifndef", "elif", "else", "endif"):
            cond = _clean(rest)
            if name == "ifdef":
                stack.append(f"defined({cond})")
            elif name == "ifndef":
                stack.append(f"!defined({cond})")
            elif name == "if":
                stack.append(cond)
            elif name == "elif":
                previous = _negate_chain(stack.pop()) if stack else "1"
                stack.append(f"({previous}) && ({cond})")
            elif name == "else":
                previous = stack.pop() if stack else "1"
                stack.append(_negate_chain(previous))
            elif stack:
                stack.pop()
            facts.cond_lines.append(line + 1)
            facts.cond_stacks.append(tuple(stack))


def _negate_chain(cond: str) -> str:
    return f"!({cond})"


def _clean(text: str) -> str:
    text = text.replace("\\\r\n", " ").replace("\\\n", " ")
    text = _COMMENT_RE.sub(" ", text)
    return " ".join(text.split())


def _add_define(facts: TextFacts, rest: str, line: int, cond: tuple[str, ...]) -> None:
    m = _DEFINE_RE.match(rest)
    if not m:
        return
    name = m.group(1)
    params = None
    body_start = m.end()
    if m.group(2):
        close = rest.find(")", body_start)
        if close < 0:
            return
        params = tuple(p.strip() for p in _clean(rest[body_start:close]).split(",") if p.strip())
        body_start = close + 1
    body = rest[body_start:]
    if "\\" in body or "/" in body:
        body = body.replace("\\\r\n", " \n").replace("\\\n", " \n")
        body = _COMMENT_RE.sub(" ", body)
    facts.defines.append(Define(name, params, body, line, cond))


def _scan_bodies(text: str, facts: TextFacts, line_of) -> None:
    matching_brace = _brace_matcher(text)
    # A nested body's text is also in its parents': thousands of nested bodies would
    # hold the file's text thousands of times over.  Past this many characters, stop.
    text_budget = 8 * len(text) + (1 << 20)
    for m in _matches_at(_BODY_START_RE, _BODY_KEYWORDS, text):
        open_brace = m.end() - 1
        close = matching_brace(open_brace)
        if close < 0:
            continue
        text_budget -= close - open_brace
        if text_budget < 0:
            break
        typedef_name = None
        if _is_typedef(text, m.start()):
            after = _TYPEDEF_BODY_END_RE.match(text, close + 1)
            if after:
                typedef_name = after.group(1)
        attributes = (m.group(2) + " " + _ATTRIBUTES_AFTER_RE.match(text, close + 1).group(1)).strip()
        line = line_of(m.start())
        facts.bodies.append(Body(m.group(1), m.group(3), typedef_name, text[open_brace + 1:close],
                                 line, facts.cond_at(line), " ".join(attributes.split())))
    for m in _matches_at(_TYPEDEF_RE, _TYPEDEF_KEYWORDS, text, _TYPEDEF_FAILS_RE):
        target = " ".join(_COMMENT_RE.sub(" ", m.group(1)).split())
        if not target:
            continue
        line = line_of(m.start())
        facts.typedefs.append(Typedef(m.group(2), target, m.group(3).strip(), line, facts.cond_at(line)))


def _is_typedef(text: str, start: int) -> bool:
    before = text[max(0, start - 40):start]
    return bool(re.search(r"\btypedef\s+(?:const\s+)?$", before))


_BRACE_BUDGET = 200_000  # braces _brace_matcher visits body by body before pairing them all


def _brace_matcher(text: str):
    """open brace offset -> offset of its matching '}', or -1.  Each body's brace is
    matched on its own (bodies are small), until that has visited _BRACE_BUDGET braces:
    unclosed or deeply nested braces make it quadratic; then all are paired in one pass."""
    budget = _BRACE_BUDGET
    pairs: dict[int, int] | None = None

    def matching_brace(open_brace: int) -> int:
        nonlocal budget, pairs
        if pairs is None:
            depth = 0
            for m in _BRACE_RE.finditer(text, open_brace):
                budget -= 1
                if budget < 0:
                    pairs = _brace_pairs(text)
                    break
                if m.group() == "{":
                    depth += 1
                else:
                    depth -= 1
                    if depth == 0:
                        return m.start()
            else:
                return -1
        return pairs.get(open_brace, -1)

    return matching_brace


def _brace_pairs(text: str) -> dict[int, int]:
    """The offset of each '{' -> that of its matching '}' (unmatched ones left out), in one pass."""
    pairs: dict[int, int] = {}
    stack: list[int] = []
    for m in _BRACE_RE.finditer(text):
        if m.group() == "{":
            stack.append(m.start())
        elif stack:
            pairs[stack.pop()] = m.start()
    return pairs
