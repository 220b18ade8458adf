#include "migration/vmstate.h"
enum { E_IRQS = 3, E_BUF = E_IRQS << 2 };
typedef struct EState { uint8_t buf[E_BUF]; } EState;
static const VMStateDescription vmstate_e = {
    .name = "e",
    .fields = (const VMStateField[]) {
        VMSTATE_BUFFER(buf, EState),
        VMSTATE_END_OF_LIST()
    }
};
