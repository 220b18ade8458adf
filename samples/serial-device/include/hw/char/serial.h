/* A 16550A UART, after QEMU's include/hw/char/serial.h (trimmed for the sample). */
#ifndef HW_SERIAL_H
#define HW_SERIAL_H

#include "hw/qdev-core.h"
#include "qemu/fifo8.h"

#define UART_FIFO_LENGTH    16      /* 16550A Fifo Length */

struct SerialState {
    DeviceState parent;

    uint16_t divider;
    uint8_t rbr; /* receive register */
    uint8_t thr; /* transmit holding register */
    uint8_t tsr; /* transmit shift register */
    uint8_t ier;
    uint8_t iir; /* read only */
    uint8_t lcr;
    uint8_t mcr;
    uint8_t lsr; /* read only */
    uint8_t msr; /* read only */
    uint8_t scr;
    uint8_t fcr;
    uint8_t fcr_vmstate; /* we can't write directly this value
                            it has side effects */
    int thr_ipending;
    uint32_t baudbase;
    uint32_t tsr_retry;
    bool wakeup;

    Fifo8 recv_fifo;
    Fifo8 xmit_fifo;
    uint8_t scratch[UART_FIFO_LENGTH * 2];

    int poll_msl;
    QEMUTimer *modem_status_poll;
};
typedef struct SerialState SerialState;

extern const VMStateDescription vmstate_serial;

#define TYPE_SERIAL "serial"
#define TYPE_ISA_SERIAL "isa-serial"

#endif
