/* The openblas recipe's test: links libopenblas.a and checks that it is the WASM128_GENERIC
 * build, that CBLAS products (the SIMD128 GEMM kernels, small and blocked) agree with a plain
 * triple loop, and that LAPACK solves through its interfaces: the Fortran entry points (patch
 * 0004: what scipy, numpy and Fortran code call, with hidden CHARACTER lengths, subroutines
 * returning nothing; lapack.h declares them so on WASI, and a call of the wrong type traps
 * under wasm), dgesv_, and routines with CHARACTER arguments: dsyev_, and what
 * numpy.linalg's eigh, svd and eig call, dsyevd_ (40x40, past the divide-and-conquer cutoff, so
 * through DLAED1's call of OpenBLAS's DLAED3), dgesdd_ and dgeev_; dgemm_ and cdotc_ (a
 * COMPLEX result, one i64 for flang) as Fortran calls them; LAPACKE. An illegal argument must
 * come back as INFO < 0 through the program's own XERBLA, not end the program. Exits with
 * status 1 when a check fails. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>
#include <lapack.h>
#include <lapacke.h>

static int checks = 0, failures = 0;

/* The program's own XERBLA, as Fortran declares it: OpenBLAS's argument checks must reach it. */
static int xerbla_calls = 0, xerbla_info = 0;
static char xerbla_name[8];
void xerbla_(const char *name, const int *info, size_t name_length) {
    xerbla_calls++, xerbla_info = *info;
    snprintf(xerbla_name, sizeof xerbla_name, "%.*s", (int)name_length, name);
}

/* Two routines as a Fortran compiler calls them (no header declares them so). */
void dgemm_(const char *transa, const char *transb, const int *m, const int *n, const int *k,
            const double *alpha, const double *a, const int *lda, const double *b,
            const int *ldb, const double *beta, double *c, const int *ldc, size_t transa_length,
            size_t transb_length);
long long cdotc_(const int *n, const float *x, const int *incx, const float *y, const int *incy);

static void check(int ok, const char *what) {
    printf("%-58s %s\n", what, ok ? "ok" : "FAILED");
    checks++;
    if (!ok) failures++;
}

/* A fixed pseudo-random sequence in [-1, 1). */
static double next(unsigned *state) {
    *state = *state * 1103515245u + 12345u;
    return ((*state >> 8) & 0xffff) / 32768.0 - 1.0;
}

static double gemm_error(int m, int n, int k) {
    unsigned s = 7;
    double *a = malloc(sizeof(double) * m * k), *b = malloc(sizeof(double) * k * n);
    double *c = malloc(sizeof(double) * m * n), worst = 0;
    for (int i = 0; i < m * k; i++) a[i] = next(&s);
    for (int i = 0; i < k * n; i++) b[i] = next(&s);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0, a, k, b, n, 0.0, c, n);
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double sum = 0;
            for (int p = 0; p < k; p++) sum += a[i * k + p] * b[p * n + j];
            worst = fmax(worst, fabs(sum - c[i * n + j]));
        }
    free(a), free(b), free(c);
    return worst;
}

static float sgemm_error(int m, int n, int k) {
    unsigned s = 11;
    float *a = malloc(sizeof(float) * m * k), *b = malloc(sizeof(float) * k * n);
    float *c = malloc(sizeof(float) * m * n), worst = 0;
    for (int i = 0; i < m * k; i++) a[i] = (float)next(&s);
    for (int i = 0; i < k * n; i++) b[i] = (float)next(&s);
    cblas_sgemm(CblasColMajor, CblasTrans, CblasNoTrans, m, n, k, 1.0f, a, k, b, k, 0.0f, c, m);
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double sum = 0;
            for (int p = 0; p < k; p++) sum += (double)a[i * k + p] * b[j * k + p];
            worst = fmaxf(worst, (float)fabs(sum - c[j * m + i]));
        }
    free(a), free(b), free(c);
    return worst;
}

