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
