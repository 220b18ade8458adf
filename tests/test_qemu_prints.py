"""What a finding says QEMU prints, checked against QEMU's own source (migration/savevm.c
of v10.0.2) on branches of the real repository made here: a plain layout break ends in
the section footer check, a subsection QEMU does not know in the load of the section,
with the instance id the registration gives."""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import make_branch

from vmsd_lint.catalogue import c_format
from vmsd_lint.cli.main import main

pytestmark = pytest.mark.qemu

IPMI = "hw/ipmi/ipmi_bmc_sim.c"
SECTION = "ipmi-bmc-sim"  # TYPE_IPMI_BMC_SIMULATOR, registered with vmstate_register(NULL, ...)
SUBSECTION = '''static const VMStateDescription vmstate_ipmi_sim_extra = {
    .name = TYPE_IPMI_BMC_SIMULATOR "/extra",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT8(msg_flags, IPMIBmcSim),
        VMSTATE_END_OF_LIST()
    }
};

static const VMStateDescription vmstate_ipmi_sim = {'''
SUBSECTIONS = '''        VMSTATE_END_OF_LIST()
    },
    .subsections = (const VMStateDescription * const []) {
        &vmstate_ipmi_sim_extra,
        NULL
    }
};

static void ipmi_fru_init'''


def savevm_format(repo: str, start: str) -> str:
    """The format of the error_report() in v10.0.2's savevm.c whose text starts with START,
    its adjacent string literals joined, as printf sees it."""
    source = subprocess.run(["git", "-C", repo, "show", "v10.0.2:migration/savevm.c"], capture_output=True,
                            text=True, check=True).stdout
    for call in re.findall(r'error_report\(((?:\s*"(?:[^"\\]|\\.)*"(?:\s*PRI\w+)?)+)', source):
        text = c_format(re.sub(r'"\s*(PRI\w+)\s*"?', r'"\1"', call.strip()))
        joined = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', text))
        if joined.startswith(start):
            return c_format(joined.replace('"', ""))
    raise AssertionError(f"no error_report({start!r}...) in savevm.c")


def shared_clone(repo: str, where: Path) -> Path:
    """A clone sharing REPO's objects: the branches made here stay out of the real repository."""
    clone = where / "qemu"
    subprocess.run(["git", "clone", "-q", "--shared", "--no-checkout", repo, str(clone)], check=True)
    return clone


@pytest.fixture(scope="module")
def findings(qemu_repo, tmp_path_factory) -> dict[str, dict]:
    """OLD: v10.0.2 with the IPMI simulator registered as instance 3; NEW: that, a field
    removed and an unconditional subsection added."""
    clone = shared_clone(qemu_repo, tmp_path_factory.mktemp("qemu"))
    make_branch(clone, "h17b-ipmi-old", {IPMI: ("vmstate_register(NULL, 0, &vmstate_ipmi_sim",
                                                     "vmstate_register(NULL, 3, &vmstate_ipmi_sim")})
    make_branch(clone, "h17b-ipmi-new", {IPMI: [
        ("        VMSTATE_UINT8(watchdog_expired, IPMIBmcSim),\n", ""),
        ("static const VMStateDescription vmstate_ipmi_sim = {", SUBSECTION),
        ("        VMSTATE_END_OF_LIST()\n    }\n};\n\nstatic void ipmi_fru_init", SUBSECTIONS)]},
        base="h17b-ipmi-old")
    cache = tmp_path_factory.mktemp("cache")
    result = CliRunner().invoke(main, ["--format", "json", "--repo", str(clone), "--cache-dir", str(cache),
                                       "h17b-ipmi-old..h17b-ipmi-new"], catch_exceptions=False)
    assert result.exit_code == 1, result.output
    return {f["rule"]: f for f in json.loads(result.output)["findings"] if f["vmsd"].startswith(SECTION)}


def test_a_removed_field_shows_as_the_missing_section_footer(qemu_repo, findings) -> None:
    removed = findings["field-removed"]
    assert removed["path"] == f"{SECTION}/watchdog_expired"
    assert removed["runtime_error"] == savevm_format(qemu_repo, "Missing section footer") % SECTION


def test_an_unknown_subsection_fails_the_load_with_the_registered_instance_id(qemu_repo, findings) -> None:
    added = findings["subsection-added-unconditional"]
    assert added["directions"] == ["backward"]
    assert added["runtime_error"] == savevm_format(qemu_repo, "error while loading state for instance") % (3, SECTION)
