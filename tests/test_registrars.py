"""QOM types that C code registers from arrays of descriptors and through helpers
(extract/registrars.py), one small tree per pattern QEMU uses."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from vmsd_lint.placement.extraction import placing_extractor
from vmsd_lint.report.qemu_dump import qemu_dump
from vmsd_lint.resolve import Resolved
from vmsd_lint.sources.tree import directory_tree

INCLUDE = Path(__file__).resolve().parents[1] / "samples" / "qemu-include" / "include"

HEAD = """\
#include "qemu/osdep.h"
#include "qemu/module.h"
#include "qom/object.h"
#include "hw/qdev-core.h"
#include "migration/vmstate.h"
"""

# hw/block/m25p80.c: a TypeInfo declared in the loop body, its name read from an array
# whose elements a macro builds.
FLASH_C = HEAD + r"""
#define TYPE_FLASH "flash-generic"
typedef struct FlashPartInfo {
    const char *part_name;
    uint32_t jedec;
} FlashPartInfo;

#define INFO(_part_name, _jedec) .part_name = _part_name, .jedec = _jedec

static const FlashPartInfo known_devices[] = {
    { INFO("part-a", 0x1) },
    { INFO("part-b", 0x2) },
};

typedef struct FlashState {
    DeviceState parent_obj;
    uint32_t state;
} FlashState;

static const VMStateDescription vmstate_flash = {
    .name = "flash",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(state, FlashState),
        VMSTATE_END_OF_LIST()
    }
};

static void flash_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    dc->vmsd = &vmstate_flash;
}

static const TypeInfo flash_info = {
    .name = TYPE_FLASH,
    .parent = TYPE_DEVICE,
    .abstract = true,
};

static void flash_register_types(void)
{
    int i;

    type_register_static(&flash_info);
    for (i = 0; i < ARRAY_SIZE(known_devices); ++i) {
        const TypeInfo ti = {
            .name       = known_devices[i].part_name,
            .parent     = TYPE_FLASH,
            .class_init = flash_class_init,
            .class_data = (void *)&known_devices[i],
        };
        type_register_static(&ti);
    }
}

type_init(flash_register_types)
"""

# hw/net/e1000.c: an empty TypeInfo filled member by member from `info = &array[i]`;
# the descriptor names the VMSD itself (megasas).
NIC_C = HEAD + r"""
#define TYPE_NIC_BASE "nic-base"
typedef struct NicState {
    DeviceState parent_obj;
    uint32_t mac;
} NicState;

static const VMStateDescription vmstate_nic = {
    .name = "nic",
    .version_id = 2,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(mac, NicState),
        VMSTATE_END_OF_LIST()
    }
};

typedef struct NicInfo {
    const char *name;
    const VMStateDescription *vmsd;
} NicInfo;

static NicInfo nic_devices[] = {
    { .name = "nic-one", .vmsd = &vmstate_nic },
    { .name = "nic-two", .vmsd = &vmstate_nic },
};

static void nic_class_init(ObjectClass *klass, void *data)
{
}

static const TypeInfo nic_base_info = {
    .name = TYPE_NIC_BASE,
    .parent = TYPE_DEVICE,
    .abstract = true,
};

static void nic_register_types(void)
{
    int i;

    type_register_static(&nic_base_info);
    for (i = 0; i < ARRAY_SIZE(nic_devices); i++) {
        const NicInfo *info = &nic_devices[i];
        TypeInfo type_info = {};

        type_info.name = info->name;
        type_info.parent = TYPE_NIC_BASE;
        type_info.class_data = (void *)info;
        type_info.class_init = nic_class_init;

        type_register_static(&type_info);
    }
}

type_init(nic_register_types)
"""

# target/arm: a helper of one file builds the type from its parameter, with the name made
# by g_strdup_printf(); another file calls it for each element of its own array.
ARM_QOM_H = r"""
#define TYPE_ARM_CPU "arm-cpu"
typedef struct ARMCPUInfo {
    const char *name;
    void (*initfn)(Object *obj);
    void (*class_init)(ObjectClass *oc, void *data);
} ARMCPUInfo;
void arm_cpu_register(const ARMCPUInfo *info);
"""

ARM_CPU_C = HEAD + r"""
#include "hw/core/cpu.h"
#include "target/arm/cpu-qom.h"

