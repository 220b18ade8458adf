#include "migration/vmstate.h"
typedef struct BadState { uint32_t x; } BadState;
static const VMStateDescription vmstate_bad = {
    .name = "bad",
    .fields = (const VMStateField[]) {
        VMSTATE_NO_SUCH_MACRO(x, BadState),
        VMSTATE_END_OF_LIST()
    }
};
