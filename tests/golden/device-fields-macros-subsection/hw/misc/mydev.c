#include "migration/vmstate.h"
#include "hw/qdev-core.h"

#define TYPE_MYDEV "my-device"
#define MYDEV_NREGS (2 * 4)
#define MYDEV_VERSION (1 + 2)

enum { MYDEV_IRQS = 3, MYDEV_BUF = 12 };

typedef struct MyDevState {
    DeviceState parent_obj;
    uint32_t ctrl;
    uint8_t regs[MYDEV_NREGS];
    uint8_t buf[MYDEV_BUF];
    uint64_t counter;
    bool enabled;
    int32_t irq_level;
} MyDevState;

/* a device-local field macro built on the tree's own macros */
#define VMSTATE_MYDEV_REGS(_f, _s) VMSTATE_UINT8_ARRAY_V(_f, _s, MYDEV_NREGS, 2)

static bool mydev_counter_needed(void *opaque)
{
    return true;
}

static const VMStateDescription vmstate_mydev_counter = {
    .name = "my-device/counter",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = mydev_counter_needed,
    .fields = (VMStateField[]) {     /* the older, non-const syntax */
        VMSTATE_UINT64(counter, MyDevState),
        VMSTATE_END_OF_LIST()
    }
};

static int mydev_post_load(void *opaque, int version_id)
{
    return 0;
}

static const VMStateDescription vmstate_mydev = {
    .minimum_version_id = 2,          /* designated initializers in any order */
    .post_load = mydev_post_load,
    .name = TYPE_MYDEV,
    .version_id = MYDEV_VERSION,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(ctrl, MyDevState),
        VMSTATE_MYDEV_REGS(regs, MyDevState),
        VMSTATE_BUFFER(buf, MyDevState),
        VMSTATE_BOOL_V(enabled, MyDevState, 3),
        VMSTATE_UNUSED(7 * 4),
        VMSTATE_INT32(irq_level, MyDevState),
        VMSTATE_END_OF_LIST()
    },
    .subsections = (const VMStateDescription * const []) {
        &vmstate_mydev_counter,
        NULL
    }
};

static void mydev_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->vmsd = &vmstate_mydev;
}

static const TypeInfo mydev_info = {
    .name = TYPE_MYDEV,
    .parent = TYPE_DEVICE,
    .instance_size = sizeof(MyDevState),
    .class_init = mydev_class_init,
};

static const TypeInfo mydev_sub_info = {
    .name = "my-device-sub",
    .parent = TYPE_MYDEV,
};
