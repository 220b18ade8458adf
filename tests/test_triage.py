"""Triage at release scale (issue 17): the text report's order, the filters, --statistics,
--exit-zero, --color, [settings] select/ignore/severity, waiver globs, the markdown cut,
the versions in JSON, and the little things of the command line.

The release range v7.2.0..v10.0.2 of the real repository is what these are for; the
samples check what needs a small, known input."""
from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from conftest import ROOT

from vmsd_lint import __version__
from vmsd_lint.app.triage import Triage, finding_files, pathspec_matches
from vmsd_lint.catalogue import SEVERITIES, catalogue_version
from vmsd_lint.cli.options import default_jobs
from vmsd_lint.diff.causes import Cause
from vmsd_lint.diff.findings import new_finding
from vmsd_lint.model import Location

RELEASE = "v7.2.0..v10.0.2"
FIELD_REMOVED = f"{ROOT}/samples/field-removed/old..{ROOT}/samples/field-removed/new"
FIELD_RENAMED = f"{ROOT}/samples/field-renamed/old..{ROOT}/samples/field-renamed/new"


def run_cli(*args: str, cwd: Path | str | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "vmsd_lint.cli.main", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=600, env=env)


def one_line_error(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vmsd-lint: error: ") and "Traceback" not in proc.stderr
    return lines[0]


@pytest.fixture(scope="module")
def release_json(qemu_repo) -> dict:
    """The whole release report, unfiltered: what each filter is checked against."""
    proc = run_cli("--repo", qemu_repo, RELEASE, "--format", "json")
    assert proc.returncode == 1, proc.stderr
    return json.loads(proc.stdout)


def release_run(qemu_repo: str, *args: str) -> subprocess.CompletedProcess:
    return run_cli("--repo", qemu_repo, RELEASE, *args)


# --- the text report's order -------------------------------------------------------------

def test_release_text_starts_with_totals_then_errors(qemu_repo, release_json) -> None:
    proc = release_run(qemu_repo, "--color", "never")
    lines = proc.stdout.splitlines()
    summary = release_json["summary"]
    assert lines[0] == lines[-1] and lines[0].startswith(f"vmsd-lint: {summary['error']} error(s), ")
    headings = [line for line in lines if line.startswith("== ")]
    assert headings == [f"== {summary[s]} {s} finding(s) ==" for s in SEVERITIES if summary[s]]
    assert lines[1] == headings[0] and "error" in headings[0]
    severity, groups = None, []
    finding = re.compile(r"^\S.*?: (error|warning|info): \[")
    for line in lines[1:-1]:
        if line.startswith("== "):
            if groups:
                check_groups_sorted(groups)
            severity, groups = line.split()[2], []
        elif line.startswith(("section ", "VMSD ", "unresolved in NEW")):
            groups.append(line)
        elif (match := finding.match(line)) and severity:
            assert match.group(1) == severity, line
    check_groups_sorted(groups)
    shown = sum(1 for line in lines if finding.match(line))
    assert shown == len(release_json["findings"])


def check_groups_sorted(groups: list[str]) -> None:
    """Section headings in case-insensitive order (unresolved constructs last), each once."""
    named = [g for g in groups if not g.startswith("unresolved")]
    assert [g.casefold() for g in named] == sorted(g.casefold() for g in named)
    assert len(set(groups)) == len(groups)


def test_notes_point_at_show_diagnostics_when_hidden() -> None:
    unresolved = f"{ROOT}/samples/unresolved/old..{ROOT}/samples/unresolved/new"
    hidden = run_cli(unresolved, "--no-cache")
    assert "(run with --show-diagnostics)" in hidden.stdout and "(listed under diagnostics)" not in hidden.stdout
    shown = run_cli(unresolved, "--no-cache", "--show-diagnostics")
    assert "(listed under diagnostics)" in shown.stdout and "(run with --show-diagnostics)" not in shown.stdout


# --- filters -------------------------------------------------------------------------------

def test_filters_keep_exactly_the_findings_they_name(qemu_repo, release_json) -> None:
    proc = release_run(qemu_repo, "--format", "json", "--select", "field-*,subsection-*", "--ignore",
                       "field-renamed", "--severity", "warning", "--", "hw/", ":!hw/vfio/pci.c")
    data = json.loads(proc.stdout)

    def wanted(f: dict) -> bool:
        files = [side["file"] for side in (f["old"], f["new"]) if side]
        return (fnmatch.fnmatch(f["rule"], "field-*") or fnmatch.fnmatch(f["rule"], "subsection-*")) \
            and f["rule"] != "field-renamed" and f["severity"] != "info" \
            and any(p.startswith("hw/") and p != "hw/vfio/pci.c" for p in files)

    expected = [f["fingerprint"] for f in release_json["findings"] if wanted(f)]
    assert expected and len(expected) < len(release_json["findings"])
    assert sorted(f["fingerprint"] for f in data["findings"]) == sorted(expected)
    left_out = len(release_json["findings"]) - len(expected)
    assert f"{left_out} finding(s) left out by --select field-*,subsection-*" in " ".join(data["notes"])


def test_section_and_vmsd_globs(qemu_repo, release_json) -> None:
    section = next(s for f in release_json["findings"] for s in f["sections"] if len(s) > 3)
    pattern = section[:3] + "*"
    data = json.loads(release_run(qemu_repo, "--format", "json", "--section", pattern).stdout)
    expected = [f["fingerprint"] for f in release_json["findings"]
                if any(fnmatch.fnmatchcase(s, pattern) for s in f["sections"])]
    assert sorted(f["fingerprint"] for f in data["findings"]) == sorted(expected)
    vmsd = release_json["findings"][0]["vmsd"]
    data = json.loads(release_run(qemu_repo, "--format", "json", "--vmsd", vmsd).stdout)
    assert data["findings"] and {f["vmsd"] for f in data["findings"]} == {vmsd}


def test_exit_status_follows_the_filtered_findings(qemu_repo) -> None:
    assert release_run(qemu_repo, "-q").returncode == 1
    assert release_run(qemu_repo, "-q", "--exit-zero").returncode == 0
    assert release_run(qemu_repo, "-q", "--select", "section-added").returncode == 0  # all info
    assert release_run(qemu_repo, "--exit-zero", "--select", "no-such-rule").returncode == 2


@pytest.mark.parametrize("args, needle", [
    (("--select", "feild-removed"), "--select: unknown rule 'feild-removed'; did you mean 'field-removed'?"),
    (("--ignore", "nothing-*"), "--ignore: unknown rule 'nothing-*'"),
    (("--statistics", "--format", "sarif"), "--statistics prints text or json, not --format sarif"),
])
def test_bad_triage_options_are_one_line(args, needle) -> None:
    assert needle in one_line_error(run_cli(FIELD_REMOVED, "--no-cache", *args))


def test_a_findings_cause_file_counts_for_the_pathspec() -> None:
    """A finding's cause (a macro in a header, diff/causes.py): its file counts as the VMSD's
    does (tests/test_causes.py runs it on a real header change)."""
    args = {"field": "f", "old_layout": "uint8, 1 byte", "after": "", "condition": ""}
    finding = new_finding("field-removed", vmsd="v", path="v/f", args=args, old=Location("hw/x/a.c", 3))
    assert finding_files(finding) == ["hw/x/a.c"]
    caused = finding.with_(cause=Cause("N", Location("include/hw/x.h", 2), Location("include/hw/x.h", 3)))
    assert finding_files(caused) == ["hw/x/a.c", "include/hw/x.h"]
    assert Triage(pathspec=("include/",)).shows(caused) and not Triage(pathspec=("include/",)).shows(finding)


def test_pathspec_reads_as_git_does() -> None:
    assert pathspec_matches("hw/vfio/pci.c", ("hw/vfio",)) and pathspec_matches("hw/vfio/pci.c", ("hw/vfio/",))
    assert not pathspec_matches("hw/vfio-user/x.c", ("hw/vfio",))
    assert pathspec_matches("hw/char/serial.c", ("hw/*/serial.c",))
    assert not pathspec_matches("hw/vfio/pci.c", ("hw/", ":!hw/vfio"))
    assert pathspec_matches("hw/net/e1000.c", (":(exclude)hw/vfio",))


def test_statistics_count_per_rule_and_directory(qemu_repo, release_json) -> None:
    data = json.loads(release_run(qemu_repo, "--statistics", "--format", "json").stdout)
    assert data["summary"] == release_json["summary"] and data["version"] == release_json["version"]
    by_rule = Counter(f["rule"] for f in release_json["findings"])
    assert {rule: row["total"] for rule, row in data["rules"].items()} == dict(by_rule)
    assert list(data["rules"]) == sorted(by_rule, key=lambda r: (-by_rule[r], r))
    errors = Counter(f["rule"] for f in release_json["findings"] if f["severity"] == "error")
    assert {rule: row["error"] for rule, row in data["rules"].items() if row["error"]} == dict(errors)
    dirs = Counter(os.path.dirname((f["new"] or f["old"])["file"]) or "." for f in release_json["findings"])
    assert {d: row["total"] for d, row in data["directories"].items()} == dict(dirs)
    text = release_run(qemu_repo, "--statistics").stdout
    top_rule, top = next(iter(data["rules"].items()))
    assert re.search(rf"^ +{top['total']} +{top['error']} +{top['warning']} +{top['info']}  {top_rule}$", text, re.M)


# --- [settings], waivers -------------------------------------------------------------------

def write_config(tmp_path: Path, text: str) -> str:
    path = tmp_path / "vmsd-lint.toml"
    path.write_text(text)
    return str(path)


def test_settings_select_ignore_severity(tmp_path) -> None:
    config = write_config(tmp_path, '[settings]\nseverity = "warning"\n')
    data = json.loads(run_cli(FIELD_RENAMED, "--no-cache", "--config", config, "--format", "json").stdout)
    assert data["findings"] == [] and "1 finding(s) left out by --severity warning" in data["notes"]
    override = run_cli(FIELD_RENAMED, "--no-cache", "--config", config, "--format", "json", "--severity", "info")
    assert [f["rule"] for f in json.loads(override.stdout)["findings"]] == ["field-renamed"]
    config = write_config(tmp_path, '[settings]\nselect = ["field-*"]\nignore = "field-removed"\n')
    proc = run_cli(FIELD_REMOVED, "--no-cache", "--config", config, "--format", "json")
    assert proc.returncode == 0 and json.loads(proc.stdout)["findings"] == []


@pytest.mark.parametrize("text, needle", [
    ('[settings]\nselect = ["fild-removed"]\n', "[settings] select: unknown rule 'fild-removed'; did you mean"),
    ('[settings]\nignore = 3\n', "'ignore' must be a rule slug or glob, or a list of them"),
    ('[settings]\nseverity = "fatal"\n', "severity must be one of info, warning, error"),
])
def test_bad_settings_are_one_line(tmp_path, text, needle) -> None:
    assert needle in one_line_error(run_cli(FIELD_REMOVED, "--no-cache", "--config", write_config(tmp_path, text)))


def test_waiver_globs(tmp_path) -> None:
    config = write_config(tmp_path, '[[waiver]]\nrule = "field-*"\nvmsd = "pl0*"\nreason = "glob"\n')
    proc = run_cli(FIELD_REMOVED, "--no-cache", "--config", config, "--format", "json")
    assert proc.returncode == 0 and json.loads(proc.stdout)["summary"]["waived"] == 1
    config = write_config(tmp_path, '[[waiver]]\nrule = "feild-*"\nvmsd = "pl061"\nreason = "typo"\n')
    assert "unknown rule 'feild-*'" in one_line_error(run_cli(FIELD_REMOVED, "--no-cache", "--config", config))


def test_write_baseline_writes_and_passes(tmp_path) -> None:
    baseline = tmp_path / "baseline.toml"
    proc = run_cli(FIELD_REMOVED, "--no-cache", "--write-baseline", str(baseline))
    assert proc.returncode == 0 and proc.stdout == ""
    assert proc.stderr.splitlines() == [proc.stderr.strip()] and "wrote 1 waiver(s) to" in proc.stderr
    again = run_cli(FIELD_REMOVED, "--no-cache", "--config", str(baseline), "--format", "json")
    assert again.returncode == 0 and json.loads(again.stdout)["summary"]["waived"] == 1


# --- colour, versions, the markdown cut -----------------------------------------------------

def test_color_option() -> None:
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    assert "\x1b[" in run_cli(FIELD_REMOVED, "--no-cache", "--color", "always", env=env).stdout
    assert "\x1b[" not in run_cli(FIELD_REMOVED, "--no-cache", env=env).stdout  # auto, and a pipe
    assert "\x1b[" not in run_cli(FIELD_REMOVED, "--no-cache", "--color", "never", env=env).stdout


def test_json_carries_the_versions(tmp_path) -> None:
    data = json.loads(run_cli(FIELD_REMOVED, "--no-cache", "--format", "json").stdout)
    assert data["version"] == {"vmsd_lint": __version__, "catalogue": catalogue_version()}
    assert re.fullmatch(r"[0-9a-f]{12}", data["version"]["catalogue"])


def test_catalogue_version_follows_the_rule_files(tmp_path) -> None:
    """A copy of rules/ with one severity changed has another version (read in a child: cached)."""
    probe = ("import sys, vmsd_lint.catalogue as c; from pathlib import Path; "
             "c.rules_location = lambda: Path(sys.argv[1]); print(c.catalogue_version())")
    rules = tmp_path / "rules"
    rules.mkdir()
    for rule in (ROOT / "rules").glob("*.toml"):
        (rules / rule.name).write_bytes(rule.read_bytes())
    same = subprocess.run([sys.executable, "-c", probe, str(rules)], capture_output=True, text=True, check=True)
    assert same.stdout.strip() == catalogue_version()
    edited = rules / "field-renamed.toml"
    edited.write_text(edited.read_text().replace('severity = "info"', 'severity = "warning"', 1))
    other = subprocess.run([sys.executable, "-c", probe, str(rules)], capture_output=True, text=True, check=True)
    assert other.stdout.strip() != catalogue_version()


def test_release_markdown_fits_one_github_comment(qemu_repo, release_json) -> None:
    text = release_run(qemu_repo, "--format", "markdown").stdout
    assert len(text) < 65_536
    rows = [line for line in text.splitlines() if line.startswith("| ") and not line.startswith(("| severity", "| ---"))]
    cut = re.search(r"\*\*(\d+) more finding\(s\) not shown\*\* \(([^)]*)\)", text)
    assert cut, "the release range no longer needs a cut: find a larger one for this test"
    # the findings of one cause (a changed macro) are one list entry above the table
    caused = [f for f in release_json["findings"] if f.get("cause")]
    assert text.count("- **cause**: ") == len({json.dumps(f["cause"], sort_keys=True) for f in caused}) > 0
    assert len(rows) + int(cut.group(1)) + len(caused) == len(release_json["findings"])
    assert f"`vmsd-lint {RELEASE}`" in text
    severities = [row.split(" | ")[0].removeprefix("| ") for row in rows]
    assert severities == sorted(severities, key=SEVERITIES.index)  # the cut leaves out the least severe
    assert severities.count("error") + sum(f["severity"] == "error" for f in caused) == \
        release_json["summary"]["error"]


# --- little things --------------------------------------------------------------------------

def test_misspelt_command_suggests_the_command() -> None:
    assert "no such command 'exlpain'; did you mean 'explain'?" in one_line_error(run_cli("exlpain", "x"))


def test_a_revision_spelt_like_a_command_is_still_a_revision(sample_tree) -> None:
    repo = make_repo(sample_tree)
    subprocess.run(["git", "branch", "dupm"], cwd=repo, check=True, capture_output=True)
    proc = run_cli("--repo", str(repo), "dupm", "--no-cache")
    assert "no such command" not in proc.stderr


def make_repo(repo: Path) -> Path:
    """REPO (a copy of the sample tree, its links resolved) as a git repository of one commit."""
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@t")
    for cmd in (["git", "init", "-q", "-b", "main"], ["git", "add", "."], ["git", "commit", "-qm", "sample"]):
        subprocess.run(cmd, cwd=repo, check=True, env=env, capture_output=True)
    return repo


def test_worktree_alone_is_head_against_the_working_tree(sample_tree) -> None:
    repo = make_repo(sample_tree)
    serial = repo / "hw/char/serial.c"
    text = serial.read_text()
    assert "VMSTATE_UINT8(lcr, SerialState)," in text
    serial.write_text(text.replace("VMSTATE_UINT8(lcr, SerialState),", "", 1))
    alone = run_cli("WORKTREE", "--no-cache", "--format", "json", cwd=repo)
    spelt = run_cli("HEAD..WORKTREE", "--no-cache", "--format", "json", cwd=repo)
    assert alone.returncode == 1, alone.stderr
    found = json.loads(alone.stdout)
    assert found["old"]["endpoint"] == "HEAD" and found["new"]["endpoint"] == "WORKTREE"
    assert [f["path"] for f in found["findings"]] == ["serial/lcr"]
    assert found["findings"] == json.loads(spelt.stdout)["findings"]


def test_target_is_validated_before_extraction(qemu_repo, tmp_path) -> None:
    cache = str(tmp_path / "cache")
    line = one_line_error(release_run(qemu_repo, "--target", "x86-64", "--cache-dir", cache))
    assert "unknown target 'x86-64'; did you mean 'x86_64'?" in line
    info = run_cli("cache", "info", "--cache-dir", cache).stdout
    assert "entries: 0" in info, info  # nothing was extracted (it would be cached)
    assert "v10.0.2: unknown target 'cris'" in one_line_error(release_run(qemu_repo, "--target", "cris"))


def test_jobs_default_to_the_cpus_the_process_may_use() -> None:
    assert default_jobs(None) == len(os.sched_getaffinity(0)) and default_jobs(3) == 3
    probe = "from vmsd_lint.cli.options import default_jobs; print(default_jobs(None))"
    one = subprocess.run(["taskset", "-c", "0", sys.executable, "-c", probe], capture_output=True, text=True)
    if one.returncode != 0:
        pytest.skip(f"taskset could not pin the process: {one.stderr.strip()}")
    assert one.stdout.strip() == "1"


def commit_all(repo: Path, message: str) -> None:
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@t")
    subprocess.run(["git", "commit", "-qam", message], cwd=repo, check=True, env=env, capture_output=True)


def test_progress_on_a_terminal_only(sample_tree) -> None:
    """click's bars on stderr when it is a terminal (`script` gives the run one), for the
    extraction and the --per-commit walk; nothing on a pipe, nothing with -q."""
    if not shutil.which("script"):
        pytest.skip("no `script` (util-linux) to run vmsd-lint on a terminal")
    repo = make_repo(sample_tree)
    serial = repo / "hw/char/serial.c"
    for field in ("lcr", "ier"):
        serial.write_text(serial.read_text().replace(f"VMSTATE_UINT8({field}, SerialState),", "", 1))
        commit_all(repo, f"drop {field}")
    command = [sys.executable, "-m", "vmsd_lint.cli.main", "HEAD~2..HEAD", "--per-commit", "--no-cache", "-o",
               os.devnull]

    def on_terminal(*more: str) -> str:
        proc = subprocess.run(["script", "-qec", shlex.join([*command, *more]), os.devnull], cwd=repo,
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300)
        return proc.stdout.replace("\r", "\n")

    shown = on_terminal()
    assert re.search(r"extracting HEAD~2 +\[#+\] +100%", shown), shown
    assert re.search(r"per commit +\[#+\] +100%", shown), shown
    quiet = on_terminal("-q")  # (what `script` itself says may be there)
    assert "extracting" not in quiet and "per commit" not in quiet and "%" not in quiet
    piped = subprocess.run(command, cwd=repo, capture_output=True, text=True, timeout=300)
    assert piped.returncode == 1 and piped.stderr == ""
