/* wheelforge's definitions of the POSIX thread entry points that wasi-libc's single-threaded
 * target does not declare (toolchain/compat/pthread.h). Linked into every side module; each
 * fails with ENOSYS: there is no other thread to cancel or to schedule. */
#include <errno.h>
#include <pthread.h>

int pthread_cancel(pthread_t thread) {
    (void)thread;
    return ENOSYS;
}

int pthread_getschedparam(pthread_t thread, int *policy, struct sched_param *param) {
    (void)thread;
    (void)policy;
    (void)param;
    return ENOSYS;
}

int pthread_setschedparam(pthread_t thread, int policy, const struct sched_param *param) {
    (void)thread;
    (void)policy;
    (void)param;
    return ENOSYS;
}

int pthread_attr_getschedparam(const pthread_attr_t *attr, struct sched_param *param) {
    (void)attr;
    (void)param;
    return ENOSYS;
}

int pthread_attr_setschedparam(pthread_attr_t *attr, const struct sched_param *param) {
    (void)attr;
    (void)param;
    return ENOSYS;
}
