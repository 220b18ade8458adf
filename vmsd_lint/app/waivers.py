"""Waivers and settings (`.vmsd-lint.toml`): accepted findings, each with a reason, and
the defaults of the scope options.

    [settings]
    target = "x86_64"               # as --target
    machine = "pc-q35-7.2"          # as --machine
    cpu = "cortex-a57"              # as --cpu: the Arm CPU model whose register list is compared
    board_only = "info"             # the severity of a board-only finding at most: info, warning, error
    select = ["field-*"]            # as --select: rule slugs or globs (a string or a list)
    ignore = ["field-renamed"]      # as --ignore
    severity = "warning"            # as --severity: the least severity shown

    [[waiver]]
    rule = "field-removed"          # catalogue slug, or an fnmatch glob of slugs (required)
    vmsd = "serial"                 # the VMSD's wire name, or an fnmatch glob (required)
    path = "serial/lsr"             # optional; fnmatch pattern
    directions = ["forward"]        # optional; matches only these exact directions
    reason = "pc-q35-2.x machine types were dropped in 9.1"   # required

A waiver matches on the finding's type and place, never its words, so rewording a
message does not revive a waived finding.  A malformed file is an error, a waiver that
matches nothing is reported.
"""
from __future__ import annotations

import datetime
import fnmatch
import tomllib
from dataclasses import dataclass

from ..diff.findings import Finding, Report
from ..errors import InputError
from ..sources.tree import SkippedFile, read_regular_file
from .triage import check_rule_patterns

KEYS = {"rule", "vmsd", "path", "directions", "reason"}
SETTINGS = {"target", "machine", "cpu", "board_only", "select", "ignore", "severity"}
RULE_LISTS = ("select", "ignore")  # a string or a list of strings
BOARD_ONLY = ("info", "warning", "error")


@dataclass(frozen=True)
class Settings:
    """The `[settings]` table: defaults that the command line's options override."""
    target: str | None = None
    machine: str | None = None
    cpu: str | None = None
    board_only: str | None = None
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    severity: str | None = None


@dataclass(frozen=True)
class Waiver:
    rule: str
    vmsd: str
    reason: str
    path: str | None = None
    directions: tuple[str, ...] | None = None

    def matches(self, finding: Finding) -> bool:
        return (_name_matches(finding.rule, self.rule) and _name_matches(finding.vmsd, self.vmsd)
                and (self.path is None or fnmatch.fnmatchcase(finding.path, self.path))
                and (self.directions is None or tuple(sorted(self.directions)) == finding.broken_directions))

    def describe(self) -> str:
        where = f" path={self.path}" if self.path else ""
        return f"rule={self.rule} vmsd={self.vmsd}{where} ({self.reason})"


def _name_matches(name: str, pattern: str) -> bool:
    """NAME is PATTERN, or matches it as a glob (an exact name with [ in it, written
    before globs were allowed, still matches itself)."""
    return name == pattern or fnmatch.fnmatchcase(name, pattern)


def load_waivers(path: str) -> list[Waiver]:
    return load_config(path)[0]


def load_config(path: str) -> tuple[list[Waiver], Settings]:
    """The waivers and the settings of a config file; a malformed one is an InputError."""
    try:
        data = tomllib.loads(read_regular_file(path).decode("utf-8"))
    except SkippedFile as exc:  # a FIFO would wait for a writer forever
        raise InputError(f"{path}: not read as a waiver file: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not valid TOML ({exc})") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not valid TOML (not UTF-8 text)") from None
    except RecursionError:
        raise InputError(f"{path}: not a TOML file this tool reads (nested too deeply)") from None
    except OSError as exc:
        raise InputError(f"{path}: {exc.strerror}") from None
    entries = data.get("waiver", [])
    unknown = set(data) - {"waiver", "settings"}
    if unknown or not isinstance(entries, list):
        raise InputError(f"{path}: expected only [[waiver]] tables and a [settings] table, found "
                         f"{', '.join(sorted(unknown)) or 'waiver'}")
    return [_waiver(entry, path, n) for n, entry in enumerate(entries, 1)], _settings(data.get("settings", {}), path)


