"""The failure catalogue: rule files, their loader, error matching, `rules` and `explain`."""
from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import sys
import tomllib

import pytest
from click.testing import CliRunner
from conftest import ROOT, shared_dir

from vmsd_lint.catalogue import (
    QemuError,
    c_format,
    error_values,
    load_catalogue,
    load_rules,
    match_error,
    placeholders,
    qemu_prints,
    render_message,
    rules_location,
)
from vmsd_lint.cli.main import main
from vmsd_lint.diff.findings import new_finding
from vmsd_lint.errors import InputError
from vmsd_lint.report.catalogue import catalogue_markdown

RULES = ROOT / "rules"
DOC = ROOT / "docs" / "catalogue.md"

# The design card's table, vendored so that these tests run without ../shared
DESIGN_TABLE = ROOT / "tests" / "data" / "design-catalogue-table.md"
# the functions through which detection code creates a finding of a rule
FINDING_CALLS = {"new_finding", "emit", "_finding", "_sub_finding"}
ABBREVIATIONS = {"F": "forward", "B": "backward"}


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(main, list(args), input=input)


def design_table(path=DESIGN_TABLE) -> dict[str, tuple[str, str]]:
    """slug -> (breaks, severity) from the design card's table."""
    rows = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 4 and re.fullmatch(r"[a-z]+(?:-[a-z]+)*", cells[0]) and cells[0] != "slug":
            rows[cells[0]] = (cells[1], cells[2])
    assert len(rows) >= 20, f"could not read the table of {path}"
    return rows


def test_the_vendored_design_table_is_the_design_cards():
    original = shared_dir() / "design" / "catalogue.md"
    if not original.is_file():
        pytest.skip(f"{original} not found: the vendored copy is used as it is")
    assert design_table(DESIGN_TABLE) == design_table(original), \
        f"the design table changed: copy it into {DESIGN_TABLE}"


# --- the rule files --------------------------------------------------------------------

def test_every_file_is_a_valid_rule_named_after_its_slug():
    files = sorted(p.stem for p in RULES.glob("*.toml"))
    rules = load_rules(RULES)
    assert sorted(rules) == files
    for stem in files:
        assert tomllib.loads((RULES / f"{stem}.toml").read_text())["slug"] == stem
        assert rules[stem].slug == stem


def test_the_installed_catalogue_is_the_rules_directory():
    location = rules_location()
    installed = sorted(entry.name for entry in location.iterdir() if entry.name.endswith(".toml"))
    assert installed == sorted(p.name for p in RULES.glob("*.toml")), \
        f"the catalogue is read from {location}: reinstall (pip install .) after adding rules"
    assert set(load_catalogue()) == set(load_rules(RULES))


def test_every_slug_of_the_design_table_has_a_rule_with_its_severities_and_directions():
    """The rule allows exactly the table's severities ("info/warning"), and its direction
    sets together break what the table's "breaks" says ("- / B": nothing, or backward)."""
    catalogue = load_catalogue()
    for slug, (breaks, severity) in design_table().items():
        assert slug in catalogue, f"rules/{slug}.toml is missing"
        rule = catalogue[slug]
        assert rule.severities[0] == rule.severity and set(rule.severities) >= set(severity.split("/")), \
            (slug, rule.severities, severity)
        broken = {d for dirs in rule.direction_sets for d in dirs}
        assert broken == {ABBREVIATIONS[a] for a in breaks.split() if a in ABBREVIATIONS}, (slug, broken, breaks)
        if "info" in severity.split("/"):
            assert () in rule.direction_sets, slug


def test_the_types_beyond_the_design_table():
    catalogue = load_catalogue()
    rule = catalogue["field-added-conditional"]
    assert rule.severity == "warning" and set(rule.directions) == {"forward", "backward"}
    assert catalogue["equal-check-added"].direction_sets == (("backward", "forward"), ("forward",))
    assert catalogue["section-added"].severities == ("info", "warning")
    for slug in ("field-renamed", "unresolved"):
        assert catalogue[slug].severities == ("info",) and catalogue[slug].direction_sets == ((),)


