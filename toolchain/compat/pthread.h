/* wheelforge's <pthread.h> for wasm32 WASI (see docs/toolchain.md, "POSIX APIs WASI lacks").
 *
 * wasi-libc's single-threaded target declares pthread_create and friends as stubs that fail
 * at run time, but leaves out cancellation and scheduling parameters, so code that merely
 * mentions them stops at compile time with an implicit declaration. They are declared here and
 * defined in the toolchain's shim archive, which every side module links: each fails with
 * ENOSYS, as a POSIX system without the feature would. */
#include_next <pthread.h>

#ifndef WHEELFORGE_PTHREAD_H
#define WHEELFORGE_PTHREAD_H

#if defined(__wasi__) && !defined(__wasilibc_unmodified_upstream) && !defined(_REENTRANT)
#include <sched.h>
#ifdef __cplusplus
extern "C" {
#endif
int pthread_cancel(pthread_t);
int pthread_getschedparam(pthread_t, int *__restrict, struct sched_param *__restrict);
int pthread_setschedparam(pthread_t, int, const struct sched_param *);
int pthread_attr_getschedparam(const pthread_attr_t *__restrict, struct sched_param *__restrict);
int pthread_attr_setschedparam(pthread_attr_t *__restrict, const struct sched_param *__restrict);
#ifdef __cplusplus
}
#endif
#endif

#endif
