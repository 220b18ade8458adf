/*
 * Generic FIFO component, implemented as a circular buffer.
 * (after QEMU's util/fifo8.c: only its VMSD)
 *
 * Copyright (c) 2012 Peter A. G. Crosthwaite
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "migration/vmstate.h"
#include "qemu/fifo8.h"

const VMStateDescription vmstate_fifo8 = {
    .name = "Fifo8",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_VBUFFER_UINT32(data, Fifo8, 1, NULL, capacity),
        VMSTATE_UINT32(head, Fifo8),
        VMSTATE_UINT32(num, Fifo8),
        VMSTATE_UINT32(capacity, Fifo8),
        VMSTATE_END_OF_LIST()
    }
};
