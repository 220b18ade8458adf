#define CCM_MAX 35
