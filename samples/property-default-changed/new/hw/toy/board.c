/* A versioned machine type: a user may plug a foo into it. */
#include "hw/boards.h"

GlobalProperty hw_compat_0_9[] = {
    { "foo", "x-unrelated", "off" },
};
const size_t hw_compat_0_9_len = G_N_ELEMENTS(hw_compat_0_9);

static void toy_1_0_class_init(ObjectClass *oc, void *data)
{
    MachineClass *mc = MACHINE_CLASS(oc);

    compat_props_add(mc->compat_props, hw_compat_0_9, hw_compat_0_9_len);
}

static const TypeInfo toy_1_0_info = {
    .name = "toy-1.0" TYPE_MACHINE_SUFFIX,
    .parent = TYPE_MACHINE,
    .class_init = toy_1_0_class_init,
};
