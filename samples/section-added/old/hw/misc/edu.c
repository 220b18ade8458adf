/*
 * QEMU educational PCI device
 * (after QEMU's hw/misc/edu.c, trimmed to its state and QOM registration)
 *
 * Copyright (c) 2012-2015 Jiri Slaby
 *
 * SPDX-License-Identifier: MIT (the full notice is in QEMU's original file)
 */
#include "qemu/osdep.h"
#include "qemu/timer.h"
#include "hw/pci/pci.h"
#include "hw/pci/pci_device.h"
#include "migration/vmstate.h"

#define TYPE_PCI_EDU_DEVICE "edu"
OBJECT_DECLARE_SIMPLE_TYPE(EduState, PCI_EDU_DEVICE)

#define DMA_SIZE        4096

typedef uint64_t dma_addr_t;    /* from include/system/dma.h */

struct EduState {
    PCIDevice pdev;
    MemoryRegion mmio;

    bool stopping;

    uint32_t addr4;
    uint32_t fact;
#define EDU_STATUS_COMPUTING    0x01
#define EDU_STATUS_IRQFACT      0x80
    uint32_t status;

    uint32_t irq_status;

    struct dma_state {
        dma_addr_t src;
        dma_addr_t dst;
        dma_addr_t cnt;
        dma_addr_t cmd;
    } dma;
    QEMUTimer dma_timer;
    char dma_buf[DMA_SIZE];
    uint64_t dma_mask;
};

static void pci_edu_realize(PCIDevice *pdev, Error **errp)
{
    EduState *edu = PCI_EDU_DEVICE(pdev);

    pci_register_bar(pdev, 0, PCI_BASE_ADDRESS_SPACE_MEMORY, &edu->mmio);
}

static void edu_class_init(ObjectClass *class, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(class);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(class);

    k->realize = pci_edu_realize;
    k->vendor_id = PCI_VENDOR_ID_QEMU;
    k->device_id = 0x11e8;
    k->revision = 0x10;
    k->class_id = PCI_CLASS_OTHERS;
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
}

static InterfaceInfo edu_interfaces[] = {
    { INTERFACE_CONVENTIONAL_PCI_DEVICE },
    { },
};

/* QEMU declares this TypeInfo inside pci_edu_register_types() */
static const TypeInfo edu_info = {
    .name          = TYPE_PCI_EDU_DEVICE,
    .parent        = TYPE_PCI_DEVICE,
    .instance_size = sizeof(EduState),
    .class_init    = edu_class_init,
    .interfaces    = edu_interfaces,
};

static void pci_edu_register_types(void)
{
    type_register_static(&edu_info);
}
type_init(pci_edu_register_types)
