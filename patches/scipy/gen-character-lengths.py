#!/usr/bin/env python3
"""Give scipy's LAPACK/BLAS declarations and calls the Fortran CHARACTER lengths.

A LAPACK/BLAS compiled from Fortran (flang, gfortran) takes one hidden length
argument (size_t) per CHARACTER dummy, after all regular arguments, and its
subroutines return nothing. scipy declares and calls the routines without the
lengths (and SuperLU declares some subroutines as returning int). Native ABIs
tolerate that; WebAssembly does not (wasm-ld turns a call whose type differs
from the definition into a trap). This script edits a pristine scipy source
tree in place:

(a) scipy/linalg/_generate_pyx.py: the generated _blas_subroutines.h /
    _lapack_subroutines.h declare a `size_t <arg>_len` per `char *` argument,
    and cython_blas.pyx / cython_lapack.pyx pass 1 for each.
    chla_transtype (a CHARACTER function) is removed from
    cython_lapack_signatures.txt.
(b) f2py signatures (scipy/**/*.pyf.src, *.pyf): every `callstatement` that
    calls a routine with CHARACTER arguments passes `,1` per CHARACTER
    argument and its `callprotoargument` gets `,size_t` per length (f2py
    appends the lengths itself where there is no callstatement).
(c) hand-written C/C++ (scipy/, subprojects/): each prototype of a
    LAPACK/BLAS routine with CHARACTER arguments gets the size_t lengths, its
    name is parenthesised (so that the macro does not apply to it) and it is
    followed by `#define name_(...) name_(__VA_ARGS__, 1, ...)`, so the call
    sites stay unchanged. Prototypes of subroutines get a `void` result.
    Prototypes that already carry the lengths are left alone; routines that
    scipy implements itself in C (a definition with a body) are skipped.
    The macro names assume BLAS_FUNC(x)/F_FUNC(x,X) expand to x_ (no ILP64,
    no symbol suffix), as in this build.

The argument lists come from the LAPACK sources (SRC, BLAS/SRC, INSTALL).

Usage: gen-character-lengths.py SCIPY_ROOT LAPACK_SOURCE_DIR
"""
import argparse
import os
import re
import sys

# --------------------------------------------------------------------------
# Fortran argument lists
# --------------------------------------------------------------------------

HEAD = re.compile(
    r'^((?:[A-Z][A-Z0-9*()=, ]*?\s+)?)(?:RECURSIVE\s+|PURE\s+|ELEMENTAL\s+)*'
    r'(SUBROUTINE|FUNCTION)\s+(\w+)\s*\(([^)]*)\)', re.I)
CHARDECL = re.compile(r'^CHARACTER(\s*\*\s*(\(\s*\*\s*\)|\d+)|\s*\([^)]*\))?\s*(::)?\s*(.*)$', re.I)


def _statements(path):
    """Yield logical statements (continuations joined, comments removed), upper-cased."""
    free = path.lower().endswith('.f90')
    cur = None
    out = []
    with open(path, errors='replace') as f:
        for line in f:
            line = line.rstrip('\n')
            if free:
                s = line.split('!')[0].rstrip()
                if not s.strip():
                    continue
                s = s.strip()
                if cur is not None:
                    s = s.lstrip('&').strip()
                    cur += ' ' + s
                else:
                    cur = s
                if cur.endswith('&'):
                    cur = cur[:-1]
                    continue
                out.append(cur)
                cur = None
            else:
                if not line or line[0] in 'cC*!':
                    continue
                if not line.strip():
                    continue
                s = line[:72]
                if '!' in s[6:]:
                    s = s[:6] + s[6:].split('!')[0]
                if len(s) > 5 and s[5] not in ' 0' and cur is not None:
                    cur += ' ' + s[6:].strip()
                    continue
                if cur is not None:
                    out.append(cur)
                cur = s[6:].strip() if len(s) > 6 else ''
    if cur is not None:
        out.append(cur)
    return [s.upper() for s in out if s.strip()]


