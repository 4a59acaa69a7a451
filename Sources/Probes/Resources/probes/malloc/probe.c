/* muslcheck probe "malloc": which glibc malloc extensions exist (looked up at
 * run time so the program links everywhere) and a short multithreaded
 * small-allocation benchmark.
 * Build: cc -O1 -Wall -I../common probe.c -o malloc -lpthread -ldl */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PROBE_ID "malloc"
#include "probe.h"

#define THREADS 4
#define OPS 20000
#define SLOTS 64
#define BUDGET_NS 600000000LL    /* stop a run after 0.6 s: whole probe < 2 s */

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

struct work { unsigned seed; long long done; long long deadline; int failed; };

/* OPS malloc/free pairs of 16..256 bytes, with SLOTS live blocks */
static void *worker(void *arg)
{
	struct work *w = arg;
	void *slot[SLOTS] = { 0 };
	unsigned x = w->seed;
	long long i;
	int k;
	for (i = 0; i < OPS; i++) {
		x = x * 1103515245u + 12345u;
		k = (int)((x >> 8) % SLOTS);
		free(slot[k]);
		slot[k] = malloc(16 + (x >> 16) % 241);
		if (!slot[k]) { w->failed = 1; break; }
		((volatile char *)slot[k])[0] = (char)i;
		if ((i & 4095) == 0 && now_ns() > w->deadline) { i++; break; }
	}
	w->done = i;
	for (k = 0; k < SLOTS; k++) free(slot[k]);
	return NULL;
}

/* runs n threads (n == 1: in the calling thread); returns wall ns, total ops in *ops */
static long long bench(int n, long long *ops, int *failed)
{
	pthread_t t[THREADS];
	struct work w[THREADS];
	long long start = now_ns();
	int i, started = 0;
	*ops = 0;
	*failed = 0;
	for (i = 0; i < n; i++) {
		w[i].seed = 12345u + (unsigned)i * 7919u;
		w[i].done = 0;
		w[i].failed = 0;
		w[i].deadline = start + BUDGET_NS;
	}
	if (n == 1) { worker(&w[0]); started = 1; }
	else for (i = 0; i < n; i++) {
		if (pthread_create(&t[i], NULL, worker, &w[i]) != 0) break;
		started++;
	}
	if (n > 1) for (i = 0; i < started; i++) pthread_join(t[i], NULL);
	for (i = 0; i < started; i++) { *ops += w[i].done; *failed |= w[i].failed; }
	if (started < n) *failed = 1;
	return now_ns() - start;
}

int main(void)
{
	static const char *syms[] = { "mallinfo", "mallinfo2", "malloc_trim", "mallopt", "malloc_usable_size",
		"malloc_info", "malloc_stats", "memalign", "pvalloc", "__libc_malloc" };
	size_t i;
	int failed;
	long long ops, ns;
	char key[64];

	safety_net(10);
	j_begin();

	j_arr_begin("available");
	for (i = 0; i < sizeof syms / sizeof syms[0]; i++) if (dlsym(RTLD_DEFAULT, syms[i])) j_arr_str(syms[i]);
	j_arr_end();
	j_arr_begin("missing");
	for (i = 0; i < sizeof syms / sizeof syms[0]; i++) if (!dlsym(RTLD_DEFAULT, syms[i])) j_arr_str(syms[i]);
	j_arr_end();
	for (i = 0; i < 5; i++) {
		snprintf(key, sizeof key, "has_%s", syms[i]);
		j_bool(key, dlsym(RTLD_DEFAULT, syms[i]) != NULL);
	}

	/* warm-up, then one thread, then THREADS threads */
	bench(1, &ops, &failed);
	ns = bench(1, &ops, &failed);
	j_int("single_thread_ops", ops);
	j_num("single_thread_ns_per_op", ops ? (double)ns / (double)ops : -1);
	ns = bench(THREADS, &ops, &failed);
	j_int("threads", THREADS);
	j_int("multi_thread_ops", ops);
	/* wall time per operation of one thread (what each thread experiences) */
	j_num("multi_thread_ns_per_op", ops ? (double)ns * THREADS / (double)ops : -1);
	j_num("multi_thread_wall_ms", (double)ns / 1e6);
	j_bool("alloc_failed", failed);
	j_finish();
	return 0;
}