/* Solves A x = b for a diagonally dominant n x n A with dgesv_; returns max |A x - b|. */
static double dgesv_residual(int n, int *info) {
    unsigned s = 3;
    int nrhs = 1, *ipiv = malloc(sizeof(int) * n);
    double *a = malloc(sizeof(double) * n * n), *lu = malloc(sizeof(double) * n * n);
    double *b = malloc(sizeof(double) * n), *x = malloc(sizeof(double) * n), worst = 0;
    for (int j = 0; j < n; j++)
        for (int i = 0; i < n; i++) a[j * n + i] = next(&s) + (i == j ? n : 0);
    for (int i = 0; i < n; i++) b[i] = next(&s);
    memcpy(lu, a, sizeof(double) * n * n);
    memcpy(x, b, sizeof(double) * n);
    LAPACK_dgesv(&n, &nrhs, lu, &n, ipiv, x, &n, info);
    for (int i = 0; i < n; i++) {
        double sum = 0;
        for (int j = 0; j < n; j++) sum += a[j * n + i] * x[j];
        worst = fmax(worst, fabs(sum - b[i]));
    }
    free(ipiv), free(a), free(lu), free(b), free(x);
    return worst;
}

/* max |A V - V diag(w)| for the eigenvectors dsyevd_ returns for a random symmetric n x n A. */
static double dsyevd_residual(int n, int *info) {
    unsigned s = 5;
    double *a = malloc(sizeof(double) * n * n), *v = malloc(sizeof(double) * n * n);
    double *w = malloc(sizeof(double) * n), query, worst = 0;
    for (int j = 0; j < n; j++)
        for (int i = 0; i <= j; i++) a[j * n + i] = a[i * n + j] = next(&s);
    memcpy(v, a, sizeof(double) * n * n);
    int lwork = -1, liwork = -1, iquery;
    LAPACK_dsyevd("V", "U", &n, v, &n, w, &query, &lwork, &iquery, &liwork, info);
    lwork = (int)query, liwork = iquery;
    double *work = malloc(sizeof(double) * lwork);
    int *iwork = malloc(sizeof(int) * liwork);
    LAPACK_dsyevd("V", "U", &n, v, &n, w, work, &lwork, iwork, &liwork, info);
    for (int k = 0; k < n; k++)
        for (int i = 0; i < n; i++) {
            double sum = 0;
            for (int j = 0; j < n; j++) sum += a[j * n + i] * v[k * n + j];
            worst = fmax(worst, fabs(sum - w[k] * v[k * n + i]));
        }
    free(a), free(v), free(w), free(work), free(iwork);
    return worst;
}

/* max |A - U diag(s) V^T| for dgesdd_'s thin SVD of a random m x n A (m >= n). */
static double dgesdd_residual(int m, int n, int *info) {
    unsigned s = 9;
    double *a = malloc(sizeof(double) * m * n), *copy = malloc(sizeof(double) * m * n);
    double *u = malloc(sizeof(double) * m * n), *vt = malloc(sizeof(double) * n * n);
    double *sv = malloc(sizeof(double) * n), query, worst = 0;
    int *iwork = malloc(sizeof(int) * 8 * n), lwork = -1;
    for (int i = 0; i < m * n; i++) a[i] = next(&s);
    memcpy(copy, a, sizeof(double) * m * n);
    LAPACK_dgesdd("S", &m, &n, copy, &m, sv, u, &m, vt, &n, &query, &lwork, iwork, info);
    lwork = (int)query;
    double *work = malloc(sizeof(double) * lwork);
    LAPACK_dgesdd("S", &m, &n, copy, &m, sv, u, &m, vt, &n, work, &lwork, iwork, info);
    for (int j = 0; j < n; j++)
        for (int i = 0; i < m; i++) {
            double sum = 0;
            for (int k = 0; k < n; k++) sum += u[k * m + i] * sv[k] * vt[j * n + k];
            worst = fmax(worst, fabs(sum - a[j * m + i]));
        }
    free(a), free(copy), free(u), free(vt), free(sv), free(iwork), free(work);
    return worst;
}

