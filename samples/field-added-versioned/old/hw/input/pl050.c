/*
 * Arm PrimeCell PL050 Keyboard / Mouse Interface
 * (after QEMU's hw/input/pl050.c and include/hw/input/pl050.h, trimmed to
 * the migration state)
 *
 * Copyright (c) 2006-2007 CodeSourcery.
 * Written by Paul Brook
 *
 * This code is licensed under the GPL.
 */
#include "qemu/osdep.h"
#include "hw/sysbus.h"
#include "hw/irq.h"
#include "migration/vmstate.h"

#define TYPE_PL050 "pl050"
OBJECT_DECLARE_SIMPLE_TYPE(PL050State, PL050)

#define TYPE_PL050_KBD_DEVICE "pl050_keyboard"
#define TYPE_PL050_MOUSE_DEVICE "pl050_mouse"

struct PL050State {
    SysBusDevice parent_obj;

    MemoryRegion iomem;
    void *ps2dev;
    uint32_t cr;
    uint32_t clk;
    uint32_t last;
    uint32_t txdata;    /* last byte written to KMIDATA */
    int pending;
    qemu_irq irq;
    bool is_mouse;
};

static const VMStateDescription vmstate_pl050 = {
    .name = "pl050",
    .version_id = 2,
    .minimum_version_id = 2,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(cr, PL050State),
        VMSTATE_UINT32(clk, PL050State),
        VMSTATE_UINT32(last, PL050State),
        VMSTATE_INT32(pending, PL050State),
        VMSTATE_END_OF_LIST()
    }
};

static void pl050_set_irq(void *opaque, int n, int level)
{
    PL050State *s = (PL050State *)opaque;

    s->pending = level;
    qemu_set_irq(s->irq, (s->pending && (s->cr & 0x10) != 0)
                         || (s->cr & 0x08) != 0);
}

static void pl050_realize(DeviceState *dev, Error **errp)
{
    qdev_init_gpio_in(dev, pl050_set_irq, 1);
}

static void pl050_class_init(ObjectClass *oc, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(oc);

    dc->realize = pl050_realize;
    dc->vmsd = &vmstate_pl050;
}

static const TypeInfo pl050_kbd_info = {
    .name          = TYPE_PL050_KBD_DEVICE,
    .parent        = TYPE_PL050,
};

static const TypeInfo pl050_mouse_info = {
    .name          = TYPE_PL050_MOUSE_DEVICE,
    .parent        = TYPE_PL050,
};

static const TypeInfo pl050_type_info = {
    .name          = TYPE_PL050,
    .parent        = TYPE_SYS_BUS_DEVICE,
    .instance_size = sizeof(PL050State),
    .abstract      = true,
    .class_init    = pl050_class_init,
};

static void pl050_register_types(void)
{
    type_register_static(&pl050_type_info);
    type_register_static(&pl050_kbd_info);
    type_register_static(&pl050_mouse_info);
}

type_init(pl050_register_types)
