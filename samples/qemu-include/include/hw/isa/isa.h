#ifndef HW_ISA_H
#define HW_ISA_H

/* ISA bus (excerpt of QEMU v10.0.2 include/hw/isa/isa.h) */

#include "exec/memory.h"
#include "hw/qdev-core.h"

#define ISA_NUM_IRQS 16

#define TYPE_ISA_DEVICE "isa-device"
#define TYPE_ISA_BUS "ISA"

struct ISADevice {
    /*< private >*/
    DeviceState parent_obj;
    /*< public >*/
    int8_t isairq[2];      /* -1 = unassigned */
    int nirqs;
    int ioport_id;
};

#define ISA_DEVICE(obj) OBJECT_CHECK(ISADevice, (obj), TYPE_ISA_DEVICE)

qemu_irq isa_get_irq(ISADevice *dev, unsigned isairq);
void isa_init_irq(ISADevice *dev, qemu_irq *p, unsigned isairq);
void isa_register_ioport(ISADevice *dev, MemoryRegion *io, uint16_t start);
MemoryRegion *isa_address_space_io(ISADevice *dev);

#endif
