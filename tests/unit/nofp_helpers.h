#ifndef NOFP_HELPERS_H
#define NOFP_HELPERS_H
void nofp_middle(void (*callee)(void));
void nofp_recurse(int depth, void (*leaf)(void));
void nofp_spin_with_frame(volatile int *stop);
#endif