def test_a_rule_allows_what_its_file_lists_and_a_downgrade_to_info():
    rule = load_catalogue()["section-added"]
    assert rule.allows("info", ()) and rule.allows("warning", ("backward",))
    assert not rule.allows("warning", ()) and not rule.allows("info", ("backward",))
    assert not rule.allows("error", ("backward",)) and not rule.allows("warning", ("backward", "forward"))
    assert load_catalogue()["field-added"].allows("info", ())  # a machine-type verdict


def _emitted_slugs() -> dict[str, set[str]]:
    """slug -> files of vmsd_lint that create a finding of it (FINDING_CALLS with the slug)."""
    slugs = set(load_catalogue())
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / "vmsd_lint").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in FINDING_CALLS:
                for arg in node.args:
                    if isinstance(arg, ast.Constant) and arg.value in slugs:
                        found.setdefault(arg.value, set()).add(str(path.relative_to(ROOT)))
    return found


def test_rule_files_code_samples_and_snapshots_are_one_to_one():
    """Every rule is emitted by detection code and shown by a sample whose snapshot holds a
    finding of it; every snapshot's findings are ones their rule file allows."""
    catalogue = load_catalogue()
    emitted = _emitted_slugs()
    assert set(emitted) == set(catalogue), f"rules no code emits: {sorted(set(catalogue) - set(emitted))}"
    shown: set[str] = set()
    for expected in sorted((ROOT / "samples").glob("*/expected.json")):
        for finding in json.loads(expected.read_text()):
            rule = catalogue[finding["rule"]]
            assert rule.allows(finding["severity"], tuple(finding["directions"])), (expected, finding["rule"])
            shown.add(finding["rule"])
    missing = sorted(set(catalogue) - shown)
    assert not missing, f"rules with no sample (scripts/new_rule.py SLUG scaffolds one): {missing}"
    for slug in catalogue:
        assert (ROOT / "samples" / slug / "expected.json").is_file(), f"samples/{slug}/ is missing"


def test_a_finding_the_rule_file_does_not_allow_is_refused():
    with pytest.raises(ValueError, match="does not allow"):
        new_finding("section-removed", severity="error", directions=("backward",), vmsd="x", path="x",
                    args={"owner": "o", "section": "x"})
    with pytest.raises(ValueError, match="message takes"):
        new_finding("section-removed", vmsd="x", path="x", args={"section": "x"})
    with pytest.raises(ValueError, match="no rule file"):
        new_finding("no-such-rule", vmsd="x", path="x")
    made = new_finding("section-removed", vmsd="x", path="x", args={"owner": "o", "section": "x"})
    assert (made.severity, made.directions) == ("error", ("forward",))


def test_every_entry_is_complete_and_consistent():
    catalogue = load_catalogue()
    for rule in catalogue.values():
        assert all(other in catalogue and other != rule.slug for other in rule.related), rule.slug
        assert rule.qemu_errors and rule.recipes, rule.slug
        assert "\n" not in rule.summary and rule.title and len(rule.explanation) > 200, rule.slug
        for name in placeholders(rule.message):
            assert name.isidentifier(), (rule.slug, name)
        for direction in rule.directions:  # an entry for a break explains each direction it breaks
            assert re.search(rf"\b{direction} \((OLD|NEW) source", rule.explanation, re.I), (rule.slug, direction)
        example = rule.example_bad + rule.example_good
        assert rule.example_bad != rule.example_good, rule.slug
        assert any(word in example for word in ("VMSTATE_", "VMStateDescription", "vmstate_register", "needed(")), \
            f"{rule.slug}: the example shows no VMSD construct"


def test_render_message_fills_arguments_and_shows_missing_ones():
    rule = load_catalogue()["field-removed"]
    assert render_message(rule, {"field": "lsr", "old_layout": "uint8, 1 byte", "after": " after 'mcr'",
                                 "condition": ""}) == "field 'lsr' (uint8, 1 byte) removed after 'mcr'"
    assert render_message(rule, {"field": "lsr"}) == "field 'lsr' ({old_layout}) removed{after}{condition}"
    assert render_message(rule, None) == rule.message
    for rule in load_catalogue().values():
        args = {name: f"<{name}>" for name in placeholders(rule.message)}
        rendered = render_message(rule, args)
        assert "{" not in rendered and all(f"<{name}>" in rendered for name in args), rule.slug


