#ifndef QEMU_FIFO8_H
#define QEMU_FIFO8_H

#include "migration/vmstate.h"

typedef struct {
    /* All fields are private */
    uint8_t *data;
    uint32_t capacity;
    uint32_t head;
    uint32_t num;
} Fifo8;

extern const VMStateDescription vmstate_fifo8;

#endif /* QEMU_FIFO8_H */
