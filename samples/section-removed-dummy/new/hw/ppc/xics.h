/*
 * QEMU PowerPC pSeries Logical Partition (aka sPAPR) hardware System Emulator
 *
 * PAPR Virtualized Interrupt System, aka ICS/ICP aka xics
 * (after QEMU's include/hw/ppc/xics.h, trimmed to the interrupt presenter
 * state of one server)
 *
 * Copyright (c) 2010,2011 David Gibson, IBM Corporation.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef XICS_H
#define XICS_H

#include "hw/core/cpu.h"

/*
 * The ICP (interrupt presentation controller) of one interrupt server,
 * i.e. of one vCPU thread: server number == cpu_index.
 */
typedef struct ICPState {
    CPUState *cs;
    qemu_irq output;

    uint32_t xirr;
    uint8_t pending_priority;
    uint8_t mfrr;
} ICPState;

extern const VMStateDescription vmstate_icp_server;

void icp_reset(ICPState *icp);

#endif /* XICS_H */
