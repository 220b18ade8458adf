/*
 * xseries: a pSeries-like machine in miniature
 * (after QEMU's hw/ppc/spapr.c, trimmed to the machine class and what its
 * init does with CPUs and interrupt presenters)
 *
 * Copyright (c) 2004-2007 Fabrice Bellard
 * Copyright (c) 2007 Jocelyn Mayer
 * Copyright (c) 2010 David Gibson, IBM Corporation.
 *
 * SPDX-License-Identifier: MIT
 */
#include "qemu/osdep.h"
#include "qapi/error.h"
#include "hw/boards.h"
#include "migration/vmstate.h"
#include "xics.h"
#include "xseries_cpu_core.h"

#define XSERIES_MAX_CPUS 1024

#define TYPE_XSERIES_MACHINE MACHINE_TYPE_NAME("xseries")
OBJECT_DECLARE_SIMPLE_TYPE(XSeriesMachineState, XSERIES_MACHINE)

struct XSeriesMachineState {
    /*< private >*/
    MachineState parent_obj;
};

static void xmachine_init(MachineState *machine)
{
    int i;

    memory_region_add_subregion(get_system_memory(), 0, machine->ram);

    /* One single-threaded core per boot CPU, core id == cpu_index */
    for (i = 0; i < machine->smp.cpus; i++) {
        Object *core = object_new(TYPE_XSERIES_CPU_CORE);

        object_property_set_int(core, "nr-threads", 1, &error_fatal);
        object_property_set_int(core, CPU_CORE_PROP_CORE_ID, i, &error_fatal);
        qdev_realize(DEVICE(core), NULL, &error_fatal);
    }
}

static void xmachine_class_init(ObjectClass *oc, void *data)
{
    MachineClass *mc = MACHINE_CLASS(oc);

    mc->desc = "pSeries-like Logical Partition (PAPR compliant)";
    mc->init = xmachine_init;
    mc->max_cpus = XSERIES_MAX_CPUS;
    mc->default_cpu_type = "power9_v2.2-powerpc64-cpu";
}

static const TypeInfo xmachine_info = {
    .name          = TYPE_XSERIES_MACHINE,
    .parent        = TYPE_MACHINE,
    .instance_size = sizeof(XSeriesMachineState),
    .class_init    = xmachine_class_init,
};

static void xmachine_register_types(void)
{
    type_register_static(&xmachine_info);
}

type_init(xmachine_register_types)
