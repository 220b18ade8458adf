/* compiler.h: macros common to all compilers (excerpt of QEMU v10.0.2 include/qemu/compiler.h) */

#ifndef COMPILER_H
#define COMPILER_H

#define QEMU_PACKED __attribute__((packed))
#define QEMU_ALIGNED(X) __attribute__((aligned(X)))

#ifndef glue
#define xglue(x, y) x ## y
#define glue(x, y) xglue(x, y)
#define stringify(s) tostring(s)
#define tostring(s) #s
#endif

#define sizeof_field(type, field) sizeof(((type *)0)->field)

#define typeof_field(type, field) typeof(((type *)0)->field)
#define type_check(t1,t2) ((t1*)0 - (t2*)0)

#define coroutine_mixed_fn

#endif /* COMPILER_H */
