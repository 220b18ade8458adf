/*
 * VMState interface (excerpt of QEMU v10.0.2 include/hw/vmstate-if.h)
 *
 * Copyright (c) 2009-2019 Red Hat Inc
 * This work is licensed under the terms of the GNU GPL, version 2 or later.
 * See the COPYING file in the top-level directory.
 */

#ifndef VMSTATE_IF_H
#define VMSTATE_IF_H

#include "qom/object.h"

#define TYPE_VMSTATE_IF "vmstate-if"

typedef struct VMStateIf VMStateIf;

#endif /* VMSTATE_IF_H */
