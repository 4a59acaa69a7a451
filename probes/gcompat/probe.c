/* muslcheck probe "gcompat": can this libc load a library built against glibc?
 * libmcglibc.so (built with the host's glibc gcc) needs libc.so.6 and imports
 * gnu_get_libc_version and __snprintf_chk.  Plain musl fails with
 * "Error relocating ...: symbol not found"; with gcompat
 * (LD_PRELOAD=/lib/libgcompat.so.0, set by the runner) it should load.
 * Build: cc -O1 -Wall probe.c -o gcompat -ldl */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PROBE_ID "gcompat"
/* ---- probe output helpers (identical in every probe) ----------------------
 * The probe prints exactly one line on stdout: a JSON object.  Fields are
 * collected in a buffer and written at the end; a fatal signal or the alarm()
 * safety net prints {"probe":...,"ok":false,"error":...} instead. */
#define UNUSED __attribute__((unused))
static char jbuf[32768];
static size_t jlen;
static int jfirst = 1, jarr_first = 1, jover;

static UNUSED void jputc(char c) { if (jlen + 1 < sizeof jbuf) jbuf[jlen++] = c; else jover = 1; }
static UNUSED void jputs(const char *s) { while (*s) jputc(*s++); }

/* length of a valid UTF-8 sequence at p, 0 if invalid */
static UNUSED int utf8_len(const unsigned char *p)
{
	int n, i;
	unsigned cp;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) { n = 2; cp = p[0] & 0x1f; }
	else if (p[0] >= 0xe0 && p[0] <= 0xef) { n = 3; cp = p[0] & 0x0f; }
	else if (p[0] >= 0xf0 && p[0] <= 0xf4) { n = 4; cp = p[0] & 0x07; }
	else return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80) return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff))) return 0;
	if (cp >= 0xd800 && cp <= 0xdfff) return 0;
	return n;
}

/* JSON string literal; invalid UTF-8 bytes are written as \u00XX (their
 * Latin-1 reading) so the output is always valid JSON; NULL gives null */
static UNUSED void json_string(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	static const char hex[] = "0123456789abcdef";
	int n, i;
	if (!s) { jputs("null"); return; }
	jputc('"');
	while (*p) {
		unsigned c = *p;
		if (c == '"' || c == '\\') { jputc('\\'); jputc((char)c); p++; }
		else if (c == '\n') { jputs("\\n"); p++; }
		else if (c == '\t') { jputs("\\t"); p++; }
		else if (c < 0x20 || c == 0x7f) {
			jputs("\\u00"); jputc(hex[c >> 4]); jputc(hex[c & 15]); p++;
		} else if (c < 0x80) { jputc((char)c); p++; }
		else if ((n = utf8_len(p)) > 0) { for (i = 0; i < n; i++) jputc((char)p[i]); p += n; }
		else { jputs("\\u00"); jputc(hex[c >> 4]); jputc(hex[c & 15]); p++; }
	}
	jputc('"');
}

static UNUSED void jkey(const char *k) { if (!jfirst) jputc(','); jfirst = 0; json_string(k); jputc(':'); }
static UNUSED void j_str(const char *k, const char *v) { jkey(k); json_string(v); }
static UNUSED void j_int(const char *k, long long v) { char t[32]; snprintf(t, sizeof t, "%lld", v); jkey(k); jputs(t); }
static UNUSED void j_bool(const char *k, int v) { jkey(k); jputs(v ? "true" : "false"); }
static UNUSED void j_null(const char *k) { jkey(k); jputs("null"); }
static UNUSED void j_num(const char *k, double v)
{
	char t[64];
	jkey(k);
	if (v != v || v > 1e300 || v < -1e300) { jputs("null"); return; }
	snprintf(t, sizeof t, "%.3f", v);
	jputs(t);
}
static UNUSED void j_arr_begin(const char *k) { jkey(k); jputc('['); jarr_first = 1; }
static UNUSED void j_arr_str(const char *v) { if (!jarr_first) jputc(','); jarr_first = 0; json_string(v); }
static UNUSED void j_arr_int(long long v) { char t[32]; if (!jarr_first) jputc(','); jarr_first = 0; snprintf(t, sizeof t, "%lld", v); jputs(t); }
static UNUSED void j_arr_end(void) { jputc(']'); }

static UNUSED void j_begin(void)
{
	jlen = 0; jfirst = 1; jover = 0;
	jputc('{'); j_str("probe", PROBE_ID); j_bool("ok", 1);
}

static UNUSED void j_emit(void)
{
	fwrite(jbuf, 1, jlen, stdout);
	fputc('\n', stdout);
	fflush(stdout);
}

/* print {"probe":..,"ok":false,"error":msg} (discarding collected fields) and exit 0 */
static UNUSED void j_fail(const char *msg)
{
	jlen = 0; jfirst = 1; jover = 0;
	jputc('{'); j_str("probe", PROBE_ID); j_bool("ok", 0); j_str("error", msg); jputc('}');
	j_emit();
	exit(0);
}

static UNUSED void j_finish(void)
{
	jputc('}');
	if (jover) j_fail("output too long");
	j_emit();
}

/* async-signal-safe failure line for fatal signals and the alarm() net */
static UNUSED void fatal_handler(int sig)
{
	char msg[160], num[12];
	size_t n = 0, i = 0;
	const char *a = "{\"probe\":\"" PROBE_ID "\",\"ok\":false,\"error\":\"";
	const char *b = sig == SIGALRM ? "timeout (alarm)" : "fatal signal ";
	int v = sig;
	while (*a && n < sizeof msg - 20) msg[n++] = *a++;
	while (*b && n < sizeof msg - 20) msg[n++] = *b++;
	if (sig != SIGALRM) {
		do { num[i++] = (char)('0' + v % 10); v /= 10; } while (v && i < sizeof num);
		while (i) msg[n++] = num[--i];
	}
	msg[n++] = '"'; msg[n++] = '}'; msg[n++] = '\n';
	if (write(1, msg, n) < 0) { /* nothing left to do */ }
	_exit(0);
}

static UNUSED void safety_net(unsigned seconds)
{
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGALRM };
	size_t i;
	for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++) signal(sigs[i], fatal_handler);
	signal(SIGPIPE, SIG_IGN);
	alarm(seconds);
}

/* in a forked child: no JSON from signal handlers, default dispositions */
static UNUSED void child_defaults(void)
{
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGALRM, SIGPIPE };
	size_t i;
	for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++) signal(sigs[i], SIG_DFL);
}

/* directory of this executable (for libraries built beside it) */
static UNUSED void self_dir(char *out, size_t size, const char *argv0)
{
	char *slash;
	ssize_t n = readlink("/proc/self/exe", out, size - 1);
	if (n > 0) out[n] = 0;
	else snprintf(out, size, "%s", argv0 ? argv0 : ".");
	slash = strrchr(out, '/');
	if (slash && slash != out) *slash = 0;
	else if (slash) slash[1] = 0;
	else snprintf(out, size, ".");
}
/* ---- end of helpers ------------------------------------------------------- */

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
