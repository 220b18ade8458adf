/*
 * QEMU 16550A UART emulation, memory-mapped
 * (after QEMU's hw/char/serial.c and serial-mm.c, trimmed to the registers,
 * the migration state, the QOM type and the board helper)
 *
 * Copyright (c) 2003-2004 Fabrice Bellard
 * Copyright (c) 2008 Citrix Systems, Inc.
 *
 * SPDX-License-Identifier: MIT
 */
#include "qemu/osdep.h"
#include "qapi/error.h"
#include "hw/irq.h"
#include "hw/qdev-properties.h"
#include "migration/vmstate.h"
#include "xserial.h"

#define UART_LCR_DLAB   0x80 /* Divisor latch access bit */

#define UART_LSR_TEMT   0x40 /* Transmitter empty */
#define UART_LSR_THRE   0x20 /* Transmit-hold-register empty */

static const VMStateDescription vmstate_xserial = {
    .name = "xserial",
    .version_id = 3,
    .minimum_version_id = 2,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT16_V(divider, XSerialMM, 2),
        VMSTATE_UINT8(rbr, XSerialMM),
        VMSTATE_UINT8(ier, XSerialMM),
        VMSTATE_UINT8(iir, XSerialMM),
        VMSTATE_UINT8(lcr, XSerialMM),
        VMSTATE_UINT8(mcr, XSerialMM),
        VMSTATE_UINT8(lsr, XSerialMM),
        VMSTATE_UINT8(msr, XSerialMM),
        VMSTATE_UINT8(scr, XSerialMM),
        VMSTATE_END_OF_LIST()
    },
};

static uint64_t xserial_mm_read(void *opaque, hwaddr addr, unsigned size)
{
    XSerialMM *s = opaque;

    switch (addr >> s->regshift) {
    case 0:
        return (s->lcr & UART_LCR_DLAB) ? (s->divider & 0xff) : s->rbr;
    case 1:
        return (s->lcr & UART_LCR_DLAB) ? (s->divider >> 8) & 0xff : s->ier;
    case 2:
        return s->iir;
    case 3:
        return s->lcr;
    case 4:
        return s->mcr;
    case 5:
        return s->lsr;
    case 6:
        return s->msr;
    default:
        return s->scr;
    }
}

static void xserial_mm_write(void *opaque, hwaddr addr, uint64_t value,
                             unsigned size)
{
    XSerialMM *s = opaque;

    switch (addr >> s->regshift) {
    case 0:
        if (s->lcr & UART_LCR_DLAB) {
            s->divider = (s->divider & 0xff00) | value;
        } else {
            s->thr = value;
            qemu_chr_fe_write_all(&s->chr, &s->thr, 1);
            s->lsr |= UART_LSR_THRE | UART_LSR_TEMT;
        }
        break;
    case 1:
        if (s->lcr & UART_LCR_DLAB) {
            s->divider = (s->divider & 0x00ff) | (value << 8);
        } else {
            s->ier = value & 0x0f;
        }
        break;
    case 3:
        s->lcr = value;
        break;
    case 4:
        s->mcr = value & 0x1f;
        break;
    case 7:
        s->scr = value;
        break;
    }
}

static const MemoryRegionOps xserial_mm_ops = {
    .read = xserial_mm_read,
    .write = xserial_mm_write,
    .endianness = DEVICE_NATIVE_ENDIAN,
};

static void xserial_mm_realize(DeviceState *dev, Error **errp)
{
    XSerialMM *s = XSERIAL_MM(dev);

    s->lsr = UART_LSR_TEMT | UART_LSR_THRE;
    s->iir = 0x01; /* no interrupt pending */

    memory_region_init_io(&s->io, OBJECT(dev), &xserial_mm_ops, s,
                          "serial", 8 << s->regshift);
    sysbus_init_mmio(SYS_BUS_DEVICE(s), &s->io);
    sysbus_init_irq(SYS_BUS_DEVICE(s), &s->irq);
}

XSerialMM *xserial_mm_init(MemoryRegion *address_space,
                           hwaddr base, int regshift,
                           qemu_irq irq, Chardev *chr)
{
    XSerialMM *s = XSERIAL_MM(qdev_new(TYPE_XSERIAL_MM));

    qdev_prop_set_uint8(DEVICE(s), "regshift", regshift);
    qdev_prop_set_chr(DEVICE(s), "chardev", chr);
    qdev_realize_and_unref(DEVICE(s), NULL, &error_fatal);

    sysbus_connect_irq(SYS_BUS_DEVICE(s), 0, irq);
    memory_region_add_subregion(address_space, base,
                                sysbus_mmio_get_region(SYS_BUS_DEVICE(s), 0));

    return s;
}

static const Property xserial_mm_properties[] = {
    /*
     * Set the spacing between adjacent memory-mapped UART registers.
     * Each register will be at (1 << regshift) bytes after the
     * previous one.
     */
    DEFINE_PROP_UINT8("regshift", XSerialMM, regshift, 0),
    DEFINE_PROP_CHR("chardev", XSerialMM, chr),
};

static void xserial_mm_class_init(ObjectClass *oc, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(oc);

    device_class_set_props(dc, xserial_mm_properties);
    dc->realize = xserial_mm_realize;
    dc->vmsd = &vmstate_xserial;
}

static const TypeInfo xserial_mm_info = {
    .name = TYPE_XSERIAL_MM,
    .parent = TYPE_SYS_BUS_DEVICE,
    .class_init = xserial_mm_class_init,
    .instance_size = sizeof(XSerialMM),
};

static void xserial_register_types(void)
{
    type_register_static(&xserial_mm_info);
}

type_init(xserial_register_types)
