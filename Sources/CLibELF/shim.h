#ifndef MUSLCHECK_CLIBELF_SHIM_H
#define MUSLCHECK_CLIBELF_SHIM_H
#include <libelf.h>
#include <gelf.h>
#endif
