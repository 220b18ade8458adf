/*
 * OS includes and handling of OS dependencies (excerpt of QEMU v10.0.2
 * include/qemu/osdep.h: every QEMU .c file includes it first).
 */
#ifndef QEMU_OSDEP_H
#define QEMU_OSDEP_H

#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "qemu/compiler.h"
#include "qemu/typedefs.h"

#ifndef MIN
#define MIN(a, b) (((a) < (b)) ? (a) : (b))
#endif
#ifndef MAX
#define MAX(a, b) (((a) > (b)) ? (a) : (b))
#endif

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(x) ((sizeof(x) / sizeof((x)[0])) + \
                       QEMU_BUILD_BUG_ON_ZERO(!QEMU_IS_ARRAY(x)))
#endif

#define BIT(nr)                 (1UL << (nr))

void *g_malloc0(size_t n_bytes);
void g_free(void *mem);

#endif