def parse_file(path):
    res = {}
    unit = None
    for st in _statements(path):
        m = HEAD.match(st)
        if m and not st.startswith('END'):
            prefix = m.group(1).strip() or None
            args = [a.strip().lower() for a in m.group(4).split(',') if a.strip()]
            unit = {'kind': m.group(2).lower(), 'rtype': prefix, 'args': args,
                    'charvars': set(), 'name': m.group(3).lower()}
            res[unit['name']] = unit
            continue
        if unit is None:
            continue
        if re.match(r'^END(\s+(SUBROUTINE|FUNCTION)\b.*)?$', st):
            unit = None
            continue
        c = CHARDECL.match(st)
        if c and not st.startswith('CHARACTER FUNCTION'):
            rest = st.split('::', 1)[1] if '::' in st else c.group(4)
            for v in split_top(rest):
                v = re.split(r'[(*=]', v)[0].strip().lower()
                unit['charvars'].add(v)
    for u in res.values():
        u['char'] = [a in u['charvars'] for a in u['args']]
        if u['kind'] == 'function' and u['rtype'] is None:
            # implicit typing is not used in LAPACK; look for "TYPE NAME" declaration later
            pass
        del u['charvars']
    return res


def sigs(lapack_dir):
    out = {}
    for sub in ('SRC', 'BLAS/SRC', 'INSTALL'):
        d = os.path.join(lapack_dir, sub)
        for fn in sorted(os.listdir(d)):
            if fn.lower().endswith(('.f', '.f90')):
                for name, u in parse_file(os.path.join(d, fn)).items():
                    out.setdefault(name, u)
    return out



def nchar(sig):
    return sum(sig['char'])


def split_top(s, brackets='()'):
    """Split at top-level commas; `brackets` lists the opening/closing pairs."""
    opening, closing = brackets[0::2], brackets[1::2]
    parts, depth, cur = [], 0, ''
    for ch in s:
        if ch in opening:
            depth += 1
        elif ch in closing:
            depth -= 1
        if ch == ',' and depth == 0:
            parts.append(cur)
            cur = ''
        else:
            cur += ch
    parts.append(cur)
    return [p.strip() for p in parts if p.strip()]


def edit_file(path, func):
    with open(path) as f:
        old = f.read()
    new = func(old)
    if new != old:
        with open(path, 'w') as f:
            f.write(new)
        return True
    return False


def replace_once(text, old, new, what):
    if text.count(old) != 1:
        sys.exit(f'error: {what}: expected text not found exactly once:\n{old}')
    return text.replace(old, new)


