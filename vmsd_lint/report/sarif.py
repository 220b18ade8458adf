"""`--format sarif` of a check: a SARIF 2.1.0 log for code-scanning dashboards.

One run.  `tool.driver.rules` is the whole failure catalogue (so `ruleIndex` is stable for a
given catalogue); each finding is a result located at its NEW place, else its OLD one (the
OLD place goes to `relatedLocations` when both exist), with the finding's fingerprint as
`partialFingerprints["vmsdLint/v1"]`.  Waived findings are results with an external
suppression carrying the waiver's reason.  Keys are sorted: the output is deterministic.
"""
from __future__ import annotations

import json
import os
from urllib.parse import quote

from .. import __version__
from ..catalogue import Rule, load_catalogue
from ..diff.findings import Finding, Report
from ..model import Location, Severity
from .catalogue import md_prose
from .check_json import cause_dict
from .messages import directions_words, headline, machines_words

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
# The project has no public home yet: the PyPI project page of the distribution name.
INFORMATION_URI = "https://pypi.org/project/vmsd-lint/"
FINGERPRINT_KEY = "vmsdLint/v1"
SRCROOT = "%SRCROOT%"
LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def render_sarif(report: Report) -> str:
    return json.dumps(sarif_log(report), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def sarif_log(report: Report) -> dict:
    catalogue = load_catalogue()
    index = {slug: n for n, slug in enumerate(catalogue)}
    results = [_result(f, report, index) for f in report.findings]
    results += [_result(f, report, index, waived=True) for f in report.waived]
    run = {
        "tool": {"driver": {
            "name": "vmsd-lint",
            "version": __version__,
            "semanticVersion": __version__,
            "informationUri": INFORMATION_URI,
            "rules": [rule_descriptor(rule) for rule in catalogue.values()],
        }},
        "results": results,
        "invocations": [_invocation(report)],
        "columnKind": "unicodeCodePoints",
        "properties": {
            "old": {"endpoint": report.old.label, "commit": report.old.commit, "kind": report.old.kind},
            "new": {"endpoint": report.new.label, "commit": report.new.commit, "kind": report.new.kind},
            "summary": report.summary(),
            "notes": list(report.notes),
        },
    }
    return {"$schema": SCHEMA_URI, "version": SARIF_VERSION, "runs": [run]}


def rule_descriptor(rule: Rule) -> dict:

    summary = rule.summary[:1].upper() + rule.summary[1:] + ("" if rule.summary.endswith(".") else ".")
    text = [summary, "", rule.explanation.strip()]
    markdown = [md_prose(summary), "", md_prose(rule.explanation.strip())]
    if rule.recipes:
        text += ["", "How to fix:"]
        markdown += ["", "### How to fix"]
        for number, recipe in enumerate(rule.recipes, 1):
            text += ["", f"{number}. {recipe.title}", recipe.body.strip()]
            markdown += ["", f"#### {md_prose(recipe.title)}", "", md_prose(recipe.body.strip())]
    text += ["", f"vmsd-lint explain {rule.slug}"]
    markdown += ["", f"`vmsd-lint explain {rule.slug}`"]
    return {
        "id": rule.slug,
        "name": "".join(part.capitalize() for part in rule.slug.split("-")),
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.summary},
        "help": {"text": "\n".join(text), "markdown": "\n".join(markdown)},
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
        "properties": {"directions": list(rule.directions), "tags": ["live-migration", "vmstate"]},
    }


def _result(finding: Finding, report: Report, index: dict[str, int], waived: bool = False) -> dict:
    result = {
        "ruleId": finding.rule,
        "level": LEVELS[finding.severity],
        "message": {"text": f"{headline(finding)} ({directions_words(finding)})"},
        "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint},
        "properties": {
            "vmsd": finding.vmsd,
            "path": finding.path,
            "sections": list(finding.sections),
            "types": list(finding.types),
            "directions": list(finding.directions),
            "runtime_error": finding.runtime_error,
            "commit": finding.commit,
            "introduced_by": finding.introduced_by,
        },
    }
    if finding.machines is not None:  # (properties only a machine verdict gives)
        result["properties"]["machines"] = finding.machines.to_json()
    if finding.was is not None:
        result["properties"]["downgrade"] = {"severity": finding.was[0], "directions": list(finding.was[1]),
                                             "reason": finding.downgrade}
    if finding.fix:
        result["properties"]["fix"] = finding.fix
    machines = machines_words(finding)
    if machines:
        result["message"]["text"] += f"\nmachine types: {machines}"
    if finding.rule in index:
        result["ruleIndex"] = index[finding.rule]
    if finding.new:
        result["locations"] = [_location(finding.new, f"in NEW ({report.new.label})")]
        if finding.old:
            result["relatedLocations"] = [dict(_location(finding.old, f"in OLD ({report.old.label})"), id=1)]
    elif finding.old:
        result["locations"] = [_location(finding.old, f"in OLD ({report.old.label}); gone in NEW")]
    cause = finding.cause
    if cause is not None and cause.location is not None:  # the changed definition (report/causes.py)
        related = result.setdefault("relatedLocations", [])
        related.append(dict(_location(cause.location, f"cause: {cause.symbol} changed here"), id=len(related) + 1))
        result["properties"]["cause"] = cause_dict(finding)
    if waived:
        result["suppressions"] = [{"kind": "external", "justification": finding.waived_by or ""}]
    return result


def _location(location: Location, what: str) -> dict:
    if os.path.isabs(location.file):  # e.g. a -dump-vmstate file given by absolute path
        artifact = {"uri": "file://" + quote(location.file)}
    else:
        artifact = {"uri": quote(location.file.replace(os.sep, "/")), "uriBaseId": SRCROOT}
    physical: dict = {"artifactLocation": artifact}
    if location.line >= 1:
        physical["region"] = {"startLine": location.line}
    return {"physicalLocation": physical, "message": {"text": what}}


def _invocation(report: Report) -> dict:
    notifications = [{"level": "note", "message": {"text": note}} for note in report.notes]
    notifications += [{"level": "warning", "message": {"text": f"waiver matched no finding: {waiver}"}}
                      for waiver in report.unmatched_waivers]
    invocation: dict = {"executionSuccessful": True}
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    return invocation
