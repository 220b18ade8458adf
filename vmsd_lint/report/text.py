"""`--format text`: the totals, then gcc-style lines -- errors first, then warnings, then
info, each grouped by cause (the changed definition behind them, report/causes.py), then
by section (sorted case-insensitively) -- then the totals again.

    hw/char/serial.c:835: error: [field-removed] vmstate 'serial': field 'lsr' ... (breaks forward)
"""
from __future__ import annotations

import click

from ..catalogue import SEVERITIES
from ..diff.findings import DIAGNOSTICS_HIDDEN, DIAGNOSTICS_LISTED, Finding, Report
from ..model import Severity
from .causes import by_cause, cause_words
from .messages import directions_words, headline, machine_counts_words, machines_words, one_line

COLOURS = {Severity.ERROR: "red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


def render_text(report: Report, show_waived: bool = False, show_diagnostics: bool = False) -> str:
    # the totals first too: at release scale the last line is hundreds of lines away
    lines: list[str] = [summary_line(report)] if report.findings else []
    group, severity = "", ""
    causes = {cause: cause_words(cause, found) for cause, found in by_cause(report.findings).items()}
    for finding in triage_order(report.findings):
        if finding.severity != severity:
            severity, group = finding.severity, ""
            lines.append(severity_heading(report, severity))
        section = f"cause: {causes[finding.cause]}" if finding.cause else _group(finding)
        if section != group:
            group = section
            lines.append(click.style(one_line(section), bold=True))
        lines.extend(_finding_lines(finding, report.targets))
    if show_waived and report.waived:
        lines.append(click.style("waived", bold=True))
        for finding in report.waived:
            lines.extend(_finding_lines(finding))
            lines.append(f"    waived: {one_line(str(finding.waived_by))}")
    if show_diagnostics:
        for side, diag in report.diagnostics:
            lines.append(one_line(f"{diag.file}:{diag.line}: note: [{side}] {diag.message}"))
    for waiver in report.unmatched_waivers:
        lines.append(one_line(f"vmsd-lint: warning: waiver matched no finding: {waiver}"))
    for note in report.notes:
        if not show_diagnostics:
            note = note.replace(DIAGNOSTICS_LISTED, DIAGNOSTICS_HIDDEN)
        lines.append(one_line(f"vmsd-lint: note: {note}"))
    lines.append(summary_line(report))
    return "\n".join(lines) + "\n"


def triage_order(findings: list[Finding]) -> list[Finding]:
    """FINDINGS by severity (errors first), then the findings of one cause together (a
    changed header's: report/causes.py), then by their group heading case-insensitively
    ('section cpu' beside 'section CPU', unresolved constructs last), then as sorted."""
    def cause_key(f: Finding) -> tuple:
        return (0, f.cause.symbol, str(f.cause.location)) if f.cause else (1, "", "")
    return sorted(findings, key=lambda f: (SEVERITIES.index(f.severity), cause_key(f), f.rule == "unresolved",
                                           _group(f).casefold(), _group(f), f.sort_key()))


def severity_heading(report: Report, severity: str) -> str:
    count = sum(1 for f in report.findings if f.severity == severity)
    return click.style(f"== {count} {severity} finding(s) ==", fg=COLOURS[Severity(severity)], bold=True)


def _group(finding: Finding) -> str:
    if finding.rule == "unresolved":
        return "unresolved in NEW"
    if not finding.sections and finding.note:
        return f"VMSD {finding.vmsd} (no section sends it)"
    sections = ", ".join(finding.sections) or finding.vmsd
    target = f" [{finding.target}]" if finding.target else ""
    types = f" ({', '.join(finding.types[:4])}{', ...' if len(finding.types) > 4 else ''})" if finding.types else ""
    return f"section {sections}{target}{types}"


def targets_words(found: tuple[str, ...], every: tuple[str, ...]) -> str:
    """The targets whose binaries hold a finding's state, in few words."""
    if not found:
        return "none (no target's build compiles it)"
    if set(found) >= set(every):
        return f"all {len(every)}"
    shown = ", ".join(found[:6])
    return shown + (f" and {len(found) - 6} more" if len(found) > 6 else "") + f" (of {len(every)})"


def _finding_lines(finding: Finding, targets: tuple[str, ...] | None = None) -> list[str]:
    loc = finding.location
    where = f"{loc.file}:{loc.line}: " if loc else ""
    severity = click.style(finding.severity, fg=COLOURS[finding.severity], bold=True)
    lines = [f"{one_line(where)}{severity}: " + one_line(f"[{finding.rule}] {headline(finding)} "
                                                        f"({directions_words(finding)})")]
    if finding.old and finding.new and finding.old != finding.new:
        lines.append(one_line(f"    was at {finding.old}"))
    if finding.runtime_error:
        lines.append(one_line(f"    QEMU prints: {finding.runtime_error}"))
    machines = machines_words(finding)
    if machines:
        lines.append(one_line(f"    machine types: {machines}"))
    if finding.fix:
        lines.append(one_line(f"    fix: {finding.fix}"))
    if finding.targets is not None and targets is not None and (len(targets) > 1 or not finding.targets):
        lines.append(f"    targets: {targets_words(finding.targets, targets)}")
    if finding.origin:
        lines.append(one_line(f"    introduced by {finding.origin}"))
    if finding.note:
        lines.append(one_line(f"    note: {finding.note}"))
    return lines


def summary_line(report: Report) -> str:
    counts = report.summary()
    parts = [f"{counts['error']} error(s)", f"{counts['warning']} warning(s)", f"{counts['info']} info"]
    if counts["waived"]:
        parts.append(f"{counts['waived']} waived")
    if report.machines_judged:
        parts.append(machine_counts_words(report))
    sections = len({s for f in report.findings for s in f.sections})
    old = report.old.label + (f" ({report.old.commit[:12]})" if report.old.commit else "")
    new = report.new.label + (f" ({report.new.commit[:12]})" if report.new.commit else "")
    text = one_line(f"vmsd-lint: {', '.join(parts)} in {sections} section(s): {old} -> {new}")
    if not report.findings and not report.diagnostics:
        text += "; no migration-breaking change found"
    elif not report.findings:
        text += "; no breaking change found in what could be checked (see notes)"
    return text