# --- a bad rule file is an InputError naming the file ------------------------------------

def _corrupt(text: str, how: str) -> str:
    if how == "missing key":
        return re.sub(r"(?m)^summary = .*\n", "", text)
    if how == "slug differs":
        return text.replace('slug = "field-removed"', 'slug = "field-gone"')
    if how == "bad severity":
        return text.replace('severity = "error"', 'severity = "fatal"')
    if how == "bad direction":
        return text.replace('directions = ["forward", "backward"]', 'directions = ["sideways"]')
    if how == "unknown related":
        return text.replace('related = ["field-added"', 'related = ["no-such-rule"')
    if how == "placeholder not plain":
        return text.replace("{field}", "{field.name}", 1)
    if how == "invalid toml":
        return text.replace('title = "Field removed"', 'title = "Field removed')
    if how == "unknown key":
        return text + '\nsumary = "typo"\n'
    if how == "no recipe":
        return text.split("[[recipe]]")[0]
    if how == "bad error direction":
        return text.replace('direction = "both"', 'direction = "sideways"', 1)
    raise AssertionError(how)


@pytest.mark.parametrize("how", ["missing key", "slug differs", "bad severity", "bad direction", "unknown related",
                                 "placeholder not plain", "invalid toml", "unknown key", "no recipe",
                                 "bad error direction"])
def test_a_bad_rule_file_is_an_input_error_naming_it(tmp_path, how):
    for path in RULES.glob("*.toml"):
        shutil.copy(path, tmp_path / path.name)
    target = tmp_path / "field-removed.toml"
    corrupted = _corrupt(target.read_text(), how)
    assert corrupted != target.read_text()
    target.write_text(corrupted)
    with pytest.raises(InputError, match=r"field-removed\.toml"):
        load_rules(tmp_path)


def test_the_commands_report_a_broken_catalogue_in_one_line(tmp_path, monkeypatch):
    from vmsd_lint import catalogue

    for path in RULES.glob("*.toml"):
        shutil.copy(path, tmp_path / path.name)
    (tmp_path / "field-removed.toml").write_text(_corrupt((RULES / "field-removed.toml").read_text(), "bad severity"))
    monkeypatch.setattr(catalogue, "rules_location", lambda: tmp_path)
    catalogue._installed.cache_clear()
    try:
        result = run("rules")
    finally:
        catalogue._installed.cache_clear()
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "field-removed.toml: severity 'fatal'" in result.stderr


def test_values_must_match_the_number_of_conversions(tmp_path):
    for path in RULES.glob("*.toml"):
        shutil.copy(path, tmp_path / path.name)
    target = tmp_path / "subsection-removed.toml"
    target.write_text(target.read_text().replace('values = ["No such file or directory"]', 'values = ["a", "b"]'))
    with pytest.raises(InputError, match=r"subsection-removed\.toml: qemu_error #\d: values gives 2 values"):
        load_rules(tmp_path)


# --- QEMU's error texts --------------------------------------------------------------------

def test_printf_formats_normalise_pri_macros():
    assert c_format('instance 0x%"PRIx32" of device') == "instance 0x%x of device"
    assert c_format('%" PRIx64 " != %" PRIx64') == "%x != %x"
    assert c_format("'%s' %PRIu32.") == "'%s' %u."


def _c_strings(source: str) -> str:
    """The source with adjacent string literals joined, as the compiler joins them."""
    return c_format(re.sub(r'"\s*\n\s*"', "", re.sub(r'"\s+"', "", source)))


def _source_file(source: str) -> str:
    return source.split(":")[0].strip()


