#ifndef QEMU_CHAR_FE_H
#define QEMU_CHAR_FE_H

/* Character device front ends (excerpt of QEMU v10.0.2 include/chardev/char-fe.h) */

typedef int IOCanReadHandler(void *opaque);
typedef void IOReadHandler(void *opaque, const uint8_t *buf, int size);

/* This is the backend as seen by frontend, the actual backend is
 * Chardev */
typedef struct CharBackend {
    Chardev *chr;
    void *chr_event;
    void *chr_can_read;
    void *chr_read;
    void *chr_be_change;
    void *opaque;
    int tag;
    bool fe_is_open;
} CharBackend;

int qemu_chr_fe_write_all(CharBackend *be, const uint8_t *buf, int len);
void qemu_chr_fe_set_handlers(CharBackend *b,
                              IOCanReadHandler *fd_can_read,
                              IOReadHandler *fd_read,
                              void *fd_event,
                              void *be_change,
                              void *opaque,
                              void *context,
                              bool set_open);

#endif /* QEMU_CHAR_FE_H */
