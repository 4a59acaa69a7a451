// The application image's C++ program: needs libstdc++ and libz.
#include <iostream>
#include <zlib.h>

int main() {
    std::cout << "hello from C++, zlib " << zlibVersion() << std::endl;
    return 0;
}
