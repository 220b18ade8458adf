/* A device whose "queues" property sizes nothing on the wire but configures the guest's device. */
#include "hw/qdev-core.h"
#include "hw/qdev-properties.h"
#include "migration/vmstate.h"

#define TYPE_FOO "foo"

/* qdev's property macros as QEMU 10.0 writes them (include/hw/qdev-properties.h) */
#define FOO_DEFINE_PROP(_name, _state, _field, _prop, ...) { \
        .name = (_name), .info = &(_prop), .offset = offsetof(_state, _field), __VA_ARGS__ }
#define FOO_PROP_UINT32(_name, _state, _field, _defval) \
    FOO_DEFINE_PROP(_name, _state, _field, qdev_prop_uint32, .set_default = true, .defval.u = (uint32_t)_defval)

typedef struct FooState {
    DeviceState parent_obj;
    uint32_t queues;
    uint32_t status;
} FooState;

static const VMStateDescription vmstate_foo = {
    .name = "foo",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(status, FooState),
        VMSTATE_END_OF_LIST()
    }
};

static const Property foo_properties[] = {
    FOO_PROP_UINT32("queues", FooState, queues, 1),
};

static void foo_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->vmsd = &vmstate_foo;
    device_class_set_props(dc, foo_properties);
}

static const TypeInfo foo_info = {
    .name = TYPE_FOO,
    .parent = TYPE_DEVICE,
    .instance_size = sizeof(FooState),
    .class_init = foo_class_init,
};
