"""Machine verdicts on the real QEMU repository (issue 14's acceptance): a real QEMU 10.0.2
pc-q35-7.2 stream loads into QEMU 7.2 and back, so `--target x86_64 --machine pc-q35-7.2
v7.2.0..v10.0.2` must report no error on a section it carries; ramfb and e1000e's
core.timadj are gated by their compat arrays; the summary counts board-only, gated and
breaking findings."""
from __future__ import annotations

import json
import lzma

import pytest
from click.testing import CliRunner
from conftest import shared_dir

from vmsd_lint.cli.main import main
from vmsd_lint.sources.stream import load_stream_bytes, read_sections

pytestmark = pytest.mark.qemu

STREAMS = shared_dir() / "qemu" / "streams"


def run(args: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return str(tmp_path_factory.mktemp("verdicts-cache"))


@pytest.fixture(scope="module")
def q35(qemu_repo, cache) -> dict:
    code, output = run(["--format", "json", "--repo", qemu_repo, "--cache-dir", cache, "--target", "x86_64",
                        "--machine", "pc-q35-7.2", "v7.2.0..v10.0.2"])
    assert code in (0, 1), output
    return json.loads(output)


@pytest.fixture(scope="module")
def everything(qemu_repo, cache) -> dict:
    code, output = run(["--format", "json", "--repo", qemu_repo, "--cache-dir", cache, "v7.2.0..v10.0.2"])
    assert code == 1, output
    return json.loads(output)


def stream_sections() -> set[str]:
    """The sections the real x86_64 pc-q35-7.2 streams carry (7.2.0's and 10.0.2's): those
    of the JSON description QEMU wrote beside each, and the live ones the description
    leaves out (`ram`), read from the stream's section headers."""
    found = set()
    for release in ("v7.2.0", "v10.0.2"):
        path = STREAMS / f"x86_64-{release}-pc-q35-7.2.desc.json.xz"
        if not path.exists():
            pytest.skip(f"{path} is missing")
        with lzma.open(path) as stream:
            found |= {entry["name"].rsplit("/", 1)[-1] for entry in json.loads(stream.read())["devices"]}
        data = load_stream_bytes(STREAMS / f"x86_64-{release}-pc-q35-7.2.mig.xz")
        found |= {section.idstr.rsplit("/", 1)[-1] for section in read_sections(data)}
    return found


def test_no_error_on_a_section_of_the_real_pc_q35_7_2_streams(q35) -> None:
    sections = stream_sections()
    assert {"mch", "ICH9LPC", "cpu", "hpet", "i8259", "vmmouse", "ram", "timer", "globalstate"} <= sections
    on_stream = [f for f in q35["findings"] if set(f["sections"]) & sections]
    assert not [f for f in on_stream if f["severity"] == "error"], on_stream
    for finding in on_stream:
        assert finding["machines"] is not None and not finding["machines"]["board_only"], finding
        if finding["severity"] == "warning":
            # the run-time condition it needs: the .needed or check function, or the value compared
            assert "()" in finding["message"] or "must equal" in finding["message"], finding["message"]
            assert finding["machines"]["breaks"] == ["pc-q35-7.2"]


def test_the_machine_restricts_the_report(q35) -> None:
    assert q35["summary"]["board_only"] == 0  # what pc-q35-7.2 cannot hold is left out
    assert any(note.startswith("--machine pc-q35-7.2: ") for note in q35["notes"])
    assert all(f["machines"]["breaks"] in ([], ["pc-q35-7.2"]) for f in q35["findings"] if f["machines"])


@pytest.mark.parametrize("rule, path, driver, prop, value, compat, up_to", [
    ("section-added", "ramfb-dev", "ramfb", "x-migrate", "off", "hw_compat_8_1", "8.1"),
    ("field-added-conditional", "e1000e/core.timadj", "e1000e", "migrate-timadj", "off", "hw_compat_7_2", "7.2"),
    # always sent in 7.2, in 10.0.2 only while `!vmem->early_migration`: which the compat
    # entry keeps true for 7.2's machine types, so they still send it (spared where sent)
    ("field-condition-changed", "virtio-mem-device/size", "virtio-mem", "x-early-migration", "false",
     "hw_compat_7_2", "7.2"),
    # registered by realize only `if (vmem->early_migration)`: the `if` is the gate
    ("section-added", "virtio-mem-device-early", "virtio-mem", "x-early-migration", "false", "hw_compat_7_2", "7.2"),
])
def test_ramfb_and_e1000e_timadj_are_gated_by_their_compat_arrays(everything, rule, path, driver, prop, value,
                                                                   compat, up_to) -> None:
    (found,) = [f for f in everything["findings"] if (f["rule"], f["path"]) == (rule, path)]
    assert found["severity"] == "info" and found["machines"]["breaks"] == []
    gated = found["machines"]["gated"]
    assert (gated["driver"], gated["property"], gated["value"], gated["compat"], gated["up_to"]) == \
        (driver, prop, value, compat, up_to)
    assert gated["file"] == "hw/core/machine.c"
    assert found["downgrade"]["reason"].startswith(f"safe for machine types <= {up_to}: gated by {driver} {prop}")


def test_the_summary_counts_board_only_gated_and_breaking_findings(everything) -> None:
    summary = everything["summary"]
    assert summary["board_only"] > 150 and summary["gated"] >= 2 and summary["breaking"] > 0
    verdicts = [f["machines"] for f in everything["findings"]]
    assert summary["board_only"] == sum(1 for v in verdicts if v and v["board_only"])
    board_only = {f["vmsd"] for f in everything["findings"] if f["machines"] and f["machines"]["board_only"]}
    # the examples: Aspeed, i.MX, NPCM, Allwinner, PXA devices
    for prefix in ("aspeed", "imx", "npcm", "allwinner", "pxa2xx"):
        assert any(name.lower().startswith(prefix) for name in board_only), prefix
    # and none of what an x86_64 pc-q35-7.2 stream carries (another target's "cpu" may be)
    x86 = {s for f in everything["findings"] if f["machines"] and f["machines"]["board_only"]
           and "x86_64" in (f["targets"] or ()) for s in f["sections"]}
    assert not x86 & stream_sections()
    assert "cpu" in board_only  # (hppa's, whose binary has no versioned machine type)


def test_the_text_summary_line_says_it(qemu_repo, cache) -> None:
    code, output = run(["--repo", qemu_repo, "--cache-dir", cache, "v7.2.0..v10.0.2"])
    assert code == 1
    last = output.splitlines()[-1]
    assert " board-only, " in last and " gated, " in last and " breaking versioned machine types" in last