static void cpu_register_class_init(ObjectClass *oc, void *data)
{
}

void arm_cpu_register(const ARMCPUInfo *info)
{
    TypeInfo type_info = {
        .parent = TYPE_ARM_CPU,
        .class_init = info->class_init ?: cpu_register_class_init,
        .class_data = (void *)info,
    };

    type_info.name = g_strdup_printf("%s-" TYPE_ARM_CPU, info->name);
    type_register_static(&type_info);
    g_free((void *)type_info.name);
}

static const TypeInfo arm_cpu_type_info = {
    .name = TYPE_ARM_CPU,
    .parent = TYPE_CPU,
    .abstract = true,
};

static void arm_cpu_register_types(void)
{
    type_register_static(&arm_cpu_type_info);
}

type_init(arm_cpu_register_types)
"""

ARM_CPU32_C = r"""
#include "qemu/osdep.h"
#include "qemu/module.h"
#include "target/arm/cpu-qom.h"

static void cortex_a8_initfn(Object *obj)
{
}

static void arm_v7m_class_init(ObjectClass *oc, void *data)
{
}

static const ARMCPUInfo arm_tcg_cpus[] = {
    { .name = "cortex-a8",   .initfn = cortex_a8_initfn },
    { .name = "cortex-m3",   .initfn = cortex_a8_initfn, .class_init = arm_v7m_class_init },
};

static void arm_tcg_cpu_register_types(void)
{
    size_t i;

    for (i = 0; i < ARRAY_SIZE(arm_tcg_cpus); ++i) {
        arm_cpu_register(&arm_tcg_cpus[i]);
    }
}

type_init(arm_tcg_cpu_register_types)
"""

# target/i386/cpu.c: a loop over the definitions calls a helper, which registers the
# unversioned model and walks the versions with a pointer (the default list positional),
# registering an alias only `if (vdef->alias)`; names come from a helper returning
# g_strdup_printf() of a macro.
X86_C = HEAD + r"""
#include "hw/core/cpu.h"

#define TYPE_X86_CPU "x86_64-cpu"
#define X86_CPU_TYPE_SUFFIX "-" TYPE_X86_CPU
#define X86_CPU_TYPE_NAME(name) (name X86_CPU_TYPE_SUFFIX)

typedef struct X86CPUVersionDefinition {
    int version;
    const char *alias;
} X86CPUVersionDefinition;

typedef struct X86CPUDefinition {
    const char *name;
    int level;
    const X86CPUVersionDefinition *versions;
} X86CPUDefinition;

static const X86CPUDefinition builtin_x86_defs[] = {
    {
        .name = "qemu64",
        .level = 0xd,
    },
    {
        .name = "Skylake",
        .level = 0xd,
        .versions = (X86CPUVersionDefinition[]) {
            { .version = 1 },
            { .version = 2, .alias = "Skylake-noTSX" },
            { /* end of list */ }
        },
    },
};

static char *x86_cpu_type_name(const char *model_name)
{
    return g_strdup_printf(X86_CPU_TYPE_NAME("%s"), model_name);
}

static char *x86_cpu_versioned_model_name(const X86CPUDefinition *cpudef, int version)
{
    return g_strdup_printf("%s-v%d", cpudef->name, (int)version);
}

static const X86CPUVersionDefinition *x86_cpu_def_get_versions(const X86CPUDefinition *def)
{
    static const X86CPUVersionDefinition default_version_list[] = {
        { 1 },
        { /* end of list */ }
    };

    return def->versions ?: default_version_list;
}

static void x86_cpu_cpudef_class_init(ObjectClass *oc, void *data)
{
}

static void x86_register_cpu_model_type(const char *name, void *model)
{
    g_autofree char *typename = x86_cpu_type_name(name);
    TypeInfo ti = {
        .name = typename,
        .parent = TYPE_X86_CPU,
        .class_init = x86_cpu_cpudef_class_init,
        .class_data = model,
    };

    type_register_static(&ti);
}

