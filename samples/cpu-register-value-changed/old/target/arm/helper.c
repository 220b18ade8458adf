#include "cpregs.h"

static const ARMCPRegInfo cp_reginfo[] = {
    { .name = "SCTLR_EL1", .state = ARM_CP_STATE_AA64,
      .opc0 = 3, .opc1 = 0, .crn = 1, .crm = 0, .opc2 = 0,
      .access = PL1_RW, .resetvalue = 0 },
};

static const ARMCPRegInfo v8_idregs[] = {
    { .name = "ID_AA64PFR0_EL1", .state = ARM_CP_STATE_AA64,
      .opc0 = 3, .opc1 = 0, .crn = 0, .crm = 4, .opc2 = 0,
      .access = PL1_R, .type = ARM_CP_CONST, .resetvalue = 0x2222 },
    { .name = "ID_AA64DFR0_EL1", .state = ARM_CP_STATE_AA64,
      .opc0 = 3, .opc1 = 0, .crn = 0, .crm = 5, .opc2 = 0,
      .access = PL1_R, .type = ARM_CP_CONST, .resetvalue = 0x10305106 },
};

void register_cp_regs_for_features(ARMCPU *cpu)
{
    CPUARMState *env = &cpu->env;

    define_arm_cp_regs(cpu, cp_reginfo);
    if (arm_feature(env, ARM_FEATURE_V8)) {
        define_arm_cp_regs(cpu, v8_idregs);
    }
}
