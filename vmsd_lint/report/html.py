"""`--format html`: one self-contained page (no network: its style and script are inline)
with the summary, the causes (a changed macro behind many findings, each linking to the
table filtered to its findings), a table of the findings that sorts by any column and filters by text and
severity, each finding's details (message, what QEMU prints, the fix, both locations,
machine types) and the diagnostics.

The page reads its starting state from the URL fragment (#q=TEXT&severity=S&sort=COLUMN),
so that a link can point at a filtered view, and a test can drive it in a real browser.
"""
from __future__ import annotations

from html import escape
from urllib.parse import quote

from .. import __version__
from ..catalogue import SEVERITIES, load_catalogue
from ..diff.findings import Finding, Report
from .causes import by_cause, cause_words, sections_of
from .messages import directions_words, headline, machine_counts_words, machines_words
from .text import summary_line

COLUMNS = ("severity", "rule", "section", "where", "verdict", "message")

STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; width: 100%; }
th, td { border-bottom: 1px solid #ddd; padding: .3em .5em; text-align: left; vertical-align: top; }
th { cursor: pointer; background: #f4f4f4; user-select: none; }
th[aria-sort=ascending]::after { content: " \\25B2"; } th[aria-sort=descending]::after { content: " \\25BC"; }
tr.error td:first-child { color: #b00; font-weight: bold; } tr.warning td:first-child { color: #a60; }
tr.info td:first-child { color: #06a; } code { font-size: 90%; } td > code { white-space: nowrap; }
details { margin: .2em 0; }
.controls { margin: 1em 0; } .controls input { width: 30em; } .note { color: #555; }
"""

# Sorting and filtering: rows carry their sort keys in data- attributes; nothing is fetched.
SCRIPT = """
(function () {
  var table = document.getElementById("findings");
  if (!table) { return; }
  var body = table.tBodies[0], query = document.getElementById("q"), level = document.getElementById("severity");
  var shown = document.getElementById("shown");
  function filter() {
    var text = query.value.toLowerCase(), wanted = level.value, count = 0;
    Array.prototype.forEach.call(body.rows, function (row) {
      var keep = (!wanted || row.dataset.severity === wanted) &&
                 (!text || row.textContent.toLowerCase().indexOf(text) >= 0);
      row.hidden = !keep;
      count += keep ? 1 : 0;
    });
    shown.textContent = String(count);
  }
  function sort(column, descending) {
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var key = "sort" + column.charAt(0).toUpperCase() + column.slice(1);
      var x = a.dataset[key], y = b.dataset[key];
      var order = x < y ? -1 : x > y ? 1 : Number(a.dataset.index) - Number(b.dataset.index);
      return descending ? -order : order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (cell) {
      cell.setAttribute("aria-sort", cell.dataset.column === column ? (descending ? "descending" : "ascending")
                                                                   : "none");
    });
  }
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (cell) {
    cell.addEventListener("click", function () {
      sort(cell.dataset.column, cell.getAttribute("aria-sort") === "ascending");
    });
  });
  query.addEventListener("input", filter);
  level.addEventListener("change", filter);
  function fromHash() {  // on load, and when a link of the causes list sets the fragment
    var state = {};
    location.hash.replace(/^#/, "").split("&").forEach(function (pair) {
      var parts = pair.split("=");
      if (parts[0]) { state[decodeURIComponent(parts[0])] = decodeURIComponent(parts[1] || ""); }
    });
    if (state.q) { query.value = state.q; }
    if (state.severity) { level.value = state.severity; }
    if (state.sort) { sort(state.sort.replace(/^-/, ""), state.sort.charAt(0) === "-"); }
    filter();
  }
  window.addEventListener("hashchange", fromHash);
  fromHash();
})();
"""


def render_html(report: Report, show_waived: bool = False, show_diagnostics: bool = True) -> str:
    title = f"vmsd-lint: {report.old.label} -> {report.new.label}"
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
             'style-src \'unsafe-inline\'; script-src \'unsafe-inline\'">',
             f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>",
             f"<h1>{escape(title)}</h1>", f"<p id=\"summary\">{escape(summary_line(report))}</p>"]
    if report.machines_judged:
        parts.append(f"<p>Machine types: {escape(machine_counts_words(report))}</p>")
    parts += [f"<p class=\"note\">note: {escape(note)}</p>" for note in report.notes]
    parts += [f"<p class=\"note\">waiver matched no finding: {escape(w)}</p>" for w in report.unmatched_waivers]
    parts += _causes(report)
    parts += _findings_table(report.findings, "findings")
    if show_waived and report.waived:
        parts += ["<h2>Waived</h2>", *_findings_table(report.waived, "waived")]
    if show_diagnostics and report.diagnostics:
        parts += _diagnostics(report)
    parts += [f"<p class=\"note\">vmsd-lint {escape(__version__)}</p>", f"<script>{SCRIPT}</script>",
              "</body></html>"]
    return "\n".join(parts) + "\n"


def _causes(report: Report) -> list[str]:
    """The findings of one cause (report/causes.py) as one entry each, with a link to the
    table filtered to them (a row's details name its cause)."""
    groups = by_cause(report.findings)
    if not groups:
        return []
    items = []
    for cause, found in groups.items():
        link = f'<a href="#q={quote("cause: " + cause.symbol)}">{len(found)} finding(s)</a>'
        items.append(f'<li class="cause">{escape(cause_words(cause, found))}: '
                     f'{link} in {escape(", ".join(sections_of(found)))}</li>')
    return ['<h2>Causes</h2><p class="note">Findings whose cause is one changed definition (a macro the '
            'fields expand):</p>', f'<ul id="causes">{"".join(items)}</ul>']


def _findings_table(findings: list[Finding], table_id: str) -> list[str]:
    if not findings:
        return ["<p>No finding.</p>"] if table_id == "findings" else []
    out = []
    if table_id == "findings":
        options = "".join(f'<option value="{s}">{s}</option>' for s in SEVERITIES)
        out.append('<div class="controls"><label>Filter <input id="q" type="search" '
                   'placeholder="text in any column"></label> <label>Severity <select id="severity">'
                   f'<option value="">all</option>{options}</select></label> '
                   f'<span id="shown">{len(findings)}</span> of {len(findings)} shown</div>')
    out.append(f'<table id="{table_id}"><thead><tr>'
               + "".join(f'<th data-column="{c}" aria-sort="none">{c}</th>' for c in COLUMNS)
               + "</tr></thead><tbody>")
    out += [_row(finding, index) for index, finding in enumerate(findings)]
    out.append("</tbody></table>")
    return out


def _row(finding: Finding, index: int) -> str:
    section = ", ".join(finding.sections) or finding.vmsd
    where = str(finding.location) if finding.location else ""
    # what each column sorts by: severity by rank, text case-insensitively, ties in report order
    keys = {"severity": str(SEVERITIES.index(finding.severity)), "rule": finding.rule, "section": section.lower(),
            "where": where, "verdict": directions_words(finding), "message": headline(finding).lower()}
    data = " ".join(f'data-sort-{k}="{escape(v)}"' for k, v in keys.items())
    cells = [finding.severity, f"<code>{escape(finding.rule)}</code>", escape(section),
             f"<code>{escape(where)}</code>", escape(directions_words(finding)), _details(finding)]
    return (f'<tr class="{finding.severity}" data-severity="{finding.severity}" data-index="{index}" {data}>'
            + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>")


def _details(finding: Finding) -> str:
    items = []
    if finding.runtime_error:
        items.append(f"QEMU prints: <code>{escape(finding.runtime_error)}</code>")
    machines = machines_words(finding)
    if machines:
        items.append(f"machine types: {escape(machines)}")
    fix = finding.fix or _first_recipe(finding.rule)
    if fix:
        items.append(f"fix: {escape(fix)} (<code>vmsd-lint explain {escape(finding.rule)}</code>)")
    if finding.cause:
        items.append(f"cause: <code>{escape(finding.cause.symbol)}</code> changed at "
                     f"<code>{escape(str(finding.cause.location))}</code>")
    if finding.old:
        items.append(f"OLD: <code>{escape(str(finding.old))}</code>")
    if finding.new:
        items.append(f"NEW: <code>{escape(str(finding.new))}</code>")
    for label, value in (("introduced by", finding.origin), ("note", finding.note), ("waived", finding.waived_by)):
        if value:
            items.append(f"{label}: {escape(value)}")
    body = "".join(f"<li>{item}</li>" for item in items)
    return f"<details><summary>{escape(headline(finding))}</summary><ul>{body}</ul></details>"


def _first_recipe(rule: str) -> str | None:
    spec = load_catalogue().get(rule)
    return spec.recipes[0].title if spec is not None and spec.recipes else None


def _diagnostics(report: Report) -> list[str]:
    rows = "".join(f"<tr><td>{escape(side)}</td><td><code>{escape(f'{d.file}:{d.line}')}</code></td>"
                   f"<td>{escape(d.kind)}</td><td>{escape(d.message)}</td></tr>" for side, d in report.diagnostics)
    return [f"<details id=\"diagnostics\"><summary>{len(report.diagnostics)} diagnostic(s): constructs that "
            "could not be resolved and were not checked</summary>",
            f"<table><thead><tr><th>side</th><th>where</th><th>kind</th><th>message</th></tr></thead>"
            f"<tbody>{rows}</tbody></table></details>"]