@pytest.mark.qemu
@pytest.mark.parametrize("tag", ["v10.0.2", "v7.2.0"])
def test_qemu_error_texts_are_in_the_qemu_sources(qemu_repo, tag):
    """Every C error format of the catalogue appears, literally, where the entry says."""
    cache: dict[str, str] = {}
    checked = 0
    for rule in load_catalogue().values():
        for error in rule.qemu_errors:
            path = _source_file(error.source)
            if not path.endswith(".c"):
                continue  # the static checker prints with Python
            if tag == "v7.2.0" and error.note and "v10.0.2 only" in error.note:
                continue
            if path not in cache:
                cache[path] = _c_strings(subprocess.run(["git", "-C", qemu_repo, "show", f"{tag}:{path}"],
                                                        check=True, capture_output=True, text=True).stdout)
            assert c_format(error.text) in cache[path], f"{rule.slug}: {error.text!r} not in {tag}:{path}"
            checked += 1
    assert checked > 40


# --- matching a runtime error to the rules ---------------------------------------------------

def slugs(text: str) -> list[str]:
    return [rule.slug for rule, _ in match_error(text)]


def test_unsupported_version_is_a_version_change():
    found = slugs("savevm: unsupported version 4 for 'serial' v3")
    assert found[0] == "version-bumped"
    assert "version-decreased" in found and "field-added-versioned" in found
    assert not {"section-removed", "field-removed"} & set(found)


@pytest.mark.parametrize("line", [
    "serial: incoming version_id 2 is too old for local minimum version_id  3",
    "serial: incoming version_id 2 is too old for local minimum version_id 3",  # one space
    "qemu-system-x86_64: serial: incoming version_id 2 is too old for local minimum version_id  3",
])
def test_too_old_is_minimum_version_raised(line):
    assert slugs(line) == ["minimum-version-raised"]


@pytest.mark.parametrize("line", [
    "Unknown savevm section or instance 'icp/server' 4. Make sure that your current VM setup matches your "
    "saved VM setup, including any hotplugged devices",
    "qemu-system-ppc64: Unknown savevm section or instance 'icp/server' 4. Make sure that your curr",
    "Unknown savevm section or instance 'icp/server' 4",
])
def test_unknown_section_is_a_registration_problem(line):
    found = slugs(line)
    assert {"registration-moved", "section-removed", "instance-id-changed"} <= set(found)
    assert found[-1] == "section-added"  # the info-level type comes last
    assert "field-removed" not in found


def test_blocked_is_unmigratable():
    assert slugs("State blocked by non-migratable device 'foo'")[0] == "unmigratable-added"


def test_enoent_points_at_subsections_and_einval_does_not():
    enoent = slugs("load of migration failed: No such file or directory")
    assert enoent and all(slug.startswith("subsection-") for slug in enoent)
    einval = slugs("load of migration failed: Invalid argument")
    assert einval and not any(slug.startswith("subsection-") for slug in einval)


def test_several_lines_rank_the_rule_that_explains_them_all():
    pasted = ("qemu-system-x86_64: error while loading state for instance 0x0 of device 'serial'\n"
              "qemu-system-x86_64: load of migration failed: No such file or directory\n")
    assert slugs(pasted)[0].startswith("subsection-")
    footer = slugs("Missing section footer for serial")
    assert {"field-removed", "field-added", "field-size-changed"} <= set(footer)
    assert "version-bumped" not in footer


def test_equal_checks_and_validation():
    assert slugs("5 != 4") == ["equal-check-added"]
    assert slugs("Input validation failed: e1000/mac")[0] == "equal-check-added"


def test_nothing_matches_unrelated_text():
    assert match_error("hello world") == []
    assert match_error("") == []


def test_error_values_are_extracted():
    _rule, error = match_error("Unknown savevm section or instance 'icp/server' 4. Make sure that your "
                              "current VM setup matches your saved VM setup, including any hotplugged devices")[0]
    assert error_values(error, "x: Unknown savevm section or instance 'icp/server' 4. Make sure that your "
                               "current VM setup matches your saved VM setup, including any hotplugged devices") \
        == ["icp/server", "4"]
    missing = QemuError(text="Missing section footer for %s", source="s", direction="both")
    assert error_values(missing, "Missing section footer for 0000:00:03.0/e1000") == ["0000:00:03.0/e1000"]


