/*
 * QEMU single LED device
 * (after QEMU's hw/misc/led.c and include/hw/misc/led.h, trimmed to the
 * migration state)
 *
 * Copyright (C) 2020 Philippe Mathieu-Daudé <f4bug@amsat.org>
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "hw/qdev-properties.h"
#include "hw/irq.h"
#include "migration/vmstate.h"

#define TYPE_LED "led"
OBJECT_DECLARE_SIMPLE_TYPE(LEDState, LED)

struct LEDState {
    /* Private */
    DeviceState parent_obj;
    /* Public */

    uint8_t intensity_percent;
    qemu_irq irq;

    /* Properties */
    char *description;
    char *color;
    /*
     * Determines whether a GPIO is using a positive (active-high)
     * logic (when used with GPIO, the intensity at reset is related
     * to the GPIO polarity).
     */
    bool gpio_active_high;
};

static const VMStateDescription vmstate_led = {
    .name = TYPE_LED,
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT8(intensity_percent, LEDState),
        VMSTATE_END_OF_LIST()
    }
};

static void led_set_intensity(LEDState *s, unsigned intensity_percent)
{
    if (intensity_percent > 100) {
        intensity_percent = 100;
    }
    s->intensity_percent = intensity_percent;
}

static void led_set_state_gpio_handler(void *opaque, int line, int new_state)
{
    LEDState *s = LED(opaque);

    led_set_intensity(s, !!new_state == s->gpio_active_high ? 100 : 0);
}

static void led_realize(DeviceState *dev, Error **errp)
{
    LEDState *s = LED(dev);

    qdev_init_gpio_in(DEVICE(s), led_set_state_gpio_handler, 1);
}

static const Property led_properties[] = {
    DEFINE_PROP_BOOL("gpio-active-high", LEDState, gpio_active_high, true),
};

static void led_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->desc = "LED";
    dc->vmsd = &vmstate_led;
    dc->realize = led_realize;
    set_bit(DEVICE_CATEGORY_DISPLAY, dc->categories);
    device_class_set_props(dc, led_properties);
}

static const TypeInfo led_info = {
    .name = TYPE_LED,
    .parent = TYPE_DEVICE,
    .instance_size = sizeof(LEDState),
    .class_init = led_class_init
};

static void led_register_types(void)
{
    type_register_static(&led_info);
}

type_init(led_register_types)
