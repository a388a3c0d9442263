/* COMPLEX(4) results across the flang/C boundary (wheelforge, docs/fortran.md).
 *
 * flang lowers calls with the i386 calling convention, which returns a `float _Complex` packed
 * in a 64-bit integer; the wasm32 C ABI returns it through a hidden result pointer. The driver
 * renames flang's calls to these functions (src/toolchain/fortran/ir.rs, COMPLEX4_RETURNING)
 * to the `__wf_` versions below, which call the C library with the C convention and return
 * the result packed as flang expects. Arguments need no change: both conventions pass a
 * complex argument by a pointer to a copy. */
#include <complex.h>
#include <stdint.h>
#include <string.h>

static uint64_t pack(float _Complex value) {
  uint64_t bits;
  memcpy(&bits, &value, sizeof bits);
  return bits;
}

#define UNARY(name) \
  uint64_t __wf_##name(float _Complex z) { return pack(name(z)); }

UNARY(cacosf)
UNARY(cacoshf)
UNARY(casinf)
UNARY(casinhf)
UNARY(catanf)
UNARY(catanhf)
UNARY(ccosf)
UNARY(ccoshf)
UNARY(cexpf)
UNARY(clogf)
UNARY(conjf)
UNARY(cprojf)
UNARY(csinf)
UNARY(csinhf)
UNARY(csqrtf)
UNARY(ctanf)
UNARY(ctanhf)

uint64_t __wf_cpowf(float _Complex x, float _Complex y) { return pack(cpowf(x, y)); }

/* compiler-rt's complex multiplication and division (C Annex G semantics). */
float _Complex __divsc3(float, float, float, float);
float _Complex __mulsc3(float, float, float, float);

uint64_t __wf___divsc3(float a, float b, float c, float d) { return pack(__divsc3(a, b, c, d)); }
uint64_t __wf___mulsc3(float a, float b, float c, float d) { return pack(__mulsc3(a, b, c, d)); }
