"""A small QEMU-like tree for the machine-type tests (tests/test_machines.py): a versioned
machine family defined through macros (10.0's style) and one with its names written out
(7.2's), compat arrays at file level and in an options function, a device with
properties and the .needed and test functions that read them, and a proxy creating the
device inside it (a virtio proxy's shape).  Laid over samples/qemu-include."""
from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INCLUDES = ROOT / "samples" / "qemu-include"

FILES = {
    # DEFINE_PROP* as QEMU 10.0.2 writes them (include/hw/qdev-properties.h)
    "include/hw/qdev-properties.h": r"""
#ifndef QEMU_QDEV_PROPERTIES_H
#define QEMU_QDEV_PROPERTIES_H
#include "hw/qdev-core.h"
extern const PropertyInfo qdev_prop_bool, qdev_prop_bit, qdev_prop_uint32;
#define DEFINE_PROP(_name, _state, _field, _prop, _type, ...) {  \
        .name      = (_name),                                    \
        .info      = &(_prop),                                   \
        .offset    = offsetof(_state, _field)                    \
            + type_check(_type, typeof_field(_state, _field)),   \
        __VA_ARGS__                                              \
        }
#define DEFINE_PROP_UNSIGNED(_name, _state, _field, _defval, _prop, _type) \
    DEFINE_PROP(_name, _state, _field, _prop, _type,                       \
                .set_default = true,                                       \
                .defval.u  = (_type)_defval)
#define DEFINE_PROP_BIT(_name, _state, _field, _bit, _defval)   \
    DEFINE_PROP(_name, _state, _field, qdev_prop_bit, uint32_t, \
                .bitnr       = (_bit),                          \
                .set_default = true,                            \
                .defval.u    = (bool)_defval)
#define DEFINE_PROP_BOOL(_name, _state, _field, _defval)     \
    DEFINE_PROP(_name, _state, _field, qdev_prop_bool, bool, \
                .set_default = true,                         \
                .defval.u    = (bool)_defval)
#define DEFINE_PROP_UINT32(_n, _s, _f, _d)                    \
    DEFINE_PROP_UNSIGNED(_n, _s, _f, _d, qdev_prop_uint32, uint32_t)
#define DEFINE_PROP_SIGNED(_name, _state, _field, _defval, _prop, _type) \
    DEFINE_PROP(_name, _state, _field, _prop, _type,                     \
                .set_default = true,                                     \
                .defval.i    = (_type)_defval)
#define DEFINE_PROP_ON_OFF_AUTO(_n, _s, _f, _d) \
    DEFINE_PROP_SIGNED(_n, _s, _f, _d, qdev_prop_on_off_auto, OnOffAuto)
void device_class_set_props_n(DeviceClass *dc, const Property *props, size_t n);
#define device_class_set_props(dc, props) \
    device_class_set_props_n((dc), (props), ARRAY_SIZE(props))
#endif
""",
    "include/hw/toy.h": r"""
#ifndef HW_TOY_H
#define HW_TOY_H
#include "hw/boards.h"
#define TYPE_TOY_DEV "toy-dev"
#define TYPE_TOY_BASE "toy-base"
#define TYPE_TOY_PROXY "toy-proxy"
#define TYPE_TOY_MACHINE MACHINE_TYPE_NAME("toy")
#define TOY_MODEL_IDS(v) \
    { TYPE_TOY_DEV, "model-id", "Toy " v }, \
    { TYPE_TOY_BASE, "model-id", "Toy " v },
#define stringify(s) tostring(s)
#define tostring(s) #s
#define MACHINE_VER_STR(major, minor) stringify(major) "." stringify(minor)
#define MACHINE_VER_SYM(sym, prefix, major, minor) prefix ## _machine_ ## major ## _ ## minor ## _ ## sym
#define DEFINE_MACHINE(namestr, machine_initfn) \
    static void machine_initfn##_class_init(ObjectClass *oc, void *data) \
    { \
        MachineClass *mc = MACHINE_CLASS(oc); \
        machine_initfn(mc); \
    } \
    static const TypeInfo machine_initfn##_typeinfo = { \
        .name       = MACHINE_TYPE_NAME(namestr), \
        .parent     = TYPE_MACHINE, \
        .class_init = machine_initfn##_class_init, \
    };
extern GlobalProperty hw_compat_8_1[];
extern const size_t hw_compat_8_1_len;
extern GlobalProperty hw_compat_7_2[];
extern const size_t hw_compat_7_2_len;
extern GlobalProperty hw_compat_7_1[];
extern const size_t hw_compat_7_1_len;
#endif
""",
    # the compat arrays of every machine family (QEMU's hw/core/machine.c)
    "hw/core/machine.c": r"""
#include "hw/toy.h"

GlobalProperty hw_compat_8_1[] = {
    { TYPE_TOY_DEV, "x-migrate", "off" },
    { TYPE_TOY_BASE, "x-flag", "on" },
};
const size_t hw_compat_8_1_len = G_N_ELEMENTS(hw_compat_8_1);

GlobalProperty hw_compat_7_2[] = {
    { .driver = TYPE_TOY_DEV, .property = "x-bits", .value = "false" },
    TOY_MODEL_IDS("7.2")
    { TYPE_NOWHERE, "x-unknown", "off" },
};
const size_t hw_compat_7_2_len = G_N_ELEMENTS(hw_compat_7_2);

GlobalProperty hw_compat_7_1[] = {
    { TYPE_TOY_DEV, "x-migrate", "on" },
};
const size_t hw_compat_7_1_len = G_N_ELEMENTS(hw_compat_7_1);
""",
    # a machine family: 10.0's DEFINE_*_MACHINE(major, minor), and 7.2's written-out names
    "hw/toy/toy-board.c": r"""
#include "hw/toy.h"

#define DEFINE_TOY_MACHINE_IMPL(latest, major, minor) \
    static void MACHINE_VER_SYM(class_init, toy, major, minor)(ObjectClass *oc, void *data) \
    { \
        MachineClass *mc = MACHINE_CLASS(oc); \
        toy_compat_set(mc); \
        MACHINE_VER_SYM(options, toy, major, minor)(mc); \
        if (latest) { \
            toy_latest_options(mc); \
        } \
    } \
    static const TypeInfo MACHINE_VER_SYM(info, toy, major, minor) = { \
        .name = MACHINE_TYPE_NAME("toy-" MACHINE_VER_STR(major, minor)), \
        .parent = TYPE_TOY_MACHINE, \
        .class_init = MACHINE_VER_SYM(class_init, toy, major, minor), \
    }; \
    static void MACHINE_VER_SYM(register, toy, major, minor)(void) \
    { \
        type_register_static(&MACHINE_VER_SYM(info, toy, major, minor)); \
    } \
    type_init(MACHINE_VER_SYM(register, toy, major, minor))
#define DEFINE_TOY_MACHINE_AS_LATEST(major, minor) DEFINE_TOY_MACHINE_IMPL(true, major, minor)
#define DEFINE_TOY_MACHINE(major, minor) DEFINE_TOY_MACHINE_IMPL(false, major, minor)

static GlobalProperty toy_compat[] = {
    { TYPE_TOY_DEV, "x-always", "on" },
};

static void toy_compat_set(MachineClass *mc)
{
    compat_props_add(mc->compat_props, toy_compat, G_N_ELEMENTS(toy_compat));
}

static GlobalProperty latest_compat[] = {
    { TYPE_TOY_DEV, "x-latest", "on" },
};

static void toy_latest_options(MachineClass *mc)
{
    compat_props_add(mc->compat_props, latest_compat, G_N_ELEMENTS(latest_compat));
}

static void toy_machine_9_0_options(MachineClass *mc)
{
}

DEFINE_TOY_MACHINE_AS_LATEST(9, 0)

static void toy_machine_8_1_options(MachineClass *mc)
{
    toy_machine_9_0_options(mc);
    compat_props_add(mc->compat_props, hw_compat_8_1, hw_compat_8_1_len);
}

DEFINE_TOY_MACHINE(8, 1)

static void toy_machine_7_2_options(MachineClass *mc)
{
    static GlobalProperty compat[] = {
        { TYPE_TOY_DEV, "x-local", "off" },
    };

    toy_machine_8_1_options(mc);
    compat_props_add(mc->compat_props, hw_compat_7_2, hw_compat_7_2_len);
    compat_props_add(mc->compat_props, compat, G_N_ELEMENTS(compat));
    if (kvm_enabled()) {
        compat_props_add(mc->compat_props, hw_compat_7_1, hw_compat_7_1_len);
    }
    compat_props_add(mc->compat_props, missing_compat, 1);
    compat_props_add(mc->compat_props, mc->extra, 1);
}

DEFINE_TOY_MACHINE(7, 2)

#define DEFINE_OLD_MACHINE(suffix, namestr, optsfn) \
    static void old_machine_##suffix##_class_init(ObjectClass *oc, void *data) \
    { \
        MachineClass *mc = MACHINE_CLASS(oc); \
        optsfn(mc); \
    } \
    static const TypeInfo old_machine_type_##suffix = { \
        .name       = namestr TYPE_MACHINE_SUFFIX, \
        .parent     = TYPE_TOY_MACHINE, \
        .class_init = old_machine_##suffix##_class_init, \
    };

static void old_6_0_options(MachineClass *m)
{
    toy_machine_7_2_options(m);
}

DEFINE_OLD_MACHINE(v6_0, "old-6.0",
                   old_6_0_options);

static void plainboard_init(MachineClass *mc)
{
    compat_props_add(mc->compat_props, toy_compat, G_N_ELEMENTS(toy_compat));
}

DEFINE_MACHINE("plainboard", plainboard_init)

static const TypeInfo toy_machine_info = {
    .name = TYPE_TOY_MACHINE,
    .parent = TYPE_MACHINE,
    .abstract = true,
};
""",
    # another target's machine family, one of whose names is also toy's
    "hw/other/other-board.c": r"""
#include "hw/toy.h"

static void other_8_1_class_init(ObjectClass *oc, void *data)
{
}

static const TypeInfo other_machine_type_8_1 = {
    .name       = MACHINE_TYPE_NAME("toy-8.1"),
    .parent     = TYPE_MACHINE,
    .class_init = other_8_1_class_init,
};

static GlobalProperty other_compat[] = {
    { TYPE_TOY_DEV, "x-other", "on" },
};

static void other_options(MachineClass *mc)
{
    compat_props_add(mc->compat_props, other_compat, G_N_ELEMENTS(other_compat));
}
""",
    # a device with properties, the functions that read them, and a proxy holding it
    "hw/misc/toy-dev.c": r"""
#include "hw/qdev-core.h"
#include "hw/qdev-properties.h"
#include "hw/toy.h"
#include "migration/vmstate.h"

#define TOY_BIT_FLAG 3
#define DEFINE_TOY_PROPERTIES(_state) \
    DEFINE_PROP_BOOL("x-local", _state, local, true), \
    DEFINE_PROP_UINT32("count", _state, count, 4)

typedef struct ToyBaseState {
    DeviceState parent_obj;
    bool flag;
} ToyBaseState;

typedef struct ToyState {
    ToyBaseState parent_obj;
    bool migrate;
    uint32_t bits;
    uint32_t count;
    bool local;
    bool runtime;
    bool off;
} ToyState;

typedef struct ToyProxy {
    DeviceState parent_obj;
    ToyState dev;
} ToyProxy;

#define TOY(obj) ((ToyState *)(obj))

static bool toy_migrate_needed(void *opaque)
{
    ToyState *s = opaque;

    return s->migrate;
}

static bool toy_bits_needed(void *opaque)
{
    ToyState *s = TOY(opaque);
    return s->bits & (1 << TOY_BIT_FLAG);
}

static bool toy_runtime_needed(void *opaque)
{
    ToyState *s = opaque;

    if (!s->local) {
        return false;
    }
    return s->runtime && s->count > 2;
}

static bool toy_either_needed(void *opaque)
{
    ToyState *s = opaque;
    return s->migrate || s->runtime;
}

static bool toy_cast_needed(void *opaque)
{
    return TOY(opaque)->off == 0;
}

static bool toy_flag_needed(void *opaque)
{
    ToyBaseState *b = opaque;
    return b->flag;
}

static bool toy_count_test(void *opaque, int version_id)
{
    ToyState *s = opaque;
    return !s->off;
}

static const VMStateDescription vmstate_toy_migrate = {
    .name = "toy/migrate",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = toy_migrate_needed,
    .fields = (const VMStateField[]) {
        VMSTATE_BOOL(migrate, ToyState),
        VMSTATE_END_OF_LIST()
    }
};

static const VMStateDescription vmstate_toy_bits = {
    .name = "toy/bits",
    .needed = toy_bits_needed,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(bits, ToyState),
        VMSTATE_END_OF_LIST()
    }
};

static const VMStateDescription vmstate_toy_runtime = {
    .name = "toy/runtime",
    .needed = toy_runtime_needed,
    .fields = (const VMStateField[]) {
        VMSTATE_BOOL(runtime, ToyState),
        VMSTATE_END_OF_LIST()
    }
};

static const VMStateDescription vmstate_toy_either = {
    .name = "toy/either",
    .needed = toy_either_needed,
    .fields = (const VMStateField[]) {
        VMSTATE_BOOL(runtime, ToyState),
        VMSTATE_END_OF_LIST()
    }
};

static const VMStateDescription vmstate_toy_cast = {
    .name = "toy/cast",
    .needed = toy_cast_needed,
    .fields = (const VMStateField[]) {
        VMSTATE_BOOL(off, ToyState),
        VMSTATE_END_OF_LIST()
    }
};

static const VMStateDescription vmstate_toy_flag = {
    .name = "toy/flag",
    .needed = toy_flag_needed,
    .fields = (const VMStateField[]) {
        VMSTATE_BOOL(flag, ToyBaseState),
        VMSTATE_END_OF_LIST()
    }
};

static const VMStateDescription vmstate_toy = {
    .name = "toy",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32_TEST(count, ToyState, toy_count_test),
        VMSTATE_END_OF_LIST()
    },
    .subsections = (const VMStateDescription * const []) {
        &vmstate_toy_migrate,
        &vmstate_toy_bits,
        &vmstate_toy_runtime,
        &vmstate_toy_either,
        &vmstate_toy_cast,
        &vmstate_toy_flag,
        NULL
    }
};

static const Property toy_base_properties[] = {
    DEFINE_PROP_BOOL("x-flag", ToyBaseState, flag, false),
};

static const Property toy_properties[] = {
    DEFINE_PROP_BOOL("x-migrate", ToyState, migrate, true),
    DEFINE_PROP_BIT("x-bits", ToyState, bits, TOY_BIT_FLAG, true),
    DEFINE_TOY_PROPERTIES(ToyState),
    DEFINE_PROP_BOOL("x-off", ToyState, off, false),
    { .name = "custom", .info = &toy_prop_custom },
};

static void toy_base_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    device_class_set_props(dc, toy_base_properties);
}

static void toy_set_properties(DeviceClass *dc)
{
    device_class_set_props(dc, toy_properties);
}

static void toy_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->vmsd = &vmstate_toy;
    toy_set_properties(dc);
}

static void toy_proxy_instance_init(Object *obj)
{
    ToyProxy *dev = (ToyProxy *)obj;

    virtio_instance_init_common(obj, &dev->dev, sizeof(dev->dev), TYPE_TOY_DEV);
}

static const TypeInfo toy_types[] = {
    {
        .name = TYPE_TOY_BASE,
        .parent = TYPE_DEVICE,
        .abstract = true,
        .class_init = toy_base_class_init,
    }, {
        .name = TYPE_TOY_DEV,
        .parent = TYPE_TOY_BASE,
        .class_init = toy_class_init,
    }, {
        .name = TYPE_TOY_PROXY,
        .parent = TYPE_DEVICE,
        .instance_init = toy_proxy_instance_init,
    },
};

DEFINE_TYPES(toy_types)

typedef struct ToyInfo {
    const Property *props;
} ToyInfo;

static void toy_data_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    const ToyInfo *info = data;

    device_class_set_props(dc, info->props);
}

static bool toy_count_is_one(void *opaque)
{
    ToyState *s = opaque;
    return s->count == 1;
}

static const VMStateDescription vmstate_toy_one = {
    .name = "toy/one",
    .needed = toy_count_is_one,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(count, ToyState),
        VMSTATE_END_OF_LIST()
    }
};

typedef struct ToyAutoState {
    DeviceState parent_obj;
    OnOffAuto mode;
} ToyAutoState;

static bool toy_auto_needed(void *opaque)
{
    ToyAutoState *s = opaque;
    return s->mode;
}

static const VMStateDescription vmstate_toy_auto = {
    .name = "toy-auto",
    .needed = toy_auto_needed,
    .fields = (const VMStateField[]) {
        VMSTATE_END_OF_LIST()
    }
};

static const Property toy_auto_properties[] = {
    DEFINE_PROP_ON_OFF_AUTO("mode", ToyAutoState, mode, ON_OFF_AUTO_AUTO),
};

static void toy_auto_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->vmsd = &vmstate_toy_auto;
    device_class_set_props(dc, toy_auto_properties);
}

static const TypeInfo toy_auto_info = {
    .name = "toy-auto",
    .parent = TYPE_DEVICE,
    .class_init = toy_auto_class_init,
};
""",
}


def make_tree(dest: Path) -> Path:
    """The tree in DEST: samples/qemu-include with FILES laid over it."""
    shutil.copytree(INCLUDES, dest, dirs_exist_ok=True)
    for path, text in FILES.items():
        target = dest / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text.lstrip("\n"))
    return dest
