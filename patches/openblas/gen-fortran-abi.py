#!/usr/bin/env python3
"""Give OpenBLAS the calling convention of a LAPACK/BLAS compiled from Fortran.

A LAPACK/BLAS compiled from Fortran (the `lapack` recipe: reference LAPACK and BLAS built with
LLVM flang) takes one hidden length (size_t) after the last argument for every CHARACTER
argument, its subroutines return nothing, and a COMPLEX (single precision) function result
comes back as one i64. OpenBLAS's own routines and its C translation of LAPACK (C_LAPACK) take
no lengths for single characters, some of them return an int, and COMPLEX results go through a
pointer. Native ABIs tolerate the difference; WebAssembly checks the type of every call, and
wasm-ld replaces a call whose type differs from the definition's with a trap. scipy (and any
Fortran code) calls the routines as Fortran does.

The routines to adapt are found mechanically: every function both libraries define whose
WebAssembly type differs (read from the objects of both archives; the parameters are all
pointers or lengths, so the types say everything). For each, this script writes into an
OpenBLAS source tree:

  fortran_abi/fortran_abi.h  force-included into every OpenBLAS C file (the recipe's CFLAGS):
                             renames the routine to openblas_<name>, for its definition and
                             every call inside OpenBLAS alike;
  fortran_abi/adapters.c     <name> with the Fortran type, calling openblas_<name>; one per
                             FORTRAN_ABI_<name>, compiled once per name (symbols.txt), so a
                             program links only the routines it calls;
  fortran_abi/symbols.txt    the names.

XERBLA goes the other way: OpenBLAS's callers reach the public xerbla_ (driver/others/xerbla.c,
which patch 0004 gives the Fortran type) through openblas_xerbla_, so a program's own xerbla_
(numpy's raises a Python error) still sees every error.

Usage (from the plain build, before patch 0004: an OpenBLAS archive and the lapack recipe's):
  gen-fortran-abi.py generate OPENBLAS_TREE libopenblas.a liblapack.a libblas.a
  gen-fortran-abi.py check libopenblas.a liblapack.a libblas.a
`check` reads an archive built with patch 0004 and fails unless every function both define has
the same type (the routines OpenBLAS lacks are listed).
"""
import os
import sys

VALTYPES = {0x7F: "i32", 0x7E: "i64", 0x7D: "f32", 0x7C: "f64", 0x7B: "v128"}
CTYPES = {(): "void", ("i32",): "int", ("f32",): "float", ("f64",): "double", ("i64",): "long long"}


