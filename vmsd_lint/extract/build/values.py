"""The values a meson.build evaluation handles besides strings, numbers, lists and dicts:
files, source sets, dependencies, libraries, feature options, and Unknown -- what meson
would learn from the host (a compiler check, an external library), which the modelled
release build takes as present."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class Unknown:
    """A value the model does not compute.  In a condition it counts as true (host features
    on); its methods give Unknown again, and `found()` is true."""
    __slots__ = ("what",)

    def __init__(self, what: str) -> None:
        self.what = what

    def __repr__(self) -> str:
        return f"<unknown {self.what}>"


@dataclass(frozen=True)
class File:
    path: str  # relative to the source root


@dataclass
class Rule:
    """One add()/add_all() of a source set (meson's SourceSetRule)."""
    keys: list[str]
    deps: list[Any]
    sources: list[Any]
    extra_deps: list[Any]
    sourcesets: list[SourceSet]
    if_false: list[Any]
    if_false_deps: list[Any] = field(default_factory=list)


@dataclass(eq=False)
class SourceSet:
    rules: list[Rule] = field(default_factory=list)

    def collect(self, enabled, all_sources: bool, into: SourceFiles) -> SourceFiles:
        """meson's SourceSetImpl.collect, rule for rule."""
        for rule in self.rules:
            if all(found(d) for d in rule.deps) and all(enabled(k) for k in rule.keys):
                into.add(rule.sources, rule.deps + rule.extra_deps)
                for inner in rule.sourcesets:
                    inner.collect(enabled, all_sources, into)
                if not all_sources:
                    continue
            into.add(rule.if_false, rule.if_false_deps)
        return into


@dataclass(eq=False)
class SourceFiles:
    """What source_set.apply() returns."""
    sources: list[Any] = field(default_factory=list)
    deps: list[Any] = field(default_factory=list)
    seen: set[Any] = field(default_factory=set)

    def add(self, sources: list[Any], deps: list[Any]) -> None:
        """Each item once, in first-seen order (meson's OrderedSet)."""
        for into, items in ((self.sources, sources), (self.deps, deps)):
            for item in items:
                key = item if isinstance(item, File | str) else id(item)
                if key not in self.seen:
                    self.seen.add(key)
                    into.append(item)


@dataclass(eq=False)
class Dependency:
    """declare_dependency(), or an external dependency (no parts).  `parts` are what it brings
    into a link: files, objects of libraries, libraries, other dependencies."""
    name: str
    is_found: bool = True
    parts: list[Any] = field(default_factory=list)


@dataclass(eq=False)
class Library:
    """static_library(), shared_module(), executable(), ...: its sources and what it links."""
    name: str
    kind: str
    parts: list[Any] = field(default_factory=list)


@dataclass(eq=False)
class Objects:
    """lib.extract_all_objects(): the objects of a library's own sources."""
    library: Library


@dataclass(eq=False)
class Feature:
    """A feature option: enabled, disabled or auto."""
    name: str
    value: str


@dataclass(eq=False)
class Program:
    path: str


@dataclass(eq=False)
class Module:
    name: str


@dataclass(eq=False)
class ConfigurationData:
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(eq=False)
class KconfigOutput:
    """The result of configure_file() running minikconf: the .mak file it would write."""
    values: dict[str, str]


def found(value: Any) -> bool:
    if isinstance(value, Dependency):
        return value.is_found
    return not (value is False or value is None)


def flatten(value: Any) -> list[Any]:
    if isinstance(value, list):
        return [leaf for item in value for leaf in flatten(item)]
    return [value]


def stringify(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def describe(value: Any) -> str:
    if isinstance(value, Unknown):
        return value.what
    return type(value).__name__
