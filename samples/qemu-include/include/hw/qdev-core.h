/*
 * qdev: devices, device classes and their realize hooks (excerpt of QEMU
 * v10.0.2 include/hw/qdev-core.h: the declarations the samples use).
 */
#ifndef QDEV_CORE_H
#define QDEV_CORE_H

#include "qom/object.h"
#include "hw/vmstate-if.h"

#define TYPE_DEVICE "device"

typedef enum DeviceCategory {
    DEVICE_CATEGORY_BRIDGE,
    DEVICE_CATEGORY_USB,
    DEVICE_CATEGORY_STORAGE,
    DEVICE_CATEGORY_NETWORK,
    DEVICE_CATEGORY_INPUT,
    DEVICE_CATEGORY_DISPLAY,
    DEVICE_CATEGORY_SOUND,
    DEVICE_CATEGORY_MISC,
    DEVICE_CATEGORY_CPU,
    DEVICE_CATEGORY_WATCHDOG,
    DEVICE_CATEGORY_MAX
} DeviceCategory;

typedef void (*DeviceRealize)(DeviceState *dev, Error **errp);
typedef void (*DeviceUnrealize)(DeviceState *dev);
typedef void (*DeviceReset)(DeviceState *dev);

struct DeviceClass {
    /* private: */
    ObjectClass parent_class;

    /* public: */
    unsigned long categories[1];
    const char *fw_name;
    const char *desc;
    const Property *props_;
    uint16_t props_count_;
    bool user_creatable;
    bool hotpluggable;

    /* callbacks */
    DeviceReset legacy_reset;
    DeviceRealize realize;
    DeviceUnrealize unrealize;

    /**
     * @vmsd: device state serialisation description for
     * migration/save/restore
     */
    const VMStateDescription *vmsd;

    /**
     * @bus_type: bus type
     * private: to qdev / bus.
     */
    const char *bus_type;
};

struct DeviceState {
    /* private: */
    Object parent_obj;
    /* public: */
    char *id;
    char *canonical_path;
    bool realized;
    bool pending_deleted_event;
    int64_t pending_deleted_expires_ms;
    BusState *parent_bus;
    int instance_id_alias;
    int alias_required_for_version;
};

#define DEVICE(obj) OBJECT_CHECK(DeviceState, (obj), TYPE_DEVICE)
#define DEVICE_CLASS(klass) OBJECT_CLASS_CHECK(DeviceClass, (klass), TYPE_DEVICE)

static inline void set_bit(long nr, unsigned long *addr)
{
    addr[0] |= 1UL << nr;
}

DeviceState *qdev_new(const char *name);
bool qdev_realize(DeviceState *dev, BusState *bus, Error **errp);
bool qdev_realize_and_unref(DeviceState *dev, BusState *bus, Error **errp);
void qdev_init_gpio_in(DeviceState *dev, qemu_irq_handler handler, int n);
void qdev_init_gpio_out(DeviceState *dev, qemu_irq *pins, int n);
qemu_irq qdev_get_gpio_in(DeviceState *dev, int n);

#endif
