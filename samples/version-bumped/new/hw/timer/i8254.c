/*
 * QEMU 8253/8254 interval timer emulation
 * (after QEMU's hw/timer/i8254.c: the ISA subclass; its VMSD is the parent's)
 */
#include "qemu/osdep.h"
#include "hw/irq.h"
#include "i8254_internal.h"

static void pit_realizefn(DeviceState *dev, Error **errp)
{
    PITCommonState *pit = (PITCommonState *)dev;

    pit_reset_common(pit);
}

static void pit_class_initfn(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->realize = pit_realizefn;
}

static const TypeInfo pit_info = {
    .name          = TYPE_I8254,
    .parent        = TYPE_PIT_COMMON,
    .instance_size = sizeof(PITCommonState),
    .class_init    = pit_class_initfn,
};

static void pit_register_types(void)
{
    type_register_static(&pit_info);
}

type_init(pit_register_types)
