#ifndef QEMU_PCI_H
#define QEMU_PCI_H

/* PCI bus and device constants (excerpt of QEMU v10.0.2 include/hw/pci/pci.h) */

#include "exec/memory.h"
#include "hw/qdev-core.h"

#define PCI_VENDOR_ID_QEMU               0x1234
#define PCI_DEVICE_ID_INTEL_ESB_9        0x25ab
#define PCI_VENDOR_ID_INTEL              0x8086
#define PCI_CLASS_OTHERS                 0xff
#define PCI_CLASS_SYSTEM_OTHER           0x0880

#define PCI_CONFIG_SPACE_SIZE 0x100
#define PCIE_CONFIG_SPACE_SIZE  0x1000

#define PCI_NUM_PINS 4 /* A-D */

#define PCI_BASE_ADDRESS_SPACE_MEMORY   0x00

#define TYPE_PCI_DEVICE "pci-device"
#define INTERFACE_CONVENTIONAL_PCI_DEVICE "conventional-pci-device"
#define INTERFACE_PCIE_DEVICE "pci-express-device"

typedef void PCIUnregisterFunc(PCIDevice *pci_dev);

typedef struct PCIDeviceClass {
    DeviceClass parent_class;

    void (*realize)(PCIDevice *dev, Error **errp);
    PCIUnregisterFunc *exit;

    uint16_t vendor_id;
    uint16_t device_id;
    uint8_t revision;
    uint16_t class_id;
    uint16_t subsystem_vendor_id;
    uint16_t subsystem_id;
} PCIDeviceClass;

#define PCI_DEVICE(obj) OBJECT_CHECK(PCIDevice, (obj), TYPE_PCI_DEVICE)
#define PCI_DEVICE_CLASS(klass) \
    OBJECT_CLASS_CHECK(PCIDeviceClass, (klass), TYPE_PCI_DEVICE)

void pci_register_bar(PCIDevice *pci_dev, int region_num,
                      uint8_t attr, MemoryRegion *memory);
bool pci_is_express(const PCIDevice *d);

#include "hw/pci/pci_device.h"

#endif
