/*
 * QEMU OpenRISC timer support
 * (after QEMU's hw/openrisc/cputimer.c: the shared tick timer state)
 *
 * Copyright (c) 2011-2012 Jia Liu <proljc@gmail.com>
 *                         Zhizhou Zhang <etouzh@gmail.com>
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "qemu/osdep.h"
#include "qemu/timer.h"
#include "qapi/error.h"
#include "migration/vmstate.h"
#include "cputimer.h"

const VMStateDescription vmstate_or1k_timer = {
    .name = "or1k_timer",
    .version_id = 2,
    .minimum_version_id = 2,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(ttcr, OR1KTimerState),
        VMSTATE_UINT32(ttcr_offset, OR1KTimerState),
        VMSTATE_UINT64(clk_offset, OR1KTimerState),
        VMSTATE_END_OF_LIST()
    }
};

static void or1k_timer_realize(DeviceState *dev, Error **errp)
{
    OR1KTimerState *s = OR1K_TIMER(dev);

    s->ttcr = 0;
    s->ttcr_offset = 0;
    s->clk_offset = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);

    vmstate_register(NULL, 0, &vmstate_or1k_timer, s);
}

static void or1k_timer_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->realize = or1k_timer_realize;
    /* Reason: created by the board, its state registered by hand */
    dc->user_creatable = false;
}

static const TypeInfo or1k_timer_info = {
    .name          = TYPE_OR1K_TIMER,
    .parent        = TYPE_DEVICE,
    .instance_size = sizeof(OR1KTimerState),
    .class_init    = or1k_timer_class_init,
};

static void or1k_timer_register_types(void)
{
    type_register_static(&or1k_timer_info);
}

type_init(or1k_timer_register_types)
