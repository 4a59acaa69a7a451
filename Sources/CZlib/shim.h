#ifndef MUSLCHECK_CZLIB_SHIM_H
#define MUSLCHECK_CZLIB_SHIM_H
#include <zlib.h>
/* inflateInit2 is a macro; give Swift a function. */
static inline int muslcheck_inflate_init2(z_stream *strm, int window_bits) {
    return inflateInit2(strm, window_bits);
}
#endif
