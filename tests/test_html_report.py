"""`--format html`: one self-contained page.  Its findings are the samples' real findings
(every samples/<type> pair checked, put in one report); the sorting and filtering script
is run by a real headless browser (Debian's chromium, which .ci/run installs), which
prints the page's DOM after the script ran."""
from __future__ import annotations

import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from vmsd_lint.app.check import Options, run_check
from vmsd_lint.catalogue import SEVERITIES
from vmsd_lint.diff.findings import Report
from vmsd_lint.report.formats import CHECK_FORMATS, RenderOptions
from vmsd_lint.report.messages import headline

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ["field-removed", "field-added-conditional", "unresolved", "section-added", "field-renamed",
           "subsection-removed", "minimum-version-raised"]
BROWSERS = ("chromium", "chromium-browser", "google-chrome")


@pytest.fixture(scope="module")
def report() -> Report:
    reports = [run_check(str(ROOT / "samples" / s / "old"), str(ROOT / "samples" / s / "new"), Options())
               for s in SAMPLES]
    merged = reports[0]
    for other in reports[1:]:
        merged.findings += other.findings
        merged.diagnostics += other.diagnostics
    assert {f.severity for f in merged.findings} == set(SEVERITIES)
    return merged


class Rows(HTMLParser):
    """The findings table's rows: (attributes, cell texts), and every URL the page loads."""

    def __init__(self):
        super().__init__()
        self.rows: list[tuple[dict, list[str]]] = []
        self.urls: list[str] = []
        self.scripts = 0
        self._table = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.urls += [v for k, v in attrs if k in ("src", "href") and v]
        self.scripts += tag == "script"
        if tag == "table":
            self._table = attributes.get("id")
        elif tag == "tr" and self._table == "findings" and "data-index" in attributes:
            self.rows.append((attributes, []))
        elif tag == "td" and self._table == "findings" and self.rows:
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None:
            self.rows[-1][1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def parsed(page: str) -> Rows:
    rows = Rows()
    rows.feed(page)
    return rows


def test_the_page_holds_every_finding_and_loads_nothing(report):
    page = CHECK_FORMATS["html"].render(report, RenderOptions())
    rows = parsed(page)
    assert rows.urls == [] and "http" not in page.replace("http-equiv", "")  # self-contained
    assert len(rows.rows) == len(report.findings)
    for (attributes, cells), finding in zip(rows.rows, report.findings):
        assert cells[0] == finding.severity and cells[1] == finding.rule and attributes["data-severity"] == finding.severity
        assert cells[5].startswith(headline(finding))  # the details' summary line
        if finding.runtime_error:
            assert f"QEMU prints: {finding.runtime_error}" in cells[5]
    assert 'id="diagnostics"' in page and str(len(report.diagnostics)) in page


def browser() -> str:
    found = next((shutil.which(name) for name in BROWSERS if shutil.which(name)), None)
    if found is None:
        pytest.skip("no headless browser (.ci/run installs Debian's chromium): the page's script is not run")
    return found


def dom_after_script(page: str, fragment: str, tmp_path: Path) -> Rows:
    path = tmp_path / "report.html"
    path.write_text(page)
    proc = subprocess.run([browser(), "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom",
                           f"{path.as_uri()}#{fragment}"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "<table" in proc.stdout, proc.stderr[-2000:]
    return parsed(proc.stdout)


def test_a_real_browser_filters_by_severity_and_sorts_by_rule(report, tmp_path):
    page = CHECK_FORMATS["html"].render(report, RenderOptions())
    rows = dom_after_script(page, "severity=error&sort=rule", tmp_path).rows
    shown = [cells[1] for attributes, cells in rows if "hidden" not in attributes]
    errors = [f for f in report.findings if f.severity == "error"]
    assert shown == sorted(f.rule for f in errors)  # only the errors, by rule (ties in report order)
    assert len(rows) == len(report.findings)  # the others are hidden, not removed


def test_a_real_browser_filters_by_text_and_sorts_by_severity_descending(report, tmp_path):
    page = CHECK_FORMATS["html"].render(report, RenderOptions())
    rows = dom_after_script(page, "q=PL061&sort=-severity", tmp_path).rows
    shown = [(cells[0], cells[1]) for attributes, cells in rows if "hidden" not in attributes]
    expected = [f for f in report.findings if "pl061" in (" ".join([f.severity, f.rule, *f.sections, f.vmsd,
                                                                      str(f.location)]) + f.path).lower()]
    assert shown and len(shown) == len(expected)
    ranks = [SEVERITIES.index(severity) for severity, _ in shown]
    assert ranks == sorted(ranks, reverse=True)  # info first: descending by severity rank
