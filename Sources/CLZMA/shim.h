#ifndef MUSLCHECK_CLZMA_SHIM_H
#define MUSLCHECK_CLZMA_SHIM_H
#include <lzma.h>
/* LZMA_STREAM_INIT is a compound literal; give Swift a function. */
static inline void muslcheck_lzma_stream_reset(lzma_stream *strm) {
    lzma_stream init = LZMA_STREAM_INIT;
    *strm = init;
}
#endif
