/* libjpeg-turbo under WASI: compress an RGB gradient to JPEG in memory, check the SOI marker,
 * decompress it and compare every sample within the loss quality 95 allows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>

enum { WIDTH = 64, HEIGHT = 48 };

int main(void) {
    static unsigned char pixels[WIDTH * HEIGHT * 3], decoded[WIDTH * HEIGHT * 3];
    for (int y = 0; y < HEIGHT; y++) {
        for (int x = 0; x < WIDTH; x++) {
            unsigned char *p = &pixels[(y * WIDTH + x) * 3];
            p[0] = (unsigned char)(x * 4);
            p[1] = (unsigned char)(y * 5);
            p[2] = (unsigned char)(128 + x - y);
        }
    }
    struct jpeg_compress_struct compress;
    struct jpeg_error_mgr errors;
    compress.err = jpeg_std_error(&errors);
    jpeg_create_compress(&compress);
    unsigned char *encoded = NULL;
    unsigned long size = 0;
    jpeg_mem_dest(&compress, &encoded, &size);
    compress.image_width = WIDTH;
    compress.image_height = HEIGHT;
    compress.input_components = 3;
    compress.in_color_space = JCS_RGB;
    jpeg_set_defaults(&compress);
    jpeg_set_quality(&compress, 95, TRUE);
    jpeg_start_compress(&compress, TRUE);
    while (compress.next_scanline < HEIGHT) {
        JSAMPROW row = &pixels[compress.next_scanline * WIDTH * 3];
        jpeg_write_scanlines(&compress, &row, 1);
    }
    jpeg_finish_compress(&compress);
    jpeg_destroy_compress(&compress);
    if (size < 4 || encoded[0] != 0xFF || encoded[1] != 0xD8) {
        fprintf(stderr, "no JPEG SOI marker (%lu bytes)\n", size);
        return 1;
    }

    struct jpeg_decompress_struct decompress;
    decompress.err = jpeg_std_error(&errors);
    jpeg_create_decompress(&decompress);
    jpeg_mem_src(&decompress, encoded, size);
    jpeg_read_header(&decompress, TRUE);
    decompress.out_color_space = JCS_RGB;
    jpeg_start_decompress(&decompress);
    if (decompress.output_width != WIDTH || decompress.output_height != HEIGHT ||
        decompress.output_components != 3) {
        fprintf(stderr, "decoded %ux%u x%d\n", decompress.output_width,
                decompress.output_height, decompress.output_components);
        return 1;
    }
    while (decompress.output_scanline < HEIGHT) {
        JSAMPROW row = &decoded[decompress.output_scanline * WIDTH * 3];
        jpeg_read_scanlines(&decompress, &row, 1);
    }
    jpeg_finish_decompress(&decompress);
    jpeg_destroy_decompress(&decompress);
    int worst = 0;
    for (size_t i = 0; i < sizeof pixels; i++) {
        int difference = abs((int)pixels[i] - (int)decoded[i]);
        if (difference > worst) worst = difference;
    }
    if (worst > 12) {
        fprintf(stderr, "decoded samples differ by up to %d\n", worst);
        return 1;
    }
    printf("libjpeg-turbo (libjpeg API %d): %dx%d RGB -> %lu bytes of JPEG -> samples within %d\n",
           JPEG_LIB_VERSION, WIDTH, HEIGHT, size, worst);
    free(encoded);
    return 0;
}
