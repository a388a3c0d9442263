/* The convex hull of a cube's corners plus its centre, and the Delaunay triangulation of a
 * square grid, through qhull's reentrant API, as matplotlib's _qhull calls it. */
#include <stdio.h>
#include <stdlib.h>
#include "libqhull_r/qhull_ra.h"

static int run(const char *options, coordT *points, int count, int dim, int *facets, int *upper) {
    qhT qh_qh;
    qhT *qh = &qh_qh;
    FILE *devnull = fopen("/dev/null", "w");
    qh_zero(qh, devnull);
    int status = qh_new_qhull(qh, dim, count, points, False, (char *)options, NULL, devnull);
    *facets = 0;
    *upper = 0;
    if (status == 0) {
        facetT *facet;
        FORALLfacets {
            if (facet->upperdelaunay)
                (*upper)++;
            else
                (*facets)++;
        }
    }
    int curlong, totlong;
    qh_freeqhull(qh, !qh_ALL);
    qh_memfreeshort(qh, &curlong, &totlong);
    if (devnull)
        fclose(devnull);
    return status;
}

int main(void) {
    coordT cube[27];
    int n = 0;
    for (int i = 0; i < 8; i++) {
        cube[n++] = i & 1;
        cube[n++] = (i >> 1) & 1;
        cube[n++] = (i >> 2) & 1;
    }
    cube[n++] = 0.5;
    cube[n++] = 0.5;
    cube[n++] = 0.5;
    int facets, upper;
    /* Triangulated output: a cube's 6 faces are 12 triangles; the centre is inside. */
    int status = run("qhull Qt", cube, 9, 3, &facets, &upper);
    printf("hull: status %d, %d facets\n", status, facets);
    if (status != 0 || facets != 12)
        return 1;

    /* A 4x4 grid, perturbed so that no four points are cocircular: 2n - 2 - h = 19 triangles
     * for its 9 hull vertices (natively, scipy.spatial.Delaunay on the same points: 19). */
    coordT grid[32];
    n = 0;
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 4; x++) {
            grid[n++] = x + 0.01 * ((x * 7 + y * 3) % 5);
            grid[n++] = y + 0.01 * ((x * 2 + y * 5) % 7);
        }
    status = run("qhull d Qt Qbb Qc Qz", grid, 16, 2, &facets, &upper);
    printf("delaunay: status %d, %d triangles\n", status, facets);
    if (status != 0 || facets != 19)
        return 1;
    puts("qhull ok");
    return 0;
}
