/* muslcheck probe "dlclose": does dlclose() unload a library (run its
 * destructor, reset its static data on the next dlopen)?  musl's dlclose is a
 * no-op: destructors run only at exit.
 * Needs libmcdl.so (lib.c) beside the executable.
 * Build: cc -O1 -Wall -I../common probe.c -o dlclose -ldl;  cc -O1 -Wall -shared -fPIC lib.c -o libmcdl.so */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define PROBE_ID "dlclose"
#include "probe.h"

#define EVENT_FD 3   /* must match lib.c */

static void event(const char *s)
{
	if (write(EVENT_FD, s, strlen(s)) < 0) _exit(5);
}

/* child: open, bump, close, twice, then exit; every step goes to EVENT_FD */
static void child(const char *lib)
{
	int round;
	char t[64];
	for (round = 0; round < 2; round++) {
		void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
		int (*bump)(void);
		if (!h) {
			const char *e = dlerror();
			snprintf(t, sizeof t, "dlopen-failed;");
			event(t);
			if (e && write(EVENT_FD, e, strlen(e) < 400 ? strlen(e) : 400) < 0) _exit(5);
			_exit(6);
		}
		event("opened;");
		bump = (int (*)(void))dlsym(h, "mc_bump");
		if (!bump) { event("dlsym-failed;"); _exit(6); }
		snprintf(t, sizeof t, "bump=%d;", bump());
		event(t);
		event("close;");
		dlclose(h);
		event("closed;");
	}
	event("exit;");
	exit(0);   /* exit(), not _exit(): destructors still pending run now */
}

int main(int argc, char **argv)
{
	char dir[4096], lib[4200], buf[2048], *tok, *save = NULL;
	int p[2], status = 0;
	size_t len = 0;
	pid_t pid;
	int bumps[2] = { -1, -1 }, nb = 0, ctors = 0, dtors = 0, dtor_at_close = 0, in_close = 0, after_exit = 0;
	int seen_exit = 0;
	const char *fail = NULL;

	(void)argc;
	safety_net(10);
	j_begin();
	self_dir(dir, sizeof dir, argv[0]);
	snprintf(lib, sizeof lib, "%s/libmcdl.so", dir);
	j_str("library", lib);

	if (pipe(p) != 0) j_fail("pipe failed");
	pid = fork();
	if (pid < 0) j_fail("fork failed");
	if (pid == 0) {
		child_defaults();
		alarm(5);
		close(p[0]);
		if (p[1] != EVENT_FD) {
			if (dup2(p[1], EVENT_FD) < 0) _exit(7);
			close(p[1]);
		}
		child(lib);
	}
	close(p[1]);
	for (;;) {   /* bounded by the buffer size */
		ssize_t n;
		if (len + 1 >= sizeof buf) break;
		n = read(p[0], buf + len, sizeof buf - 1 - len);
		if (n > 0) { len += (size_t)n; continue; }
		if (n < 0 && errno == EINTR) continue;
		break;
	}
	buf[len] = 0;
	close(p[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}

	if (strstr(buf, "dlopen-failed;")) fail = strstr(buf, "dlopen-failed;") + strlen("dlopen-failed;");
	j_arr_begin("events");
	{
		char copy[2048];
		snprintf(copy, sizeof copy, "%s", buf);
		for (tok = strtok_r(copy, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
			j_arr_str(tok);
			if (!strcmp(tok, "ctor")) ctors++;
			if (!strcmp(tok, "dtor")) { dtors++; if (in_close) dtor_at_close = 1; if (seen_exit) after_exit = 1; }
			if (!strcmp(tok, "close")) in_close = 1;
			if (!strcmp(tok, "closed")) in_close = 0;
			if (!strcmp(tok, "exit")) seen_exit = 1;
			if (!strncmp(tok, "bump=", 5) && nb < 2) bumps[nb++] = atoi(tok + 5);
		}
	}
	j_arr_end();
	if (fail) {
		j_fail(fail[0] ? fail : "dlopen failed");
	}
	if (nb < 2) j_fail("child did not complete both rounds");
	j_int("first_bump", bumps[0]);
	j_int("second_bump", bumps[1]);
	j_bool("static_data_reset", bumps[1] == 1);
	j_int("ctor_calls", ctors);
	j_int("dtor_calls", dtors);
	j_bool("dtor_ran_at_dlclose", dtor_at_close);
	j_bool("dtor_ran_at_exit", after_exit);
	j_str("dlclose_behavior", dtor_at_close && bumps[1] == 1 ? "unloads" : "no-op");
	if (WIFEXITED(status)) j_int("child_exit", WEXITSTATUS(status));
	else j_int("child_signal", WTERMSIG(status));
	j_finish();
	return 0;
}
