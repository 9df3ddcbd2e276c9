/*
 * atomics.h — the few atomic operations libfpunwind uses, named for what they
 * mean.  Plain C11 would need _Atomic types in the public structs, which would
 * force every user of fpunwind.h to compile as C11 with atomics; the GCC/Clang
 * __atomic builtins work on ordinary fields instead.
 */
#ifndef FPU_ATOMICS_H
#define FPU_ATOMICS_H

#define load_relaxed(p)     __atomic_load_n((p), __ATOMIC_RELAXED)
#define load_acquire(p)     __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define store_relaxed(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define store_release(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define fence_acquire()     __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define fence_release()     __atomic_thread_fence(__ATOMIC_RELEASE)

#endif
