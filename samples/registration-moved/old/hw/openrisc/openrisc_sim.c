/*
 * OpenRISC simulator for use as an IIS.
 * (after QEMU's hw/openrisc/openrisc_sim.c, trimmed to the machine class
 * and what its init does with the tick timer)
 *
 * Copyright (c) 2011-2012 Jia Liu <proljc@gmail.com>
 *                         Feng Gao <gf91597@gmail.com>
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "qemu/osdep.h"
#include "qapi/error.h"
#include "hw/boards.h"
#include "migration/vmstate.h"
#include "cputimer.h"

#define OR1KSIM_CPUS_MAX 4

#define TYPE_OR1KSIM_MACHINE MACHINE_TYPE_NAME("or1k-sim")

static void openrisc_sim_init(MachineState *machine)
{
    DeviceState *timer;

    memory_region_add_subregion(get_system_memory(), 0, machine->ram);

    timer = qdev_new(TYPE_OR1K_TIMER);
    qdev_realize_and_unref(timer, NULL, &error_fatal);
    vmstate_register(NULL, 0, &vmstate_or1k_timer, timer);
}

static void openrisc_sim_machine_init(ObjectClass *oc, void *data)
{
    MachineClass *mc = MACHINE_CLASS(oc);

    mc->desc = "or1k simulation";
    mc->init = openrisc_sim_init;
    mc->max_cpus = OR1KSIM_CPUS_MAX;
    mc->is_default = true;
    mc->default_cpu_type = "or1200-openrisc-cpu";
}

static const TypeInfo or1ksim_machine_typeinfo = {
    .name       = TYPE_OR1KSIM_MACHINE,
    .parent     = TYPE_MACHINE,
    .class_init = openrisc_sim_machine_init,
    .instance_size = sizeof(MachineState),
};

static void or1ksim_machine_init_register_types(void)
{
    type_register_static(&or1ksim_machine_typeinfo);
}

type_init(or1ksim_machine_init_register_types)
