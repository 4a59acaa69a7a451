#ifndef MUSLCHECK_CMALLOC_SHIM_H
#define MUSLCHECK_CMALLOC_SHIM_H
#ifdef __linux__
#include <malloc.h>
#endif
/* glibc's malloc: grow (and keep) each heap's free top by `bytes` at a time. No-op elsewhere. */
static inline void muslcheck_malloc_top_pad(int bytes) {
#if defined(__GLIBC__) && defined(M_TOP_PAD)
    mallopt(M_TOP_PAD, bytes);
#else
    (void)bytes;
#endif
}
#endif
