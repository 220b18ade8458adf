/*
 * Miscellaneous system-emulation declarations (excerpt of QEMU v10.0.2
 * include/system/system.h: the serial ports given on the command line)
 */
#ifndef SYSTEM_H
#define SYSTEM_H

#define MAX_SERIAL_PORTS 4

/* Return the Chardev for serial port i, or NULL if none */
Chardev *serial_hd(int i);

#endif
