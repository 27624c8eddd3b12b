/* A model whose inference never returns: `tinyforge test` must stop it at --timeout. */
#include <stdint.h>

#include "model.h"

void model_init(void)
{
}

int model_invoke(const int8_t *const inputs[], int8_t *const outputs[])
{
    (void)inputs;
    (void)outputs;
    for (;;) {
        __asm__ volatile("nop");
    }
    return 0;
}
