#!/usr/bin/env python3
"""Check a scipy tree patched by gen-character-lengths.py against the LAPACK sources.

1. generated _blas_subroutines.h/_lapack_subroutines.h (runs _generate_pyx.py into a
   temporary directory): every prototype has the Fortran argument count plus one
   size_t per CHARACTER argument, at the end; subroutines return void; the
   .pyx calls pass the lengths; the headers pass `gcc -fsyntax-only`.
2. f2py: every (expanded) callstatement calling a LAPACK/BLAS routine passes
   regular+lengths arguments and declares as many in callprotoargument; routines
   without a callstatement declare as many `character` arguments as Fortran.
3. hand-written C/C++: every prototype of a LAPACK/BLAS routine has the right
   count and result type.
4. every compiled C/C++ file that names a routine with CHARACTER arguments is
   preprocessed with gcc -E (and syntax-checked); every call of such a routine
   in the output has regular+lengths arguments; uses not followed by '(' are listed.

Usage: check-character-lengths.py SCIPY_ROOT LAPACK_SOURCE_DIR PY_INCLUDE NUMPY_INCLUDE
"""
import importlib.util
import os
import re
import subprocess
import sys
import tempfile

here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location('gen', os.path.join(here, 'gen-character-lengths.py'))
gen = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gen)

root, lapack, pyinc, npinc = sys.argv[1:5]
root = os.path.abspath(root)
S = gen.sigs(lapack)
problems = []
notes = []


def expect(name):
    s = S[name]
    return len(s['args']), gen.nchar(s)


# ---- 1. generated headers -------------------------------------------------
out = tempfile.mkdtemp(prefix='charlen-gen-')
subprocess.run([sys.executable, os.path.join(root, 'scipy/linalg/_generate_pyx.py'), '-o', out],
               cwd=os.path.join(root, 'scipy/linalg'), check=True)
n = 0
for h in ('_blas_subroutines.h', '_lapack_subroutines.h'):
    t = open(os.path.join(out, h)).read()
    for m in re.finditer(r'^(\w+) (BLAS_FUNC|F_FUNC)\((\w+)(?:,\w+)?\)\((.*)\);$', t, re.M):
        name = m.group(3)
        if name.endswith('wrp'):
            continue
        params = gen.split_top(m.group(4))
        nreg, nch = expect(name)
        n += 1
        if len(params) != nreg + nch or any(not p.startswith('size_t ') for p in params[nreg:]) \
                or any(p.startswith('size_t') for p in params[:nreg]):
            problems.append(f'{h}: {name}: {len(params)} params, want {nreg}+{nch}')
        if S[name]['kind'] == 'subroutine' and m.group(1) != 'void':
            problems.append(f'{h}: {name}: returns {m.group(1)}')
    for pyx in ('cython_blas.pyx', 'cython_lapack.pyx'):
        tp = open(os.path.join(out, pyx)).read()
        for m in re.finditer(r'_fortran_(\w+)\((.*)\)\n', tp):
            name = m.group(1)
            if name in S and name + 'wrp' not in tp:
                nreg, nch = expect(name)
                if len(gen.split_top(m.group(2))) != nreg + nch:
                    problems.append(f'{pyx}: call of {name} has {len(gen.split_top(m.group(2)))} args')
notes.append(f'1. generated headers: {n} prototypes checked')
for h in ('_blas_subroutines.h', '_lapack_subroutines.h'):
    for lang in ('c', 'c++'):
        r = subprocess.run(['gcc', '-fsyntax-only', '-x', lang, '-Wall', '-include', 'stddef.h',
                            '-I', os.path.join(root, 'scipy/_build_utils/src'), '-I', npinc, '-I', pyinc,
                            '-include', 'numpy/npy_common.h', os.path.join(out, h)],
                           capture_output=True, text=True)
        notes.append(f'   gcc -fsyntax-only -x {lang} {h}: rc={r.returncode} {r.stderr.strip()[:300]}')
        if r.returncode:
            problems.append(f'{h} ({lang}) does not compile')

# ---- 2. f2py ---------------------------------------------------------------
nb = 0
for path, text, units in gen.pyf_units(root):
    for s, e, blocks in units:
        for b in blocks:
            info = gen.analyse_block(b, S)
            if info.get('unknown'):
                continue
            nb += 1
            want = info['nreg'] + info['nch']
            if info['ncall'] != want or info['nproto'] != want:
                problems.append(f'f2py {os.path.relpath(path, root)}: {info}')
            if not info['has_cs'] and info.get('chars_in_pyf') != info['nch']:
                problems.append(f'f2py {os.path.relpath(path, root)} (no callstatement): {info}')
notes.append(f'2. f2py: {nb} expanded routines calling LAPACK/BLAS checked')

