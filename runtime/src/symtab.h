#ifndef FPRT_SYMTAB_H
#define FPRT_SYMTAB_H
#include <stdint.h>
/* The function containing pc: its name (NULL if unknown), pc's offset in it
 * (or in the module when the name is unknown), and the module's path. */
const char *rt_symtab_lookup(uintptr_t pc, uintptr_t *off, const char **module);
#endif
