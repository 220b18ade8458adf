/* Define hwaddr if it exists.  */

#ifndef HWADDR_H
#define HWADDR_H

#define HWADDR_BITS 64
/* hwaddr is the type of a physical address (its size can
   be different from 'target_ulong').  */

typedef uint64_t hwaddr;
#define HWADDR_MAX UINT64_MAX

#endif
