/* The application image's statically linked program. */
#include <stdio.h>

int main(void) {
    puts("hello from a static program");
    return 0;
}
