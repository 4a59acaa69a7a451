/* muslcheck probe "thread-stack": default pthread stack and guard size, and how
 * deep a new default thread can recurse before it dies.
 * Build: cc -O1 -Wall -I../common probe.c -o thread-stack -lpthread */
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
#include "probe.h"

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
