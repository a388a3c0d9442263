/* The single-thread C++ headers' (toolchain/compat/__wheelforge_threads.h) report of a thread
 * or a wait that cannot happen in one thread. */
#include <stdio.h>
#include <stdlib.h>

__attribute__((__noreturn__)) void __wheelforge_no_threads(const char *what) {
    fprintf(stderr, "wheelforge: %s is not available on wasi_0_2_wasm32; aborting\n", what);
    fflush(stderr);
    abort();
}
