/* Force-included into every Fortran runtime source (wheelforge, docs/fortran.md).
 *
 * WASI preview 1 has no processes, users or temporary directory; flang-rt assumes a POSIX
 * system. These declarations let the runtime compile unchanged; compat.c defines them with the
 * behavior of a system where the operation is not permitted (an error the runtime reports as a
 * Fortran error status), never a silent success. */
#ifndef WHEELFORGE_FLANG_RT_COMPAT_H
#define WHEELFORGE_FLANG_RT_COMPAT_H
#include <sys/types.h>
#ifdef __cplusplus
extern "C" {
#endif
/* SCRATCH files: wasi-libc hides mkstemp (no temp directory); compat.c implements it with
 * open(O_CREAT|O_EXCL), so scratch files work wherever /tmp is a writable preopen. */
int mkstemp(char *);
/* GETUID/GETGID extensions: a WASI program has no user; 0 as on single-user systems. */
uid_t getuid(void);
gid_t getgid(void);
/* EXECUTE_COMMAND_LINE: no processes; these fail with ENOSYS and the runtime reports the
 * command's failure through CMDSTAT (or stops, when CMDSTAT is absent, as the standard says). */
int system(const char *);
pid_t fork(void);
pid_t setsid(void);
#ifdef __cplusplus
}
#endif
#endif
