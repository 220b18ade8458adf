#include "cpregs.h"

static void aarch64_a57_initfn(Object *obj)
{
    ARMCPU *cpu = ARM_CPU(obj);

    set_feature(&cpu->env, ARM_FEATURE_V8);
    set_feature(&cpu->env, ARM_FEATURE_AARCH64);
    cpu->midr = 0x411fd070;
}

static void arm_cpu_realizefn(DeviceState *dev, Error **errp)
{
    ARMCPU *cpu = ARM_CPU(dev);

    register_cp_regs_for_features(cpu);
}

static const ARMCPUInfo aarch64_cpus[] = {
    { .name = "cortex-a57", .initfn = aarch64_a57_initfn },
};
