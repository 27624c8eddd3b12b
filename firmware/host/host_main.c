/*
 * Host harness: runs a generated model natively (the `host` board) on inputs read from a file
 * and prints the tinyforge result protocol (see tinyforge/serial/protocol.py) on stdout.
 *
 *   model_host INPUTS.bin [--layers] [--reset-every N]
 *
 * INPUTS.bin holds N records; a record is every input buffer, in order, back to back.
 * With --layers, every layer's output is printed after it runs (TF LOG layer ...), to find the
 * first layer that differs from the reference. A stateful model keeps its state from record to
 * record; --reset-every N calls model_reset_state() before records N, 2N, ...
 */
#define _POSIX_C_SOURCE 199309L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model.h"

static int g_dump_layers;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void print_hex(const int8_t *p, uint32_t n)
{
    static const char digits[] = "0123456789abcdef";
    uint32_t i;
    for (i = 0; i < n; ++i) {
        uint8_t b = (uint8_t)p[i];
        putchar(digits[b >> 4]);
        putchar(digits[b & 15]);
    }
}

#ifdef MODEL_DEBUG_LAYERS
void host_layer_hook(int n);
void host_layer_hook(int n)
{
    int prev = (n < 0) ? MODEL_NUM_LAYERS - 1 : n - 1;
    uint32_t bytes = 0;
    int op_index = 0;
    const int8_t *p;
    if (!g_dump_layers || prev < 0) {
        return;
    }
    p = model_layer_output(prev, &bytes, &op_index);
    if (p == NULL) {
        return;
    }
    printf("TF LOG layer n=%d op=%d data=", prev, op_index);
    print_hex(p, bytes);
    putchar('\n');
}
#endif

int main(int argc, char **argv)
{
    static int8_t in_buf[MODEL_NUM_INPUTS][1 << 20];
    static int8_t out_buf[MODEL_NUM_OUTPUTS][1 << 20];
    const int8_t *ins[MODEL_NUM_INPUTS];
    int8_t *outs[MODEL_NUM_OUTPUTS];
    FILE *f;
    int i, count = 0;
    long reset_every = 0;

    if (argc < 2) {
        fprintf(stderr, "usage: %s INPUTS.bin [--layers] [--reset-every N]\n", argv[0]);
        return 2;
    }
    for (i = 2; i < argc; ++i) {
        if (strcmp(argv[i], "--layers") == 0) {
            g_dump_layers = 1;
        } else if (strcmp(argv[i], "--reset-every") == 0 && i + 1 < argc) {
            reset_every = strtol(argv[++i], NULL, 10);
        } else {
            fprintf(stderr, "unknown argument %s\n", argv[i]);
            return 2;
        }
    }
    f = fopen(argv[1], "rb");
    if (f == NULL) {
        fprintf(stderr, "cannot open %s\n", argv[1]);
        return 2;
    }
    for (i = 0; i < MODEL_NUM_INPUTS; ++i) {
        ins[i] = in_buf[i];
    }
    for (i = 0; i < MODEL_NUM_OUTPUTS; ++i) {
        outs[i] = out_buf[i];
    }
    model_init();
    printf("TF BEGIN board=host model=%.16s inputs=-1\n", MODEL_SHA256);
    for (;;) {
        uint64_t t0, t1;
        int ok = 1;
        for (i = 0; i < MODEL_NUM_INPUTS; ++i) {
            if (fread(in_buf[i], 1, model_input_bytes[i], f) != model_input_bytes[i]) {
                ok = 0;
                break;
            }
        }
        if (!ok) {
            break;
        }
        if (reset_every > 0 && count > 0 && count % reset_every == 0) {
            model_reset_state();
        }
        t0 = now_ns();
        model_invoke(ins, outs);
        t1 = now_ns();
        printf("TF RESULT idx=%d ticks=%llu", count, (unsigned long long)(t1 - t0));
        for (i = 0; i < MODEL_NUM_OUTPUTS; ++i) {
            printf(" out%d=", i);
            print_hex(out_buf[i], model_output_bytes[i]);
        }
        putchar('\n');
        ++count;
    }
    fclose(f);
    printf("TF DONE status=pass count=%d\n", count);
    return 0;
}
