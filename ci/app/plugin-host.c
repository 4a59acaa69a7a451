/* Loads lib/libgreet.so with dlopen (found through its RUNPATH, $ORIGIN/../lib) and calls it. */
#include <dlfcn.h>
#include <stdio.h>

int main(void) {
    void *h = dlopen("libgreet.so", RTLD_NOW);
    if (!h) {
        fprintf(stderr, "dlopen: %s\n", dlerror());
        return 1;
    }
    const char *(*greet)(void) = (const char *(*)(void))dlsym(h, "greet");
    if (!greet) {
        fprintf(stderr, "dlsym: %s\n", dlerror());
        return 1;
    }
    printf("plugin says: %s\n", greet());
    return 0;
}
