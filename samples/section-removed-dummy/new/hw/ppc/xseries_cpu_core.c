/*
 * CPU core of the xseries machine, acts as container of CPU thread devices
 * (after QEMU's hw/ppc/spapr_cpu_core.c, one core type, trimmed to the
 * creation of its threads)
 *
 * Copyright (C) 2016 Bharata B Rao <bharata@linux.vnet.ibm.com>
 *
 * This work is licensed under the terms of the GNU GPL, version 2 or later.
 * See the COPYING file in the top-level directory.
 */
#include "qemu/osdep.h"
#include "qapi/error.h"
#include "migration/vmstate.h"
#include "xseries_cpu_core.h"

static bool xrealize_vcpu(XSeriesCPUCore *sc, int i, Error **errp)
{
    CPUState *cs = sc->threads[i];
    ICPState *icp;

    if (!qdev_realize(DEVICE(cs), NULL, errp)) {
        return false;
    }

    cpu_reset(cs);

    /* The interrupt presenter of this thread: interrupt server cs->cpu_index */
    icp = g_malloc0(sizeof(ICPState));
    icp->cs = cs;
    icp_reset(icp);
    sc->icps[i] = icp;

    vmstate_register(NULL, cs->cpu_index, &vmstate_icp_server, icp);
    return true;
}

static CPUState *xcreate_vcpu(XSeriesCPUCore *sc, int i)
{
    XSeriesCPUCoreClass *scc = XSERIES_CPU_CORE_GET_CLASS(sc);
    CPUCore *cc = CPU_CORE(sc);
    CPUState *cs = CPU(object_new(scc->cpu_type));

    /*
     * All CPUs start halted. CPU0 is unhalted from the machine level reset code
     * and the rest are explicitly started up by the guest using an RTAS call.
     */
    cs->start_powered_off = true;
    cs->cpu_index = cc->core_id + i;

    return cs;
}

static void xcpu_core_realize(DeviceState *dev, Error **errp)
{
    XSeriesCPUCore *sc = XSERIES_CPU_CORE(dev);
    CPUCore *cc = CPU_CORE(dev);
    int i;

    sc->threads = g_malloc0(cc->nr_threads * sizeof(CPUState *));
    sc->icps = g_malloc0(cc->nr_threads * sizeof(ICPState *));
    for (i = 0; i < cc->nr_threads; i++) {
        sc->threads[i] = xcreate_vcpu(sc, i);
        if (!xrealize_vcpu(sc, i, errp)) {
            return;
        }
    }
}

static void xcpu_core_class_init(ObjectClass *oc, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(oc);
    XSeriesCPUCoreClass *scc = XSERIES_CPU_CORE_CLASS(oc);

    dc->realize = xcpu_core_realize;
    scc->cpu_type = data;
}

static const TypeInfo xcpu_core_type_info = {
    .name = TYPE_XSERIES_CPU_CORE,
    .parent = TYPE_CPU_CORE,
    .instance_size = sizeof(XSeriesCPUCore),
    .class_size = sizeof(XSeriesCPUCoreClass),
    .class_init = xcpu_core_class_init,
    .class_data = (void *) "power9_v2.2-powerpc64-cpu",
};

static void xcpu_core_register_types(void)
{
    type_register_static(&xcpu_core_type_info);
}

type_init(xcpu_core_register_types)
