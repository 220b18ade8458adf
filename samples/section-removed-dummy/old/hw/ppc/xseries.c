/*
 * xseries: a pSeries-like machine in miniature
 * (after QEMU's hw/ppc/spapr.c, trimmed to the machine classes and what
 * their init does with CPUs and interrupt presenters)
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
OBJECT_DECLARE_TYPE(XSeriesMachineState, XSeriesMachineClass, XSERIES_MACHINE)

struct XSeriesMachineClass {
    /*< private >*/
    MachineClass parent_class;

    /*< public >*/
    bool pre_2_10_has_unused_icps;
};

struct XSeriesMachineState {
    /*< private >*/
    MachineState parent_obj;
};

static bool pre_2_10_vmstate_dummy_icp_needed(void *opaque)
{
    /* Dummy entries correspond to unused ICPState objects in older QEMUs,
     * and newer QEMUs don't even have them. In both cases, we don't want
     * to send anything on the wire.
     */
    return false;
}

static const VMStateDescription pre_2_10_vmstate_dummy_icp = {
    .name = "icp/server",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = pre_2_10_vmstate_dummy_icp_needed,
    .fields = (const VMStateField[]) {
        VMSTATE_UNUSED(4), /* uint32_t xirr */
        VMSTATE_UNUSED(1), /* uint8_t pending_priority */
        VMSTATE_UNUSED(1), /* uint8_t mfrr */
        VMSTATE_END_OF_LIST()
    },
};

static void pre_2_10_vmstate_register_dummy_icp(int i)
{
    vmstate_register(NULL, i, &pre_2_10_vmstate_dummy_icp,
                     (void *)(uintptr_t) i);
}

static void pre_2_10_vmstate_unregister_dummy_icp(int i)
{
    vmstate_unregister(NULL, &pre_2_10_vmstate_dummy_icp,
                       (void *)(uintptr_t) i);
}

static void xmachine_init(MachineState *machine)
{
    XSeriesMachineClass *xmc = XSERIES_MACHINE_GET_CLASS(machine);
    int i;

    memory_region_add_subregion(get_system_memory(), 0, machine->ram);

    if (xmc->pre_2_10_has_unused_icps) {
        for (i = 0; i < machine->smp.max_cpus; i++) {
            /* Dummy entries get deregistered when real ICPState objects
             * are registered during CPU core realize.
             */
            pre_2_10_vmstate_register_dummy_icp(i);
        }
    }

    /* One single-threaded core per boot CPU, core id == cpu_index */
    for (i = 0; i < machine->smp.cpus; i++) {
        Object *core = object_new(TYPE_XSERIES_CPU_CORE);

        object_property_set_int(core, "nr-threads", 1, &error_fatal);
        object_property_set_int(core, CPU_CORE_PROP_CORE_ID, i, &error_fatal);
        qdev_realize(DEVICE(core), NULL, &error_fatal);

        if (xmc->pre_2_10_has_unused_icps) {
            /* The core registered the real ICP of server i */
            pre_2_10_vmstate_unregister_dummy_icp(i);
        }
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
    .class_size    = sizeof(XSeriesMachineClass),
    .class_init    = xmachine_class_init,
};

/*
 * xseries-2.9: QEMU 2.9 allocated an ICP for every possible server and
 * sent its section, also for servers without a CPU.
 */
static void xmachine_2_9_class_init(ObjectClass *oc, void *data)
{
    MachineClass *mc = MACHINE_CLASS(oc);
    XSeriesMachineClass *xmc = XSERIES_MACHINE_CLASS(oc);

    mc->desc = "pSeries-like Logical Partition (PAPR compliant), QEMU 2.9";
    xmc->pre_2_10_has_unused_icps = true;
}

static const TypeInfo xmachine_2_9_info = {
    .name          = MACHINE_TYPE_NAME("xseries-2.9"),
    .parent        = TYPE_XSERIES_MACHINE,
    .class_init    = xmachine_2_9_class_init,
};

static void xmachine_register_types(void)
{
    type_register_static(&xmachine_info);
    type_register_static(&xmachine_2_9_info);
}

type_init(xmachine_register_types)