def _settings(table, path: str) -> Settings:
    if not isinstance(table, dict):
        raise InputError(f"{path}: [settings] must be a table")
    extra = set(table) - SETTINGS
    if extra:
        raise InputError(f"{path}: [settings]: unknown key(s) {', '.join(sorted(extra))} "
                         f"(known: {', '.join(sorted(SETTINGS))})")
    table = dict(table)
    rules = {key: _rule_list(table.pop(key), path, key) for key in RULE_LISTS if key in table}
    for key, value in table.items():
        if not isinstance(value, str) or not value.strip():
            raise InputError(f"{path}: [settings]: '{key}' must be a non-empty string")
    for key in ("board_only", "severity"):
        if table.get(key, "info") not in BOARD_ONLY:
            raise InputError(f"{path}: [settings]: {key} must be one of {', '.join(BOARD_ONLY)}, "
                             f"not '{table[key]}'")
    return Settings(**{key: value.strip() for key, value in table.items()}, **rules)


def _rule_list(value, path: str, key: str) -> tuple[str, ...]:
    """select/ignore: one slug or glob, or a list of them, each naming some rule."""
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not all(isinstance(v, str) and v.strip() for v in values):
        raise InputError(f"{path}: [settings]: '{key}' must be a rule slug or glob, or a list of them")
    return check_rule_patterns([v.strip() for v in values], f"{path}: [settings] {key}")


def _waiver(entry, path: str, number: int) -> Waiver:
    where = f"{path}: waiver {number}"
    if not isinstance(entry, dict):
        raise InputError(f"{where}: not a table")
    extra = set(entry) - KEYS
    if extra:
        raise InputError(f"{where}: unknown key(s) {', '.join(sorted(extra))}")
    for key in ("rule", "vmsd", "reason"):
        if not isinstance(entry.get(key), str) or not entry[key].strip():
            raise InputError(f"{where}: '{key}' is required (a non-empty string)")
    check_rule_patterns([entry["rule"]], where)  # a slug, or a glob matching at least one
    directions = entry.get("directions")
    if directions is not None and (not isinstance(directions, list)
                                   or not set(directions) <= {"forward", "backward"}):
        raise InputError(f"{where}: 'directions' must be a list of \"forward\"/\"backward\"")
    path_pattern = entry.get("path")
    if path_pattern is not None and not isinstance(path_pattern, str):
        raise InputError(f"{where}: 'path' must be a string")
    return Waiver(entry["rule"], entry["vmsd"], entry["reason"].strip(), path_pattern,
                  tuple(directions) if directions is not None else None)


def apply_waivers(report: Report, waivers: list[Waiver]) -> None:
    used: set[int] = set()
    kept = []
    for finding in report.findings:
        match = next((n for n, w in enumerate(waivers) if w.matches(finding)), None)
        if match is None:
            kept.append(finding)
            continue
        used.add(match)
        report.waived.append(finding.with_(waived_by=waivers[match].reason))
    report.findings = kept
    report.unmatched_waivers = [w.describe() for n, w in enumerate(waivers) if n not in used]


def baseline_toml(findings: list[Finding]) -> str:
    """Waivers for every current finding, to be reviewed and given real reasons."""
    today = datetime.date.today().isoformat()
    lines = [f"# vmsd-lint baseline written {today}: replace each reason with the real one.", ""]
    for finding in findings:
        lines += ["[[waiver]]", f"rule = {_toml_str(finding.rule)}", f"vmsd = {_toml_str(_escape_glob(finding.vmsd))}",
                  f"path = {_toml_str(_escape_glob(finding.path))}",
                  f"directions = [{', '.join(_toml_str(d) for d in finding.broken_directions)}]",
                  f"reason = {_toml_str('baseline: accepted when the baseline was written')}", ""]
    return "\n".join(lines)


def _escape_glob(text: str) -> str:
    return "".join(f"[{c}]" if c in "*?[" else c for c in text)


def _toml_str(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'
