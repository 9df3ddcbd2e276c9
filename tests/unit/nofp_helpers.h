#ifndef NOFP_HELPERS_H
#define NOFP_HELPERS_H
void nofp_middle(void (*callee)(void));
#endif
