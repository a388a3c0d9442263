/* libpng under WASI: encode an RGBA gradient to PNG in memory with the simplified API, check
 * the signature, decode it and compare every pixel. */
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

int main(void) {
    enum { WIDTH = 64, HEIGHT = 48 };
    static unsigned char pixels[WIDTH * HEIGHT * 4], decoded[WIDTH * HEIGHT * 4];
    for (int y = 0; y < HEIGHT; y++) {
        for (int x = 0; x < WIDTH; x++) {
            unsigned char *p = &pixels[(y * WIDTH + x) * 4];
            p[0] = (unsigned char)(x * 4);
            p[1] = (unsigned char)(y * 5);
            p[2] = (unsigned char)((x + y) * 2);
            p[3] = 255;
        }
    }
    png_image image;
    memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    image.width = WIDTH;
    image.height = HEIGHT;
    image.format = PNG_FORMAT_RGBA;
    png_alloc_size_t size = 0;
    if (!png_image_write_to_memory(&image, NULL, &size, 0, pixels, 0, NULL)) {
        fprintf(stderr, "sizing: %s\n", image.message);
        return 1;
    }
    unsigned char *encoded = malloc(size);
    if (!encoded || !png_image_write_to_memory(&image, encoded, &size, 0, pixels, 0, NULL)) {
        fprintf(stderr, "encoding: %s\n", image.message);
        return 1;
    }
    if (png_sig_cmp(encoded, 0, 8) != 0) {
        fprintf(stderr, "no PNG signature\n");
        return 1;
    }
    png_image read;
    memset(&read, 0, sizeof read);
    read.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&read, encoded, size)) {
        fprintf(stderr, "reading: %s\n", read.message);
        return 1;
    }
    read.format = PNG_FORMAT_RGBA;
    if (read.width != WIDTH || read.height != HEIGHT ||
        !png_image_finish_read(&read, NULL, decoded, 0, NULL) ||
        memcmp(pixels, decoded, sizeof pixels) != 0) {
        fprintf(stderr, "decoded image differs: %s\n", read.message);
        return 1;
    }
    printf("libpng %s (zlib %s): %dx%d RGBA -> %lu bytes of PNG -> the same pixels\n",
           png_get_libpng_ver(NULL), zlibVersion(), WIDTH, HEIGHT, (unsigned long)size);
    free(encoded);
    return 0;
}