static void x86_register_cpudef_types(const X86CPUDefinition *def)
{
    const X86CPUVersionDefinition *vdef;

    x86_register_cpu_model_type(def->name, NULL);
    for (vdef = x86_cpu_def_get_versions(def); vdef->version; vdef++) {
        g_autofree char *name = x86_cpu_versioned_model_name(def, vdef->version);

        x86_register_cpu_model_type(name, NULL);
        if (vdef->alias) {
            x86_register_cpu_model_type(vdef->alias, NULL);
        }
    }
}

static const TypeInfo x86_cpu_type_info = {
    .name = TYPE_X86_CPU,
    .parent = TYPE_CPU,
    .abstract = true,
};

static void x86_cpu_register_types(void)
{
    int i;

    type_register_static(&x86_cpu_type_info);
    for (i = 0; i < ARRAY_SIZE(builtin_x86_defs); i++) {
        x86_register_cpudef_types(&builtin_x86_defs[i]);
    }
}

type_init(x86_cpu_register_types)
"""

# target/s390x/cpu_models.c: elements written as macro calls without braces, an #if inside
# the initializer (which the C grammar cannot parse), two TypeInfos per element.
S390_C = HEAD + r"""
#include "hw/core/cpu.h"

#define TYPE_S390_CPU "s390x-cpu"
#define S390_CPU_TYPE_NAME(name) (name "-" TYPE_S390_CPU)

typedef struct S390CPUDef {
    const char *name;
    int gen;
} S390CPUDef;

#define CPUDEF_INIT(_gen, _name) \
    {                            \
        .name = _name,           \
        .gen = _gen,             \
    }

static S390CPUDef s390_cpu_defs[] = {
#if 0
    CPUDEF_INIT(5, "z900"),
#endif
    CPUDEF_INIT(10, "z10EC"),
    CPUDEF_INIT(16, "gen16a"),
};

static char *s390_cpu_type_name(const char *model_name)
{
    return g_strdup_printf(S390_CPU_TYPE_NAME("%s"), model_name);
}

static char *s390_base_cpu_type_name(const char *model_name)
{
    return g_strdup_printf(S390_CPU_TYPE_NAME("%s-base"), model_name);
}

static void s390_cpu_model_class_init(ObjectClass *oc, void *data)
{
}

static void register_types(void)
{
    int i;

    for (i = 0; i < ARRAY_SIZE(s390_cpu_defs); i++) {
        char *base_name = s390_base_cpu_type_name(s390_cpu_defs[i].name);
        TypeInfo ti_base = {
            .name = base_name,
            .parent = TYPE_S390_CPU,
            .class_init = s390_cpu_model_class_init,
            .class_data = (void *) &s390_cpu_defs[i],
        };
        char *name = s390_cpu_type_name(s390_cpu_defs[i].name);
        TypeInfo ti = {
            .name = name,
            .parent = TYPE_S390_CPU,
            .class_init = s390_cpu_model_class_init,
            .class_data = (void *) &s390_cpu_defs[i],
        };

        type_register_static(&ti_base);
        type_register_static(&ti);
    }
}