# ---- 3. prototypes in C/C++ ------------------------------------------------
own = gen.defined_in_c(root, S)
nproto = 0
for p in gen.c_files(root):
    t = open(p, errors='replace').read()
    for m in gen.PROTO.finditer(t):
        r = gen.routine_of(m)
        if m.group('end') != ';' or r not in S or r in own:
            continue
        nproto += 1
        params = m.group('params')
        plist = [] if params.strip() in ('', 'void') else gen.split_top(params)
        nreg, nch = expect(r)
        rel = os.path.relpath(p, root)
        if len(plist) != nreg + nch or any(not re.match(r'(size_t|int)\b', x) for x in plist[nreg:]):
            problems.append(f'{rel}: prototype {r}: {len(plist)} params, want {nreg}+{nch}')
        if S[r]['kind'] == 'subroutine' and m.group('ret') != 'void':
            problems.append(f'{rel}: prototype {r} returns {m.group("ret")}')
notes.append(f'3. C/C++ prototypes checked: {nproto}; skipped (implemented by scipy): {sorted(own)}')

# ---- 4. preprocess and check calls ----------------------------------------
INC = ['scipy/_build_utils/src', 'scipy/_lib', 'scipy/_lib/src', 'scipy/linalg', 'scipy/linalg/src',
       'scipy/sparse/linalg/_eigen/arpack/arnaud/include',
       'scipy/sparse/linalg/_propack/PROPACK/include', 'scipy/sparse/linalg/_propack/PROPACK/src/include',
       'scipy/sparse/linalg/_dsolve/SuperLU/SRC', 'scipy/optimize', 'scipy/integrate/src', 'scipy/special']
charnames = {k for k in S if gen.nchar(S[k])}
ref = re.compile(r'\b([a-z][a-z0-9]*)_\b|BLAS_FUNC\(\s*(\w+)\s*\)|F_FUNC\(\s*(\w+)\s*,')
nfiles = ncalls = 0
for p in gen.c_files(root):
    if not p.endswith(('.c', '.cc', '.cpp', '.cxx')):
        continue
    t = open(p, errors='replace').read()
    names = {next(g for g in m.groups() if g) for m in ref.finditer(t)}
    hdr_names = set()
    for inc in re.findall(r'#include\s+"([^"]+)"', t):
        for d in [os.path.dirname(p)] + [os.path.join(root, i) for i in INC]:
            q = os.path.join(d, inc)
            if os.path.isfile(q):
                hdr_names |= {next(g for g in m.groups() if g) for m in ref.finditer(open(q, errors='replace').read())}
                break
    if not ((names | hdr_names) & charnames) or '/tests/' in p:
        continue
    nfiles += 1
    lang = 'c++' if not p.endswith('.c') else 'c'
    args = ['gcc', '-x', lang, '-I', os.path.dirname(p), '-I', os.path.dirname(os.path.dirname(p))]
    for i in INC:
        args += ['-I', os.path.join(root, i)]
    args += ['-I', npinc, '-I', pyinc, '-DNPY_NO_DEPRECATED_API=NPY_1_9_API_VERSION', '-DUSE_VENDOR_BLAS=1']
    rel = os.path.relpath(p, root)
    r = subprocess.run(args + ['-E', '-P', p], capture_output=True, text=True)
    if r.returncode:
        notes.append(f'   {rel}: gcc -E failed: {r.stderr.strip().splitlines()[:2]}')
        continue
    r2 = subprocess.run(args + ['-fsyntax-only', '-Wno-unused', '-Werror=implicit-function-declaration', p],
                        capture_output=True, text=True)
    if r2.returncode:
        problems.append(f'{rel}: gcc -fsyntax-only: {r2.stderr.strip()[:400]}')
    pp = r.stdout
    for m in re.finditer(r'\b([a-z][a-z0-9]*)_\b', pp):
        name = m.group(1)
        if name not in charnames or name in own:
            continue
        j = m.end()
        while j < len(pp) and pp[j] in ' \t\n':
            j += 1
        before = pp[max(0, m.start() - 1)]
        if j >= len(pp) or pp[j] != '(':
            if before != '(' or pp[m.end()] != ')':
                notes.append(f'   {rel}: {name}_ used without a call: ...{pp[m.start()-40:m.end()+20]!r}')
            continue
        depth, k = 1, j + 1
        while depth:
            depth += {'(': 1, ')': -1}.get(pp[k], 0)
            k += 1
        argtext = pp[j + 1:k - 1]
        nreg, nch = expect(name)
        # a prototype (parenthesised name) or a call
        if before == '(':
            continue
        ncalls += 1
        got = len(gen.split_top(argtext))
        if got != nreg + nch:
            problems.append(f'{rel}: call {name}_ with {got} args, want {nreg}+{nch}')
notes.append(f'4. preprocessed {nfiles} C/C++ files; {ncalls} calls of CHARACTER routines checked')

print('\n'.join(notes))
print(f'{len(problems)} problems')
print('\n'.join(problems))
