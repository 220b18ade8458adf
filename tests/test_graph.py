"""`vmsd-lint graph`: the placement graph on a sample and on real QEMU (spapr)."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from vmsd_lint.cli.main import main

SAMPLES = Path(__file__).resolve().parents[1] / "samples"


def graph(*args: str) -> str:
    result = CliRunner().invoke(main, ["graph", "--no-cache", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def registrations(data: dict) -> dict[str, dict]:
    return {n["id"]: n for n in data["nodes"] if n.get("kind") == "registration"}


def test_sample_registration_knows_its_init_context() -> None:
    old = registrations(json.loads(graph("--format", "json", str(SAMPLES / "registration-moved" / "old"))))
    new = registrations(json.loads(graph("--format", "json", str(SAMPLES / "registration-moved" / "new"))))
    assert [n["context"] for n in old.values()] == ["machine init"]
    assert [n["context"] for n in new.values()] == ["device realize"]


def test_focus_keeps_the_init_path_and_drops_the_rest() -> None:
    data = json.loads(graph("--format", "json", "--focus", "or1k_timer", str(SAMPLES / "registration-moved" / "old")))
    ids = {n["id"] for n in data["nodes"]}
    assert "fn:hw/openrisc/openrisc_sim.c:openrisc_sim_init" in ids  # the registering function (machine init)
    assert any(i.startswith("type:") for i in ids)  # the machine type installing it (mc->init)
    kinds = {e["kind"] for e in data["edges"]}
    assert {"registers", "hook:init"} <= kinds


def test_an_unknown_focus_is_an_input_error() -> None:
    result = CliRunner().invoke(main, ["graph", "--no-cache", "--focus", "no_such_thing",
                                       str(SAMPLES / "registration-moved" / "old")])
    assert result.exit_code == 2 and "no type, VMSD, function or section named 'no_such_thing'" in result.output


def test_graphml_and_dot_are_deterministic() -> None:
    tree = str(SAMPLES / "registration-moved" / "new")
    assert graph("--format", "graphml", tree) == graph("--format", "graphml", tree)
    assert graph("--format", "dot", tree).startswith("digraph vmsd_lint {")


@pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz (dot) is not installed")
def test_dot_renders_with_graphviz(tmp_path) -> None:
    source = tmp_path / "g.dot"
    source.write_text(graph("--format", "dot", str(SAMPLES / "registration-moved" / "old")))
    rendered = subprocess.run(["dot", "-Tsvg", str(source)], capture_output=True, text=True)
    assert rendered.returncode == 0, rendered.stderr
    assert "<svg" in rendered.stdout and "openrisc_sim_init" in rendered.stdout


@pytest.mark.qemu
def test_spapr_placements_on_real_qemu(qemu_repo, tmp_path) -> None:
    result = CliRunner().invoke(main, ["graph", "--format", "json", "--repo", qemu_repo, "--cache-dir", str(tmp_path),
                                       "--focus", "spapr_cpu_state", "--focus", "vmstate_spapr", "v10.0.2"])
    assert result.exit_code == 0, result.output
    regs = {(n["section"], n["instance_id"], n["context"]) for n in registrations(json.loads(result.output)).values()}
    assert ("spapr_cpu", "cs->cpu_index", "CPU realize") in regs
    assert ("spapr", "0", "machine init") in regs
    ids = {n["id"] for n in json.loads(result.output)["nodes"]}
    assert "fn:hw/ppc/spapr_cpu_core.c:spapr_realize_vcpu" in ids
    assert "fn:hw/ppc/spapr.c:spapr_machine_init" in ids
