/* Integer matrix multiply: C = A x B for N x N matrices filled by a linear congruential
 * generator from SEED. Prints a checksum of C. Input file: "N SEED". Unsigned arithmetic
 * wraps the same way at every optimization level, so the output is exact. */
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>

static uint32_t next(uint32_t *s) { *s = *s * 1664525u + 1013904223u; return *s >> 8; }

int main(int argc, char **argv) {
    unsigned n, seed;
    FILE *f = argc > 1 ? fopen(argv[1], "r") : NULL;
    if (!f || fscanf(f, "%u %u", &n, &seed) != 2 || n == 0 || n > 2048) {
        fprintf(stderr, "usage: matmul FILE (holding \"N SEED\", N <= 2048)\n");
        return 2;
    }
    fclose(f);
    uint32_t *a = malloc(sizeof *a * n * n), *b = malloc(sizeof *b * n * n);
    uint32_t *c = calloc((size_t)n * n, sizeof *c);
    if (!a || !b || !c) return 3;
    uint32_t s = seed;
    for (size_t i = 0; i < (size_t)n * n; i++) { a[i] = next(&s) & 0xff; b[i] = next(&s) & 0xff; }
    for (unsigned i = 0; i < n; i++)
        for (unsigned k = 0; k < n; k++) {
            uint32_t aik = a[(size_t)i * n + k];
            for (unsigned j = 0; j < n; j++) c[(size_t)i * n + j] += aik * b[(size_t)k * n + j];
        }
    uint64_t sum = 0;
    for (size_t i = 0; i < (size_t)n * n; i++) sum = sum * 31 + c[i];
    printf("matmul n=%u checksum=%llu\n", n, (unsigned long long)sum);
    free(a); free(b); free(c);
    return 0;
}