type_init(register_types)
"""


def make_tree(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    shutil.copytree(INCLUDE, root / "include")  # a link out of the tree is not followed
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    return root


def extract(root: Path):
    return placing_extractor().run(directory_tree(str(root)))


def registration_diagnostics(extraction) -> list:
    return [d for d in extraction.diagnostics if "type registration" in d.message]


def test_typeinfo_declared_in_the_loop_body_with_macro_built_elements(tmp_path):
    x = extract(make_tree(tmp_path / "t", {"hw/block/flash.c": FLASH_C}))
    for name in ("part-a", "part-b"):
        qom = x.types[name]
        assert (qom.parent, qom.class_init, qom.file, qom.vmsd) == (
            "flash-generic", "flash_class_init", "hw/block/flash.c", "hw/block/flash.c:vmstate_flash")
    assert {"part-a", "part-b"} <= set(qemu_dump(x))
    assert qemu_dump(x)["part-a"]["Description"]["name"] == "flash"
    assert not registration_diagnostics(x)


def test_typeinfo_filled_member_by_member_from_a_pointer_to_the_element(tmp_path):
    x = extract(make_tree(tmp_path / "t", {"hw/net/nic.c": NIC_C}))
    for name in ("nic-one", "nic-two"):
        qom = x.types[name]
        assert (qom.parent, qom.class_init, qom.data_vmsd) == ("nic-base", "nic_class_init", "vmstate_nic")
        assert qom.vmsd == "hw/net/nic.c:vmstate_nic"  # named by the descriptor
    assert not registration_diagnostics(x)


def test_helper_of_another_file_called_for_each_element(tmp_path):
    x = extract(make_tree(tmp_path / "t", {"target/arm/cpu-qom.h": ARM_QOM_H, "target/arm/cpu.c": ARM_CPU_C,
                                           "target/arm/tcg/cpu32.c": ARM_CPU32_C}))
    a8, m3 = x.types["cortex-a8-arm-cpu"], x.types["cortex-m3-arm-cpu"]
    assert (a8.parent, a8.class_init, a8.file) == ("arm-cpu", "cpu_register_class_init", "target/arm/cpu.c")
    assert m3.class_init == "arm_v7m_class_init"  # `info->class_init ?: cpu_register_class_init`
    assert Resolved(x).is_a("cortex-m3-arm-cpu", "cpu")
    assert not registration_diagnostics(x)


def test_helpers_pointer_loop_and_if_guard(tmp_path):
    x = extract(make_tree(tmp_path / "t", {"target/i386/cpu.c": X86_C}))
    cpus = sorted(name for name, qom in x.types.items() if qom.parent == "x86_64-cpu")
    assert cpus == ["Skylake-noTSX-x86_64-cpu", "Skylake-v1-x86_64-cpu", "Skylake-v2-x86_64-cpu",
                    "Skylake-x86_64-cpu", "qemu64-v1-x86_64-cpu", "qemu64-x86_64-cpu"]
    assert Resolved(x).is_a("qemu64-v1-x86_64-cpu", "cpu")
    assert not registration_diagnostics(x)


def test_array_with_an_if_inside_and_two_typeinfos_per_element(tmp_path):
    x = extract(make_tree(tmp_path / "t", {"target/s390x/cpu_models.c": S390_C}))
    cpus = sorted(name for name, qom in x.types.items() if qom.parent == "s390x-cpu")
    assert cpus == ["gen16a-base-s390x-cpu", "gen16a-s390x-cpu", "z10EC-base-s390x-cpu", "z10EC-s390x-cpu"]
    assert not registration_diagnostics(x)


EMPTY_TI = """        TypeInfo ti = {};
        (void)known_devices[i];
"""


@pytest.mark.parametrize("edit, what", [
    (("known_devices[i].part_name", "flash_part_name(i)"), "'flash_part_name(i)': flash_part_name() is not read"),
    ((FLASH_C[FLASH_C.index("        const TypeInfo ti = {"):FLASH_C.index("        type_register_static(&ti);")],
      EMPTY_TI), "no TypeInfo 'ti' with members found"),
])
def test_a_registration_that_cannot_be_read_is_a_diagnostic_at_its_line(tmp_path, edit, what):
    text = FLASH_C.replace(*edit)
    x = extract(make_tree(tmp_path / "t", {"hw/block/flash.c": text}))
    [diagnostic] = registration_diagnostics(x)
    line = text[:text.index("type_register_static(&ti)")].count("\n") + 1
    assert (diagnostic.file, diagnostic.line) == ("hw/block/flash.c", line)
    assert what in diagnostic.message
    assert "part-a" not in x.types


def test_a_helper_that_no_read_code_calls_is_a_diagnostic(tmp_path):
    """xtensa_register_core() is called only from the REGISTER_CORE() macro's expansion:
    the types it registers are unknown, and the extraction says so at the helper."""
    x = extract(make_tree(tmp_path / "t", {"target/arm/cpu-qom.h": ARM_QOM_H, "target/arm/cpu.c": ARM_CPU_C}))
    [diagnostic] = registration_diagnostics(x)
    line = ARM_CPU_C[:ARM_CPU_C.index("void arm_cpu_register(")].count("\n") + 1
    assert (diagnostic.file, diagnostic.line) == ("target/arm/cpu.c", line)
    assert "arm_cpu_register() registers types from its parameters, but no call of it was read" in diagnostic.message
