/*
 * CPU core of the xseries machine, a container of CPU thread devices
 * (after QEMU's include/hw/ppc/spapr_cpu_core.h)
 *
 * Copyright (C) 2016 Bharata B Rao <bharata@linux.vnet.ibm.com>
 *
 * This work is licensed under the terms of the GNU GPL, version 2 or later.
 * See the COPYING file in the top-level directory.
 */
#ifndef HW_XSERIES_CPU_CORE_H
#define HW_XSERIES_CPU_CORE_H

#include "hw/cpu/core.h"
#include "hw/core/cpu.h"
#include "xics.h"

#define TYPE_XSERIES_CPU_CORE "xseries-cpu-core"
OBJECT_DECLARE_TYPE(XSeriesCPUCore, XSeriesCPUCoreClass, XSERIES_CPU_CORE)

struct XSeriesCPUCore {
    /*< private >*/
    CPUCore parent_obj;

    /*< public >*/
    CPUState **threads;
    ICPState **icps;
};

struct XSeriesCPUCoreClass {
    DeviceClass parent_class;
    const char *cpu_type;
};

#endif
