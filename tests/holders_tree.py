"""A small QEMU-like tree for the machine verdicts (tests/test_holders.py): a versioned
board family (vboard-1.0, vboard-2.0) and an unversioned one (uboard), devices each of
them creates (through a header's static inline helper, a device's instance_init and
realize), user-creatable devices on a bus the versioned board provides and on one no board
provides, a registration in the unversioned board's init, and a compat array.  Laid over
samples/qemu-include.  OLD_CHANGES and NEW_CHANGES make the two releases of a check."""
from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INCLUDES = ROOT / "samples" / "qemu-include"

FILES = {
    "VERSION": "2.0.0\n",
    "include/hw/board.h": r"""
#ifndef HW_BOARD_H
#define HW_BOARD_H
#include "hw/boards.h"
#include "hw/sysbus.h"
#define TYPE_SYSTEM_BUS "System"
#define TYPE_BUS "bus"
#define TYPE_ONBOARD "onboard-dev"
#define TYPE_SOC "toy-soc"
#define TYPE_SOC_UART "soc-uart"
#define TYPE_BRIDGE "toy-bridge"
#define TYPE_TOY_BUS "toy-bus"
#define TYPE_PLUG "plug-dev"
#define TYPE_CHILD "child-dev"
#define TYPE_LONELY_BUS "lonely-bus"
#define TYPE_LONELY_PLUG "lonely-plug"
extern GlobalProperty hw_compat_1_0[];
extern const size_t hw_compat_1_0_len;

static inline DeviceState *onboard_create(void)
{
    return qdev_new(TYPE_ONBOARD);
}
#endif
""",
    "hw/core/sysbus.c": r"""
#include "hw/board.h"

static void sysbus_device_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *k = DEVICE_CLASS(klass);

    k->user_creatable = false;
    k->bus_type = TYPE_SYSTEM_BUS;
}

static const TypeInfo sysbus_device_type_info = {
    .name = TYPE_SYS_BUS_DEVICE,
    .parent = TYPE_DEVICE,
    .abstract = true,
    .class_init = sysbus_device_class_init,
};
""",
    "hw/core/machine.c": r"""
#include "hw/board.h"

GlobalProperty hw_compat_1_0[] = {
    { TYPE_ONBOARD, "x-migrate-extra", "off" },
};
const size_t hw_compat_1_0_len = G_N_ELEMENTS(hw_compat_1_0);
""",
    # the versioned family: its init creates a device through a header's helper, and a bridge
    "hw/toy/vboard.c": r"""
#include "hw/board.h"

static void vboard_init(MachineState *machine)
{
    DeviceState *dev = onboard_create();

    sysbus_realize_and_unref(SYS_BUS_DEVICE(dev), &error_fatal);
    sysbus_create_simple(TYPE_BRIDGE, 0x1000, NULL);
}

static void vboard_1_0_class_init(ObjectClass *oc, void *data)
{
    MachineClass *mc = MACHINE_CLASS(oc);

    mc->init = vboard_init;
    compat_props_add(mc->compat_props, hw_compat_1_0, hw_compat_1_0_len);
}

static void vboard_2_0_class_init(ObjectClass *oc, void *data)
{
    MachineClass *mc = MACHINE_CLASS(oc);

    mc->init = vboard_init;
}

static const TypeInfo vboard_types[] = {
    {
        .name = "vboard-1.0" TYPE_MACHINE_SUFFIX,
        .parent = TYPE_MACHINE,
        .class_init = vboard_1_0_class_init,
    }, {
        .name = "vboard-2.0" TYPE_MACHINE_SUFFIX,
        .parent = TYPE_MACHINE,
        .class_init = vboard_2_0_class_init,
    },
};

DEFINE_TYPES(vboard_types)
""",
    # the unversioned board: a SoC (whose instance_init makes its UART) and state it registers
    "hw/toy/uboard.c": r"""
#include "hw/board.h"
#include "migration/vmstate.h"

typedef struct UBoardRegs {
    uint32_t ctrl;
    uint32_t mode;
} UBoardRegs;

static const VMStateDescription vmstate_uboard_regs = {
    .name = "uboard-regs",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(ctrl, UBoardRegs),
        VMSTATE_UINT32(mode, UBoardRegs), /* NEW */
        VMSTATE_END_OF_LIST()
    }
};

static void uboard_init(MachineState *machine)
{
    static UBoardRegs regs;
    Object *soc = object_new(TYPE_SOC);

    vmstate_register(NULL, 0, &vmstate_uboard_regs, &regs);
    qdev_realize(DEVICE(soc), NULL, &error_fatal);
}

static void uboard_class_init(ObjectClass *oc, void *data)
{
    MachineClass *mc = MACHINE_CLASS(oc);

    mc->init = uboard_init;
}

static const TypeInfo uboard_type = {
    .name = MACHINE_TYPE_NAME("uboard"),
    .parent = TYPE_MACHINE,
    .class_init = uboard_class_init,
};
""",
    "hw/misc/toy-devices.c": r"""
#include "hw/board.h"
#include "hw/qdev-properties.h"
#include "migration/vmstate.h"

typedef struct ToyDevState {
    SysBusDevice parent_obj;
    uint32_t reg;
    uint32_t extra;
    bool migrate_extra;
} ToyDevState;

typedef struct ToySoCState {
    DeviceState parent_obj;
    ToyDevState uart;
} ToySoCState;

static bool onboard_extra_needed(void *opaque)
{
    ToyDevState *s = opaque;

    return s->migrate_extra;
}

static const VMStateDescription vmstate_onboard_extra = {
    .name = "onboard-dev/extra",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = onboard_extra_needed,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(extra, ToyDevState),
        VMSTATE_END_OF_LIST()
    }
};

static const VMStateDescription vmstate_onboard = {
    .name = "onboard-dev",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(reg, ToyDevState),
        VMSTATE_END_OF_LIST()
    },
    .subsections = (const VMStateDescription * const []) {
        &vmstate_onboard_extra, /* NEW */
        NULL
    }
};

static const VMStateDescription vmstate_soc_uart = {
    .name = "soc-uart",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(reg, ToyDevState),
        VMSTATE_UINT32(extra, ToyDevState), /* NEW */
        VMSTATE_END_OF_LIST()
    }
};

static const VMStateDescription vmstate_plug = {
    .name = "plug-dev",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(reg, ToyDevState),
        VMSTATE_UINT32(extra, ToyDevState), /* NEW */
        VMSTATE_END_OF_LIST()
    }
};

static const VMStateDescription vmstate_lonely = {
    .name = "lonely-plug",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(reg, ToyDevState),
        VMSTATE_END_OF_LIST()
    }
};

static const Property onboard_properties[] = {
    DEFINE_PROP_BOOL("x-migrate-extra", ToyDevState, migrate_extra, true),
};

static void onboard_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->vmsd = &vmstate_onboard;
    device_class_set_props(dc, onboard_properties);
}

static void soc_instance_init(Object *obj)
{
    ToySoCState *s = (ToySoCState *)obj;

    object_initialize_child(obj, "uart", &s->uart, TYPE_SOC_UART);
}

static void soc_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->user_creatable = false;
}

static void soc_uart_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->vmsd = &vmstate_soc_uart;
}

static void bridge_realize(DeviceState *dev, Error **errp)
{
    qbus_new(TYPE_TOY_BUS, dev, "toy.0");
}

static void bridge_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->realize = bridge_realize;
}

static void plug_realize(DeviceState *dev, Error **errp)
{
    qdev_realize(DEVICE(object_new(TYPE_CHILD)), NULL, errp);
}

static void plug_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->vmsd = &vmstate_plug;
    dc->realize = plug_realize;
    dc->bus_type = TYPE_TOY_BUS;
}

static void child_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->user_creatable = false;
}

static void lonely_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->vmsd = &vmstate_lonely;
    dc->bus_type = TYPE_LONELY_BUS;
}

static const TypeInfo toy_device_types[] = {
    {
        .name = TYPE_ONBOARD,
        .parent = TYPE_SYS_BUS_DEVICE,
        .class_init = onboard_class_init,
    }, {
        .name = TYPE_SOC,
        .parent = TYPE_DEVICE,
        .instance_init = soc_instance_init,
        .class_init = soc_class_init,
    }, {
        .name = TYPE_SOC_UART,
        .parent = TYPE_SYS_BUS_DEVICE,
        .class_init = soc_uart_class_init,
    }, {
        .name = TYPE_BRIDGE,
        .parent = TYPE_SYS_BUS_DEVICE,
        .class_init = bridge_class_init,
    }, {
        .name = TYPE_TOY_BUS,
        .parent = TYPE_BUS,
    }, {
        .name = TYPE_PLUG,
        .parent = TYPE_DEVICE,
        .class_init = plug_class_init,
    }, {
        .name = TYPE_CHILD,
        .parent = TYPE_DEVICE,
        .class_init = child_class_init,
    }, {
        .name = TYPE_LONELY_BUS,
        .parent = TYPE_BUS,
    }, {
        .name = TYPE_LONELY_PLUG,
        .parent = TYPE_DEVICE,
        .class_init = lonely_class_init,
    },
};

DEFINE_TYPES(toy_device_types)
""",
}

NEW_ONLY = "/* NEW */"  # a line only NEW has


def make_tree(dest: Path, old: bool = False) -> Path:
    """The tree in DEST: NEW (release 2.0), or OLD (release 1.0: no line marked NEW_ONLY)."""
    shutil.copytree(INCLUDES, dest, dirs_exist_ok=True)
    for path, text in FILES.items():
        target = dest / path
        target.parent.mkdir(parents=True, exist_ok=True)
        text = text.lstrip("\n")
        if old:
            text = "".join(line for line in text.splitlines(keepends=True) if NEW_ONLY not in line)
            text = text.replace("2.0.0", "1.0.0")
        target.write_text(text)
    return dest
