"""Rust devices (extract/rust.py): the sample tree samples/rust-device holds QEMU 10.0.2's
Rust pl011 (trimmed) beside the C one; small Rust sources written here cover the rest of
what the qemu-api macros put on the wire."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ROOT, make_branch

from vmsd_lint.app.check import Options, run_check
from vmsd_lint.cli.main import main
from vmsd_lint.extract.implementations import wire_shape
from vmsd_lint.extract.rustexpr import Unread, eval_int, rust_int, rust_string
from vmsd_lint.model import IMPLEMENTATIONS_DIFFER
from vmsd_lint.placement.extraction import placing_extractor
from vmsd_lint.placement.wire import from_extraction
from vmsd_lint.report.native import dumps_native, native_dump
from vmsd_lint.report.qemu_dump import qemu_dump
from vmsd_lint.resolve import Resolved
from vmsd_lint.sources.tree import directory_tree

SAMPLE = ROOT / "samples" / "rust-device"
CLASS_RS = "rust/hw/char/pl011/src/device_class.rs"
DEVICE_RS = "rust/hw/char/pl011/src/device.rs"


def extract(root: Path):
    return placing_extractor().run(directory_tree(str(root)))


def vmsd(extraction, name: str, rust: bool = True):
    [found] = [v for v in extraction.vmsds.values() if v.name == name and v.file.endswith(".rs") == rust]
    return found


@pytest.fixture()
def tree(tmp_path: Path) -> Path:
    """A private copy of samples/rust-device (with a copy of the headers its include links to)."""
    dest = tmp_path / "rust-device"
    shutil.copytree(SAMPLE, dest)
    return dest


def edit(root: Path, path: str, text: str, replacement: str) -> None:
    source = (root / path).read_text()
    assert text in source
    (root / path).write_text(source.replace(text, replacement, 1))


# -- the sample: QEMU 10.0.2's Rust pl011 ----------------------------------------------------

def test_rust_pl011_vmsds():
    x = extract(SAMPLE)
    top = vmsd(x, "pl011")
    assert (top.symbol, top.file, top.line, top.version_id, top.minimum_version_id, top.static) == \
        ("VMSTATE_PL011", CLASS_RS, 54, 2, 2, False)
    assert top.hooks == {"post_load": "pl011_post_load"} and top.subsections is None
    unused, regs = top.fields
    assert (unused.name, unused.size, unused.flags, unused.info, unused.macro, unused.line) == \
        ("unused", 4, ("VMS_BUFFER",), "vmstate_info_unused_buffer", "vmstate_unused!", 60)
    assert (regs.name, regs.flags, regs.vmsd, regs.size) == ("regs", ("VMS_STRUCT",), "VMSTATE_PL011_REGS", None)
    nested = vmsd(x, "pl011/regs")
    assert nested.static and len(nested.fields) == 15
    fields = {f.name: f for f in nested.fields}
    # bilge registers are their u32 carrier, Fifo forwards to [registers::Data; PL011_FIFO_DEPTH as usize]
    assert (fields["flags"].size, fields["flags"].info, fields["flags"].flags) == \
        (4, "vmstate_info_uint32", ("VMS_SINGLE",))
    assert (fields["read_fifo"].size, fields["read_fifo"].num, fields["read_fifo"].flags) == (4, 16, ("VMS_ARRAY",))
    assert all(not f.unresolved for f in nested.fields) and not x.diagnostics


def test_rust_types_own_the_vmsd_beside_the_c_ones():
    x = extract(SAMPLE)
    rust, luminary = x.types["pl011 (rust)"], x.types["pl011_luminary (rust)"]
    assert (rust.symbol, rust.file, rust.parent, rust.vmsd) == \
        ("PL011State", DEVICE_RS, "sys-bus-device", f"{CLASS_RS}:VMSTATE_PL011")
    assert (luminary.parent, luminary.vmsd) == ("pl011 (rust)", None)  # inherits, as DeviceImpl gives no vmsd()
    assert x.types["pl011"].vmsd == "hw/char/pl011.c:vmstate_pl011"
    resolved = Resolved(x)
    assert resolved.type_vmsd("pl011_luminary (rust)").key == f"{CLASS_RS}:VMSTATE_PL011"
    schema = from_extraction(x)
    section = schema.sections["pl011"]
    assert section.vmsds == {"hw/char/pl011.c:vmstate_pl011", f"{CLASS_RS}:VMSTATE_PL011"}
    assert section.types == {"pl011", "pl011_luminary", "pl011 (rust)", "pl011_luminary (rust)"}
    assert any("pl011 (rust)" in p.function for p in x.placements["pl011"])  # placed by qdev too


def test_c_and_rust_pl011_match_on_the_wire():
    x = extract(SAMPLE)
    resolved = Resolved(x)
    c_shape = wire_shape(resolved, vmsd(x, "pl011", rust=False))
    assert c_shape == wire_shape(resolved, vmsd(x, "pl011")) == (("bytes", (False, 0), 124),)
    assert not [d for d in x.diagnostics if d.kind == IMPLEMENTATIONS_DIFFER]


def test_qemu_dump_holds_one_implementation(tree):
    (tree / "hw" / "core").mkdir(parents=True)
    (tree / "hw" / "core" / "sysbus.c").write_text(
        '#include "hw/sysbus.h"\n'
        "static const TypeInfo sysbus_info = { .name = TYPE_SYS_BUS_DEVICE, .parent = TYPE_DEVICE };\n")
    dump = qemu_dump(extract(tree))
    assert sorted(dump) == ["pl011", "pl011_luminary", "vmschkmachine"]
    assert dump["pl011"]["Description"]["Fields"][1]["field"] == "flags"  # the C one


def test_native_dump_is_deterministic():
    assert dumps_native(native_dump(extract(SAMPLE))) == dumps_native(native_dump(extract(SAMPLE)))


# -- checks -------------------------------------------------------------------------------------

def findings(old: Path, new: Path):
    return run_check(str(old), str(new), Options()).findings


def test_a_rust_field_removed_is_reported_on_its_section(tree):
    edit(tree, CLASS_RS, "        vmstate_of!(PL011Registers, ibrd),\n", "")
    [finding] = findings(SAMPLE, tree)
    assert (finding.rule, finding.vmsd, finding.path, finding.sections) == \
        ("field-removed", "pl011/regs", "pl011/regs/ibrd", ("pl011",))
    assert (finding.old.file, finding.old.line, finding.new) == (CLASS_RS, 44, None)
    assert "pl011 (rust)" in finding.types and "pl011" not in finding.types  # C's pl011 did not change


def test_implementations_that_differ_are_a_diagnostic_not_a_finding(tree):
    edit(tree, CLASS_RS, "size_of::<u32>()", "size_of::<u64>()")
    x = extract(tree)
    [diag] = [d for d in x.diagnostics if d.kind == IMPLEMENTATIONS_DIFFER]
    assert (diag.file, diag.line) == (CLASS_RS, 54)
    assert "hw/char/pl011.c:62" in diag.message and "124 bytes" in diag.message and "128 bytes" in diag.message
    [finding] = findings(SAMPLE, tree)  # the Rust pl011 against its own past
    assert (finding.rule, finding.path) == ("field-size-changed", "pl011/unused")
    assert findings(tree, tree) == []
    result = CliRunner().invoke(main, ["--show-diagnostics", "--no-cache", f"{tree}..{tree}"])
    assert result.exit_code == 0 and "type pl011: the Rust implementation" in result.output


def test_a_c_edit_leaves_the_rust_implementation_alone(tree):
    edit(tree, "hw/char/pl011.c", "        VMSTATE_UINT32(ifl, PL011State),\n", "")
    [finding] = findings(SAMPLE, tree)
    assert (finding.rule, finding.vmsd, finding.old.file) == ("field-removed", "pl011", "hw/char/pl011.c")
    assert "pl011 (rust)" not in finding.types


# -- the other macros and types -------------------------------------------------------------

OTHER_RS = r"""
use qemu_api::{bindings, c_str, vmstate_clock, vmstate_fields, vmstate_of, vmstate_struct, vmstate_subsections,
               vmstate_unused, vmstate_validate};
