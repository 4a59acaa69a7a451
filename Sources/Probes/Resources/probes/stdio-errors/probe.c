/* muslcheck probe "stdio-errors": strerror texts, printf extensions (%Ld, %m)
 * and whether the libc identifies itself as glibc (confstr, gnu_get_libc_version).
 * Build: cc -O1 -Wall -I../common probe.c -o stdio-errors -ldl */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PROBE_ID "stdio-errors"
#include "probe.h"

/* formats reached through volatile pointers: no compile-time format checks */
static const char fmt_Ld[] = "%Ld";
static const char fmt_m[] = "%m";
static const char *volatile vfmt_Ld = fmt_Ld;
static const char *volatile vfmt_m = fmt_m;

static const char *errno_name(int e)
{
	return e == 0 ? "none" : e == EINVAL ? "EINVAL" : e == EOVERFLOW ? "EOVERFLOW" : e == ENOENT ? "ENOENT" : "other";
}

int main(void)
{
	char buf[256];
	int r, e;

	safety_net(10);
	j_begin();

	j_str("strerror_0", strerror(0));
	j_str("strerror_1000", strerror(1000));
	j_str("strerror_eopnotsupp", strerror(EOPNOTSUPP));
	j_str("strerror_enoent", strerror(ENOENT));

	/* %Ld: glibc treats L like ll for integers, musl rejects it */
	memset(buf, 0, sizeof buf);
	errno = 0;
	r = snprintf(buf, sizeof buf, vfmt_Ld, 5LL);
	e = errno;
	j_int("printf_Ld_return", r);
	j_str("printf_Ld_errno", errno_name(e));
	j_str("printf_Ld_output", r >= 0 ? buf : NULL);

	/* %m with errno = ENOENT */
	memset(buf, 0, sizeof buf);
	errno = ENOENT;
	r = snprintf(buf, sizeof buf, vfmt_m);
	j_int("printf_m_return", r);
	j_str("printf_m_output", r >= 0 ? buf : NULL);
	j_bool("printf_m_supported", r > 0 && strcmp(buf, strerror(ENOENT)) == 0);

#ifdef _CS_GNU_LIBC_VERSION
	j_bool("cs_gnu_libc_version_defined", 1);
	memset(buf, 0, sizeof buf);
	errno = 0;
	{
		size_t n = confstr(_CS_GNU_LIBC_VERSION, buf, sizeof buf);
		e = errno;
		j_int("confstr_return", (long long)n);
		j_str("confstr_errno", errno_name(e));
		j_str("confstr_gnu_libc_version", n > 0 ? buf : NULL);
	}
#else
	j_bool("cs_gnu_libc_version_defined", 0);
	j_null("confstr_gnu_libc_version");
#endif
	{
		const char *(*gv)(void) = (const char *(*)(void))dlsym(RTLD_DEFAULT, "gnu_get_libc_version");
		j_bool("has_gnu_get_libc_version", gv != NULL);
		j_str("gnu_get_libc_version", gv ? gv() : NULL);
	}
	j_finish();
	return 0;
}
