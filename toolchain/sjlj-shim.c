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

/* The single-thread C++ headers' (toolchain/compat/__wheelforge_threads.h) report of a thread
 * or a wait that cannot happen in one thread. */
__attribute__((__noreturn__)) void __wheelforge_no_threads(const char *what) {
    fprintf(stderr, "wheelforge: %s is not available on wasi_0_2_wasm32; aborting\n", what);
    fflush(stderr);
    abort();
}
