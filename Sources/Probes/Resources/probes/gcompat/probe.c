/* muslcheck probe "gcompat": can this libc load a library built against glibc?
 * libmcglibc.so (built with the host's glibc gcc) needs libc.so.6 and imports
 * gnu_get_libc_version and __snprintf_chk.  Plain musl fails with
 * "Error relocating ...: symbol not found"; with gcompat
 * (LD_PRELOAD=/lib/libgcompat.so.0, set by the runner) it should load.
 * Build: cc -O1 -Wall -I../common probe.c -o gcompat -ldl */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PROBE_ID "gcompat"
#include "probe.h"

/* is a file whose path contains `needle` mapped into this process? */
static int mapped(const char *needle)
{
	char line[1024];
	int found = 0, n = 0;
	FILE *f = fopen("/proc/self/maps", "r");
	if (!f) return 0;
	while (!found && n++ < 10000 && fgets(line, sizeof line, f)) found = strstr(line, needle) != NULL;
	fclose(f);
	return found;
}

int main(int argc, char **argv)
{
	char dir[4096], lib[4200];
	const char *pre = getenv("LD_PRELOAD"), *err;
	void *h;

	(void)argc;
	safety_net(10);
	j_begin();
	j_bool("gcompat_present", access("/lib/libgcompat.so.0", F_OK) == 0);
	j_str("ld_preload", pre);
	j_bool("gcompat_loaded", mapped("libgcompat"));   /* musl ignores a missing LD_PRELOAD entry */
	self_dir(dir, sizeof dir, argv[0]);
	snprintf(lib, sizeof lib, "%s/libmcglibc.so", dir);
	j_str("library", lib);
	j_bool("library_exists", access(lib, R_OK) == 0);

	dlerror();
	h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
	err = h ? NULL : dlerror();
	j_bool("dlopen_ok", h != NULL);
	j_str("dlerror", err);
	if (!err) {
		j_null("failure_kind");
		j_null("missing_symbol");
	} else {
		const char *m = strstr(err, "symbol not found");
		int named = 0;
		j_str("failure_kind", m ? "symbol not found" : strstr(err, "not found") ? "library not found" :
		      strstr(err, "No such file") ? "library not found" : "other");
		/* "Error relocating <lib>: <symbol>: symbol not found" -> <symbol> */
		if (m && m - err > 4) {
			char sym[200];
			const char *end = m - 2, *start = end;
			while (start > err && start[-1] != ' ') start--;
			if (end > start && (size_t)(end - start) < sizeof sym) {
				memcpy(sym, start, (size_t)(end - start));
				sym[end - start] = 0;
				j_str("missing_symbol", sym);
				named = 1;
			}
		}
		if (!named) j_null("missing_symbol");
	}
	if (h) {
		const char *(*ver)(void) = (const char *(*)(void))dlsym(h, "mc_glibc_version");
		const char *(*cp)(const char *) = (const char *(*)(const char *))dlsym(h, "mc_copy");
		j_str("reported_glibc_version", ver ? ver() : NULL);
		j_str("fortified_call", cp ? cp("ok") : NULL);
		dlclose(h);
	} else {
		j_null("reported_glibc_version");
		j_null("fortified_call");
	}
	j_finish();
	return 0;
}
