"""Triage at release scale: which findings a run shows, as ruff users expect.

    --select/--ignore RULE|GLOB   rule slugs or fnmatch globs of them ([settings] select, ignore)
    --severity MIN                error, warning or info ([settings] severity)
    --section GLOB, --vmsd GLOB   a finding's top-level sections or its VMSD's wire name
    -- PATHSPEC...                the files whose changes count (git pathspecs: a path, a
                                  directory prefix, a glob; ':!PATTERN' excludes)

A finding filtered out is neither shown nor counted, and does not fail the run; a note
says how many were left out, so a filtered report never passes for a whole one.
"""
from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass

from ..catalogue import SEVERITIES, load_catalogue
from ..diff.findings import Finding, Report
from ..errors import InputError

GLOB_CHARS = frozenset("*?[")
EXCLUDE_PREFIXES = (":!", ":^", ":(exclude)")  # git's pathspec magic for "not these"


@dataclass(frozen=True, slots=True)
class Triage:
    select: tuple[str, ...] = ()  # empty: every rule
    ignore: tuple[str, ...] = ()
    severity: str | None = None  # the least severity shown; None: all
    sections: tuple[str, ...] = ()
    vmsds: tuple[str, ...] = ()
    pathspec: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        return any((self.select, self.ignore, self.severity not in (None, "info"), self.sections, self.vmsds,
                    self.pathspec))

    def shows(self, finding: Finding) -> bool:
        return (_rule_selected(finding.rule, self.select, self.ignore)
                and (self.severity is None or SEVERITIES.index(finding.severity) <= SEVERITIES.index(self.severity))
                and (not self.sections or any(_glob_any(s, self.sections) for s in finding.sections))
                and (not self.vmsds or _glob_any(finding.vmsd, self.vmsds))
                and (not self.pathspec or any(pathspec_matches(f, self.pathspec) for f in finding_files(finding))))


def check_rule_patterns(patterns: Iterable[str], where: str) -> tuple[str, ...]:
    """PATTERNS (slugs or globs) as given, each checked against the catalogue: a slug that
    names no rule, or a glob that matches none, is an InputError naming the nearest slug."""
    slugs = list(load_catalogue())
    for pattern in patterns:
        if pattern in slugs or (GLOB_CHARS & set(pattern) and fnmatch.filter(slugs, pattern)):
            continue
        raise InputError(f"{where}: unknown rule '{pattern}'{nearest_hint(pattern, slugs)}")
    return tuple(patterns)


def nearest_hint(word: str, known: Iterable[str]) -> str:
    """"; did you mean 'X'?" when a known word is close to WORD, else ""."""
    close = difflib.get_close_matches(word, list(known), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def apply_triage(report: Report, triage: Triage) -> None:
    """REPORT's findings (and waived findings) restricted to what TRIAGE shows; a note counts the rest."""
    if not triage.active:
        return
    kept = [f for f in report.findings if triage.shows(f)]
    left_out = len(report.findings) - len(kept)
    report.findings = kept
    report.waived = [f for f in report.waived if triage.shows(f)]
    if left_out:
        report.notes.append(f"{left_out} finding(s) left out by {describe(triage)}")


def describe(triage: Triage) -> str:
    """The filters in the command line's words, for the note."""
    parts = [f"--select {','.join(triage.select)}" if triage.select else "",
             f"--ignore {','.join(triage.ignore)}" if triage.ignore else "",
             f"--severity {triage.severity}" if triage.severity not in (None, "info") else "",
             f"--section {','.join(triage.sections)}" if triage.sections else "",
             f"--vmsd {','.join(triage.vmsds)}" if triage.vmsds else "",
             f"-- {' '.join(triage.pathspec)}" if triage.pathspec else ""]
    return " ".join(part for part in parts if part)


def finding_files(finding: Finding) -> list[str]:
    """The files whose change a finding reports: its VMSD's, on either side, and its
    cause's (a macro or type definition) when the finding names one."""
    places = [finding.old, finding.new]
    if finding.cause is not None:
        places += [finding.cause.old, finding.cause.new]
    return sorted({place.file for place in places if place is not None})


def pathspec_matches(path: str, pathspec: tuple[str, ...]) -> bool:
    """Whether PATH is among the files PATHSPEC names, as git reads a pathspec: a pattern
    matches the path itself, any file under it as a directory, or as a glob; PATH is
    named when some positive pattern (or none: only exclusions) matches and no ':!' one does."""
    include = [p for p in pathspec if not p.startswith(EXCLUDE_PREFIXES)]
    exclude = [_strip_exclude(p) for p in pathspec if p.startswith(EXCLUDE_PREFIXES)]
    if include and not any(_path_pattern(path, p) for p in include):
        return False
    return not any(_path_pattern(path, p) for p in exclude)


def _strip_exclude(pattern: str) -> str:
    for prefix in EXCLUDE_PREFIXES:
        if pattern.startswith(prefix):
            return pattern[len(prefix):]
    return pattern


def _path_pattern(path: str, pattern: str) -> bool:
    pattern = pattern.removeprefix("./")
    if pattern in ("", ".", "/"):
        return True
    directory = pattern.rstrip("/")
    return path == directory or path.startswith(directory + "/") or fnmatch.fnmatchcase(path, pattern)


def _rule_selected(rule: str, select: tuple[str, ...], ignore: tuple[str, ...]) -> bool:
    return (not select or _glob_any(rule, select)) and not _glob_any(rule, ignore)


def _glob_any(name: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)
