/*
 * xsim: an OpenRISC-simulator-like board in miniature
 * (after QEMU's hw/openrisc/openrisc_sim.c, trimmed to the machine class and
 * what its init does with the UARTs)
 *
 * Copyright (c) 2011-2012 Jia Liu <proljc@gmail.com>
 *                         Feng Gao <gf91597@gmail.com>
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "qemu/osdep.h"
#include "qapi/error.h"
#include "hw/boards.h"
#include "hw/char/xserial.h"
#include "system/system.h"

#define XSIM_UART_BASE  0x90000000
#define XSIM_UART_SIZE  0x100
#define XSIM_UART_IRQ   2
#define XSIM_UART_COUNT 4

#define TYPE_XSIM_MACHINE MACHINE_TYPE_NAME("xsim")

static void xsim_init(MachineState *machine)
{
    DeviceState *cpu;
    int n;

    cpu = qdev_new(machine->cpu_type);
    qdev_realize_and_unref(cpu, NULL, &error_fatal);

    memory_region_add_subregion(get_system_memory(), 0, machine->ram);

    /*
     * We create the UARTs starting with the highest address, so that the
     * lowest-address UART (which is QEMU's first serial port) is found
     * first by the guest.
     */
    for (n = XSIM_UART_COUNT - 1; n >= 0; n--) {
        xserial_mm_init(get_system_memory(),
                        XSIM_UART_BASE + n * XSIM_UART_SIZE, 0,
                        qdev_get_gpio_in(cpu, XSIM_UART_IRQ), serial_hd(n));
    }
}

static void xsim_machine_class_init(ObjectClass *oc, void *data)
{
    MachineClass *mc = MACHINE_CLASS(oc);

    mc->desc = "or1k-like simulation";
    mc->init = xsim_init;
    mc->max_cpus = 1;
    mc->is_default = true;
    mc->default_cpu_type = "or1200-or1k-cpu";
}

static const TypeInfo xsim_machine_typeinfo = {
    .name          = TYPE_XSIM_MACHINE,
    .parent        = TYPE_MACHINE,
    .class_init    = xsim_machine_class_init,
    .instance_size = sizeof(MachineState),
};

static void xsim_machine_register_types(void)
{
    type_register_static(&xsim_machine_typeinfo);
}

type_init(xsim_machine_register_types)
