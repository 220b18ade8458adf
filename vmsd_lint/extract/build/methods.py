"""The methods of meson's objects that QEMU's build files call, per type."""
from __future__ import annotations

import posixpath
import re
from typing import TYPE_CHECKING, Any

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
    flatten,
    stringify,
)

if TYPE_CHECKING:
    from .meson import Interpreter

BUILD_DIR = "@build@"  # where meson.current_build_dir() points: nothing is ever read there but config-host.mak


def call(interp: Interpreter, obj: Any, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
    if isinstance(obj, Unknown):
        if name in ("found", "allowed"):  # whatever the host provides is there
            return True
        return Unknown(f"{obj.what}.{name}()")
    table = TABLES.get(type(obj))
    if isinstance(obj, Module):
        table = MODULES.get(obj.name)
        # a module the model does not need (pkgconfig, python, rust...), or a compiler check:
        # what the host answers is unknown, and taken as present
        if obj.name == "compiler" and name not in table:
            return compiler_check(name, args)
        if table is None:
            return Unknown(f"{obj.name}.{name}()")
    method = table.get(name) if table else None
    if method is None:
        interp.diagnose(f"method {type(obj).__name__}.{name}() not modelled: its result is unknown")
        return Unknown(f"{name}()")
    try:
        return method(interp, obj, args, kwargs)
    except (IndexError, KeyError, TypeError, ValueError, AttributeError) as exc:
        interp.diagnose(f"{type(obj).__name__}.{name}() with these arguments not evaluated ({exc})")
        return Unknown(f"{name}()")


def compiler_check(name: str, args: list[Any]) -> Any:
    """A check of the host compiler or its libraries: it passes (host features on)."""
    if name == "find_library":
        return Dependency(str(args[0]) if args else "library")
    if name.startswith(("has_", "check_")) or name in ("links", "compiles", "run"):
        return True
    if name.startswith("get_supported_") and args:
        return flatten(args)
    return Unknown(f"compiler.{name}()")


# -- source sets ---------------------------------------------------------------------------

def split_when(when: Any) -> tuple[list[str], list[Any]]:
    items = flatten(when)
    return [w for w in items if isinstance(w, str)], [w for w in items if not isinstance(w, str)]


def ss_add(interp: Interpreter, ss: SourceSet, args: list[Any], kwargs: dict[str, Any]) -> None:
    keys, deps = split_when(kwargs.get("when", []))
    if_true = flatten(kwargs.get("if_true", [])) or flatten(args)
    if_false = flatten(kwargs.get("if_false", []))
    sources = [interp.as_source(x) for x in if_true if not isinstance(x, Dependency)]
    extra = [x for x in if_true if isinstance(x, Dependency)]
    false_sources = [interp.as_source(x) for x in if_false if not isinstance(x, Dependency)]
    false_deps = [x for x in if_false if isinstance(x, Dependency)]
    ss.rules.append(Rule(keys, deps, sources, extra, [], false_sources, false_deps))


def ss_add_all(interp: Interpreter, ss: SourceSet, args: list[Any], kwargs: dict[str, Any]) -> None:
    keys, deps = split_when(kwargs.get("when", []))
    inner = flatten(kwargs.get("if_true", [])) or flatten(args)
    sets = [s for s in inner if isinstance(s, SourceSet)]
    if len(sets) != len(inner):
        interp.diagnose("add_all() of something that is not a source set: left out")
    ss.rules.append(Rule(keys, deps, [], [], sets, []))


def ss_apply(interp: Interpreter, ss: SourceSet, args: list[Any], kwargs: dict[str, Any]) -> Any:
    config = args[0] if args else {}
    if isinstance(config, ConfigurationData):
        config = config.values
    if not isinstance(config, dict):
        interp.diagnose("source_set.apply() of an unknown configuration: nothing selected")
        return SourceFiles()
    # meson: bool() of the dict's value, so 'n' strings count as set (as they do in meson)
    return ss.collect(lambda key: bool(config.get(key, False)), False, SourceFiles())


def ss_all_sources(interp: Interpreter, ss: SourceSet, args: list[Any], kwargs: dict[str, Any]) -> Any:
    return ss.collect(lambda key: True, True, SourceFiles()).sources


def ss_all_dependencies(interp: Interpreter, ss: SourceSet, args: list[Any], kwargs: dict[str, Any]) -> Any:
    return ss.collect(lambda key: True, True, SourceFiles()).deps


SOURCE_SET = {"add": ss_add, "add_all": ss_add_all, "apply": ss_apply, "all_sources": ss_all_sources,
              "all_dependencies": ss_all_dependencies}
SOURCE_FILES = {"sources": lambda i, o, a, k: list(o.sources), "dependencies": lambda i, o, a, k: list(o.deps)}


# -- dependencies, libraries, programs -------------------------------------------------------

def dep_partial(interp: Interpreter, dep: Dependency, args: list[Any], kwargs: dict[str, Any]) -> Any:
    # compile arguments and includes only: nothing of it is linked
    return Dependency(dep.name, dep.is_found, [])


DEPENDENCY = {
    "found": lambda i, o, a, k: o.is_found, "partial_dependency": dep_partial, "name": lambda i, o, a, k: o.name,
    "as_system": lambda i, o, a, k: o, "as_link_whole": lambda i, o, a, k: o, "include_type": lambda i, o, a, k: o,
    "get_variable": lambda i, o, a, k: Unknown(f"{o.name}.get_variable()"),
    "get_pkgconfig_variable": lambda i, o, a, k: Unknown(f"{o.name}.get_pkgconfig_variable()"),
    "version": lambda i, o, a, k: Unknown(f"{o.name}.version()"), "type_name": lambda i, o, a, k: "internal",
}
LIBRARY = {
    "extract_all_objects": lambda i, o, a, k: Objects(o),
    "extract_objects": lambda i, o, a, k: [i.as_source(x) for x in flatten(a)],
    "name": lambda i, o, a, k: o.name, "found": lambda i, o, a, k: True,
    "full_path": lambda i, o, a, k: Unknown(f"{o.name}.full_path()"),
    "path": lambda i, o, a, k: Unknown(f"{o.name}.path()"),
    "private_dir_include": lambda i, o, a, k: Unknown("private_dir_include()"),
}
PROGRAM = {"found": lambda i, o, a, k: True, "full_path": lambda i, o, a, k: o.path, "path": lambda i, o, a, k: o.path,
           "version": lambda i, o, a, k: Unknown(f"{o.path} version")}


# -- feature options ---------------------------------------------------------------------------

def feature_require(interp: Interpreter, f: Feature, args: list[Any], kwargs: dict[str, Any]) -> Any:
    cond = args[0] if args else True
    if isinstance(cond, Unknown) or cond:
        return f
    return Feature(f.name, "disabled")  # meson errors out only when the feature was enabled


def feature_if(value: str, when: str | None):
    """disable_auto_if/enable_auto_if (when='auto') and disable_if/enable_if (when=None)."""
    def method(interp: Interpreter, f: Feature, args: list[Any], kwargs: dict[str, Any]) -> Any:
        cond = args[0] if args else False
        if isinstance(cond, Unknown) or not cond or (when and f.value != when):
            return f
        return Feature(f.name, value)
    return method


FEATURE = {
    "enabled": lambda i, o, a, k: o.value == "enabled", "disabled": lambda i, o, a, k: o.value == "disabled",
    "auto": lambda i, o, a, k: o.value == "auto", "allowed": lambda i, o, a, k: o.value != "disabled",
    "require": feature_require, "disable_auto_if": feature_if("disabled", "auto"),
    "enable_auto_if": feature_if("enabled", "auto"), "disable_if": feature_if("disabled", None),
    "enable_if": feature_if("enabled", None),
}


# -- configuration data --------------------------------------------------------------------------

def conf_set(interp: Interpreter, conf: ConfigurationData, args: list[Any], kwargs: dict[str, Any]) -> None:
    if len(args) >= 2 and isinstance(args[0], str):
        conf.values[args[0]] = args[1]


def conf_get(interp: Interpreter, conf: ConfigurationData, args: list[Any], kwargs: dict[str, Any]) -> Any:
    if args and args[0] in conf.values:
        return conf.values[args[0]]
    if len(args) > 1:
        return args[1]
    return Unknown(f"configuration {args[0] if args else '?'}")


CONFIGURATION = {
    "set": conf_set, "set10": conf_set, "set_quoted": conf_set, "get": conf_get, "get_unquoted": conf_get,
    "has": lambda i, o, a, k: a[0] in o.values, "keys": lambda i, o, a, k: sorted(o.values),
    "merge_from": lambda i, o, a, k: o.values.update(a[0].values if isinstance(a[0], ConfigurationData) else {}),
}


# -- strings, lists, dicts, numbers ----------------------------------------------------------------

def str_format(interp: Interpreter, s: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
    def sub(m: re.Match[str]) -> str:
        n = int(m.group(1))
        return stringify(args[n]) if n < len(args) else m.group()
    if any(isinstance(a, Unknown) for a in args):
        return Unknown("format()")
    return re.sub(r"@(\d+)@", sub, s)


def str_split(interp: Interpreter, s: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
    return s.split(args[0]) if args else s.split()


def str_join(interp: Interpreter, s: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
    items = flatten(args)
    return s.join(items) if all(isinstance(x, str) for x in items) else Unknown("join()")


def version_compare(interp: Interpreter, s: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
    m = re.fullmatch(r"\s*(>=|<=|==|!=|>|<)?\s*([\d.]+)\s*", args[0] if args else "")
    have = re.match(r"[\d.]+", s)
    if not m or not have:
        return Unknown("version_compare()")
    mine = tuple(int(x) for x in have.group().strip(".").split(".") if x)
    want = tuple(int(x) for x in m.group(2).strip(".").split(".") if x)
    op = m.group(1) or "=="
    return {">=": mine >= want, "<=": mine <= want, "==": mine == want, "!=": mine != want,
            ">": mine > want, "<": mine < want}[op]


def str_to_int(interp: Interpreter, s: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
    try:
        return int(s)
    except ValueError:
        interp.diagnose(f"{s!r}.to_int(): not a number")
        return Unknown("to_int()")


STRING = {
    "format": str_format, "split": str_split, "join": str_join, "version_compare": version_compare,
    "to_int": str_to_int, "strip": lambda i, o, a, k: o.strip(a[0]) if a else o.strip(),
    "startswith": lambda i, o, a, k: o.startswith(a[0]), "endswith": lambda i, o, a, k: o.endswith(a[0]),
    "contains": lambda i, o, a, k: a[0] in o, "to_upper": lambda i, o, a, k: o.upper(),
    "to_lower": lambda i, o, a, k: o.lower(), "underscorify": lambda i, o, a, k: re.sub(r"[^A-Za-z0-9]", "_", o),
    "replace": lambda i, o, a, k: o.replace(a[0], a[1]), "substring": lambda i, o, a, k: o[slice(*a)],
    "splitlines": lambda i, o, a, k: o.splitlines(), "length": lambda i, o, a, k: len(o),
}
LIST = {
    "length": lambda i, o, a, k: len(o), "contains": lambda i, o, a, k: a[0] in o,
    "get": lambda i, o, a, k: o[a[0]] if -len(o) <= a[0] < len(o) else (a[1] if len(a) > 1 else Unknown("get()")),
}
DICT = {
    "get": lambda i, o, a, k: o[a[0]] if a[0] in o else (a[1] if len(a) > 1 else Unknown(f"[{a[0]!r}]")),
    "has_key": lambda i, o, a, k: a[0] in o, "keys": lambda i, o, a, k: sorted(o),
    "values": lambda i, o, a, k: [o[key] for key in sorted(o)],
}
INT = {"to_string": lambda i, o, a, k: str(o), "is_even": lambda i, o, a, k: o % 2 == 0,
       "is_odd": lambda i, o, a, k: o % 2 == 1}
BOOL = {"to_int": lambda i, o, a, k: int(o), "to_string": lambda i, o, a, k: (a[0] if o else a[1]) if len(a) == 2
        else ("true" if o else "false")}
FILE = {"full_path": lambda i, o, a, k: o.path}


# -- modules and built-in objects -----------------------------------------------------------------

def keyval_load(interp: Interpreter, module: Module, args: list[Any], kwargs: dict[str, Any]) -> Any:
    source = args[0] if args else None
    if isinstance(source, KconfigOutput):
        return dict(source.values)
    if isinstance(source, File):
        source = source.path
    if not isinstance(source, str):
        interp.diagnose(f"keyval.load() of {type(source).__name__}: empty")
        return {}
    if source.startswith(BUILD_DIR + "/"):
        if source.endswith("config-host.mak"):
            return dict(interp.host.config_host)
        interp.diagnose(f"keyval.load({source}): a file of the build directory, not modelled")
        return {}
    data = interp.read(posixpath.normpath(posixpath.join(interp.dir, source)))
    if data is None:
        interp.diagnose(f"keyval.load({source}): not found")
        return {}
    return parse_keyval(data.decode("utf-8", "replace"))


def parse_keyval(text: str) -> dict[str, str]:
    """meson's keyval module: KEY=VALUE lines, # comments."""
    result = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        key, sep, value = line.partition("=")
        if sep and key.strip():
            result[key.strip()] = value.strip()
    return result


def fs_exists(interp: Interpreter, module: Module, args: list[Any], kwargs: dict[str, Any]) -> Any:
    path = args[0].path if args and isinstance(args[0], File) else (args[0] if args else None)
    if not isinstance(path, str) or path.startswith(BUILD_DIR):
        return Unknown("fs.exists()")
    data = interp.read(posixpath.normpath(posixpath.join(interp.dir, path)))
    return True if data is not None else Unknown(f"fs.exists({path}) (a directory?)")


def fs_read(interp: Interpreter, module: Module, args: list[Any], kwargs: dict[str, Any]) -> Any:
    path = args[0].path if args and isinstance(args[0], File) else posixpath.join(interp.dir, str(args[0]))
    data = interp.read(posixpath.normpath(path))
    if data is None:
        interp.diagnose(f"fs.read({path}): not found")
        return Unknown("fs.read()")
    return data.decode("utf-8", "replace")


def meson_external_property(interp: Interpreter, module: Module, args: list[Any], kwargs: dict[str, Any]) -> Any:
    return args[1] if len(args) > 1 else Unknown(f"external property {args[0] if args else '?'}")


MESON = {
    "current_source_dir": lambda i, o, a, k: i.dir,
    "current_build_dir": lambda i, o, a, k: posixpath.join(BUILD_DIR, i.dir),
    "project_source_root": lambda i, o, a, k: "", "source_root": lambda i, o, a, k: "",
    "global_source_root": lambda i, o, a, k: "", "project_build_root": lambda i, o, a, k: BUILD_DIR,
    "build_root": lambda i, o, a, k: BUILD_DIR, "global_build_root": lambda i, o, a, k: BUILD_DIR,
    "is_cross_build": lambda i, o, a, k: False, "can_run_host_binaries": lambda i, o, a, k: True,
    "is_subproject": lambda i, o, a, k: False, "backend": lambda i, o, a, k: "ninja",
    "get_external_property": meson_external_property, "get_cross_property": meson_external_property,
    "version": lambda i, o, a, k: Unknown("meson.version()"),
    "project_version": lambda i, o, a, k: Unknown("meson.project_version()"),
    "project_name": lambda i, o, a, k: "qemu",
    "get_compiler": lambda i, o, a, k: Module("compiler"),
    # these register scripts and environments for the build: nothing compiled changes
    "add_devenv": lambda i, o, a, k: None, "add_postconf_script": lambda i, o, a, k: None,
    "add_install_script": lambda i, o, a, k: None, "add_dist_script": lambda i, o, a, k: None,
    "override_dependency": lambda i, o, a, k: None, "override_find_program": lambda i, o, a, k: None,
}
MACHINE = {"cpu_family": lambda i, o, a, k: i.host.cpu, "cpu": lambda i, o, a, k: i.host.cpu,
           "system": lambda i, o, a, k: i.host.system, "endian": lambda i, o, a, k: "little",
           "kernel": lambda i, o, a, k: i.host.system}
# The host compiler: GCC on a 64-bit host (what the target loop's host_long_bits needs)
SIZES = {"void *": 8, "long": 8, "size_t": 8, "int": 4, "short": 2, "char": 1, "long long": 8}
COMPILER = {"get_id": lambda i, o, a, k: "gcc", "get_linker_id": lambda i, o, a, k: "ld.bfd",
            "sizeof": lambda i, o, a, k: SIZES.get(a[0], Unknown(f"sizeof({a[0]})"))}
MODULES: dict[str, dict[str, Any]] = {
    "meson": MESON, "machine": MACHINE, "compiler": COMPILER,
    "sourceset": {"source_set": lambda i, o, a, k: SourceSet()},
    "keyval": {"load": keyval_load},
    "fs": {"read": fs_read, "exists": fs_exists, "is_file": fs_exists,
           "is_dir": lambda i, o, a, k: Unknown("fs.is_dir()"),
           "parent": lambda i, o, a, k: posixpath.dirname(a[0]),
           "name": lambda i, o, a, k: posixpath.basename(a[0])},
}
TABLES: dict[type, dict[str, Any]] = {
    SourceSet: SOURCE_SET, SourceFiles: SOURCE_FILES, Dependency: DEPENDENCY, Library: LIBRARY, Program: PROGRAM,
    Feature: FEATURE, ConfigurationData: CONFIGURATION, str: STRING, list: LIST, dict: DICT, int: INT, bool: BOOL,
    File: FILE,
}