# --- the commands ----------------------------------------------------------------------

def test_rules_text_lists_every_rule():
    result = run("rules")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["SLUG", "SEVERITY", "BREAKS", "TITLE"]
    listed = {line.split()[0]: line for line in lines[1:]}
    assert set(listed) == set(load_catalogue())
    assert "error" in listed["field-removed"] and "forward, backward" in listed["field-removed"]
    assert "Field removed" in listed["field-removed"]


def test_rules_json_has_full_entries():
    result = run("rules", "--format", "json")
    assert result.exit_code == 0
    entries = json.loads(result.output)
    assert [e["slug"] for e in entries] == sorted(load_catalogue())
    removed = next(e for e in entries if e["slug"] == "field-removed")
    assert set(removed) == {"slug", "title", "severity", "directions", "severities", "direction_sets", "summary",
                            "message", "explanation", "related", "qemu_errors", "example", "recipes"}
    assert removed["severities"] == ["error", "warning"] and ["forward"] in removed["direction_sets"]
    assert removed["qemu_errors"][0]["text"] == "Missing section footer for %s"
    assert removed["example"]["good"].count("VMSTATE_UNUSED(1)") == 1


def test_docs_catalogue_is_generated_from_the_rules():
    assert DOC.is_file(), "docs/catalogue.md is missing: run `vmsd-lint rules --format markdown > docs/catalogue.md`"
    fresh = catalogue_markdown(load_catalogue())
    assert DOC.read_text(encoding="utf-8") == fresh, \
        "docs/catalogue.md is out of date: run `vmsd-lint rules --format markdown > docs/catalogue.md`"
    assert run("rules", "--format", "markdown").output == fresh
    for slug in load_catalogue():
        assert f"\n## {slug}\n" in fresh and f"[{slug}](#{slug})" in fresh


@pytest.mark.parametrize("slug", sorted(p.stem for p in RULES.glob("*.toml")))
def test_explain_shows_the_whole_entry(slug):
    rule = load_catalogue()[slug]
    result = run("explain", slug)
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.startswith(f"{slug}: {rule.title}\n")
    assert f"severity: {rule.severity}" in out and rule.summary in out and rule.message in out
    for error in rule.qemu_errors:
        assert error.text in out and error.source in out
    for recipe in rule.recipes:
        assert recipe.title in out
    for line in (rule.example_bad + "\n" + rule.example_good).splitlines():
        assert line.rstrip() in out
    for paragraph in rule.explanation.split("\n\n"):
        assert paragraph.splitlines()[0].strip() in out
    if rule.related:
        assert ", ".join(rule.related) in out


