#ifndef QEMU_TYPEDEFS_H
#define QEMU_TYPEDEFS_H

/*
 * The typedef names the samples use, from QEMU v10.0.2 include/qemu/typedefs.h
 * (same lines, shorter list).
 */
typedef struct BusState BusState;
typedef struct Chardev Chardev;
typedef struct Clock Clock;
typedef struct CPUState CPUState;
typedef struct DeviceState DeviceState;
typedef struct Error Error;
typedef struct ISABus ISABus;
typedef struct ISADevice ISADevice;
typedef struct JSONWriter JSONWriter;
typedef struct MachineClass MachineClass;
typedef struct MachineState MachineState;
typedef struct MemoryRegion MemoryRegion;
typedef struct Object Object;
typedef struct ObjectClass ObjectClass;
typedef struct PCIBus PCIBus;
typedef struct PCIDevice PCIDevice;
typedef struct Property Property;
typedef struct PropertyInfo PropertyInfo;
typedef struct QEMUFile QEMUFile;
typedef struct QEMUTimer QEMUTimer;
typedef struct VMStateDescription VMStateDescription;

/*
 * Pointer types
 */
typedef struct IRQState *qemu_irq;

/*
 * Function types
 */
typedef void (*qemu_irq_handler)(void *opaque, int n, int level);

#endif /* QEMU_TYPEDEFS_H */