# --------------------------------------------------------------------------
# (a) Cython wrappers scipy/linalg/cython_{blas,lapack}
# --------------------------------------------------------------------------
def patch_generate_pyx(root, sigs, log):
    path = os.path.join(root, 'scipy', 'linalg', '_generate_pyx.py')

    def f(t):
        t = replace_once(t, '''def generate_decl_pyx(name,''', '''def char_length_names(argnames, argtypes):
    """Names for the hidden lengths a Fortran compiler appends, after all other
    arguments, for every CHARACTER argument (`char *` here)."""
    return [f'{n}_len' for n, t in zip(argnames, argtypes) if t == 'char']


def generate_decl_pyx(name,''', '_generate_pyx.py')
        t = replace_once(t, '''    pyx_call_args = ', '.join(pyx_call_args)
''', '''    pyx_call_args = ', '.join(pyx_call_args)
    # Pass 1 as the length of each (single-character) CHARACTER argument
    for length in char_length_names(argnames, argtypes):
        c_proto += f', size_t {length}'
        pyx_call_args += ', 1'
''', '_generate_pyx.py pyx')
        t = replace_once(t, '''    c_args = ', '.join(f'{t} *{n}' for t, n in zip(c_argtypes, argnames))
''', '''    c_args = ', '.join(f'{t} *{n}' for t, n in zip(c_argtypes, argnames))
    c_args += ''.join(f', size_t {length}'
                      for length in char_length_names(argnames, argtypes))
''', '_generate_pyx.py c')
        return t
    if edit_file(path, f):
        log.append('(a) scipy/linalg/_generate_pyx.py: lengths in generated headers and .pyx calls')

    path = os.path.join(root, 'scipy', 'linalg', 'cython_lapack_signatures.txt')

    def g(t):
        lines = t.splitlines(keepends=True)
        keep = [l for l in lines if not re.match(r'\s*char\s+chla_transtype\(', l)]
        return ''.join(keep)
    if edit_file(path, g):
        log.append('(a) scipy/linalg/cython_lapack_signatures.txt: removed chla_transtype')

    # consistency: every `char *` in the signatures is a CHARACTER dummy
    for fn in ('cython_blas_signatures.txt', 'cython_lapack_signatures.txt'):
        for line in open(os.path.join(root, 'scipy', 'linalg', fn)):
            m = re.match(r'\s*(\w+)\s+(\w+)\((.*)\)\s*$', line)
            if not m or m.group(2) not in sigs:
                continue
            types = [a.split(' *')[0].strip() for a in m.group(3).split(', ')]
            s = sigs[m.group(2)]
            if [t == 'char' for t in types] != s['char']:
                log.append(f'WARNING (a) {fn}: {m.group(2)}: char arguments do not match Fortran')


# --------------------------------------------------------------------------
# (b) f2py signature files
# --------------------------------------------------------------------------
def _load_from_template(root):
    sys.path.insert(0, os.path.join(root, 'tools'))
    import generate_f2pymod
    sys.path.pop(0)
    return generate_f2pymod


CALL_RE = re.compile(r'\(\s*\*\s*f2py_func\s*\)\s*\(')
# a statement with its free-form continuation lines (trailing '&')
CS_RE = re.compile(r'^[ \t]*callstatement\b(?:[^\n]*&[ \t]*\n)*[^\n]*$', re.M)
CP_RE = re.compile(r'^[ \t]*callprotoargument\b(?:[^\n]*&[ \t]*\n)*[^\n]*$', re.M)


def _joined(stmt):
    return re.sub(r'&[ \t]*\n\s*', ' ', stmt)


def _call_args(line):
    """(start, end) of the argument text of (*f2py_func)(...) in line."""
    m = CALL_RE.search(line)
    if not m:
        return None
    depth, i = 1, m.end()
    while depth:
        if line[i] == '(':
            depth += 1
        elif line[i] == ')':
            depth -= 1
        i += 1
    return m.end(), i - 1


def _fortran_name(block):
    m = re.search(r'^\s*fortranname\s+(\S.*?)\s*$', block, re.M)
    if m:
        n = m.group(1)
        fm = re.match(r'F_FUNC\(\s*(\w+)\s*,', n)
        return (fm.group(1) if fm else n).lower()
    m = re.search(r'\b(?:subroutine|function)\s+(\w+)', block, re.I)
    return m.group(1).lower()


