/* wasi-libc has no <sys/wait.h> (no processes). flang-rt's EXECUTE_COMMAND_LINE includes it for
 * waitpid and the status macros; waitpid fails (compat.c), so the macros only need to compile
 * and decode the usual wait-status encoding. */
#ifndef WHEELFORGE_SYS_WAIT_H
#define WHEELFORGE_SYS_WAIT_H
#include <stdlib.h>
#include <sys/types.h>
#ifndef WEXITSTATUS
#define WNOHANG 1
#define WEXITSTATUS(s) (((s) & 0xff00) >> 8)
#define WTERMSIG(s) ((s) & 0x7f)
#define WIFEXITED(s) (WTERMSIG(s) == 0)
#define WIFSIGNALED(s) (WTERMSIG(s) != 0 && WTERMSIG(s) != 0x7f)
#define WIFSTOPPED(s) (((s) & 0xff) == 0x7f)
#define WSTOPSIG(s) WEXITSTATUS(s)
#endif
#ifdef __cplusplus
extern "C" {
#endif
pid_t waitpid(pid_t, int *, int);
#ifdef __cplusplus
}
#endif
#endif
