/* Sorts N*N*16 pseudo-random 32-bit keys (from SEED) with a hand-written quicksort and
 * prints a checksum of the sorted order. Input: "N SEED". */
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>

static void sort(uint32_t *v, long lo, long hi) {
    while (lo < hi) {
        uint32_t p = v[lo + (hi - lo) / 2];
        long i = lo, j = hi;
        while (i <= j) {
            while (v[i] < p) i++;
            while (v[j] > p) j--;
            if (i <= j) { uint32_t t = v[i]; v[i] = v[j]; v[j] = t; i++; j--; }
        }
        if (j - lo < hi - i) { sort(v, lo, j); lo = i; } else { sort(v, i, hi); hi = j; }
    }
}

int main(int argc, char **argv) {
    unsigned n, seed;
    FILE *f = argc > 1 ? fopen(argv[1], "r") : NULL;
    if (!f || fscanf(f, "%u %u", &n, &seed) != 2 || n == 0 || n > 2048) {
        fprintf(stderr, "usage: qsort FILE (holding \"N SEED\", N <= 2048)\n");
        return 2;
    }
    fclose(f);
    size_t len = (size_t)n * n * 16;
    uint32_t *v = malloc(len * sizeof *v);
    if (!v) return 3;
    uint32_t s = seed;
    for (size_t i = 0; i < len; i++) { s ^= s << 13; s ^= s >> 17; s ^= s << 5; v[i] = s; }
    sort(v, 0, (long)len - 1);
    uint64_t sum = 0;
    for (size_t i = 0; i < len; i++) sum = sum * 1000003u + v[i];
    for (size_t i = 1; i < len; i++) if (v[i - 1] > v[i]) { printf("unsorted\n"); return 1; }
    printf("qsort keys=%zu checksum=%llu\n", len, (unsigned long long)sum);
    free(v);
    return 0;
}
