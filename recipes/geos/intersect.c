/* GEOS under WASI, through its C API: read two squares from WKT, intersect them, buffer a
 * point, and check the areas, validity and the WKT written back. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <geos_c.h>

int main(void) {
    GEOSContextHandle_t context = GEOS_init_r();
    GEOSWKTReader *reader = GEOSWKTReader_create_r(context);
    GEOSGeometry *a = GEOSWKTReader_read_r(context, reader, "POLYGON((0 0, 4 0, 4 4, 0 4, 0 0))");
    GEOSGeometry *b = GEOSWKTReader_read_r(context, reader, "POLYGON((2 2, 6 2, 6 6, 2 6, 2 2))");
    GEOSGeometry *point = GEOSWKTReader_read_r(context, reader, "POINT(10 10)");
    if (!a || !b || !point) {
        fprintf(stderr, "WKT not read\n");
        return 1;
    }
    GEOSGeometry *both = GEOSIntersection_r(context, a, b);
    double area = 0, circle = 0;
    if (!both || !GEOSArea_r(context, both, &area) || fabs(area - 4.0) > 1e-12 ||
        GEOSisValid_r(context, both) != 1) {
        fprintf(stderr, "intersection area %g\n", area);
        return 1;
    }
    GEOSGeometry *disc = GEOSBuffer_r(context, point, 1.0, 32);
    if (!disc || !GEOSArea_r(context, disc, &circle) || fabs(circle - M_PI) > 0.01) {
        fprintf(stderr, "buffer area %g\n", circle);
        return 1;
    }
    GEOSWKTWriter *writer = GEOSWKTWriter_create_r(context);
    GEOSWKTWriter_setTrim_r(context, writer, 1);
    GEOSNormalize_r(context, both);
    char *wkt = GEOSWKTWriter_write_r(context, writer, both);
    if (!wkt || strcmp(wkt, "POLYGON ((2 2, 2 4, 4 4, 4 2, 2 2))") != 0) {
        fprintf(stderr, "WKT: %s\n", wkt ? wkt : "(none)");
        return 1;
    }
    printf("GEOS %s: intersection %s (area %g), buffered point area %.4f\n", GEOSversion(), wkt,
           area, circle);
    GEOSFree_r(context, wkt);
    GEOSWKTWriter_destroy_r(context, writer);
    GEOSGeom_destroy_r(context, disc);
    GEOSGeom_destroy_r(context, both);
    GEOSGeom_destroy_r(context, point);
    GEOSGeom_destroy_r(context, b);
    GEOSGeom_destroy_r(context, a);
    GEOSWKTReader_destroy_r(context, reader);
    GEOS_finish_r(context);
    return 0;
}
