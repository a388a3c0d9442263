/* wheelforge's <setjmp.h> for wasm32 WASI side modules (see docs/toolchain.md, "setjmp").
 *
 * wasi-libc implements setjmp/longjmp with WebAssembly exception handling only, and refuses
 * the header without it. The consumer's runtime (componentize-py's CPython) is built without
 * exception handling, so extension modules get this header instead: setjmp always returns 0
 * (the direct path runs as on any platform), and longjmp, which would have to unwind, reports
 * the jump on stderr and aborts. Code that longjmps on an error path (scipy's QUADPACK and
 * zeros callbacks) is patched in its recipe to return an error flag instead; code that only
 * jumps on internal errors (qhull, SuperLU out-of-memory) aborts there.
 *
 * With -fwasm-exceptions (__wasm_exception_handling__) the C library's real header is used. */
#ifndef WHEELFORGE_SETJMP_H
#define WHEELFORGE_SETJMP_H

#if defined(__wasm_exception_handling__)
#include_next <setjmp.h>
#else

#ifdef __cplusplus
extern "C" {
#endif

typedef struct __jmp_buf_tag {
    unsigned long long __wheelforge_unused[8];
} jmp_buf[1];
typedef jmp_buf sigjmp_buf;

__attribute__((__noreturn__)) void __wheelforge_longjmp(void *env, int value);

/* The functions themselves, for code that takes their address (libpng stores `longjmp` as its
 * default jump function); hidden, so each module keeps its own. Declared before the macros. */
__attribute__((__noreturn__, __visibility__("hidden"))) void longjmp(jmp_buf env, int value);
__attribute__((__noreturn__, __visibility__("hidden"))) void _longjmp(jmp_buf env, int value);
__attribute__((__noreturn__, __visibility__("hidden"))) void siglongjmp(sigjmp_buf env, int value);

#define setjmp(env) ((void)(env), 0)
#define _setjmp(env) ((void)(env), 0)
#define sigsetjmp(env, savemask) ((void)(env), (void)(savemask), 0)
#define longjmp(env, value) __wheelforge_longjmp((void *)(env), (value))
#define _longjmp(env, value) __wheelforge_longjmp((void *)(env), (value))
#define siglongjmp(env, value) __wheelforge_longjmp((void *)(env), (value))

#ifdef __cplusplus
}
#endif

#endif /* __wasm_exception_handling__ */
#endif /* WHEELFORGE_SETJMP_H */
