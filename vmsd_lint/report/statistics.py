"""`--statistics`: how many findings of each rule and in each directory, by severity,
instead of the findings themselves (as `ruff --statistics`): where to start at release scale.

     count  error  warning   info  rule
       163     40       23    100  field-added
"""
from __future__ import annotations

import json
import posixpath
from collections import Counter
from collections.abc import Callable

from ..catalogue import SEVERITIES
from ..diff.findings import Finding, Report
from .check_json import versions
from .text import summary_line

NO_FILE = "(no file)"


def statistics(report: Report) -> dict[str, dict[str, dict[str, int]]]:
    """{"rules": {slug: {"total", "error", "warning", "info"}}, "directories": {...}}, each
    sorted by count (most first), then name."""
    return {"rules": _counts(report.findings, lambda f: f.rule),
            "directories": _counts(report.findings, directory_of)}


def directory_of(finding: Finding) -> str:
    """The directory of the file a finding is reported at (NEW's place, else OLD's)."""
    loc = finding.location
    return (posixpath.dirname(loc.file) or ".") if loc is not None else NO_FILE


def _counts(findings: list[Finding], key: Callable[[Finding], str]) -> dict[str, dict[str, int]]:
    by_name: dict[str, Counter[str]] = {}
    for finding in findings:
        by_name.setdefault(key(finding), Counter())[finding.severity] += 1
    ordered = sorted(by_name.items(), key=lambda item: (-sum(item[1].values()), item[0]))
    return {name: {"total": sum(counts.values()), **{s: counts[s] for s in SEVERITIES}} for name, counts in ordered}


def render_statistics_text(report: Report) -> str:
    data = statistics(report)
    lines = [summary_line(report)]
    for title, table in (("rule", data["rules"]), ("directory", data["directories"])):
        lines += ["", f"{'count':>6} " + " ".join(f"{s:>7}" for s in SEVERITIES) + f"  {title}"]
        lines += [f"{row['total']:>6} " + " ".join(f"{row[s]:>7}" for s in SEVERITIES) + f"  {name}"
                  for name, row in table.items()]
    return "\n".join(lines) + "\n"


def render_statistics_json(report: Report) -> str:
    return json.dumps({"summary": report.summary(), **statistics(report), "version": versions()}, indent=2) + "\n"
