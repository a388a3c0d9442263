/* The other half of wheelforge's <setjmp.h> (toolchain/compat/setjmp.h): a longjmp in a side
 * module built without WebAssembly exception handling cannot unwind, so it says where it came
 * from and aborts (a wasm trap), instead of failing the link with an undefined symbol. */
#include <stdio.h>
#include <stdlib.h>

__attribute__((__noreturn__)) void __wheelforge_longjmp(void *env, int value) {
    fprintf(stderr,
            "wheelforge: longjmp(%p, %d) called, but wasi_0_2_wasm32 side modules have no "
            "setjmp/longjmp (no WebAssembly exception handling); aborting\n",
            env, value);
    fflush(stderr);
    abort();
}

/* The functions behind the header's macros, for code that takes their address (libpng). */
struct __jmp_buf_tag;
#define WHEELFORGE_JUMP(name)                                                                  \
    __attribute__((__noreturn__, __visibility__("hidden"))) void name(struct __jmp_buf_tag *env, \
                                                                      int value) {             \
        __wheelforge_longjmp(env, value);                                                      \
    }
WHEELFORGE_JUMP(longjmp)
WHEELFORGE_JUMP(_longjmp)
WHEELFORGE_JUMP(siglongjmp)
