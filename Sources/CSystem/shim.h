#ifndef MUSLCHECK_CSYSTEM_SHIM_H
#define MUSLCHECK_CSYSTEM_SHIM_H
#ifdef __linux__
#include <malloc.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

/* glibc's malloc: grow (and keep) each heap's free top by `bytes` at a time. No-op elsewhere. */
static inline void muslcheck_malloc_top_pad(int bytes) {
#if defined(__GLIBC__) && defined(M_TOP_PAD)
    mallopt(M_TOP_PAD, bytes);
#else
    (void)bytes;
#endif
}

/* getdents64(2): directory entries of an open directory into `buffer` (struct linux_dirent64
   records); the bytes filled, 0 at the end, -1 with errno on error. -1/ENOSYS where absent. */
static inline long muslcheck_getdents64(int fd, void *buffer, unsigned long length) {
#if defined(__linux__) && defined(SYS_getdents64)
    return syscall(SYS_getdents64, fd, buffer, length);
#else
    (void)fd; (void)buffer; (void)length;
    return -1;
#endif
}
#endif
