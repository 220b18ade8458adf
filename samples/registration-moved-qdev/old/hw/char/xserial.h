/*
 * QEMU 16550A UART emulation, memory-mapped
 * (after QEMU's include/hw/char/serial.h and serial-mm.h, one struct for
 * the UART and its MMIO wrapper)
 *
 * Copyright (c) 2003-2004 Fabrice Bellard
 * Copyright (c) 2008 Citrix Systems, Inc.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef HW_XSERIAL_H
#define HW_XSERIAL_H

#include "chardev/char-fe.h"
#include "exec/memory.h"
#include "hw/sysbus.h"

#define TYPE_XSERIAL_MM "xserial-mm"
OBJECT_DECLARE_SIMPLE_TYPE(XSerialMM, XSERIAL_MM)

struct XSerialMM {
    SysBusDevice parent;

    uint16_t divider;
    uint8_t rbr; /* receive register */
    uint8_t thr; /* transmit holding register */
    uint8_t ier;
    uint8_t iir; /* read only */
    uint8_t lcr;
    uint8_t mcr;
    uint8_t lsr; /* read only */
    uint8_t msr; /* read only */
    uint8_t scr;

    CharBackend chr;
    qemu_irq irq;
    MemoryRegion io;
    uint8_t regshift;
};

XSerialMM *xserial_mm_init(MemoryRegion *address_space,
                           hwaddr base, int regshift,
                           qemu_irq irq, Chardev *chr);

#endif
