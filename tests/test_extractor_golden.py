"""Golden tests of the extractor: a small C tree in, the expected VMSD model out.

The trees use the bundled sample's vmstate.h (real QEMU macro text): the extractor has
no built-in table of VMSTATE_* macros, it expands the definitions the tree holds.
"""
from __future__ import annotations

from pathlib import Path

from vmsd_lint.extract.extractor import Extractor
from vmsd_lint.report.native import dumps_native, native_dump
from vmsd_lint.report.qemu_dump import qemu_dump
from vmsd_lint.sources.tree import directory_tree

DEVICE_C = r"""
#include "migration/vmstate.h"
#include "hw/qdev-core.h"

#define TYPE_MYDEV "my-device"
#define MYDEV_NREGS (2 * 4)
#define MYDEV_VERSION (1 + 2)

enum { MYDEV_IRQS = 3, MYDEV_BUF = 12 };

typedef struct MyDevState {
    DeviceState parent_obj;
    uint32_t ctrl;
    uint8_t regs[MYDEV_NREGS];
    uint8_t buf[MYDEV_BUF];
    uint64_t counter;
    bool enabled;
    int32_t irq_level;
} MyDevState;

/* a device-local field macro built on the tree's own macros */
#define VMSTATE_MYDEV_REGS(_f, _s) VMSTATE_UINT8_ARRAY_V(_f, _s, MYDEV_NREGS, 2)

static bool mydev_counter_needed(void *opaque)
{
    return true;
}

static const VMStateDescription vmstate_mydev_counter = {
    .name = "my-device/counter",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = mydev_counter_needed,
    .fields = (VMStateField[]) {     /* the older, non-const syntax */
        VMSTATE_UINT64(counter, MyDevState),
        VMSTATE_END_OF_LIST()
    }
};

static int mydev_post_load(void *opaque, int version_id)
{
    return 0;
}

static const VMStateDescription vmstate_mydev = {
    .minimum_version_id = 2,          /* designated initializers in any order */
    .post_load = mydev_post_load,
    .name = TYPE_MYDEV,
    .version_id = MYDEV_VERSION,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(ctrl, MyDevState),
        VMSTATE_MYDEV_REGS(regs, MyDevState),
        VMSTATE_BUFFER(buf, MyDevState),
        VMSTATE_BOOL_V(enabled, MyDevState, 3),
        VMSTATE_UNUSED(7 * 4),
        VMSTATE_INT32(irq_level, MyDevState),
        VMSTATE_END_OF_LIST()
    },
    .subsections = (const VMStateDescription * const []) {
        &vmstate_mydev_counter,
        NULL
    }
};

static void mydev_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->vmsd = &vmstate_mydev;
}

static const TypeInfo mydev_info = {
    .name = TYPE_MYDEV,
    .parent = TYPE_DEVICE,
    .instance_size = sizeof(MyDevState),
    .class_init = mydev_class_init,
};

static const TypeInfo mydev_sub_info = {
    .name = "my-device-sub",
    .parent = TYPE_MYDEV,
};
"""


def make_tree(sample_tree: Path) -> Path:
    (sample_tree / "hw" / "misc").mkdir(parents=True)
    (sample_tree / "hw" / "misc" / "mydev.c").write_text(DEVICE_C)
    return sample_tree


def extract(root: Path, **kwargs):
    return Extractor(**kwargs).run(directory_tree(str(root)))


def by_name(extraction, name):
    [vmsd] = [v for v in extraction.vmsds.values() if v.name == name]
    return vmsd


def test_device_vmsd_fields(sample_tree):
    x = extract(make_tree(sample_tree))
    vmsd = by_name(x, "my-device")
    assert (vmsd.symbol, vmsd.file, vmsd.version_id, vmsd.minimum_version_id) == \
        ("vmstate_mydev", "hw/misc/mydev.c", 3, 2)
    assert vmsd.hooks == {"post_load": "mydev_post_load"}
    fields = [(f.name, f.size, f.num, f.version_id) for f in vmsd.fields]
    assert fields == [
        ("ctrl", 4, None, 0),
        ("regs", 1, 8, 2),
        ("buf", 12, None, 0),
        ("enabled", 1, None, 3),
        ("unused", 28, None, 0),
        ("irq_level", 4, None, 0),
    ]
    flags = {f.name: set(f.flags) for f in vmsd.fields}
    assert "VMS_ARRAY" in flags["regs"] and "VMS_BUFFER" in flags["buf"]
    assert vmsd.fields[1].macro == "VMSTATE_MYDEV_REGS"
    assert vmsd.fields[0].info == "vmstate_info_uint32"
    assert all(not f.unresolved for f in vmsd.fields)
    assert vmsd.subsections == ("vmstate_mydev_counter",)


def test_subsection_with_old_syntax(sample_tree):
    x = extract(make_tree(sample_tree))
    sub = by_name(x, "my-device/counter")
    assert sub.hooks == {"needed": "mydev_counter_needed"}
    assert [(f.name, f.size) for f in sub.fields] == [("counter", 8)]


def test_qom_types_and_inheritance(sample_tree):
    x = extract(make_tree(sample_tree))
    assert x.types["my-device"].parent == "device"
    assert x.types["my-device"].vmsd == "hw/misc/mydev.c:vmstate_mydev"
    assert x.types["my-device-sub"].vmsd is None
    dump = qemu_dump(x)
    assert dump["my-device-sub"]["Description"]["name"] == "my-device"  # inherited
    assert dump["my-device"]["version_id"] == 3


