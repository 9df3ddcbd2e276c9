/* cgo_stackswitch_overlap — seed 001: see cgo_stackswitch.c (-DOVERLAP). */
#define OVERLAP 1
#include "cgo_stackswitch.c"
