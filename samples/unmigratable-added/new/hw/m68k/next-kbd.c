/*
 * QEMU NeXT Keyboard/Mouse emulation
 * (after QEMU's hw/m68k/next-kbd.c, trimmed to the migration state; here the
 * keyboard still has a field list)
 *
 * Copyright (c) 2011 Bryce Lanham
 *
 * SPDX-License-Identifier: MIT (the full notice is in QEMU's original file)
 */
#include "qemu/osdep.h"
#include "hw/sysbus.h"
#include "migration/vmstate.h"

#define TYPE_NEXTKBD "next-kbd"
OBJECT_DECLARE_SIMPLE_TYPE(NextKBDState, NEXTKBD)

#define KBD_QUEUE_SIZE 256

typedef struct {
    uint8_t data[KBD_QUEUE_SIZE];
    int rptr, wptr, count;
} KBDQueue;

struct NextKBDState {
    SysBusDevice sbd;
    MemoryRegion mr;
    KBDQueue queue;
    uint16_t shift;
};

static const VMStateDescription nextkbd_vmstate = {
    .name = TYPE_NEXTKBD,
    .unmigratable = 1,    /* TODO: Implement this when m68k CPU is migratable */
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT8_ARRAY(queue.data, NextKBDState, KBD_QUEUE_SIZE),
        VMSTATE_INT32(queue.rptr, NextKBDState),
        VMSTATE_INT32(queue.wptr, NextKBDState),
        VMSTATE_INT32(queue.count, NextKBDState),
        VMSTATE_UINT16(shift, NextKBDState),
        VMSTATE_END_OF_LIST()
    }
};

static void nextkbd_reset(DeviceState *dev)
{
    NextKBDState *nks = NEXTKBD(dev);

    memset(&nks->queue, 0, sizeof(KBDQueue));
    nks->shift = 0;
}

static void nextkbd_class_init(ObjectClass *oc, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(oc);

    set_bit(DEVICE_CATEGORY_INPUT, dc->categories);
    dc->vmsd = &nextkbd_vmstate;
    dc->legacy_reset = nextkbd_reset;
}

static const TypeInfo nextkbd_info = {
    .name          = TYPE_NEXTKBD,
    .parent        = TYPE_SYS_BUS_DEVICE,
    .instance_size = sizeof(NextKBDState),
    .class_init    = nextkbd_class_init,
};

static void nextkbd_register_types(void)
{
    type_register_static(&nextkbd_info);
}

type_init(nextkbd_register_types)
