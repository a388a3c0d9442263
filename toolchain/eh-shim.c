/* wheelforge's C++ exception shim for wasi_0_2_wasm32 side modules (see docs/toolchain.md).
 *
 * The consumer runtime's libc++/libc++abi are built without exception support, so a `throw`
 * in an extension module has nothing to unwind with. Rather than fail at link time with
 * undefined __cxa_* symbols, every C++ extension links these definitions: a throw prints what
 * was thrown to stderr and aborts (a wasm trap). */
#include <stdio.h>
#include <stdlib.h>

/* A std::type_info is a vtable pointer followed by the mangled name. */
static const char *type_name(const void *type_info) {
    return type_info ? ((const char *const *)type_info)[1] : "unknown";
}

static void unsupported(const char *what, const void *type_info) __attribute__((noreturn));
static void unsupported(const char *what, const void *type_info) {
    fprintf(stderr,
            "wheelforge: C++ exception %s (type %s), but wasi_0_2_wasm32 has no C++ exception "
            "support; aborting\n",
            what, type_name(type_info));
    fflush(stderr);
    abort();
}

void *__cxa_allocate_exception(unsigned long size) {
    void *memory = malloc(size);
    if (!memory) unsupported("allocation failed", 0);
    return memory;
}
void __cxa_free_exception(void *exception) { free(exception); }
void __cxa_throw(void *exception, void *type_info, void (*destructor)(void *)) {
    (void)exception;
    (void)destructor;
    unsupported("thrown", type_info);
}
void __cxa_rethrow(void) { unsupported("rethrown", 0); }
void *__cxa_begin_catch(void *exception) { return exception; }
void __cxa_end_catch(void) {}