def pyf_units(root):
    """Yield (path, text, [(start, end, expanded_block_texts)]) for every
    .pyf.src/.pyf file, with template names resolved as generate_f2pymod does
    (the top files' headers define names used by the included files)."""
    g = _load_from_template(root)
    files = []
    for dp, dn, fn in os.walk(os.path.join(root, 'scipy')):
        for f in sorted(fn):
            if f.endswith(('.pyf.src', '.pyf')):
                files.append(os.path.join(dp, f))
    included = {}
    for p in files:
        for m in re.finditer(r"^\s*include\s*'([\w.]+\.src)'", open(p).read(), re.M):
            included[os.path.join(os.path.dirname(p), m.group(1))] = p
    for p in sorted(files):
        text = open(p).read()
        if not p.endswith('.src'):
            yield p, text, [(s, e, [text[s:e]]) for s, e in
                            [(m.start(), m.end()) for m in re.finditer(
                                r'(?ms)^\s*(?:subroutine|function)\b.*?^\s*end\s+(?:subroutine|function)\b.*?$', text)]]
            continue
        # names defined before this file's text when it is processed
        prefix = ''
        parent = included.get(p)
        if parent:
            ptext = open(parent).read()
            prefix = ptext.split('python module')[0]
            for m in re.finditer(r"^\s*include\s*'([\w.]+\.src)'", ptext, re.M):
                q = os.path.join(os.path.dirname(parent), m.group(1))
                if q == p:
                    break
                prefix += open(q).read()
        allstr = prefix + text
        names = dict(g._special_names)
        units = []
        oldend = 0
        for s, e in g.parse_structure(allstr):
            _, defs = g.find_and_remove_repl_patterns(allstr[oldend:s])
            names.update(defs)
            expanded = g.expand_sub(allstr[s:e], names)
            oldend = e
            if s < len(prefix):
                continue
            blocks = [b for b in re.split(r'\n\n(?=\s*(?:subroutine|function)\b)', expanded)
                      if re.search(r'\b(?:subroutine|function)\b', b)]
            units.append((s - len(prefix), e - len(prefix), blocks))
        yield p, text, units


def analyse_block(block, sigs):
    """Return dict(name, nreg, nch, ncall, nproto, line) for a callstatement block,
    or None if the block has no callstatement or calls no known routine."""
    name = _fortran_name(block)
    cs = CS_RE.search(block)
    if name not in sigs:
        return {'name': name, 'unknown': True, 'has_cs': bool(cs)}
    s = sigs[name]
    info = {'name': name, 'nreg': len(s['args']), 'nch': nchar(s), 'has_cs': bool(cs)}
    if cs:
        line = _joined(cs.group(0))
        se = _call_args(line)
        info['ncall'] = len(split_top(line[se[0]:se[1]])) if se else None
        cp = CP_RE.search(block)
        info['nproto'] = (len(split_top(_joined(cp.group(0)).split(None, 1)[1], '()<>'))
                          if cp else None)
    else:
        # f2py passes every argument and appends a length per character argument
        hm = re.search(r'\b(?:subroutine|function)\s+\w+\s*\(([^)]*)\)', block)
        args = [a.strip() for a in hm.group(1).split(',') if a.strip()]
        chars = set()
        for m in re.finditer(r'^\s*character\b[^:\n]*::\s*(.*)$', block, re.M):
            chars.update(v.split('=')[0].split('(')[0].strip() for v in split_top(m.group(1)))
        info['ncall'] = len(args) + sum(a in chars for a in args)
        info['nproto'] = info['ncall']
        info['chars_in_pyf'] = sum(a in chars for a in args)
    return info


# Routines without a callstatement, where f2py would pass one argument more
# than the Fortran routine has (a hidden size, `lx`/`lwork`): call explicitly.
PYF_EXTRA_ARGS = {
    'subroutine <prefix>larfg(n, alpha, x, incx, tau, lx)\n': (
        '    callstatement (*f2py_func)(&n,&alpha,x,&incx,&tau)\n'
        '    callprotoargument F_INT*,<ctype>*,<ctype>*,F_INT*,<ctype>*\n'),
    'subroutine <prefix>larf(side,m,n,v,incv,tau,c,ldc,work,lwork)\n': (
        '    callstatement (*f2py_func)(side,&m,&n,v,&incv,&tau,c,&ldc,work,1)\n'
        '    callprotoargument char*,F_INT*,F_INT*,<ctype>*,F_INT*,<ctype>*,<ctype>*,F_INT*,<ctype>*,size_t\n'),
}


