"""Which targets' binaries hold a piece of state: a section is in qemu-system-TARGET when
the target compiles one of the files that put it on the wire (a type's TypeInfo, a
registration), as the build model of the revision says (extract/build)."""
from __future__ import annotations

from ..model import section_key
from .wire import WireSchema

# only C and Rust sources are compiled; a header or an .inc is in whatever includes it
COMPILED_SUFFIXES = (".c", ".rs")


def section_targets(schema: WireSchema, key: str) -> set[str] | None:
    """The targets sending section KEY; None when the schema knows no builds."""
    if schema.builds is None:
        return None
    section = schema.sections.get(key)
    if section is None:
        return set()
    # a target's own section (its CPU's "cpu") is sent by the targets built from its
    # target/<dir>/, although common code (cpu_exec_realizefn) registers it
    return {target for target, build in schema.builds.items()
            if any(_holds(build, f) for f in section.files)
            and (section.target is None or _builds_dir(build, f"target/{section.target}/"))}


def file_targets(schema: WireSchema, path: str | None) -> set[str] | None:
    """The targets compiling PATH (all of them for a header); None when unknown."""
    if schema.builds is None or path is None:
        return None
    return {target for target, build in schema.builds.items() if _holds(build, path)}


_DIRS: dict[int, tuple[object, frozenset[str]]] = {}  # id(build) -> (build, "target/<dir>/" it compiles in)


def _builds_dir(build, directory: str) -> bool:
    """Whether BUILD compiles a file under DIRECTORY ("target/arm/")."""
    found = _DIRS.get(id(build))
    if found is None or found[0] is not build:
        found = _DIRS[id(build)] = (build, frozenset(path[:path.index("/", 7) + 1] for path in build.files
                                                     if path.startswith("target/") and path.count("/") >= 2))
    return directory in found[1]


def _holds(build, path: str) -> bool:
    if not path.endswith(COMPILED_SUFFIXES):
        return True
    # a path of the extraction is already normal (no "." or ".." component, no "//"): looked up as it is
    return path in build.files if "/." not in path and "//" not in path and not path.startswith(".") \
        else build.compiles(path)


def with_targets(findings: list, old: WireSchema, new: WireSchema) -> list:
    """FINDINGS (diff.findings.Finding) with the targets holding their state, on either
    side: their sections', or for a finding no section sends, its file's."""
    if old.builds is None and new.builds is None:
        return findings
    known: dict[tuple[int, str], set[str]] = {}  # (side, section key) -> its targets: findings share sections
    return [f.with_(targets=_finding_targets(f, old, new, known)) for f in findings]


def _finding_targets(finding, old: WireSchema, new: WireSchema, known: dict) -> tuple[str, ...]:
    found: set[str] = set()
    for side, (schema, location) in enumerate(((old, finding.old), (new, finding.new))):
        if finding.sections:
            for name in finding.sections:
                key = (side, section_key(name, finding.target))
                if key not in known:
                    known[key] = section_targets(schema, key[1]) or set()
                found |= known[key]
        elif location is not None:
            found |= file_targets(schema, location.file) or set()
    return tuple(sorted(found))
