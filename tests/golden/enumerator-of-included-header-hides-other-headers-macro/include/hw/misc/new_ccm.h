enum NewCCMRegisters {
    CCM_MAX = 0xBE00 / sizeof(uint32_t) + 1,
};
