"""An evaluator of meson.build files for the subset QEMU uses, on meson's own parser.

Nothing is run: the AST that mesonbuild.mparser builds is walked, variables, lists, dicts,
source sets, files(), subdir(), if/foreach and the library and executable declarations
are evaluated; what meson would ask the host (compilers, pkg-config, programs) is
Unknown, which a condition reads as true (the host has every feature).  A construct the
evaluator does not know is a Diagnostic with its file and line, never dropped silently.
"""
from __future__ import annotations

import hashlib
import posixpath
import re
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from mesonbuild import mparser

from . import methods
from .diagnostics import Diagnostic
from .values import (
    ConfigurationData,
    Dependency,
    Feature,
    File,
    KconfigOutput,
    Library,
    Module,
    Objects,
    Program,
    Rule,
    SourceFiles,
    SourceSet,
    Unknown,
    describe,
    flatten,
    found,
    stringify,
)

# Functions whose effect does not change what is compiled: evaluated for their arguments'
# sake only, they give Unknown without a diagnostic.
IGNORED_FUNCTIONS = {
    "add_global_arguments", "add_global_link_arguments", "add_project_arguments", "add_project_link_arguments",
    "add_project_dependencies", "add_test_setup", "alias_target", "assert", "benchmark", "custom_target",
    "environment", "find_program", "generator", "include_directories", "install_data", "install_emptydir",
    "install_headers", "install_man", "install_subdir", "install_symlink", "message", "run_command",
    "run_target", "summary", "test", "vcs_tag", "warning", "debug", "structured_sources", "subproject",
    "meson_version", "dependency_fallback", "configure_file", "both_libraries",
}
LIBRARY_FUNCTIONS = {"static_library", "shared_library", "shared_module", "library", "executable",
                     "build_target"}
LIBRARY_PART_KWARGS = ("objects", "dependencies", "link_with", "link_whole", "sources")


class StopFile(Exception):
    """subdir_done(): the rest of the current meson.build is skipped."""


class LoopControl(Exception):
    def __init__(self, kind: str) -> None:
        self.kind = kind


class Host:
    """What the evaluation asks of the configured build: option values, the host machine,
    and the build-directory files configure writes (config-host.mak)."""

    def __init__(self, options: dict[str, Any], config_host: dict[str, str], cpu: str = "x86_64",
                 system: str = "linux", rust: bool = False, absent: tuple[str, ...] = ()) -> None:
        self.options, self.config_host = options, config_host
        self.absent = set(absent)  # host libraries the build does not have
        self.cpu, self.system, self.rust = cpu, system, rust


# subdir('NAME') with a literal name: the files a meson.build will want next, read ahead in
# one batch (an optimisation only: a subdir() this misses is read when evaluated)
LITERAL_SUBDIR = re.compile(r"""\bsubdir\(\s*'([^'\n]+)'""")


# Parsed files by content: parsing is most of a model's time, and the trees of two targets,
# or of two close revisions, share nearly every meson.build.  The evaluator never changes an AST.
PARSED: OrderedDict[tuple[str, str], mparser.CodeBlockNode] = OrderedDict()
PARSED_MAX = 4000  # about ten revisions' worth of meson.build files


def parse_cached(text: str, path: str) -> mparser.CodeBlockNode:
    key = (path, hashlib.sha1(text.encode()).hexdigest())
    block = PARSED.get(key)
    if block is None:
        block = PARSED[key] = mparser.Parser(text, path).parse()
        if len(PARSED) > PARSED_MAX:
            PARSED.popitem(last=False)
    else:
        PARSED.move_to_end(key)
    return block


