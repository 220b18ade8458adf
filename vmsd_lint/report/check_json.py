"""`--format json` of a check: the schema in design/cli.md."""
from __future__ import annotations

import json
from dataclasses import asdict

from ..diff.findings import Finding, Report
from .messages import message


def finding_dict(finding: Finding) -> dict:
    return {
        "rule": finding.rule,
        "severity": finding.severity,
        "directions": list(finding.directions),
        "vmsd": finding.vmsd,
        "path": finding.path,
        "sections": list(finding.sections),
        "types": list(finding.types),
        "old": asdict(finding.old) if finding.old else None,
        "new": asdict(finding.new) if finding.new else None,
        "message": message(finding),
        "runtime_error": finding.runtime_error,
        "commit": finding.commit,
        "introduced_by": finding.introduced_by,
        "fingerprint": finding.fingerprint,
        "target": finding.target,
        "note": finding.note,
    }


def report_dict(report: Report, show_waived: bool = False) -> dict:
    data = {
        "old": {"endpoint": report.old.label, "commit": report.old.commit, "kind": report.old.kind},
        "new": {"endpoint": report.new.label, "commit": report.new.commit, "kind": report.new.kind},
        "findings": [finding_dict(f) for f in report.findings],
        "summary": report.summary(),
        "diagnostics": [dict(asdict(d), side=side) for side, d in report.diagnostics],
        "notes": list(report.notes),
        "unmatched_waivers": list(report.unmatched_waivers),
    }
    if show_waived:
        data["waived"] = [dict(finding_dict(f), reason=f.waived_by) for f in report.waived]
    return data


def render_json(report: Report, show_waived: bool = False) -> str:
    return json.dumps(report_dict(report, show_waived), indent=2) + "\n"
