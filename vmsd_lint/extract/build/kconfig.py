"""QEMU's Kconfig, read as scripts/minikconf.py reads it (never run).

minikconf is not Linux Kconfig: symbols have no prompts, yet a .mak file's CONFIG_X=y/n
assigns them; `select` forces a symbol on (a contradiction with an assignment is an
error), `imply Y` is `default y if X` on Y, `depends on` forces a symbol off, and
`default` applies last, only to a symbol nothing else decided.  kconfiglib implements the
Linux rules (it ignores assignments to promptless symbols and lets `depends on` veto a
`select`), so the semantics are written here, after minikconf's own algorithm: clauses
sorted in a topological order of the dependency graph, defaults after the other clauses
of a symbol.
"""
from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass

from .diagnostics import Diagnostic

TOKEN = re.compile(r"""
    (?P<space>[ \t\r]+) | (?P<comment>\#[^\n]*) | (?P<newline>\n)
  | (?P<source>(?:source|include)(?![A-Za-z0-9_])[ \t]*(?P<file>[^\n]*))
  | (?P<op>&&|\|\||[=()!])
  | (?P<word>[A-Za-z0-9_]+)
  | (?P<other>.)
""", re.VERBOSE)
SOURCE_LINE = re.compile(r"^[ \t]*(?:source|include)[ \t]+(\S+)", re.MULTILINE)
KEYWORDS = {"config", "bool", "default", "depends", "on", "select", "imply", "if", "y", "n"}


# Expressions: ("var", name) | ("not", e) | ("and", a, b) | ("or", a, b)
Expr = tuple


def expr_vars(expr: Expr) -> list[str]:
    if expr[0] == "var":
        return [expr[1]]
    return [name for part in expr[1:] for name in expr_vars(part)]


@dataclass
class Clause:
    kind: str  # "assign" | "default" | "depends" | "select"
    dest: str
    value: bool = True
    cond: Expr | None = None
    where: str = ""

    @property
    def priority(self) -> int:
        return -1 if self.kind == "default" else 0  # defaults run just before leaving a symbol


