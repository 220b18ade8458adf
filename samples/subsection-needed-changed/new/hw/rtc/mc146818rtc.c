/*
 * QEMU MC146818 RTC emulation
 * (after QEMU's hw/rtc/mc146818rtc.c, trimmed to its migration state)
 */
#include "qemu/osdep.h"
#include "qemu/timer.h"
#include "hw/isa/isa.h"
#include "hw/qdev-properties.h"
#include "migration/vmstate.h"

#define TYPE_MC146818_RTC "mc146818rtc"

typedef struct MC146818RtcState {
    ISADevice parent_obj;

    MemoryRegion io;
    uint8_t cmos_data[128];
    uint8_t cmos_index;
    uint8_t isairq;
    uint16_t io_base;
    int32_t base_year;
    uint64_t base_rtc;
    uint64_t last_update;
    int64_t offset;
    qemu_irq irq;
    /* periodic timer */
    QEMUTimer *periodic_timer;
    int64_t next_periodic_time;
    /* update-ended timer */
    QEMUTimer *update_timer;
    uint64_t next_alarm_time;
    uint16_t irq_reinject_on_ack_count;
    uint32_t irq_coalesced;
    uint32_t period;
} MC146818RtcState;

static bool rtc_irq_reinject_on_ack_count_needed(void *opaque)
{
    MC146818RtcState *s = (MC146818RtcState *)opaque;
    return s->irq_reinject_on_ack_count != 0;
}

static const VMStateDescription vmstate_rtc_irq_reinject_on_ack_count = {
    .name = "mc146818rtc/irq_reinject_on_ack_count",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = rtc_irq_reinject_on_ack_count_needed,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT16(irq_reinject_on_ack_count, MC146818RtcState),
        VMSTATE_END_OF_LIST()
    }
};

static const VMStateDescription vmstate_rtc = {
    .name = "mc146818rtc",
    .version_id = 3,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_BUFFER(cmos_data, MC146818RtcState),
        VMSTATE_UINT8(cmos_index, MC146818RtcState),
        VMSTATE_UNUSED(7*4),
        VMSTATE_TIMER_PTR(periodic_timer, MC146818RtcState),
        VMSTATE_INT64(next_periodic_time, MC146818RtcState),
        VMSTATE_UNUSED(3*8),
        VMSTATE_UINT32_V(irq_coalesced, MC146818RtcState, 2),
        VMSTATE_UINT32_V(period, MC146818RtcState, 2),
        VMSTATE_UINT64_V(base_rtc, MC146818RtcState, 3),
        VMSTATE_UINT64_V(last_update, MC146818RtcState, 3),
        VMSTATE_INT64_V(offset, MC146818RtcState, 3),
        VMSTATE_TIMER_PTR_V(update_timer, MC146818RtcState, 3),
        VMSTATE_UINT64_V(next_alarm_time, MC146818RtcState, 3),
        VMSTATE_END_OF_LIST()
    },
    .subsections = (const VMStateDescription * const []) {
        &vmstate_rtc_irq_reinject_on_ack_count,
        NULL
    }
};

static const Property mc146818rtc_properties[] = {
    DEFINE_PROP_UINT8("irq", MC146818RtcState, isairq, 8),
};

static void rtc_class_initfn(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->vmsd = &vmstate_rtc;
    device_class_set_props(dc, mc146818rtc_properties);
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
}

static const TypeInfo mc146818rtc_info = {
    .name          = TYPE_MC146818_RTC,
    .parent        = TYPE_ISA_DEVICE,
    .instance_size = sizeof(MC146818RtcState),
    .class_init    = rtc_class_initfn,
};

static void mc146818rtc_register_types(void)
{
    type_register_static(&mc146818rtc_info);
}

type_init(mc146818rtc_register_types)
