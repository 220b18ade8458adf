"""`--format github` of a check: GitHub Actions workflow commands, one annotation a finding,
or for the findings of one cause (a changed macro: report/causes.py) one annotation at the
changed line, listing the sections and the findings.

    ::error file=hw/gpio/pl061.c,line=63,title=[field-removed] pl061::vmstate 'pl061': ... (breaks ...)

error -> ::error, warning -> ::warning, info -> ::notice.  The place is the NEW one, else the
OLD one.  Values are escaped as the runner expects (% CR LF in the message; also : and , in
the properties).  A waiver that matched nothing is a ::warning; notes and the summary line
are plain text, so they show in the job log.
"""
from __future__ import annotations

from ..catalogue import SEVERITIES
from ..diff.causes import Cause
from ..diff.findings import Finding, Report
from ..model import Severity
from .causes import by_cause, cause_words, sections_of, worst
from .messages import directions_words, headline, machines_words, one_line
from .text import summary_line

COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str, **properties: str | int | None) -> str:
    # a property is one line: a file name's control characters are written as escapes
    props = ",".join(f"{key}={escape_property(one_line(str(value)))}" for key, value in properties.items()
                     if value is not None)
    message = "\n".join(one_line(line) for line in message.split("\n"))  # the runner shows \n as lines
    return f"::{name}{' ' + props if props else ''}::{escape_data(message)}"


def annotation(finding: Finding, report: Report) -> str:
    lines = [f"{headline(finding)} ({directions_words(finding)})"]
    loc = finding.location
    if finding.new is None and finding.old is not None:
        lines.append(f"(place in OLD, {report.old.label}: gone in NEW)")
    elif finding.old and finding.new and finding.old != finding.new:
        lines.append(f"was at {finding.old} in OLD")
    if finding.runtime_error:
        lines.append(f"QEMU prints: {finding.runtime_error}")
    machines = machines_words(finding)
    if machines:
        lines.append(f"machine types: {machines}")
    if finding.fix:
        lines.append(f"fix: {finding.fix}")
    if finding.origin:
        lines.append(f"introduced by {finding.origin}")
    lines.append(f"vmsd-lint explain {finding.rule}")
    return command(COMMANDS[finding.severity], "\n".join(lines),
                   file=loc.file if loc else None, line=loc.line if loc and loc.line >= 1 else None,
                   title=f"[{finding.rule}] {finding.vmsd}")


def cause_annotation(cause: Cause, findings: list[Finding]) -> str:
    """One annotation at the changed definition for all the findings it causes, at the
    level of the most severe, listing the sections and what each finding is."""
    level = COMMANDS[Severity(SEVERITIES[worst(findings)])]
    lines = [f"{cause_words(cause, findings)}: " + ", ".join(sections_of(findings))]
    lines += [f"{f.location}: [{f.rule}] {headline(f)} ({directions_words(f)})" for f in findings]
    lines.append(f"vmsd-lint explain {' / '.join(sorted({f.rule for f in findings}))}")
    loc = cause.location
    count = len(findings)
    return command(level, "\n".join(lines), file=loc.file if loc else None,
                   line=loc.line if loc and loc.line >= 1 else None,
                   title=f"{cause.symbol} changed: {count} finding{'s' if count != 1 else ''}")


def render_github(report: Report) -> str:
    # the findings of one cause are one annotation, at the changed line (report/causes.py)
    out = [cause_annotation(cause, found) for cause, found in by_cause(report.findings).items()]
    out += [annotation(finding, report) for finding in report.findings if finding.cause is None]
    out += [command("warning", f"vmsd-lint: waiver matched no finding: {waiver}")
            for waiver in report.unmatched_waivers]
    out += [one_line(f"vmsd-lint: note: {note}") for note in report.notes]
    out.append(summary_line(report))
    return "\n".join(out) + "\n"
