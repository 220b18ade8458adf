"""`--format markdown` of a check: a comment for a pull or merge request.

A heading with the counts, the endpoints, one list entry for the findings of each cause
(a changed macro: report/causes.py), one table row for each other finding, then a collapsed
<details> with what QEMU prints and the `vmsd-lint explain` hints.  With no finding, one
line that says no migration-breaking change was found, and still lists the notes (what
could not be checked): it never calls a range clean when something was not resolved.

A GitHub comment holds at most 65,536 characters: the rows go errors first, and past that
the table is cut, with a line counting what was left out and naming the command that
prints the whole report (fit_comment).
"""
from __future__ import annotations

import re
from collections import Counter

from ..catalogue import SEVERITIES
from ..diff.findings import Finding, Report
from .causes import by_cause, sections_of
from .messages import directions_words, machine_counts_words, machines_words, message, one_line

_CELL_SPECIAL = re.compile(r"[\\|`*\[\]<>]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
_ENTITIES = {"<": "&lt;", ">": "&gt;"}
COMMENT_LIMIT = 65_536  # characters in one GitHub issue or pull-request comment


def cell(text: str) -> str:
    """Plain text for a table cell, on one line: |, the inline Markdown markers, < and >, and
    an _ at the edge of a word escaped (an _ inside a word like old_in_data stays as it is)."""
    text = one_line(" ".join(text.splitlines()))
    return _CELL_SPECIAL.sub(lambda m: _ENTITIES.get(m.group(), "\\" + m.group()), text)


def code(text: str, table: bool = True) -> str:
    """An inline code span, on one line; its fence is longer than any run of backticks in
    TEXT (which could otherwise close it); in a table a pipe is escaped even inside code (GFM)."""
    text = one_line(text)
    ticks = "`" * (max(map(len, re.findall("`+", text)), default=0) + 1)
    pad = " " if len(ticks) > 1 else ""
    if table:
        text = text.replace("|", "\\|")
    return f"{ticks}{pad}{text}{pad}{ticks}"


def _endpoint(report: Report, side: str) -> str:
    endpoint = report.old if side == "old" else report.new
    commit = f" ({endpoint.commit[:12]})" if endpoint.commit else ""
    return f"{code(endpoint.label, False)}{commit}"


def _counts(report: Report) -> str:
    counts = report.summary()
    parts = [f"{counts['error']} error(s)", f"{counts['warning']} warning(s)", f"{counts['info']} info"]
    if counts["waived"]:
        parts.append(f"{counts['waived']} waived")
    if report.machines_judged:
        parts.append(machine_counts_words(report))
    return ", ".join(parts)


def _where(finding: Finding) -> str:
    loc = finding.location
    if loc is None:
        return ""
    side = " (OLD)" if finding.new is None else ""
    return code(f"{loc.file}:{loc.line}") + side


def _row(finding: Finding) -> str:
    if finding.rule == "unresolved":  # vmsd/path are the file and the message: shown elsewhere
        vmsd_path = "(unresolved in NEW)"
    else:
        vmsd_path = code(finding.vmsd) + (f" / {code(finding.path)}" if finding.path != finding.vmsd else "")
    breaks = ", ".join(finding.directions) if finding.directions else \
        directions_words(finding) if finding.rule == "unresolved" else "-"
    text = cell(message(finding)) + (f" (introduced by {code(finding.origin)})" if finding.origin else "")
    machines = machines_words(finding)
    if machines:
        text += f"; machine types: {cell(machines)}"
    return (f"| {finding.severity} | {code(finding.rule)} | {_where(finding)} | {vmsd_path} | {breaks} "
            f"| {text} |")


def _notes(report: Report) -> list[str]:
    lines = [f"- note: {cell(note)}" for note in report.notes]
    lines += [f"- waiver matched no finding: {cell(waiver)}" for waiver in report.unmatched_waivers]
    return lines


def render_markdown(report: Report) -> str:
    between = f"{_endpoint(report, 'old')} → {_endpoint(report, 'new')}"
    waived = report.summary()["waived"]
    if not report.findings:
        partial = bool(report.notes or report.diagnostics)
        line = (f"**vmsd-lint**: no migration-breaking change found{' in what could be checked' if partial else ''}, "
                f"{between}{f' ({waived} waived)' if waived else ''}.")
        if partial:
            line += " Not everything could be checked: see the notes below."
        notes = _notes(report)
        return "\n".join([line, *([""] + notes if notes else [])]) + "\n"
    # the findings of one cause are one entry above the table (report/causes.py)
    return fit_comment(report, between, by_severity([f for f in report.findings if f.cause is None]))


def cause_lines(report: Report, shown_sections: int = 30) -> list[str]:
    """One list entry a cause: the changed line, the sections (the first SHOWN_SECTIONS),
    the findings by rule and severity, and one of their messages as an example."""
    lines = []
    for cause, found in by_cause(report.findings).items():
        sections = sections_of(found)
        listed = ", ".join(code(s, False) for s in sections[:shown_sections])
        if len(sections) > shown_sections:
            listed += f" and {len(sections) - shown_sections} more"
        kinds = Counter((f.severity, f.rule) for f in found)
        counts = ", ".join(f"{n} {severity} {code(rule, False)}" for (severity, rule), n in
                           sorted(kinds.items(), key=lambda item: (SEVERITIES.index(item[0][0]), item[0][1])))
        symbol, where = code(cause.symbol, False), code(str(cause.location), False)
        lines.append(f"- **cause**: {symbol} changed at {where}: {counts} in {len(sections)} "
                     f"section(s): {listed}. For example: {cell(message(found[0]))}")
    return lines


def by_severity(findings: list[Finding]) -> list[Finding]:
    """Errors first, then warnings, then info, each in the report's order: what a cut keeps."""
    return sorted(findings, key=lambda f: SEVERITIES.index(f.severity))


def fit_comment(report: Report, between: str, findings: list[Finding], limit: int = COMMENT_LIMIT) -> str:
    """The comment with as many of FINDINGS' rows as keep it under LIMIT characters (all of
    them when they fit): the longest such prefix, found by bisection."""
    text = _comment(report, between, findings, len(findings))
    if len(text) < limit:
        return text
    low, high = 0, len(findings) - 1  # _comment(low) fits (checked below), _comment(high + 1) does not
    while low < high:
        middle = (low + high + 1) // 2
        if len(_comment(report, between, findings, middle)) < limit:
            low = middle
        else:
            high = middle - 1
    return _comment(report, between, findings, low)


def _comment(report: Report, between: str, findings: list[Finding], shown: int) -> str:
    """The comment with the first SHOWN rows of FINDINGS; what QEMU prints is listed for those only."""
    out = [f"### vmsd-lint: {_counts(report)}", "", between, ""]
    causes = cause_lines(report)
    if causes:
        out += ["Findings whose cause is one changed definition (a macro the fields expand):", "", *causes, ""]
    if findings:
        out += ["| severity | rule | where (file:line) | vmsd / path | breaks | message |",
                "| --- | --- | --- | --- | --- | --- |"]
    out += [_row(finding) for finding in findings[:shown]]
    if shown < len(findings):
        out += ["", cut_line(report, findings[shown:])]
    notes = _notes(report)
    if notes:
        out += [""] + notes
    out += ["", "<details>", "<summary>What QEMU prints, and how to fix each type</summary>", ""]
    grouped = [f for f in report.findings if f.cause is not None][:1]  # one of a cause's is an example
    runtime = [f"- {code(f.rule, False)} on {code(f.vmsd, False)}: QEMU prints {code(f.runtime_error, False)}"
               for f in grouped + findings[:shown] if f.runtime_error]
    if runtime:
        out += ["QEMU prints, when the migration breaks:", "", *runtime, ""]
    out += ["What happens and how to fix it:", ""]
    out += [f"- `vmsd-lint explain {slug}`" for slug in sorted({f.rule for f in report.findings})]
    out += ["", "</details>"]
    return "\n".join(out) + "\n"


def cut_line(report: Report, left_out: list[Finding]) -> str:
    """What the cut left out, by severity, and the command that prints everything."""
    counts = ", ".join(f"{n} {s}" for s in SEVERITIES if (n := sum(1 for f in left_out if f.severity == s)))
    command = code(f"vmsd-lint {report.old.label}..{report.new.label}", False)
    return (f"**{len(left_out)} more finding(s) not shown** ({counts}): a GitHub comment holds at most "
            f"{COMMENT_LIMIT:,} characters. The full report: {command} (add `--format json` or "
            f"`--statistics` for an overview).")
