/* libmcglibc.so for the muslcheck "gcompat" probe: always built with the host
 * (glibc) gcc, -O2 -D_FORTIFY_SOURCE=2, so that it imports glibc-only symbols
 * (gnu_get_libc_version, __snprintf_chk) and needs only libc.so.6. */
#include <gnu/libc-version.h>
#include <stdio.h>

static char copy[64];

const char *mc_glibc_version(void)
{
	return gnu_get_libc_version();
}

/* fortified: gcc turns this into __snprintf_chk */
const char *mc_copy(const char *s)
{
	snprintf(copy, sizeof copy, "%s!", s);
	return copy;
}
