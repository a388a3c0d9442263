/* setjmp/longjmp for wasm32 side modules, through WebAssembly exception handling
 * (docs/toolchain.md, "setjmp and longjmp").
 *
 * Compiled with `-mllvm -wasm-enable-sjlj`, clang turns every function that calls setjmp into
 * one that records the call with __wasm_setjmp (the jmp_buf, a label for the return point and
 * an address unique to this invocation of the function) and catches the `__c_longjmp` tag
 * around its calls. longjmp throws that tag with the address of {env, value}; a catching
 * function asks __wasm_setjmp_test whether the jmp_buf was filled by *its* invocation and, if
 * so, resumes at the label with the value; otherwise it rethrows to its caller. These are the
 * three functions that lowering calls. They are hidden: every module has its own copy, like
 * the tag (c-longjmp-tag.c), and nothing about a jump crosses a module.
 *
 * wasi-libc ships the same protocol as libsetjmp.a, but built without -fPIC (a side module
 * cannot link it) and, with clang before 22, without a definition of the tag. */
#include <stdint.h>

/* What a jmp_buf holds here: the invocation and label of the setjmp call, and the arguments
 * of a longjmp to it. Fits in wasi-libc's jmp_buf (checked below). */
struct wheelforge_jump {
    void *invocation;
    uint32_t label;
    struct {
        void *env;
        int value;
    } arguments;
};

#include <setjmp.h>
_Static_assert(sizeof(struct wheelforge_jump) <= sizeof(jmp_buf), "jmp_buf is too small");

#define HIDDEN __attribute__((visibility("hidden")))

HIDDEN void __wasm_setjmp(void *env, uint32_t label, void *invocation) {
    struct wheelforge_jump *jump = env;
    jump->invocation = invocation;
    jump->label = label;
}

HIDDEN uint32_t __wasm_setjmp_test(void *env, void *invocation) {
    struct wheelforge_jump *jump = env;
    /* Labels start at 1: 0 means "not this function's setjmp". */
    return jump->invocation == invocation ? jump->label : 0;
}

HIDDEN __attribute__((__noreturn__)) void __wasm_longjmp(void *env, int value) {
    struct wheelforge_jump *jump = env;
    jump->arguments.env = env;
    /* longjmp(env, 0) makes setjmp return 1 (C11 7.13.2.1). */
    jump->arguments.value = value == 0 ? 1 : value;
    /* Tag 1 is __c_longjmp (tag 0 is __cpp_exception). */
    __builtin_wasm_throw(1, &jump->arguments);
}
