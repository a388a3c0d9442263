/* The WebAssembly exception tag every C++ exception is thrown with (docs/toolchain.md, "C++
 * exceptions").
 *
 * LLVM 22 leaves `__cpp_exception` undefined in every object that throws or catches; something
 * in the link must define it, and in a `-shared` link an undefined tag becomes an import from
 * `env` that the component linker cannot resolve (the consumer's runtime defines no tag). Each
 * side module gets its own definition, hidden so that wasm-ld neither exports nor imports it:
 * exceptions are thrown and caught inside one module, whose private libc++abi and libunwind
 * (/opt/wheelforge/cxx) use this tag. Kept in an archive member of its own, so that it is
 * linked only into modules that use exceptions. */
__asm__(".globl __cpp_exception\n"
        ".hidden __cpp_exception\n"
        ".tagtype __cpp_exception i32\n"
        "__cpp_exception:\n");
