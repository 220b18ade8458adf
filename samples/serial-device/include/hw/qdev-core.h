/* The few QOM/qdev declarations the sample needs (not QEMU's full header). */
#ifndef QDEV_CORE_H
#define QDEV_CORE_H

#include "qemu/compiler.h"

typedef struct Object Object;
typedef struct ObjectClass ObjectClass;
typedef struct DeviceState DeviceState;
typedef struct DeviceClass DeviceClass;
typedef struct TypeInfo TypeInfo;
typedef struct QEMUTimer QEMUTimer;
typedef struct VMStateDescription VMStateDescription;

struct DeviceState {
    void *parent_obj;
    const char *id;
};

struct DeviceClass {
    void *parent_class;
    const VMStateDescription *vmsd;
    _Bool user_creatable;
};

struct TypeInfo {
    const char *name;
    const char *parent;
    unsigned long instance_size;
    void (*class_init)(ObjectClass *klass, void *data);
    _Bool abstract;
};

#define TYPE_OBJECT "object"
#define TYPE_DEVICE "device"

#define DEVICE_CLASS(klass) ((DeviceClass *)(klass))

void type_register_static(const TypeInfo *info);
#define type_init(function) static void __attribute__((constructor)) do_qemu_init_ ## function(void) { function(); }

#endif
