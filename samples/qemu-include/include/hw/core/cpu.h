/*
 * QEMU CPU model (excerpt of QEMU v10.0.2 include/hw/core/cpu.h: the type
 * name, the unchecked cast and the CPUState members the samples use)
 *
 * Copyright (c) 2012 SUSE LINUX Products GmbH
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef QEMU_CPU_H
#define QEMU_CPU_H

#include "hw/qdev-core.h"
#include "qom/object.h"

#define TYPE_CPU "cpu"

/* Since this macro is used a lot in hot code paths and in conjunction with
 * FooCPU *foo_env_get_cpu(), we deviate from usual QOM practice by using
 * an unchecked cast.
 */
#define CPU(obj) ((CPUState *)(obj))

struct CPUState {
    /*< private >*/
    DeviceState parent_obj;
    /*< public >*/

    int nr_threads;

    /* Should CPU start in powered-off state? */
    bool start_powered_off;

    int cpu_index;
    int cluster_index;
    uint32_t halted;
};

void cpu_reset(CPUState *cpu);

#endif