def patch_pyf_extra_args(root, log):
    path = os.path.join(root, 'scipy', 'linalg', 'flapack_other.pyf.src')

    def f(t):
        for head, stmts in PYF_EXTRA_ARGS.items():
            t = replace_once(t, head, head + stmts, 'flapack_other.pyf.src')
        return t
    if edit_file(path, f):
        log.append(f'(b) scipy/linalg/flapack_other.pyf.src: callstatements for ?larfg, ?larf '
                   f'(f2py passed their extra lx/lwork argument)')


def patch_pyf(root, sigs, log):
    for path, text, units in pyf_units(root):
        edits = []
        for s, e, blocks in units:
            infos = [analyse_block(b, sigs) for b in blocks]
            infos = [i for i in infos if not i.get('unknown') and i['has_cs'] and i['nch']]
            if not infos:
                continue
            keys = {(i['nreg'], i['nch'], i['ncall'], i['nproto']) for i in infos}
            if len(keys) != 1:
                log.append(f'WARNING (b) {path}: inconsistent expansions {infos}')
                continue
            nreg, nch, ncall, nproto = keys.pop()
            if ncall == nreg + nch and nproto == nreg + nch:
                continue  # already passes the lengths (?gees)
            if ncall != nreg or nproto != nreg:
                log.append(f'WARNING (b) {path}: {infos[0]["name"]}: {ncall} call / '
                           f'{nproto} proto args, Fortran has {nreg}+{nch}; not edited')
                continue
            edits.append((s, e, nch, [i['name'] for i in infos]))
        if not edits:
            continue
        out, pos = '', 0
        for s, e, nch, names in edits:
            block = text[s:e]
            cs = CS_RE.search(block)
            line = cs.group(0)
            a, b = _call_args(line)
            line = line[:b] + ',1' * nch + line[b:]
            block = block[:cs.start()] + line + block[cs.end():]
            cp = CP_RE.search(block)
            stmt = cp.group(0).rstrip()
            block = block[:cp.start()] + stmt + ',size_t' * nch + block[cp.start() + len(stmt):]
            out += text[pos:s] + block
            pos = e
        out += text[pos:]
        with open(path, 'w') as f:
            f.write(out)
        log.append(f'(b) {os.path.relpath(path, root)}: {len(edits)} callstatements')


# --------------------------------------------------------------------------
# (c) hand-written C/C++
# --------------------------------------------------------------------------
C_EXT = ('.c', '.h', '.cc', '.hh', '.cpp', '.hpp', '.cxx')
NAME = (r'(?P<name>(?P<n1>[a-z][a-z0-9]*)_'
        r'|BLAS_FUNC\(\s*(?P<n2>[a-z][a-z0-9]*)\s*\)'
        r'|F_FUNC\(\s*(?P<n3>[a-z][a-z0-9]*)\s*,\s*\w+\s*\))')
RETS = r'(?:void|int|double|float|char|long|CBLAS_INT|F_INT|fortran_int)'
PROTO = re.compile(
    r'^(?P<head>[ \t]*(?:extern[ \t]+(?:"C"[ \t]+)?)?)(?P<ret>' + RETS + r')(?P<sp>\s+)'
    + NAME + r'(?P<sp2>[ \t]*)\((?P<params>[^;{}]*?)\)(?P<tail>[ \t]*)(?P<end>[;{])', re.M)
MACRO_COMMENT = ('/* Fortran passes a hidden length (size_t) after all arguments for every\n'
                 '   CHARACTER argument: the macros below pass 1 for each. */\n'
                 '#include <stddef.h>\n')


# Not compiled: trlib's upstream copy of the header (the build uses
# scipy/optimize/_trlib/trlib_private.h, which already passes the length).
C_SKIP = ('scipy/optimize/_trlib/trlib/trlib_private.h',)


def c_files(root):
    for top in ('scipy', 'subprojects'):
        for dp, dn, fn in os.walk(os.path.join(root, top)):
            for f in sorted(fn):
                p = os.path.join(dp, f)
                if f.endswith(C_EXT) and os.path.relpath(p, root) not in C_SKIP:
                    yield p


