/*
 * QEMU IPMI BT emulation
 * (after QEMU's include/hw/ipmi/ipmi_bt.h and include/hw/ipmi/ipmi.h, trimmed)
 *
 * Copyright (c) 2015 Corey Minyard, MontaVista Software, LLC
 *
 * SPDX-License-Identifier: MIT (the full notice is in QEMU's original file)
 */
#ifndef HW_IPMI_BT_H
#define HW_IPMI_BT_H

#include "exec/memory.h"

#define TYPE_IPMI_INTERFACE_PREFIX "ipmi-interface-"

#define MAX_IPMI_MSG_SIZE 300

typedef struct IPMIBT {
    void *bmc;

    bool do_wake;

    bool obf_irq_set;
    bool atn_irq_set;
    bool irqs_enabled;

    uint8_t outmsg[MAX_IPMI_MSG_SIZE];
    uint32_t outpos;
    uint32_t outlen;

    uint8_t inmsg[MAX_IPMI_MSG_SIZE];
    uint32_t inlen;

    uint8_t control_reg;
    uint8_t mask_reg;

    /*
     * This is a response number that we send with the command to make
     * sure that the response matches the command.
     */
    uint8_t waiting_rsp;
    uint8_t waiting_seq;

    uint32_t io_base;
    unsigned long io_length;
    MemoryRegion io;
    unsigned long size_mask;

    bool use_irq;
} IPMIBT;

extern const VMStateDescription vmstate_IPMIBT;

#endif /* HW_IPMI_BT_H */
