/*
 * qdev properties (excerpt of QEMU v10.0.2 include/hw/qdev-properties.h;
 * the DEFINE_PROP_* bodies are simplified).
 */
#ifndef QEMU_QDEV_PROPERTIES_H
#define QEMU_QDEV_PROPERTIES_H

#include "hw/qdev-core.h"

struct Property {
    const char *name;
    const PropertyInfo *info;
    ptrdiff_t offset;
    const char *link_type;
    uint64_t bitmask;
    uint64_t defval;
};

extern const PropertyInfo qdev_prop_bool;
extern const PropertyInfo qdev_prop_uint8;
extern const PropertyInfo qdev_prop_uint32;
extern const PropertyInfo qdev_prop_chr;

#define DEFINE_PROP(_name, _state, _field, _prop, _type, ...) {  \
        .name      = (_name),                                    \
        .info      = &(_prop),                                   \
        .offset    = offsetof(_state, _field),                   \
            __VA_ARGS__                                          \
        }

#define DEFINE_PROP_BOOL(_n, _s, _f, _d)                         \
    DEFINE_PROP(_n, _s, _f, qdev_prop_bool, bool, .defval = (bool)_d)
#define DEFINE_PROP_UINT8(_n, _s, _f, _d)                        \
    DEFINE_PROP(_n, _s, _f, qdev_prop_uint8, uint8_t, .defval = _d)
#define DEFINE_PROP_UINT32(_n, _s, _f, _d)                       \
    DEFINE_PROP(_n, _s, _f, qdev_prop_uint32, uint32_t, .defval = _d)
#define DEFINE_PROP_CHR(_n, _s, _f)                              \
    DEFINE_PROP(_n, _s, _f, qdev_prop_chr, CharBackend)

void device_class_set_props_n(DeviceClass *dc, const Property *props, size_t n);
#define device_class_set_props(dc, props) \
    device_class_set_props_n((dc), (props), ARRAY_SIZE(props))

void qdev_prop_set_uint8(DeviceState *dev, const char *name, uint8_t value);
void qdev_prop_set_chr(DeviceState *dev, const char *name, Chardev *value);

#endif
