/*
 * OpenRISC tick timer state, shared by all CPUs
 * (after QEMU's hw/openrisc/cputimer.c, made a device for the sample)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef HW_OPENRISC_CPUTIMER_H
#define HW_OPENRISC_CPUTIMER_H

#include "hw/qdev-core.h"

#define TYPE_OR1K_TIMER "or1k-timer"
OBJECT_DECLARE_SIMPLE_TYPE(OR1KTimerState, OR1K_TIMER)

/* Tick Timer global state to allow all cores to be in sync */
struct OR1KTimerState {
    DeviceState parent_obj;

    uint32_t ttcr;
    uint32_t ttcr_offset;
    uint64_t clk_offset;
};

extern const VMStateDescription vmstate_or1k_timer;

#endif
