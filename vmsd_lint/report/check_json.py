"""`--format json` of a check: the schema in design/cli.md; of a review, the same with
the patches."""
from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING

from .. import __version__
from ..catalogue import catalogue_version
from ..diff.findings import Finding, Report
from ..sources.patches import Patch
from .messages import directions_words, message

if TYPE_CHECKING:  # the review rendered (app stage): used for annotations only
    from ..app.review import Review


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
        # the words the text report puts after the message: "breaks forward", "wire-compatible",
        # "not checked" (an unresolved construct: info, but not known to be compatible)
        "verdict": directions_words(finding),
        "runtime_error": finding.runtime_error,
        "targets": list(finding.targets) if finding.targets is not None else None,
        "commit": finding.commit,
        "introduced_by": finding.introduced_by,
        "fingerprint": finding.fingerprint,
        "target": finding.target,
        "note": finding.note,
        "machines": finding.machines.to_json() if finding.machines is not None else None,
        "downgrade": {"severity": finding.was[0], "directions": list(finding.was[1]), "reason": finding.downgrade}
        if finding.was is not None else None,
        "fix": finding.fix,
        "cause": cause_dict(finding),
    }


def cause_dict(finding: Finding) -> dict | None:
    """The changed definition behind the finding (diff/causes.py), or None."""
    cause = finding.cause
    if cause is None:
        return None
    return {"symbol": cause.symbol, "old": asdict(cause.old) if cause.old else None,
            "new": asdict(cause.new) if cause.new else None}


def report_dict(report: Report, show_waived: bool = False) -> dict:
    data = {
        "old": {"endpoint": report.old.label, "commit": report.old.commit, "kind": report.old.kind},
        "new": {"endpoint": report.new.label, "commit": report.new.commit, "kind": report.new.kind},
        "findings": [finding_dict(f) for f in report.findings],
        "summary": report.summary(),
        "diagnostics": [dict(asdict(d), side=side) for side, d in report.diagnostics],
        "notes": list(report.notes),
        "unmatched_waivers": list(report.unmatched_waivers),
        "version": versions(),
    }
    if show_waived:
        data["waived"] = [dict(finding_dict(f), reason=f.waived_by) for f in report.waived]
    return data


def versions() -> dict[str, str]:
    """What produced the report: the tool's version and the catalogue's (catalogue.catalogue_version)."""
    return {"vmsd_lint": __version__, "catalogue": catalogue_version()}


def render_json(report: Report, show_waived: bool = False) -> str:
    return json.dumps(report_dict(report, show_waived), indent=2) + "\n"


def render_review_json(review: Review) -> str:
    data = report_dict(review.report)
    data["patches"] = [_patch_dict(step.patch) for step in review.steps]
    return json.dumps(data, indent=2) + "\n"


def _patch_dict(patch: Patch) -> dict:
    return {"number": patch.number, "total": patch.total, "subject": patch.subject, "author": patch.author,
            "date": patch.date, "message_id": patch.message_id, "files": sorted({d.path for d in patch.files})}