use std::ffi::CStr;

const NREGS: usize = 2 * 4;
const MASKS: [u32; 3] = [1, 2, 4];
pub const TYPE_OTHER: &CStr = c"other-dev";

#[repr(C)]
#[derive(qemu_api_macros::Object)]
pub struct OtherState {
    parent_obj: ParentField<SysBusDevice>,
    count: u8,
    regs: [BqlCell<u16>; NREGS],
    masks: [u32; MASKS.len()],
    ptrs: [Box<u64>; 2],
    buf: [u8; 16],
    flag: bool,
    level: i64,
    size: usize,
    timer: crate::timer::Timer,
    clock: Owned<Clock>,
    timers: [Timer; 2],
}

fn other_validate(_s: &OtherState, _version: u8) -> bool { true }

static VMSTATE_OTHER_SUB: VMStateDescription = VMStateDescription {
    name: c"other/sub".as_ptr(),
    needed: Some(other_needed),
    fields: vmstate_fields! {
        vmstate_clock!(OtherState, clock),
    },
    ..Zeroable::ZERO
};

pub static VMSTATE_OTHER: VMStateDescription = VMStateDescription {
    name: TYPE_OTHER.as_ptr(),
    version_id: 3,
    minimum_version_id: 1 << 1,
    pre_save: None,
    fields: vmstate_fields! {
        vmstate_of!(OtherState, count),
        vmstate_of!(OtherState, regs).with_version_id(3),
        vmstate_of!(OtherState, masks),
        vmstate_of!(OtherState, ptrs),
        vmstate_of!(OtherState, buf[0 .. count]),
        vmstate_of!(OtherState, buf[0 .. count * 4]),
        vmstate_validate!(OtherState, c_str!("count fits"), other_validate),
        vmstate_of!(OtherState, flag),
        vmstate_unused!(NREGS * 2),
        vmstate_of!(OtherState, level),
        vmstate_struct!(OtherState, sub, &super::sub::VMSTATE_ELSEWHERE, Sub),
        vmstate_of!(OtherState, size),
        vmstate_of!(OtherState, missing),
        vmstate_of!(OtherState, timer),
        vmstate_of!(OtherState, timers),
        vmstate_no_such_macro!(OtherState, flag),
        VMStateField { name: c"x".as_ptr(), ..Zeroable::ZERO },
    },
    subsections: vmstate_subsections! {
        VMSTATE_OTHER_SUB,
    },
    ..Zeroable::ZERO
};

