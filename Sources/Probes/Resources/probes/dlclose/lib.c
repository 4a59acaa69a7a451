/* libmcdl.so for the muslcheck "dlclose" probe.
 * The constructor and destructor append "ctor;" / "dtor;" to file descriptor 3
 * (the probe points it at a pipe; nothing is written if fd 3 is not open).
 * mc_bump() increments a static counter: it starts over only if the library
 * was really unloaded and loaded again. */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#define EVENT_FD 3

static int counter;

static void event(const char *s)
{
	if (fcntl(EVENT_FD, F_GETFD) != -1 && write(EVENT_FD, s, strlen(s)) < 0) { /* ignored */ }
}

__attribute__((constructor)) static void mc_ctor(void) { event("ctor;"); }
__attribute__((destructor)) static void mc_dtor(void) { event("dtor;"); }

int mc_bump(void) { return ++counter; }
