#ifndef MUSLCHECK_CLIBELF_SHIM_H
#define MUSLCHECK_CLIBELF_SHIM_H
#include <libelf.h>
#include <gelf.h>

/* Asks the processor to start fetching the memory at p (a hint; never faults). */
static inline void muslcheck_prefetch(const void *p) { __builtin_prefetch(p, 0, 3); }
#endif