class Interpreter:
    def __init__(self, read: Callable[[str], bytes | None], host: Host,
                 run_kconfig: Callable[[list[str], list[str], bool], dict[str, str]],
                 prefetch: Callable[[list[str]], None] | None = None) -> None:
        self.read, self.host, self.run_kconfig = read, host, run_kconfig
        self.prefetch = prefetch or (lambda paths: None)
        self.vars: dict[str, Any] = {}
        self.dir = ""
        self.file = "meson.build"
        self.line = 0
        self.libraries: list[Library] = []
        self.diagnostics: list[Diagnostic] = []
        self.assumptions: list[Diagnostic] = []  # conditions decided by the host profile
        self.reported: set[tuple[str, int, str]] = set()
        self.parsed: dict[str, mparser.CodeBlockNode | None] = {}

    # -- files -----------------------------------------------------------------

    def run_file(self, path: str) -> None:
        block = self.parse(path)
        if block is None:
            return
        saved = (self.dir, self.file)
        self.dir, self.file = posixpath.dirname(path), path
        try:
            self.block(block)
        except StopFile:
            pass
        finally:
            self.dir, self.file = saved

    def parse(self, path: str) -> mparser.CodeBlockNode | None:
        if path not in self.parsed:
            data = self.read(path)
            if data is None:
                self.diagnose(f"{path} not found")
                self.parsed[path] = None
            else:
                text = data.decode("utf-8", "replace")
                here = posixpath.dirname(path)
                self.prefetch([posixpath.normpath(posixpath.join(here, name, "meson.build"))
                               for name in LITERAL_SUBDIR.findall(text)])
                try:
                    self.parsed[path] = parse_cached(text, path)
                except mparser.ParseException as exc:
                    self.diagnostics.append(Diagnostic(path, exc.lineno, f"meson syntax error: {exc}; file skipped"))
                    self.parsed[path] = None
        return self.parsed[path]

    def diagnose(self, message: str) -> None:
        key = (self.file, self.line, message)
        if key not in self.reported:
            self.reported.add(key)
            self.diagnostics.append(Diagnostic(self.file, self.line, message))

    def assume(self, message: str) -> None:
        self.assumptions.append(Diagnostic(self.file, self.line, message))

    # -- statements --------------------------------------------------------------

    def block(self, block: mparser.CodeBlockNode) -> None:
        for node in block.lines:
            self.line = node.lineno
            self.statement(node)

    def statement(self, node: mparser.BaseNode) -> None:
        # PlusAssignmentNode is a subclass of AssignmentNode in meson's parser: test it first
        if isinstance(node, mparser.PlusAssignmentNode):
            name = node.var_name.value
            if name not in self.vars:
                self.diagnose(f"'{name} +=' on an undefined variable")
                self.vars[name] = Unknown(name)
            self.vars[name] = self.add(self.vars[name], self.eval(node.value))
        elif isinstance(node, mparser.AssignmentNode):
            self.vars[node.var_name.value] = self.eval(node.value)
        elif isinstance(node, mparser.IfClauseNode):
            self.if_clause(node)
        elif isinstance(node, mparser.ForeachClauseNode):
            self.foreach(node)
        elif isinstance(node, mparser.BreakNode):
            raise LoopControl("break")
        elif isinstance(node, mparser.ContinueNode):
            raise LoopControl("continue")
        elif isinstance(node, mparser.EmptyNode | mparser.WhitespaceNode):
            pass
        elif isinstance(node, mparser.TestCaseClauseNode):
            self.diagnose("testcase block not evaluated")
        else:
            self.eval(node)

    def if_clause(self, node: mparser.IfClauseNode) -> None:
        for branch in node.ifs:
            self.line = branch.lineno
            if self.condition(branch.condition):
                self.block(branch.block)
                return
        if isinstance(node.elseblock, mparser.ElseNode):
            self.block(node.elseblock.block)

    def condition(self, node: mparser.BaseNode) -> bool:
        value = self.eval(node)
        if isinstance(value, Unknown):
            self.assume(f"condition on {value.what} taken as true (host feature on)")
            return True
        if isinstance(value, bool):
            return value
        self.diagnose(f"condition is a {type(value).__name__}, not a boolean; taken as {bool(value)}")
        return bool(value)

    def foreach(self, node: mparser.ForeachClauseNode) -> None:
        items = self.eval(node.items)
        names = [v.value for v in node.varnames]
        if isinstance(items, dict) and len(names) == 2:
            pairs: list[Any] = list(items.items())
        elif isinstance(items, list) and len(names) == 1:
            pairs = [(item,) for item in items]
        else:
            self.diagnose(f"foreach over {describe(items)} with {len(names)} variable(s): loop skipped")
            return
        for values in pairs:
            for name, value in zip(names, values):
                self.vars[name] = value
            try:
                self.block(node.block)
            except LoopControl as ctl:
                if ctl.kind == "break":
                    break

    # -- expressions -------------------------------------------------------------

    def eval(self, node: mparser.BaseNode) -> Any:
        method = getattr(self, "eval_" + type(node).__name__, None)
        if method is None:
            self.diagnose(f"{type(node).__name__} not evaluated")
            return Unknown(type(node).__name__)
        return method(node)

    def eval_StringNode(self, node: mparser.StringNode) -> Any:
        if not node.is_fstring:
            return node.value
        text = node.value
        for name in set(re.findall(r"@([A-Za-z_][A-Za-z0-9_]*)@", text)):
            value = self.vars.get(name)
            if not isinstance(value, str | int | bool):
                return Unknown(f"f-string {text!r}")
            text = text.replace(f"@{name}@", stringify(value))
        return text

    def eval_NumberNode(self, node: mparser.NumberNode) -> Any:
        return node.value

    def eval_BooleanNode(self, node: mparser.BooleanNode) -> Any:
        return node.value

    def eval_IdNode(self, node: mparser.IdNode) -> Any:
        name = node.value
        if name in self.vars:
            return self.vars[name]
        builtin = {"meson": Module("meson"), "host_machine": Module("machine"), "build_machine": Module("machine"),
                   "target_machine": Module("machine")}.get(name)
        if builtin is not None:
            return builtin
        self.diagnose(f"variable '{name}' is not defined")
        return Unknown(name)

    def eval_ParenthesizedNode(self, node: mparser.ParenthesizedNode) -> Any:
        return self.eval(node.inner)

    def eval_ArrayNode(self, node: mparser.ArrayNode) -> Any:
        return [self.eval(arg) for arg in node.args.arguments]

    def eval_DictNode(self, node: mparser.DictNode) -> Any:
        result = {}
        for key, value in node.args.kwargs.items():
            k = self.eval(key)
            if isinstance(k, str):
                result[k] = self.eval(value)
            else:
                self.diagnose(f"dict key {describe(k)} is not a string: entry left out")
        return result

    def eval_NotNode(self, node: mparser.NotNode) -> Any:
        value = self.eval(node.value)
        return value if isinstance(value, Unknown) else not value

    def eval_UMinusNode(self, node: mparser.UMinusNode) -> Any:
        value = self.eval(node.value)
        return -value if isinstance(value, int) else Unknown("negation")

    def eval_AndNode(self, node: mparser.AndNode) -> Any:
        left = self.eval(node.left)
        if left is False:
            return False
        right = self.eval(node.right)
        if right is False:
            return False
        return left if isinstance(left, Unknown) else right

    def eval_OrNode(self, node: mparser.OrNode) -> Any:
        left = self.eval(node.left)
        if left is True:
            return True
        right = self.eval(node.right)
        if right is True:
            return True
        return left if isinstance(left, Unknown) else right

    def eval_TernaryNode(self, node: mparser.TernaryNode) -> Any:
        return self.eval(node.trueblock if self.condition(node.condition) else node.falseblock)

    def eval_ComparisonNode(self, node: mparser.ComparisonNode) -> Any:
        left, right = self.eval(node.left), self.eval(node.right)
        op = node.ctype
        if op in ("in", "not in", "notin"):
            if isinstance(right, list | dict) and not isinstance(left, Unknown):
                inside = left in right
            elif isinstance(right, ConfigurationData) and isinstance(left, str):
                inside = left in right.values
            else:
                return Unknown(f"'{op}' on {describe(right)}")
            return inside if op == "in" else not inside
        if isinstance(left, Unknown) or isinstance(right, Unknown):
            return Unknown(f"comparison with {(left if isinstance(left, Unknown) else right).what}")
        if op == "==":
            return left == right
        if op == "!=":
            return left != right
        try:
            return {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[op]
        except TypeError:
            self.diagnose(f"cannot compare {describe(left)} {op} {describe(right)}")
            return Unknown("comparison")

    def eval_ArithmeticNode(self, node: mparser.ArithmeticNode) -> Any:
        left, right = self.eval(node.left), self.eval(node.right)
        # meson < 1.3 spelled the operators "add", "sub"...; later versions use the symbols
        op = {"add": "+", "sub": "-", "mul": "*", "div": "/", "mod": "%"}.get(node.operation, node.operation)
        if op == "+":
            return self.add(left, right)
        if op == "/" and isinstance(left, str) and isinstance(right, str):
            return posixpath.join(left, right)  # meson's path join
        if isinstance(left, int) and isinstance(right, int) and not isinstance(left, bool):
            if op == "-":
                return left - right
            if op == "*":
                return left * right
            if op == "/":
                return left // right if right else Unknown("division by zero")
            if op == "%":
                return left % right if right else Unknown("modulo by zero")
        if not isinstance(left, Unknown) and not isinstance(right, Unknown):
            self.diagnose(f"arithmetic {op} on {describe(left)} and {describe(right)}")
        return Unknown(f"arithmetic {op}")

    def add(self, left: Any, right: Any) -> Any:
        """`+` and `+=`: list append/extend, dict merge, string and number sums."""
        if isinstance(left, list):
            return left + (right if isinstance(right, list) else [right])
        if isinstance(left, dict) and isinstance(right, dict):
            return {**left, **right}
        if isinstance(left, str) and isinstance(right, str):
            return left + right
        if isinstance(left, int) and isinstance(right, int):
            return left + right
        if not isinstance(left, Unknown) and not isinstance(right, Unknown):
            self.diagnose(f"'+' on {describe(left)} and {describe(right)}")
        return Unknown("sum")

    def eval_IndexNode(self, node: mparser.IndexNode) -> Any:
        obj, index = self.eval(node.iobject), self.eval(node.index)
        if isinstance(obj, dict) and isinstance(index, str):
            if index in obj:
                return obj[index]
            self.diagnose(f"key {index!r} not in the dict")
            return Unknown(f"[{index!r}]")
        if isinstance(obj, list | str) and isinstance(index, int):
            try:
                return obj[index]
            except IndexError:
                self.diagnose(f"index {index} out of range")
                return Unknown("index")
        if not isinstance(obj, Unknown) and not isinstance(index, Unknown):
            self.diagnose(f"indexing {describe(obj)} with {describe(index)}")
        return Unknown("index")

    # -- calls -------------------------------------------------------------------

    def arguments(self, args: mparser.ArgumentNode) -> tuple[list[Any], dict[str, Any]]:
        positional = [self.eval(a) for a in args.arguments]
        keywords = {key.value: self.eval(value) for key, value in args.kwargs.items()}
        return positional, keywords

    def eval_FunctionNode(self, node: mparser.FunctionNode) -> Any:
        name = node.func_name.value
        self.line = node.lineno
        if name == "subdir":  # evaluated before its arguments, like meson's (if_found: is honoured)
            args, kwargs = self.arguments(node.args)
            return self.subdir(args, kwargs)
        args, kwargs = self.arguments(node.args)
        handler = getattr(self, "fn_" + name, None)
        if handler is not None:
            return handler(args, kwargs)
        if name in LIBRARY_FUNCTIONS:
            return self.library(name, args, kwargs)
        if name in IGNORED_FUNCTIONS:
            return Unknown(f"{name}()")
        self.diagnose(f"function {name}() not modelled: its result is unknown")
        return Unknown(f"{name}()")

    def subdir(self, args: list[Any], kwargs: dict[str, Any]) -> None:
        if not all(found(d) for d in flatten(kwargs.get("if_found", []))):
            return
        if not args or not isinstance(args[0], str):
            self.diagnose(f"subdir({describe(args[0] if args else None)}) not evaluated")
            return
        self.run_file(posixpath.normpath(posixpath.join(self.dir, args[0], "meson.build")))

    def fn_error(self, args: list[Any], kwargs: dict[str, Any]) -> None:
        # meson stops here: the profile asked for a build this tree refuses; evaluation goes on
        self.diagnose(f"error() reached: {' '.join(stringify(a) for a in args)[:200]}")

    def fn_subdir_done(self, args: list[Any], kwargs: dict[str, Any]) -> None:
        raise StopFile()

    def fn_project(self, args: list[Any], kwargs: dict[str, Any]) -> Any:
        return None

    def fn_files(self, args: list[Any], kwargs: dict[str, Any]) -> Any:
        result = []
        for arg in flatten(args):
            if isinstance(arg, File):
                result.append(arg)
            elif isinstance(arg, str):
                result.append(File(posixpath.normpath(posixpath.join(self.dir, arg))))
            else:
                self.diagnose(f"files() of {describe(arg)}: left out")
        return result

    def fn_import(self, args: list[Any], kwargs: dict[str, Any]) -> Any:
        return Module(args[0]) if args and isinstance(args[0], str) else Unknown("import")

    def fn_get_option(self, args: list[Any], kwargs: dict[str, Any]) -> Any:
        name = args[0] if args else None
        if name not in self.host.options:
            self.diagnose(f"option {name!r} is not declared")
            return Unknown(f"option {name}")
        return self.host.options[name]

    def fn_dependency(self, args: list[Any], kwargs: dict[str, Any]) -> Any:
        names = [a for a in flatten(args) if isinstance(a, str)]
        required = kwargs.get("required")
        if not names or not names[0]:  # dependency(''): QEMU's `not_found`
            return Dependency("", is_found=False)
        if (isinstance(required, Feature) and required.value == "disabled") or names[0] in self.host.absent:
            return Dependency(names[0], is_found=False)
        return Dependency(names[0])  # a host library: present

    def fn_declare_dependency(self, args: list[Any], kwargs: dict[str, Any]) -> Any:
        parts = [p for key in LIBRARY_PART_KWARGS for p in flatten(kwargs.get(key, []))]
        return Dependency("declared", parts=parts)

    def library(self, kind: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        name = args[0] if args and isinstance(args[0], str) else f"<{kind}>"
        sources = [self.as_source(s) for s in flatten(args[1:])]
        parts = sources + [self.as_source(p) for key in LIBRARY_PART_KWARGS for p in flatten(kwargs.get(key, []))]
        lib = Library(name, kind, parts)
        self.libraries.append(lib)
        return lib

    def as_source(self, value: Any) -> Any:
        if isinstance(value, str):  # a source named by a string is relative to the current directory
            return File(posixpath.normpath(posixpath.join(self.dir, value)))
        return value

    def fn_configuration_data(self, args: list[Any], kwargs: dict[str, Any]) -> Any:
        return ConfigurationData(dict(args[0]) if args and isinstance(args[0], dict) else {})

    def fn_configure_file(self, args: list[Any], kwargs: dict[str, Any]) -> Any:
        """minikconf is the one program whose output the build model needs: it is evaluated
        by kconfig.py from the same inputs and command-line symbols."""
        command = flatten(kwargs.get("command", []))
        if command and isinstance(command[0], Program) and command[0].path.endswith("minikconf.py"):
            inputs = [posixpath.normpath(posixpath.join(self.dir, i)) for i in flatten(kwargs.get("input", []))
                      if isinstance(i, str)]
            words = [w for w in command[1:] if isinstance(w, str)]
            if any(isinstance(w, Unknown) for w in command):
                self.diagnose("minikconf argument unknown: left out")
            return KconfigOutput(self.run_kconfig(inputs, words, "--allnoconfig" not in words))
        return Unknown("configure_file()")

    def fn_find_program(self, args: list[Any], kwargs: dict[str, Any]) -> Any:
        first = next((a for a in flatten(args) if isinstance(a, str)), "")
        return Program(first)

    def fn_add_languages(self, args: list[Any], kwargs: dict[str, Any]) -> Any:
        langs = [a for a in flatten(args) if isinstance(a, str)]
        required = kwargs.get("required")
        if isinstance(required, Feature) and required.value == "disabled":
            return False
        return not ("rust" in langs and not self.host.rust)

    def fn_join_paths(self, args: list[Any], kwargs: dict[str, Any]) -> Any:
        if all(isinstance(a, str) for a in args):
            return posixpath.join(*args) if args else ""
        return Unknown("join_paths()")

    def fn_is_variable(self, args: list[Any], kwargs: dict[str, Any]) -> Any:
        return args[0] in self.vars

    def fn_get_variable(self, args: list[Any], kwargs: dict[str, Any]) -> Any:
        if args[0] in self.vars:
            return self.vars[args[0]]
        if len(args) > 1:
            return args[1]
        self.diagnose(f"get_variable({args[0]!r}): not defined")
        return Unknown(str(args[0]))

    def fn_set_variable(self, args: list[Any], kwargs: dict[str, Any]) -> Any:
        self.vars[args[0]] = args[1]

    def fn_range(self, args: list[Any], kwargs: dict[str, Any]) -> Any:
        return list(range(*args)) if all(isinstance(a, int) for a in args) else Unknown("range()")

    def fn_disabler(self, args: list[Any], kwargs: dict[str, Any]) -> Any:
        return Unknown("disabler()")

    def fn_is_disabler(self, args: list[Any], kwargs: dict[str, Any]) -> Any:
        return False

    # -- methods -----------------------------------------------------------------

    def eval_MethodNode(self, node: mparser.MethodNode) -> Any:
        obj = self.eval(node.source_object)
        name = node.name.value
        self.line = node.lineno
        args, kwargs = self.arguments(node.args)
        return methods.call(self, obj, name, args, kwargs)


__all__ = ["Host", "Interpreter", "Objects", "Rule", "SourceFiles", "SourceSet"]