unsafe impl ObjectType for OtherState {
    type Class = <SysBusDevice as ObjectType>::Class;
    const TYPE_NAME: &'static CStr = crate::TYPE_OTHER;
}

impl ObjectImpl for OtherState {
    type ParentType = SysBusDevice;
}

impl DeviceImpl for OtherState {
    const VMSTATE: Option<&'static VMStateDescription> = Some(&VMSTATE_OTHER);
}

#[derive(qemu_api_macros::Object)]
pub struct Nameless {
    parent_obj: ParentField<OtherState>,
}
"""

SUB_RS = r"""
pub static VMSTATE_ELSEWHERE: VMStateDescription = VMStateDescription {
    name: c_str!("else\x77here").as_ptr(),
    version_id: 1,
    fields: vmstate_fields! {},
    ..Zeroable::ZERO
};
"""


def other_tree(tree: Path) -> Path:
    src = tree / "rust" / "hw" / "misc" / "other" / "src"
    src.mkdir(parents=True)
    (src / "lib.rs").write_text(OTHER_RS)
    (src / "sub.rs").write_text(SUB_RS)
    return tree


def test_the_other_field_macros(tree):
    x = extract(other_tree(tree))
    top = vmsd(x, "other-dev")
    assert (top.version_id, top.minimum_version_id, top.hooks) == (3, 2, {})
    fields = [(f.name, f.size, f.num, f.num_field, f.flags, f.info, f.version_id, f.field_exists, f.vmsd)
              for f in top.fields]
    assert fields[:12] == [
        ("count", 1, None, None, ("VMS_SINGLE",), "vmstate_info_uint8", 0, None, None),
        ("regs", 2, 8, None, ("VMS_ARRAY",), "vmstate_info_uint16", 3, None, None),  # BqlCell is transparent
        ("masks", 4, 3, None, ("VMS_ARRAY",), "vmstate_info_uint32", 0, None, None),
        ("ptrs", 8, 2, None, ("VMS_ARRAY", "VMS_ARRAY_OF_POINTER"), "vmstate_info_uint64", 0, None, None),
        ("buf", 1, 0, "count", ("VMS_VARRAY_UINT8",), "vmstate_info_uint8", 0, None, None),
        ("buf", 1, 4, "count", ("VMS_MULTIPLY_ELEMENTS", "VMS_VARRAY_UINT8"), "vmstate_info_uint8", 0, None, None),
        ("count fits", None, 0, None, ("VMS_ARRAY", "VMS_MUST_EXIST"), None, 0, "other_validate", None),
        ("flag", 1, None, None, ("VMS_SINGLE",), "vmstate_info_bool", 0, None, None),
        ("unused", 16, None, None, ("VMS_BUFFER",), "vmstate_info_unused_buffer", 0, None, None),
        ("level", 8, None, None, ("VMS_SINGLE",), "vmstate_info_int64", 0, None, None),
        ("sub", None, None, None, ("VMS_STRUCT",), None, 0, None,
         "rust/hw/misc/other/src/sub.rs:VMSTATE_ELSEWHERE"),
        ("size", None, None, None, (), None, 0, None, None),  # usize has no VMState impl
    ]
    assert vmsd(x, "elsewhere").fields == ()
    assert top.fields[11].unresolved and top.fields[12].unresolved  # usize; no such member
    timer, timers = top.fields[13], top.fields[14]
    assert (timer.info, timer.size, timer.unresolved) == ("vmstate_info_timer", None, ("size",))
    assert (timers.num, timers.flags, timers.unresolved) == (2, ("VMS_ARRAY",), ("size",))
    unknown, literal = top.fields[15:]
    assert (unknown.name, unknown.macro, unknown.unresolved) == (None, "vmstate_no_such_macro!", ("expansion",))
    assert (literal.name, literal.unresolved) == (None, ("expansion",))
    [sub] = Resolved(x).subsections(top)
    assert (sub.name, sub.hooks, sub.fields[0].vmsd, sub.fields[0].flags) == \
        ("other/sub", {"needed": "other_needed"}, "vmstate_clock", ("VMS_POINTER", "VMS_STRUCT"))
    other = x.types["other-dev (rust)"]
    assert (other.parent, other.vmsd) == ("sys-bus-device", "rust/hw/misc/other/src/lib.rs:VMSTATE_OTHER")
    messages = [d.message for d in x.diagnostics if d.file.startswith("rust/hw/misc/")]
    for words in ("usize has no impl_vmstate_scalar!", "OtherState has no field missing",
                  "the size of Timer is not known", "vmstate_no_such_macro", "VMStateField {",
                  "QOM type Nameless: TYPE_NAME not read", "nests 'vmstate_clock', not defined"):
        assert any(words in m for m in messages), (words, messages)


def test_a_rust_device_without_vmsd_beside_a_c_one_with_one(tree):
    edit(tree, DEVICE_RS, "Some(&device_class::VMSTATE_PL011)", "None")
    x = extract(tree)
    assert x.types["pl011 (rust)"].vmsd is None
    [diag] = [d for d in x.diagnostics if d.kind == IMPLEMENTATIONS_DIFFER]
    assert "only the C one sends section 'pl011'" in diag.message and (diag.file, diag.line) == (DEVICE_RS, 55)


def test_unreadable_rust_gives_diagnostics(tree):
    edit(tree, CLASS_RS, 'name: c_str!("pl011").as_ptr(),', "name: make_name(),")
    edit(tree, CLASS_RS, "version_id: 2,\n    minimum_version_id: 2,\n    post_load",
         "version_id: NO_SUCH,\n    minimum_version_id: 2,\n    post_load")
    edit(tree, "rust/hw/char/pl011/src/lib.rs", "pub const TYPE_PL011_LUMINARY", "pub const TYPE_OTHER")
    x = extract(tree)
    top = vmsd(x, None)
    assert (top.name, top.version_id, len(top.fields)) == (None, None, 2)
    messages = " | ".join(d.message for d in x.diagnostics)
    assert "VMSD VMSTATE_PL011: name: not a string literal or a constant" in messages
    assert "version_id: constant NO_SUCH not found" in messages
    assert "QOM type PL011Luminary: TYPE_NAME not read" in messages


def test_literals():
    assert [rust_int(t) for t in ("16", "0x10", "0x1_0u32", "0b101", "0o17", "1_000usize")] == [16, 16, 16, 5, 15, 1000]
    assert eval_int("2 * (3 + 4) << 1") == 28
    assert [rust_string(t) for t in ('c"pl011"', 'b"x\\0"', 'r#"a"b"#', '"\\x41\\u{42}"')] == ["pl011", "x", 'a"b', "AB"]
    for bad in ("1 / 0", "1 << 999", "2 ** 3", "x", "9" * 5000):
        with pytest.raises(Unread):
            eval_int(bad)
    with pytest.raises(Unread):
        rust_int("9" * 5000)


def test_a_tree_without_rust_reads_no_rust(sample_tree):
    x = extract(sample_tree)
    assert not any(v.file.endswith(".rs") for v in x.vmsds.values())
    assert not any(name.endswith("(rust)") for name in x.types)


# -- the real tree -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def qemu_clone(qemu_repo, tmp_path_factory) -> Path:
    clone = tmp_path_factory.mktemp("rust") / "qemu"
    subprocess.run(["git", "clone", "-q", "--shared", "--no-checkout", qemu_repo, str(clone)], check=True)
    make_branch(clone, "rust-field-removed", {CLASS_RS: ("        vmstate_of!(PL011Registers, ibrd),\n", "")})
    return clone


@pytest.mark.qemu
def test_real_rust_pl011(qemu_clone, tmp_path_factory):
    cache = str(tmp_path_factory.mktemp("cache"))
    run = CliRunner().invoke(main, ["dump", "--repo", str(qemu_clone), "--cache-dir", cache, "v10.0.2"])
    assert run.exit_code == 0, run.output
    data = json.loads(run.stdout)
    rust = {v["symbol"]: v for v in data["vmsds"] if v["file"].endswith(".rs")}
    assert sorted(rust) == ["VMSTATE_PL011", "VMSTATE_PL011_CLOCK", "VMSTATE_PL011_REGS"]
    assert [f["name"] for f in rust["VMSTATE_PL011"]["fields"]] == ["unused", "regs"]
    assert all(not f["unresolved"] for v in rust.values() for f in v["fields"])
    types = {t["name"]: t for t in data["types"]}
    assert types["pl011 (rust)"]["vmsd"] == f"{CLASS_RS}:VMSTATE_PL011"
    assert types["hpet (rust)"]["vmsd"] is None  # QEMU 10.0's Rust HPET does not migrate
    differ = [d for d in data["diagnostics"] if d["kind"] == IMPLEMENTATIONS_DIFFER]
    assert [d["message"].split(":")[0] for d in differ] == ["type hpet"]  # the two pl011 match on the wire
    assert not [d for d in data["diagnostics"] if d["file"].startswith("rust/") and d["kind"] == "unresolved"]

    run = CliRunner().invoke(main, ["--format", "json", "--repo", str(qemu_clone), "--cache-dir", cache,
                                    "v10.0.2..rust-field-removed"])
    assert run.exit_code == 1, run.output
    [finding] = json.loads(run.stdout)["findings"]
    assert (finding["rule"], finding["sections"], finding["old"]) == \
        ("field-removed", ["pl011"], {"file": CLASS_RS, "line": 62})
    # virt creates TYPE_PL011, the Rust twin's QOM name too: not board-only
    assert not finding["machines"]["board_only"] and any(m.startswith("virt-") for m in finding["machines"]["breaks"])