class Kconfig:
    """The symbols and clauses read from Kconfig and .mak files; compute() gives the values."""

    def __init__(self, read: Callable[[str], bytes | None], defconfig: bool = True,
                 prefetch: Callable[[list[str]], None] | None = None) -> None:
        self.read = read
        self.prefetch = prefetch or (lambda paths: None)
        self.defconfig = defconfig  # False: --allnoconfig, every `default y` reads as n
        self.declared: set[str] = set()
        self.referenced: dict[str, list[str]] = {}  # symbol -> the symbols whose clauses it feeds
        self.clauses: list[Clause] = []
        self.included: set[str] = set()
        self.diagnostics: list[Diagnostic] = []

    # -- reading ---------------------------------------------------------------

    def var(self, name: str) -> str:
        self.referenced.setdefault(name, [])
        return name

    def add_edges(self, cond: Expr | None, dest: str) -> None:
        for name in expr_vars(cond) if cond else ():
            if dest not in self.referenced[name]:
                self.referenced[name].append(dest)

    def assign(self, name: str, value: bool, where: str) -> None:
        """CONFIG_NAME=y/n, from a .mak file or the command line (the host's and target's symbols)."""
        if not name.startswith("CONFIG_"):
            self.diagnostics.append(Diagnostic.at(where, f"assignment to {name!r}: not a CONFIG_ symbol; ignored"))
            return
        self.clauses.append(Clause("assign", self.var(name[7:]), value, None, where))

    def read_file(self, path: str, included_from: str = "") -> None:
        path = posixpath.normpath(path)
        if path in self.included:  # minikconf reads a file once
            return
        self.included.add(path)
        data = self.read(path)
        if data is None:
            self.diagnostics.append(Diagnostic.at(included_from or path, f"Kconfig file {path} not found"))
            return
        text = data.decode("utf-8", "replace")
        # the files it sources, read ahead in one batch (an optimisation only)
        self.prefetch([posixpath.normpath(posixpath.join(posixpath.dirname(path), name))
                       for name in SOURCE_LINE.findall(text)])
        Parser(self, path, text).parse()

    # -- evaluation (minikconf's KconfigData.compute_config) ---------------------

    def compute(self) -> dict[str, bool]:
        for name in self.referenced:
            if name not in self.declared:
                self.diagnostics.append(Diagnostic("Kconfig", 0, f"symbol {name} is used but never declared "
                                                   f"(minikconf refuses this); it counts as n unless assigned"))
        clauses = list(self.clauses)
        # every symbol ends with an implicit `default n`
        clauses += [Clause("default", name, False, None, "") for name in self.referenced]
        order = self.dfs_order()
        clauses.sort(key=lambda c: (-order[c.dest], -c.priority))
        values: dict[str, bool | None] = dict.fromkeys(self.referenced)
        for clause in clauses:
            self.process(clause, values)
        return {name: bool(value) for name, value in values.items()}

    def dfs_order(self) -> dict[str, int]:
        """Post-order numbers of a depth-first walk along condition -> dependent edges: the
        reverse of it is a topological order, so a symbol is decided before what it feeds."""
        order: dict[str, int] = {}
        visited: set[str] = set()
        for root in self.referenced:
            if root in visited:
                continue
            visited.add(root)
            stack = [(root, iter(self.referenced[root]))]
            while stack:
                node, edges = stack[-1]
                for succ in edges:
                    if succ not in visited:
                        visited.add(succ)
                        stack.append((succ, iter(self.referenced[succ])))
                        break
                else:
                    stack.pop()
                    order[node] = len(order)
        return order

    def process(self, clause: Clause, values: dict[str, bool | None]) -> None:
        if clause.kind == "assign":
            self.set(clause, clause.value, values)
        elif clause.kind == "default":
            if values[clause.dest] is None and (clause.cond is None or self.evaluate(clause.cond, values)):
                self.set(clause, clause.value, values)
        elif clause.kind == "depends":
            if not self.evaluate(clause.cond, values):
                self.set(clause, False, values)
        elif clause.kind == "select" and self.evaluate(clause.cond, values):
            self.set(clause, True, values)

    def set(self, clause: Clause, value: bool, values: dict[str, bool | None]) -> None:
        old = values[clause.dest]
        if old is not None and old != value:
            # minikconf stops the build here; the first value is kept and the conflict reported
            self.diagnostics.append(Diagnostic.at(clause.where or "Kconfig", f"contradiction: {clause.kind} sets "
                                                  f"{clause.dest}={'y' if value else 'n'}, already "
                                                  f"{'y' if old else 'n'}; kept {'y' if old else 'n'}"))
            return
        values[clause.dest] = value

    def evaluate(self, expr: Expr | None, values: dict[str, bool | None]) -> bool:
        if expr is None:
            return True
        kind = expr[0]
        if kind == "var":
            value = values.get(expr[1])
            if value is None:
                self.diagnostics.append(Diagnostic("Kconfig", 0, f"cycle through {expr[1]}: read as n"))
                return False
            return value
        if kind == "not":
            return not self.evaluate(expr[1], values)
        if kind == "and":
            return self.evaluate(expr[1], values) and self.evaluate(expr[2], values)
        return self.evaluate(expr[1], values) or self.evaluate(expr[2], values)


