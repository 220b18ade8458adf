#include "migration/vmstate.h"
#include "hw/misc/new_ccm.h"
typedef struct NewCCMState {
    uint32_t ccm[CCM_MAX];
} NewCCMState;
static const VMStateDescription vmstate_new_ccm = {
    .name = "new.ccm",
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32_ARRAY(ccm, NewCCMState, CCM_MAX),
        VMSTATE_END_OF_LIST()
    },
};