def test_explain_json():
    result = run("explain", "version-bumped", "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.output)["slug"] == "version-bumped"


def test_explain_unknown_rule_is_one_line_and_exit_2():
    result = run("explain", "x")
    assert result.exit_code == 2
    assert result.stderr == "vmsd-lint: error: unknown rule 'x' (see vmsd-lint rules)\n"
    assert result.stdout == ""


def test_explain_needs_exactly_one_of_slug_and_error():
    assert run("explain").exit_code == 2
    assert run("explain", "field-removed", "--error", "x").exit_code == 2


def test_explain_error_lists_matching_rules_best_first():
    result = run("explain", "--error", "savevm: unsupported version 4 for 'serial' v3")
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.index("1. version-bumped") < out.index("version-decreased")
    assert "backward (NEW -> OLD)" in out and "forward (OLD -> NEW)" in out
    assert "migration/savevm.c: qemu_loadvm_section_start_full()" in out


def test_explain_error_reads_standard_input_and_says_when_nothing_matches():
    result = run("explain", "--error", "-", input="State blocked by non-migratable device 'foo'\n")
    assert result.exit_code == 0 and "1. unmigratable-added" in result.output
    result = run("explain", "--error", "the guest is on fire")
    assert result.exit_code == 1
    assert "No catalogue rule produces" in result.output


def test_explain_error_json():
    result = run("explain", "--format", "json", "--error",
                 "Unknown savevm section or instance 'icp/server' 4. Make sure that your current VM setup "
                 "matches your saved VM setup, including any hotplugged devices")
    assert result.exit_code == 0
    entries = json.loads(result.output)
    assert {"registration-moved", "section-removed", "instance-id-changed"} <= {e["rule"] for e in entries}
    assert entries[0]["values"] == ["icp/server", "4"]


def test_generic_errors_ask_for_more_lines():
    result = run("explain", "--error", "error while loading state for instance 0x0 of device 'serial'")
    assert result.exit_code == 0
    assert "paste the other lines it printed around it" in result.output


def test_explain_error_shows_the_rules_that_explain_every_pasted_line():
    pasted = ("qemu-system-x86_64: error while loading state for instance 0x0 of device 'serial'\n"
              "qemu-system-x86_64: load of migration failed: No such file or directory\n")
    result = run("explain", "--error", pasted)
    assert result.exit_code == 0
    numbered = re.findall(r"(?m)^\d+\. ([a-z-]+) ", result.output)
    assert numbered and all(slug.startswith("subsection-") for slug in numbered)
    assert "These explain only some of the lines: " in result.output and "field-removed" in result.output


# --- packaging -------------------------------------------------------------------------

def test_pyproject_ships_every_package_and_the_rules():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    packages = set(config["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "vmsd_lint").rglob("__init__.py")}
    missing = found - packages
    assert not missing, (f"pyproject.toml [tool.setuptools] packages does not list {sorted(missing)}: "
                         "a non-editable install (pip install ., as CI does) would leave them out")
    assert "vmsd_lint.rules_data" in packages
    assert config["package-dir"]["vmsd_lint.rules_data"] == "rules"
    assert "*.toml" in config["package-data"]["vmsd_lint.rules_data"]


def test_new_rule_scaffolds_a_valid_toml_a_sample_pair_and_a_snapshot(tmp_path):
    shutil.copytree(RULES, tmp_path / "rules")
    shutil.copytree(ROOT / "samples", tmp_path / "samples", symlinks=True)
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "new_rule.py"), "vmsd-example-type",
                           "--root", str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    rule = load_rules(tmp_path / "rules")["vmsd-example-type"]
    assert rule.severities == ("error",) and rule.direction_sets == (("backward", "forward"),)
    sample = tmp_path / "samples" / "vmsd-example-type"
    assert (sample / "old" / "include").is_symlink() and (sample / "new" / "hw").is_dir()
    assert json.loads((sample / "expected.json").read_text()) == []
    again = subprocess.run([sys.executable, str(ROOT / "scripts" / "new_rule.py"), "vmsd-example-type",
                            "--root", str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert again.returncode == 2 and "exists already" in again.stderr


def test_what_qemu_prints_comes_from_the_rule_file():
    assert qemu_prints("version-bumped", "unsupported-version", 3, "{section}", 2) == \
        "savevm: unsupported version 3 for '{section}' v2"
    assert qemu_prints("field-removed", "load-failed", 0, "serial") == \
        "error while loading state for instance 0x0 of device 'serial'"
    with pytest.raises(ValueError, match="no qemu_error with id"):
        qemu_prints("field-renamed", "load-failed", 0, "x")
    with pytest.raises(ValueError, match="more values"):
        qemu_prints("field-removed", "load-failed", 0)


def test_every_printed_error_of_the_samples_is_explained_by_its_own_rule():
    """`explain --error` on a finding's "QEMU prints" line names the finding's rule."""
    from vmsd_lint.app.check import Options, run_check
    seen = set()
    for sample in sorted((ROOT / "samples").iterdir()):
        if not (sample / "old").is_dir():
            continue
        for finding in run_check(str(sample / "old"), str(sample / "new"), Options()).findings:
            if finding.runtime_error:
                assert finding.rule in {rule.slug for rule, _ in match_error(finding.runtime_error)}, \
                    (sample.name, finding.rule, finding.runtime_error)
                seen.add(finding.rule)
    assert len(seen) >= 15, seen
