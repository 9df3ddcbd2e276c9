#ifndef NOFP_HELPERS_H
#define NOFP_HELPERS_H
void nofp_middle(void (*callee)(void));
void nofp_recurse(int depth, void (*leaf)(void));
void nofp_spin_with_frame(volatile int *stop);
extern volatile int *nofp_stop;
void nofp_spin_with_frame_leaf(void);
#endif