def routine_of(m):
    return m.group('n1') or m.group('n2') or m.group('n3')


def defined_in_c(root, sigs):
    """LAPACK/BLAS names that scipy itself defines (a body) in C/C++."""
    out = {}
    for p in c_files(root):
        for m in PROTO.finditer(open(p, errors='replace').read()):
            if m.group('end') == '{' and routine_of(m) in sigs:
                out.setdefault(routine_of(m), []).append(os.path.relpath(p, root))
    return out


def macro_line(cname, nch):
    return f'#define {cname}(...) {cname}(__VA_ARGS__{", 1" * nch})\n'


def patch_c(root, sigs, log):
    own = defined_in_c(root, sigs)
    for r, where in sorted(own.items()):
        log.append(f'(c) skipped {r}_: implemented in C by scipy ({", ".join(where)})')
    for path in c_files(root):
        text = open(path, errors='replace').read()
        rel = os.path.relpath(path, root)
        out, pos, nlen, nret, commented = '', 0, 0, 0, False
        pending = []  # macros to insert at the end of the current line
        for m in PROTO.finditer(text):
            r = routine_of(m)
            if m.group('end') != ';' or r not in sigs or r in own:
                continue
            s = sigs[r]
            params = m.group('params')
            plist = [] if params.strip() in ('', 'void') else split_top(params)
            nreg, nch = len(s['args']), nchar(s)
            ret = m.group('ret')
            if s['kind'] == 'subroutine':
                newret = 'void'
            elif s['rtype'] and s['rtype'].startswith('LOGICAL'):
                newret = 'int'
            else:
                newret = ret
            add_lengths = nch and len(plist) == nreg
            if nch and len(plist) not in (nreg, nreg + nch):
                log.append(f'WARNING (c) {rel}: {r}: {len(plist)} parameters, '
                           f'Fortran has {nreg}+{nch}; not edited')
                continue
            if not add_lengths and newret == ret:
                continue
            name = m.group('name')
            if add_lengths:
                lens = []
                for p, ischar in zip(plist, s['char']):
                    if ischar:
                        pm = re.search(r'(\w+)\s*(?:\[\s*\])?$', p)
                        pn = pm.group(1) if pm and pm.group(1) not in ('char', 'const') else None
                        lens.append(f'size_t {pn}_len' if pn else 'size_t')
                params = params.rstrip() + ', ' + ', '.join(lens)
                name = f'({name})'
                nlen += 1
            if newret != ret:
                nret += 1
            new = (m.group('head') + newret + m.group('sp') + name + m.group('sp2')
                   + '(' + params + ')' + m.group('tail') + ';')
            out += text[pos:m.start()]
            if add_lengths and not commented:
                out += MACRO_COMMENT
                commented = True
            out += new
            pos = m.end()
            if add_lengths:
                eol = text.find('\n', pos)
                eol = len(text) if eol < 0 else eol + 1
                out += text[pos:eol]
                pos = eol
                out += macro_line(r + '_', nch)
        out += text[pos:]
        if out != text:
            with open(path, 'w') as f:
                f.write(out)
            log.append(f'(c) {rel}: {nlen} prototypes with lengths and macros, '
                       f'{nret} result types made void/int')


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('scipy_root')
    ap.add_argument('lapack_dir', help='reference LAPACK source tree (with SRC, BLAS/SRC, INSTALL)')
    args = ap.parse_args()
    sigs_ = sigs(args.lapack_dir)
    log = []
    patch_generate_pyx(args.scipy_root, sigs_, log)
    patch_pyf(args.scipy_root, sigs_, log)
    patch_pyf_extra_args(args.scipy_root, log)
    patch_c(args.scipy_root, sigs_, log)
    print('\n'.join(log))


if __name__ == '__main__':
    main()
