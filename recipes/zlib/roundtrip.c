/* zlib under WASI: compress and uncompress a buffer, stream it through deflate/inflate with a
 * gzip header, and check CRC-32 and Adler-32 against their published check values. */
#include <stdio.h>
#include <string.h>
#include <zlib.h>

int main(void) {
    const char *check = "123456789";
    unsigned long crc = crc32(0L, (const Bytef *)check, 9);
    unsigned long adler = adler32(1L, (const Bytef *)check, 9);
    if (crc != 0xCBF43926UL || adler != 0x091E01DEUL) {
        fprintf(stderr, "check values: crc32 %08lx adler32 %08lx\n", crc, adler);
        return 1;
    }

    unsigned char input[20000], packed[24000], unpacked[20000];
    for (size_t i = 0; i < sizeof input; i++) {
        input[i] = (unsigned char)("wheelforge zlib "[i % 16] ^ (i / 1000));
    }
    uLongf packed_size = sizeof packed, unpacked_size = sizeof unpacked;
    if (compress2(packed, &packed_size, input, sizeof input, Z_BEST_COMPRESSION) != Z_OK ||
        uncompress(unpacked, &unpacked_size, packed, packed_size) != Z_OK ||
        unpacked_size != sizeof input || memcmp(input, unpacked, sizeof input) != 0) {
        fprintf(stderr, "compress/uncompress round trip failed\n");
        return 1;
    }

    z_stream stream;
    memset(&stream, 0, sizeof stream);
    /* 15 + 16: a gzip wrapper. */
    if (deflateInit2(&stream, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return 1;
    stream.next_in = input;
    stream.avail_in = sizeof input;
    stream.next_out = packed;
    stream.avail_out = sizeof packed;
    if (deflate(&stream, Z_FINISH) != Z_STREAM_END) return 1;
    uLong gzip_size = stream.total_out;
    deflateEnd(&stream);
    if (packed[0] != 0x1f || packed[1] != 0x8b) {
        fprintf(stderr, "no gzip header\n");
        return 1;
    }
    memset(&stream, 0, sizeof stream);
    if (inflateInit2(&stream, 15 + 32) != Z_OK) return 1;
    stream.next_in = packed;
    stream.avail_in = (uInt)gzip_size;
    stream.next_out = unpacked;
    stream.avail_out = sizeof unpacked;
    if (inflate(&stream, Z_FINISH) != Z_STREAM_END || stream.total_out != sizeof input ||
        memcmp(input, unpacked, sizeof input) != 0) {
        fprintf(stderr, "gzip stream round trip failed\n");
        return 1;
    }
    inflateEnd(&stream);
    printf("zlib %s: %zu bytes -> %lu (compress2), %lu (gzip stream); crc32 and adler32 check values ok\n",
           zlibVersion(), sizeof input, (unsigned long)packed_size, gzip_size);
    return 0;
}
