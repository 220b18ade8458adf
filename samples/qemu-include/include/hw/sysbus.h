#ifndef HW_SYSBUS_H
#define HW_SYSBUS_H

/* Devices attached directly to the main system bus (excerpt of QEMU v10.0.2 include/hw/sysbus.h) */

#include "hw/qdev-core.h"
#include "exec/memory.h"

#define QDEV_MAX_MMIO 32
#define QDEV_MAX_PIO 32

#define TYPE_SYS_BUS_DEVICE "sys-bus-device"

typedef struct SysBusDevice SysBusDevice;

struct SysBusDevice {
    /*< private >*/
    DeviceState parent_obj;
    /*< public >*/

    int num_mmio;
    struct {
        hwaddr addr;
        MemoryRegion *memory;
    } mmio[QDEV_MAX_MMIO];
    int num_pio;
    uint32_t pio[QDEV_MAX_PIO];
};

#define SYS_BUS_DEVICE(obj) OBJECT_CHECK(SysBusDevice, (obj), TYPE_SYS_BUS_DEVICE)

void sysbus_init_mmio(SysBusDevice *dev, MemoryRegion *memory);
void sysbus_init_irq(SysBusDevice *dev, qemu_irq *p);
void sysbus_mmio_map(SysBusDevice *dev, int n, hwaddr addr);
MemoryRegion *sysbus_mmio_get_region(SysBusDevice *dev, int n);
void sysbus_connect_irq(SysBusDevice *dev, int n, qemu_irq irq);
DeviceState *sysbus_create_simple(const char *name, hwaddr addr, qemu_irq irq);

#endif /* HW_SYSBUS_H */
