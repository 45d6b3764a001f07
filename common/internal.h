/* internal.h -- small helpers shared by common/ and the backends, as libuv's
 * uv-common.h: nothing here is part of the flags.h contract. */
#ifndef FLAGS_INTERNAL_H
#define FLAGS_INTERNAL_H

#include <stddef.h>

/* The struct of type `type` whose member `member` is at ptr. */
#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

#endif /* FLAGS_INTERNAL_H */
