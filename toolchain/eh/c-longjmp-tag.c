/* The WebAssembly exception tag longjmp throws (docs/toolchain.md, "setjmp and longjmp"): one
 * hidden definition per side module, for the same reasons as `__cpp_exception`
 * (cpp-exception-tag.c). The payload is the address of the jump's arguments (setjmp.c). */
__asm__(".globl __c_longjmp\n"
        ".hidden __c_longjmp\n"
        ".tagtype __c_longjmp i32\n"
        "__c_longjmp:\n");