class Parser:
    """minikconf's grammar: `source FILE`/`include FILE`, `CONFIG_X=y|n`, and `config X`
    followed by `bool`, `default y|n [if E]`, `depends on E`, `select X [if E]`, `imply X [if E]`."""

    def __init__(self, kconfig: Kconfig, path: str, text: str) -> None:
        self.kconfig, self.path = kconfig, path
        self.tokens = list(self.scan(text))
        self.pos = 0

    def scan(self, text: str):
        line = 1
        for m in TOKEN.finditer(text):
            kind = m.lastgroup if m.lastgroup != "file" else "source"
            if kind == "newline":
                line += 1
            elif kind == "source":
                yield ("source", m.group("file").strip(), line)
            elif kind == "op":
                yield (m.group(), m.group(), line)
            elif kind == "word":
                word = m.group()
                yield (word if word in KEYWORDS else "id", word, line)
            elif kind == "other":
                yield ("other", m.group(), line)
        yield ("eof", "", line)

    # -- token helpers -----------------------------------------------------------

    def peek(self) -> str:
        return self.tokens[self.pos][0]

    def take(self, kind: str | None = None) -> tuple[str, str, int]:
        tok = self.tokens[self.pos]
        if kind and tok[0] != kind:
            raise KconfigSyntax(tok[2], f"expected {kind}, found {tok[1]!r}")
        self.pos += 1
        return tok

    def where(self) -> str:
        return f"{self.path}:{self.tokens[self.pos][2]}"

    # -- grammar -----------------------------------------------------------------

    def parse(self) -> None:
        while self.peek() != "eof":
            start = self.pos
            try:
                self.clause()
            except KconfigSyntax as exc:
                self.kconfig.diagnostics.append(Diagnostic(self.path, exc.line, f"Kconfig: {exc.message}; "
                                                           f"skipped to the next line"))
                self.skip_line(start)

    def skip_line(self, start: int) -> None:
        line = self.tokens[self.pos][2]
        self.pos = max(self.pos, start + 1)
        while self.peek() != "eof" and self.tokens[self.pos][2] == line:
            self.pos += 1

    def clause(self) -> None:
        kind = self.peek()
        if kind == "source":
            _, name, line = self.take()
            self.kconfig.read_file(posixpath.join(posixpath.dirname(self.path), name), f"{self.path}:{line}")
        elif kind == "config":
            self.take()
            self.declaration(self.take("id")[1])
        elif kind == "id":
            where = self.where()
            name = self.take()[1]
            self.take("=")
            self.kconfig.assign(name, self.y_or_n(), where)
        else:
            raise KconfigSyntax(self.tokens[self.pos][2], f"unexpected {self.tokens[self.pos][1]!r}")

    def declaration(self, name: str) -> None:
        kc = self.kconfig
        kc.declared.add(kc.var(name))
        while (kind := self.peek()) in ("bool", "default", "depends", "select", "imply"):
            where = self.where()
            self.take()
            if kind == "default":
                value = self.y_or_n() and kc.defconfig
                cond = self.condition()
                kc.add_edges(cond, name)
                kc.clauses.append(Clause("default", name, value, cond, where))
            elif kind == "depends":
                self.take("on")
                cond = self.expr()
                kc.add_edges(cond, name)
                kc.clauses.append(Clause("depends", name, False, cond, where))
            elif kind in ("select", "imply"):
                target = kc.var(self.take("id")[1])
                cond = self.condition()
                cond = ("and", cond, ("var", name)) if cond else ("var", name)
                kc.add_edges(cond, target)
                if kind == "select":
                    kc.clauses.append(Clause("select", target, True, cond, where))
                else:  # `imply Y` is `default y if X` on Y
                    kc.clauses.append(Clause("default", target, kc.defconfig, cond, where))

    def y_or_n(self) -> bool:
        kind = self.peek()
        if kind not in ("y", "n"):
            raise KconfigSyntax(self.tokens[self.pos][2], f"expected y or n, found {self.tokens[self.pos][1]!r}")
        self.take()
        return kind == "y"

    def condition(self) -> Expr | None:
        if self.peek() == "if":
            self.take()
            return self.expr()
        return None

    # minikconf's precedence: || binds tighter than && (expr: disj (&& disj)*)
    def expr(self) -> Expr:
        lhs = self.disj()
        while self.peek() == "&&":
            self.take()
            lhs = ("and", lhs, self.disj())
        return lhs

    def disj(self) -> Expr:
        lhs = self.primary()
        while self.peek() == "||":
            self.take()
            lhs = ("or", lhs, self.primary())
        return lhs

    def primary(self) -> Expr:
        kind = self.peek()
        if kind == "!":
            self.take()
            return ("not", self.primary())
        if kind == "(":
            self.take()
            inner = self.expr()
            self.take(")")
            return inner
        return ("var", self.kconfig.var(self.take("id")[1]))


class KconfigSyntax(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line, self.message = line, message


def evaluate_kconfig(read: Callable[[str], bytes | None], inputs: list[str], assignments: list[str],
                     defconfig: bool = True, prefetch: Callable[[list[str]], None] | None = None,
                     ) -> tuple[dict[str, bool], list[Diagnostic]]:
    """What minikconf prints for INPUTS (a .mak file and the root Kconfig) and ASSIGNMENTS
    (`CONFIG_X=y` words of its command line): {symbol: value}, minus the assigned ones
    only in that minikconf leaves command-line symbols out of its output (the caller decides)."""
    kc = Kconfig(read, defconfig, prefetch)
    for word in assignments:
        m = re.fullmatch(r"(CONFIG_[A-Za-z0-9_]+)=([yn]?)", word)
        if m:
            kc.assign(m.group(1), m.group(2) == "y", "command line")
        else:
            kc.diagnostics.append(Diagnostic("command line", 0, f"minikconf argument {word!r} not understood"))
    for path in inputs:
        kc.read_file(path)
    return kc.compute(), kc.diagnostics
