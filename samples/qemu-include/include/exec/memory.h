/*
 * Physical memory management API (excerpt of QEMU v10.0.2 include/exec/memory.h)
 */
#ifndef MEMORY_H
#define MEMORY_H

#include "exec/hwaddr.h"

typedef enum device_endian {
    DEVICE_NATIVE_ENDIAN,
    DEVICE_BIG_ENDIAN,
    DEVICE_LITTLE_ENDIAN,
} device_endian;

typedef struct MemoryRegionOps {
    uint64_t (*read)(void *opaque, hwaddr addr, unsigned size);
    void (*write)(void *opaque, hwaddr addr, uint64_t data, unsigned size);
    enum device_endian endianness;
} MemoryRegionOps;

/* Opaque here: the samples only embed it. */
struct MemoryRegion {
    Object parent_obj;
    bool romd_mode;
    bool ram;
    void *opaque;
    MemoryRegion *container;
    uint64_t size;
    hwaddr addr;
    const MemoryRegionOps *ops;
    const char *name;
};

void memory_region_init_io(MemoryRegion *mr, Object *owner,
                           const MemoryRegionOps *ops, void *opaque,
                           const char *name, uint64_t size);
MemoryRegion *get_system_memory(void);
MemoryRegion *get_system_io(void);
void memory_region_add_subregion(MemoryRegion *mr, hwaddr offset,
                                 MemoryRegion *subregion);

#endif
