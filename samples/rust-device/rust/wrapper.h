/*
 * What bindgen reads to make qemu_api::bindings (after QEMU's rust/wrapper.h,
 * trimmed): `bindings::TYPE_SYS_BUS_DEVICE` is this view's TYPE_SYS_BUS_DEVICE.
 */
#include "qemu/osdep.h"
#include "hw/sysbus.h"
#include "migration/vmstate.h"
