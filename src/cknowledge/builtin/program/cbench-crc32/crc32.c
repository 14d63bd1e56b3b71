/* CRC-32 (IEEE) of a pseudo-random buffer of N*N*64 bytes made from SEED, computed bit
 * by bit (no table) so that the compiler's loop optimizations matter. Input: "N SEED". */
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>

int main(int argc, char **argv) {
    unsigned n, seed;
    FILE *f = argc > 1 ? fopen(argv[1], "r") : NULL;
    if (!f || fscanf(f, "%u %u", &n, &seed) != 2 || n == 0 || n > 2048) {
        fprintf(stderr, "usage: crc32 FILE (holding \"N SEED\", N <= 2048)\n");
        return 2;
    }
    fclose(f);
    size_t len = (size_t)n * n * 64;
    unsigned char *buf = malloc(len);
    if (!buf) return 3;
    uint32_t s = seed;
    for (size_t i = 0; i < len; i++) { s = s * 1103515245u + 12345u; buf[i] = (unsigned char)(s >> 16); }
    uint32_t crc = 0xffffffffu;
    for (size_t i = 0; i < len; i++) {
        crc ^= buf[i];
        for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
    }
    printf("crc32 bytes=%zu crc=%08x\n", len, crc ^ 0xffffffffu);
    free(buf);
    return 0;
}
