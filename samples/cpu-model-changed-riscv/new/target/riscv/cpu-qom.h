/*
 * QEMU RISC-V CPU QOM header (trimmed from QEMU v10.0.2 target/riscv/cpu-qom.h)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef RISCV_CPU_QOM_H
#define RISCV_CPU_QOM_H

#define TYPE_CPU "cpu" /* include/hw/core/cpu.h */

#define TYPE_RISCV_CPU "riscv-cpu"
#define TYPE_RISCV_DYNAMIC_CPU "riscv-dynamic-cpu"
#define TYPE_RISCV_VENDOR_CPU "riscv-vendor-cpu"

#define RISCV_CPU_TYPE_SUFFIX "-" TYPE_RISCV_CPU
#define RISCV_CPU_TYPE_NAME(name) (name RISCV_CPU_TYPE_SUFFIX)

#define TYPE_RISCV_CPU_MAX              RISCV_CPU_TYPE_NAME("max")
#define TYPE_RISCV_CPU_BASE64           RISCV_CPU_TYPE_NAME("rv64")
#define TYPE_RISCV_CPU_SIFIVE_E51       RISCV_CPU_TYPE_NAME("sifive-e51")
#define TYPE_RISCV_CPU_SIFIVE_U54       RISCV_CPU_TYPE_NAME("sifive-u54")

#endif /* RISCV_CPU_QOM_H */
