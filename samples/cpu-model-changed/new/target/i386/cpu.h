/* Feature bits of CPUID leaf 1, EDX (a few of include/.../cpu.h's) */
#define CPUID_FP87 (1U << 0)
#define CPUID_PSE  (1U << 3)
#define CPUID_TSC  (1U << 4)
#define CPUID_MSR  (1U << 5)

#define TOY_BASE_FEATURES (CPUID_FP87 | CPUID_TSC)