def test_sample_tree_qemu_dump(sample_tree):
    dump = qemu_dump(extract(sample_tree))
    assert sorted(dump) == ["isa-serial", "serial", "vmschkmachine"]
    desc = dump["serial"]["Description"]
    assert (desc["name"], desc["version_id"], desc["minimum_version_id"]) == ("serial", 3, 2)
    assert [f["field"] for f in desc["Fields"]] == [
        "divider", "rbr", "ier", "iir", "lcr", "mcr", "lsr", "msr", "scr", "fcr_vmstate", "unused"]
    assert desc["Fields"][0] == {"field": "divider", "version_id": 2, "field_exists": False, "size": 2}
    subs = {s["name"]: s for s in desc["Subsections"]}
    assert list(subs) == ["serial/thr_ipending", "serial/recv_fifo", "serial/poll"]
    fifo = subs["serial/recv_fifo"]["Fields"]
    assert fifo[0]["Description"]["name"] == "Fifo8"
    assert fifo[1] == {"field": "scratch", "version_id": 0, "field_exists": False, "num": 32, "size": 1}
    assert subs["serial/poll"]["Fields"][1]["field"] == "modem_status_poll"
    assert subs["serial/poll"]["Fields"][1]["size"] == 8


ENUM_C = r"""
#include "migration/vmstate.h"
enum { E_IRQS = 3, E_BUF = E_IRQS << 2 };
typedef struct EState { uint8_t buf[E_BUF]; } EState;
static const VMStateDescription vmstate_e = {
    .name = "e",
    .fields = (const VMStateField[]) {
        VMSTATE_BUFFER(buf, EState),
        VMSTATE_END_OF_LIST()
    }
};
"""


def test_enumerator_defined_from_earlier_enumerator(sample_tree):
    (sample_tree / "hw" / "e.c").write_text(ENUM_C)
    vmsd = by_name(extract(sample_tree), "e")
    assert vmsd.fields[0].size == 12


def test_unknown_macro_is_a_diagnostic(sample_tree):
    (sample_tree / "hw" / "bad.c").write_text(
        '#include "migration/vmstate.h"\n'
        "typedef struct BadState { uint32_t x; } BadState;\n"
        "static const VMStateDescription vmstate_bad = {\n"
        '    .name = "bad",\n'
        "    .fields = (const VMStateField[]) {\n"
        "        VMSTATE_NO_SUCH_MACRO(x, BadState),\n"
        "        VMSTATE_END_OF_LIST()\n"
        "    }\n"
        "};\n")
    x = extract(sample_tree)
    assert by_name(x, "bad") is not None
    assert any(d.file == "hw/bad.c" and d.line == 6 for d in x.diagnostics), x.diagnostics


def test_native_dump_is_deterministic(sample_tree):
    make_tree(sample_tree)
    first = dumps_native(native_dump(extract(sample_tree)))
    second = dumps_native(native_dump(extract(sample_tree, jobs=2)))
    assert first == second
    assert first.endswith("\n")


def test_vmsd_of_an_abstract_type_without_concrete_subtype_is_a_diagnostic(sample_tree):
    """Only concrete types reach the wire: a VMSD installed by abstract types alone is not
    checked, and the extraction says so (QEMU's xtensa-cpu, whose cores are built by C code)."""
    tree = make_tree(sample_tree)
    device = tree / "hw" / "misc" / "mydev.c"
    text = device.read_text()
    assert not [d for d in extract(tree).diagnostics if "abstract" in d.message]
    abstract = text.replace("    .class_init = mydev_class_init,\n", "    .class_init = mydev_class_init,\n"
                            "    .abstract = true,\n")
    device.write_text(abstract.replace('.name = "my-device-sub",', '.name = "my-device-sub",\n    .abstract = true,'))
    [diag] = [d for d in extract(tree).diagnostics if "abstract" in d.message]
    assert (diag.file, diag.line) == ("hw/misc/mydev.c", text[:text.index("dc->vmsd")].count("\n") + 1)
    assert "'my-device'" in diag.message and "vmstate_mydev" in diag.message
    device.write_text(abstract)  # my-device-sub concrete again: checked through it
    assert not [d for d in extract(tree).diagnostics if "abstract" in d.message]


def test_enumerator_of_an_included_header_hides_a_macro_of_another_header(sample_tree):
    """imx7_ccm.h declares `CCM_MAX = 0xBE00 / sizeof(uint32_t) + 1` in an enum; imx6_ccm.h,
    which imx7_ccm.c does not include, has `#define CCM_MAX 35`: the array has 12161 elements."""
    (sample_tree / "include" / "hw" / "misc").mkdir(parents=True, exist_ok=True)
    (sample_tree / "include" / "hw" / "misc" / "old_ccm.h").write_text("#define CCM_MAX 35\n")
    (sample_tree / "include" / "hw" / "misc" / "new_ccm.h").write_text(
        "enum NewCCMRegisters {\n    CCM_MAX = 0xBE00 / sizeof(uint32_t) + 1,\n};\n")
    (sample_tree / "hw" / "misc").mkdir(parents=True, exist_ok=True)
    (sample_tree / "hw" / "misc" / "new_ccm.c").write_text(
        '#include "migration/vmstate.h"\n#include "hw/misc/new_ccm.h"\n'
        "typedef struct NewCCMState {\n    uint32_t ccm[CCM_MAX];\n} NewCCMState;\n"
        "static const VMStateDescription vmstate_new_ccm = {\n    .name = \"new.ccm\",\n"
        "    .fields = (const VMStateField[]) {\n        VMSTATE_UINT32_ARRAY(ccm, NewCCMState, CCM_MAX),\n"
        "        VMSTATE_END_OF_LIST()\n    },\n};\n")
    [field] = by_name(extract(sample_tree), "new.ccm").fields
    assert (field.name, field.num) == ("ccm", 12161)
