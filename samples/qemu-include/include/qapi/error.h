/*
 * QEMU Error Objects (excerpt of QEMU v10.0.2 include/qapi/error.h)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef ERROR_H
#define ERROR_H

/*
 * Special error destination to abort on error.
 * See error_setg() and error_propagate() for details.
 */
extern Error *error_abort;

/*
 * Special error destination to exit(1) on error.
 * See error_setg() and error_propagate() for details.
 */
extern Error *error_fatal;

void error_setg_internal(Error **errp,
                         const char *src, int line, const char *func,
                         const char *fmt, ...);

#define error_setg(errp, fmt, ...)                              \
    error_setg_internal((errp), __FILE__, __LINE__, __func__,   \
                        (fmt), ## __VA_ARGS__)

#endif
