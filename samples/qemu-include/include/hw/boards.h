/* Declarations for use by board files for creating devices.  */
/* (excerpt of QEMU v10.0.2 include/hw/boards.h) */

#ifndef HW_BOARDS_H
#define HW_BOARDS_H

#include "exec/memory.h"
#include "hw/qdev-core.h"

#define TYPE_MACHINE_SUFFIX "-machine"

/* Machine class name that needs to be used for class-name-based machine
 * type lookup to work.
 */
#define MACHINE_TYPE_NAME(machinename) (machinename TYPE_MACHINE_SUFFIX)

#define TYPE_MACHINE "machine"

#define MACHINE(obj) OBJECT_CHECK(MachineState, (obj), TYPE_MACHINE)
#define MACHINE_CLASS(klass) \
    OBJECT_CLASS_CHECK(MachineClass, (klass), TYPE_MACHINE)

struct MachineClass {
    /*< private >*/
    ObjectClass parent_class;
    /*< public >*/

    const char *family; /* NULL iff @name identifies a standalone machtype */
    char *name;
    const char *alias;
    const char *desc;
    const char *deprecation_reason;

    void (*init)(MachineState *state);
    void (*wakeup)(MachineState *state);

    int max_cpus;
    int min_cpus;
    int default_cpus;
    bool is_default;
    const char *default_cpu_type;
};

struct MachineState {
    /*< private >*/
    Object parent_obj;

    /*< public >*/
    char *dtb;
    char *dumpdtb;
    int phandle_start;
    char *dt_compatible;
    bool dump_guest_core;
    bool mem_merge;
    bool usb;
    char *firmware;
    MemoryRegion *ram;
    uint64_t ram_size;
    uint64_t maxram_size;
    const char *cpu_type;
    struct {
        unsigned cpus;
        unsigned max_cpus;
    } smp;
};

#endif