int main(void) {
    printf("config: %s\n", openblas_get_config());
    printf("core: %s, parallel: %d\n", openblas_get_corename(), openblas_get_parallel());
    check(strstr(openblas_get_config(), "WASM128_GENERIC") != NULL, "built for WASM128_GENERIC");

    /* A small product with an exact result: [1 2 3; 4 5 6] * [7 8; 9 10; 11 12]. */
    double a[6] = {1, 2, 3, 4, 5, 6}, b[6] = {7, 8, 9, 10, 11, 12}, c[4] = {0};
    const double expected[4] = {58, 64, 139, 154};
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 2, 2, 3, 1.0, a, 3, b, 2, 0.0, c, 2);
    printf("dgemm 2x3 * 3x2 = [%g %g; %g %g]\n", c[0], c[1], c[2], c[3]);
    check(memcmp(c, expected, sizeof c) == 0, "cblas_dgemm 2x3 * 3x2 exact");

    /* dgemm_ as Fortran calls it: C = A^T B with A 3x2 (column-major), B 3x2. */
    int two = 2, three_ = 3;
    double alpha = 1, beta = 0, at[6] = {1, 2, 3, 4, 5, 6}, bt[6] = {7, 9, 11, 8, 10, 12}, ct[4];
    dgemm_("T", "N", &two, &two, &three_, &alpha, at, &three_, bt, &three_, &beta, ct, &two, 1, 1);
    check(ct[0] == 58 && ct[2] == 64 && ct[1] == 139 && ct[3] == 154, "dgemm_ (Fortran call) exact");

    /* cdotc_ as flang calls it: conj(1+2i)(3+4i) + conj(5-1i)(2+1i) = (11-2i) + (9+7i). */
    float cx[4] = {1, 2, 5, -1}, cy[4] = {3, 4, 2, 1}, dot[2];
    int one_ = 1;
    long long packed = cdotc_(&two, cx, &one_, cy, &one_);
    memcpy(dot, &packed, sizeof dot);
    printf("cdotc_ = %g%+gi\n", dot[0], dot[1]);
    check(dot[0] == 20 && dot[1] == 5, "cdotc_ (COMPLEX result in one i64) = 20+5i");

    /* Odd sizes cross the 2x2 kernel's edges, and 300 crosses the GEMM blocking (P, Q). */
    check(gemm_error(67, 71, 53) < 1e-12, "cblas_dgemm 67x53 * 53x71 matches the triple loop");
    check(gemm_error(300, 130, 260) < 1e-11, "cblas_dgemm 300x260 * 260x130 matches");
    check(sgemm_error(45, 39, 301) < 1e-4f, "cblas_sgemm (A transposed) 45x301 * 301x39");

    /* dgesv_ on a 4x4 system with the solution (1, 2, 3, 4), column-major. */
    int n = 4, nrhs = 1, ipiv[4], info = -99;
    double m4[16] = {4, -2, 1, 3, 1, 5, -3, 2, -2, 1, 6, -1, 3, 2, -1, 7}, lu[16], x[4];
    const double want[4] = {1, 2, 3, 4};
    for (int i = 0; i < 4; i++) {
        x[i] = 0;
        for (int j = 0; j < 4; j++) x[i] += m4[j * 4 + i] * want[j];
    }
    memcpy(lu, m4, sizeof lu);
    LAPACK_dgesv(&n, &nrhs, lu, &n, ipiv, x, &n, &info);
    double error = 0;
    for (int i = 0; i < 4; i++) error = fmax(error, fabs(x[i] - want[i]));
    printf("dgesv_ info %d x = %.12f %.12f %.12f %.12f\n", info, x[0], x[1], x[2], x[3]);
    check(info == 0 && error < 1e-12, "dgesv_ 4x4 solution within 1e-12");

    double residual = dgesv_residual(200, &info);
    printf("dgesv_ 200x200 info %d residual %.3g\n", info, residual);
    check(info == 0 && residual < 1e-10, "dgesv_ 200x200 (blocked LU, TRSM kernels) residual");

    /* LAPACKE, row-major, the same system transposed into rows. */
    double rows[16], rhs[4];
    for (int i = 0; i < 4; i++) {
        rhs[i] = 0;
        for (int j = 0; j < 4; j++) rows[i * 4 + j] = m4[j * 4 + i], rhs[i] += rows[i * 4 + j] * want[j];
    }
    lapack_int lipiv[4];
    lapack_int linfo = LAPACKE_dgesv(LAPACK_ROW_MAJOR, 4, 1, rows, 4, lipiv, rhs, 1);
    error = 0;
    for (int i = 0; i < 4; i++) error = fmax(error, fabs(rhs[i] - want[i]));
    check(linfo == 0 && error < 1e-12, "LAPACKE_dgesv row-major 4x4");

    /* dsyev_ (CHARACTER arguments): the eigenvalues of [2 1 0; 1 2 0; 0 0 3] are 1, 3, 3. */
    double s3[9] = {2, 1, 0, 1, 2, 0, 0, 0, 3}, w[3], work[64];
    int three = 3, lwork = 64;
    LAPACK_dsyev("V", "U", &three, s3, &three, w, work, &lwork, &info);
    printf("dsyev_ info %d eigenvalues %.12f %.12f %.12f\n", info, w[0], w[1], w[2]);
    check(info == 0 && fabs(w[0] - 1) < 1e-12 && fabs(w[1] - 3) < 1e-12 && fabs(w[2] - 3) < 1e-12,
          "dsyev_ eigenvalues 1, 3, 3");

    residual = dsyevd_residual(40, &info);
    printf("dsyevd_ 40x40 info %d residual %.3g\n", info, residual);
    check(info == 0 && residual < 1e-12, "dsyevd_ 40x40 (divide and conquer) A v = w v");

    residual = dgesdd_residual(30, 20, &info);
    printf("dgesdd_ 30x20 info %d residual %.3g\n", info, residual);
    check(info == 0 && residual < 1e-12, "dgesdd_ 30x20 U S V^T reproduces A");

    /* dgeev_: [2 0 0; 0 3 4; 0 4 9] has the eigenvalues 1, 2 and 11. */
    double g[9] = {2, 0, 0, 0, 3, 4, 0, 4, 9}, wr[3], wi[3], vr[9], gwork[64], dummy[1];
    int one = 1;
    LAPACK_dgeev("N", "V", &three, g, &three, wr, wi, dummy, &one, vr, &three, gwork, &lwork, &info);
    double lo = fmin(wr[0], fmin(wr[1], wr[2])), hi = fmax(wr[0], fmax(wr[1], wr[2]));
    double mid = wr[0] + wr[1] + wr[2] - lo - hi;
    printf("dgeev_ info %d eigenvalues %.12f %.12f %.12f\n", info, lo, mid, hi);
    check(info == 0 && fabs(lo - 1) < 1e-12 && fabs(mid - 2) < 1e-12 && fabs(hi - 11) < 1e-12 &&
              wi[0] == 0 && wi[1] == 0 && wi[2] == 0,
          "dgeev_ eigenvalues 1, 2, 11");

    /* XERBLA reports and returns: N = -1 is argument 1. */
    int bad = -1;
    info = 0;
    LAPACK_dgesv(&bad, &nrhs, lu, &n, ipiv, x, &n, &info);
    printf("xerbla_ calls %d: %s, argument %d\n", xerbla_calls, xerbla_name, xerbla_info);
    check(info == -1, "dgesv_ with N = -1 returns INFO = -1");
    check(xerbla_calls == 1 && strncmp(xerbla_name, "DGESV", 5) == 0 && xerbla_info == 1,
          "the program's xerbla_ got DGESV, argument 1");
    LAPACK_dsyev("X", "U", &three, s3, &three, w, work, &lwork, &info);
    check(info == -1 && xerbla_calls == 2 && strncmp(xerbla_name, "DSYEV", 5) == 0,
          "dsyev_ with JOBZ = X: INFO = -1 through xerbla_");

    printf("%d passed, %d failed\n", checks - failures, failures);
    return failures ? 1 : 0;
}
