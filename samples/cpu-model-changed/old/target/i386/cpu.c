#include "cpu.h"

static const X86CPUDefinition builtin_x86_defs[] = {
    {
        .name = "toy-cpu",
        .level = 0xd,
        .family = 6,
        .model = 94,
        .features[FEAT_1_EDX] =
            TOY_BASE_FEATURES | CPUID_MSR,
        .model_id = "Toy Processor",
        .versions = (X86CPUVersionDefinition[]) {
            { .version = 1 },
            {
                .version = 2,
                .props = (PropValue[]) {
                    { "msr", "off" },
                    { /* end of list */ }
                }
            },
            { /* end of list */ }
        }
    },
    {
        .name = "other-cpu",
        .level = 0xd,
        .family = 6,
        .model = 85,
        .features[FEAT_1_EDX] = TOY_BASE_FEATURES,
        .model_id = "Other Processor",
    },
};
