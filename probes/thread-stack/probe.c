/* muslcheck probe "thread-stack": default pthread stack and guard size, and how
 * deep a new default thread can recurse before it dies.
 * Build: cc -O1 -Wall probe.c -o thread-stack -lpthread */
#define _GNU_SOURCE
#include <errno.h>
#include <link.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#define PROBE_ID "thread-stack"
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

#define FRAME 1024                 /* bytes of local array per recursion frame */
#define LIMIT_KIB (64 * 1024)      /* stop recursing at 64 MiB */

static int report_fd = -1;
static uintptr_t stack_base;

/* one frame of about FRAME bytes; every 16 frames the stack depth reached
 * (KiB below the thread's first frame) is written to the pipe */
__attribute__((noinline)) static int recurse(unsigned depth)
{
	volatile char buf[FRAME];
	uintptr_t here = (uintptr_t)&buf[0];
	unsigned kib = (unsigned)((stack_base - here) / 1024);
	buf[0] = (char)depth;
	buf[FRAME - 1] = (char)depth;
	if (depth % 16 == 0) {
		if (write(report_fd, &kib, sizeof kib) != (ssize_t)sizeof kib) _exit(3);
	}
	if (kib >= LIMIT_KIB) return buf[0];
	return recurse(depth + 1) + buf[FRAME - 1];
}

static void *thread_main(void *arg)
{
	volatile char mark = 0;
	(void)arg;
	stack_base = (uintptr_t)&mark;
	recurse(0);
	return NULL;
}

static size_t in_thread_stack;   /* pthread_getattr_np inside a default thread */
static void *attr_thread(void *arg)
{
	pthread_attr_t a;
	(void)arg;
	if (pthread_getattr_np(pthread_self(), &a) == 0) {
		pthread_attr_getstacksize(&a, &in_thread_stack);
		pthread_attr_destroy(&a);
	}
	return NULL;
}

static long long gnu_stack_memsz = -1;
static int phdr_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	int i;
	(void)size; (void)data;
	/* first object is the main program */
	for (i = 0; i < info->dlpi_phnum; i++)
		if (info->dlpi_phdr[i].p_type == PT_GNU_STACK)
			gnu_stack_memsz = (long long)info->dlpi_phdr[i].p_memsz;
	return 1;
}

int main(void)
{
	pthread_attr_t attr;
	size_t stack = 0, guard = 0;
	pthread_t t;
	int p[2], status = 0, rc;
	pid_t pid;
	unsigned last = 0, v;
	long long reports = 0;
	struct rlimit rl;

	safety_net(10);
	j_begin();

	if ((rc = pthread_attr_init(&attr)) != 0) j_fail("pthread_attr_init failed");
	pthread_attr_getstacksize(&attr, &stack);
	pthread_attr_getguardsize(&attr, &guard);
	pthread_attr_destroy(&attr);
	j_int("default_stack_size", (long long)stack);
	j_int("default_guard_size", (long long)guard);

	if (pthread_create(&t, NULL, attr_thread, NULL) == 0) {
		pthread_join(t, NULL);
		j_int("thread_stack_getattr_np", (long long)in_thread_stack);
	} else j_null("thread_stack_getattr_np");

	dl_iterate_phdr(phdr_cb, NULL);
	j_int("main_gnu_stack_memsz", gnu_stack_memsz);
	if (getrlimit(RLIMIT_STACK, &rl) == 0)
		j_int("rlimit_stack", rl.rlim_cur == RLIM_INFINITY ? -1 : (long long)rl.rlim_cur);

	/* recursion depth, in a child process so the crash is contained */
	if (pipe(p) != 0) j_fail("pipe failed");
	pid = fork();
	if (pid < 0) j_fail("fork failed");
	if (pid == 0) {
		struct rlimit nocore = { 0, 0 };
		child_defaults();
		setrlimit(RLIMIT_CORE, &nocore);
		alarm(8);
		close(p[0]);
		report_fd = p[1];
		if (pthread_create(&t, NULL, thread_main, NULL) != 0) _exit(2);
		pthread_join(t, NULL);
		_exit(0);  /* reached LIMIT_KIB without dying */
	}
	close(p[1]);
	for (;;) {   /* bounded: the child writes at most LIMIT_KIB/16 + 1 values */
		ssize_t n = read(p[0], &v, sizeof v);
		if (n == (ssize_t)sizeof v) { last = v; reports++; continue; }
		if (n < 0 && errno == EINTR) continue;
		break;
	}
	close(p[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}

	j_int("recursion_kib", (long long)last);
	j_int("recursion_frame_bytes", FRAME);
	j_int("recursion_reports", reports);
	j_bool("recursion_limit_reached", WIFEXITED(status) && WEXITSTATUS(status) == 0);
	if (WIFSIGNALED(status)) {
		j_str("child_end", "signal");
		j_null("child_exit");
		j_int("child_signal", WTERMSIG(status));
		j_str("child_signal_name", WTERMSIG(status) == SIGSEGV ? "SIGSEGV" :
		      WTERMSIG(status) == SIGBUS ? "SIGBUS" : WTERMSIG(status) == SIGALRM ? "SIGALRM" : "other");
	} else {
		j_null("child_signal");
		j_null("child_signal_name");
		j_str("child_end", "exit");
		j_int("child_exit", WEXITSTATUS(status));
	}
	j_finish();
	return 0;
}