def leb(b, i):
    value = shift = 0
    while True:
        byte = b[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, i


def string(b, i):
    n, i = leb(b, i)
    return b[i : i + n].decode(), i + n


def limits(b, i):
    flags, i = leb(b, i)
    _, i = leb(b, i)
    if flags & 1:
        _, i = leb(b, i)
    return i


def defined_functions(b):
    """{name: (params, results)} of the functions a relocatable wasm object defines."""
    assert b[:4] == b"\0asm", "not a WebAssembly object"
    i, types, imported, funcs, symbols = 8, [], 0, [], []
    while i < len(b):
        section, i = b[i], i + 1
        size, i = leb(b, i)
        end, j = i + size, i
        if section == 1:  # types
            n, j = leb(b, j)
            for _ in range(n):
                j += 1  # 0x60
                np_, j = leb(b, j)
                params, j = tuple(VALTYPES[x] for x in b[j : j + np_]), j + np_
                nr, j = leb(b, j)
                results, j = tuple(VALTYPES[x] for x in b[j : j + nr]), j + nr
                types.append((params, results))
        elif section == 2:  # imports
            n, j = leb(b, j)
            for _ in range(n):
                _, j = string(b, j)
                _, j = string(b, j)
                kind, j = b[j], j + 1
                if kind == 0:
                    _, j = leb(b, j)
                    imported += 1
                elif kind == 1:
                    j = limits(b, j + 1)
                elif kind == 2:
                    j = limits(b, j)
                elif kind == 3:
                    j += 2
                elif kind == 4:
                    _, j = leb(b, j + 1)
        elif section == 3:  # functions
            n, j = leb(b, j)
            for _ in range(n):
                t, j = leb(b, j)
                funcs.append(t)
        elif section == 0:
            custom, j = string(b, j)
            if custom == "linking":
                _, j = leb(b, j)
                while j < end:
                    sub, j = b[j], j + 1
                    size, j = leb(b, j)
                    sub_end = j + size
                    if sub == 8:  # symbol table
                        n, j = leb(b, j)
                        for _ in range(n):
                            kind, j = b[j], j + 1
                            flags, j = leb(b, j)
                            undefined = flags & 0x10
                            if kind in (0, 2, 4, 5):  # function, global, tag, table
                                index, j = leb(b, j)
                                named = not undefined or flags & 0x40
                                name = None
                                if named:
                                    name, j = string(b, j)
                                if kind == 0 and not undefined and not flags & 0x2:
                                    symbols.append((name, index))
                            elif kind == 1:  # data
                                _, j = string(b, j)
                                if not undefined:
                                    for _ in range(3):
                                        _, j = leb(b, j)
                            elif kind == 3:  # section
                                _, j = leb(b, j)
                    j = sub_end
        i = end
    return {name: types[funcs[index - imported]] for name, index in symbols}


def archive_members(path):
    b = open(path, "rb").read()
    assert b[:8] == b"!<arch>\n", f"{path}: not an archive"
    i, names = 8, b""
    while i < len(b):
        header = b[i : i + 60]
        name, size = header[:16].decode().strip(), int(header[48:58])
        data = b[i + 60 : i + 60 + size]
        if name == "//":
            names = data
        elif name.startswith("/") and name[1:].isdigit():
            start = int(name[1:])
            yield names[start : names.index(b"/\n", start)].decode(), data
        elif name not in ("/", "/SYM64/"):
            yield name.rstrip("/"), data
        i += 60 + size + (size & 1)


def signatures(*archives):
    found = {}
    for path in archives:
        for _, data in archive_members(path):
            if data[:4] == b"\0asm":
                for name, sig in defined_functions(data).items():
                    found.setdefault(name, sig)
    return found


def params(n, start=0):
    return ", ".join(f"void *a{k}" for k in range(start, start + n))


def args(n, start=0):
    return ", ".join(f"a{k}" for k in range(start, start + n))


def adapter(name, fortran, openblas):
    (fp, fr), (op, orr) = fortran, openblas
    inner = f"openblas_{name}"
    if name == "xerbla_":
        assert (fp, fr, op, orr) == (("i32",) * 3, (), ("i32",) * 3, ("i32",)), (fortran, openblas)
        return (
            "void xerbla_(void *srname, void *info, size_t srname_len);\n"
            f"int {inner}(void *srname, void *info, int srname_len) {{\n"
            "    xerbla_(srname, info, (size_t)srname_len);\n    return 0;\n}\n"
        )
    if fr == ("i64",) and not orr and len(op) == len(fp) + 1:
        # COMPLEX function: flang returns the two floats as one i64, C through a pointer.
        n = len(fp)
        return (
            f"void {inner}(void *result{', ' if n else ''}{params(n)});\n"
            f"long long {name}({params(n)}) {{\n"
            f"    long long result;\n    {inner}(&result{', ' if n else ''}{args(n)});\n"
            "    return result;\n}\n"
        )
    lengths = len(fp) - len(op)
    assert lengths >= 0 and set(fp) == {"i32"} and set(op) <= {"i32"}, (name, fortran, openblas)
    assert fr == orr or (not fr and orr == ("i32",)), (name, fortran, openblas)
    n = len(op)
    public = params(n) + "".join(f", size_t l{k}" for k in range(lengths))
    call = f"{inner}({args(n)});"
    body = f"return {call}" if fr else call
    return (
        f"{CTYPES[orr]} {inner}({params(n) or 'void'});\n"
        f"{CTYPES[fr]} {name}({public.lstrip(', ') or 'void'}) {{ {body} }}\n"
    )


def generate(tree, openblas, *reference):
    fortran, ours = signatures(*reference), signatures(openblas)
    names = sorted(n for n in fortran if n in ours and fortran[n] != ours[n])
    assert "xerbla_" in names, "OpenBLAS's xerbla_ already has the Fortran type: not a plain build?"
    out = os.path.join(tree, "fortran_abi")
    os.makedirs(out, exist_ok=True)
    note = "/* Generated by wheelforge's patches/openblas/gen-fortran-abi.py; see its docstring. */\n"
    with open(os.path.join(out, "fortran_abi.h"), "w") as f:
        f.write(note + "#ifndef OPENBLAS_FORTRAN_ABI\n#define OPENBLAS_FORTRAN_ABI 1\n")
        f.writelines(f"#define {n} openblas_{n}\n" for n in names)
        f.write("#endif\n")
    with open(os.path.join(out, "adapters.c"), "w") as f:
        f.write(note + "#include <stddef.h>\n")
        for n in names:
            f.write(f"\n#ifdef FORTRAN_ABI_{n}\n{adapter(n, fortran[n], ours[n])}#endif\n")
    with open(os.path.join(out, "symbols.txt"), "w") as f:
        f.writelines(n + "\n" for n in names)
    print(f"{len(names)} routines adapted; {len(fortran) - len(names)} already agree or are absent")


def check(openblas, *reference):
    fortran, ours = signatures(*reference), signatures(openblas)
    differ = sorted(n for n in fortran if n in ours and fortran[n] != ours[n])
    absent = sorted(n for n in fortran if n not in ours)
    for n in differ:
        print(f"{n}: Fortran {fortran[n]}, OpenBLAS {ours[n]}")
    print(f"{len(fortran)} Fortran routines: {len(differ)} differ, {len(absent)} absent from OpenBLAS:")
    print("  " + " ".join(absent))
    return 1 if differ else 0


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "generate":
        generate(*sys.argv[2:])
    elif len(sys.argv) >= 4 and sys.argv[1] == "check":
        sys.exit(check(*sys.argv[2:]))
    else:
        sys.exit(__doc__)
