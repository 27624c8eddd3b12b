/* A model whose inference writes to an address with no memory behind it: a precise BusFault
 * (escalated to HardFault when BusFault is disabled) that `tinyforge test` must decode to this
 * function and line. */
#include <stdint.h>

#include "model.h"

void model_init(void)
{
}

int model_invoke(const int8_t *const inputs[], int8_t *const outputs[])
{
    volatile uint32_t *nowhere = (volatile uint32_t *)(uintptr_t)0xF0000000u;
    (void)inputs;
    (void)outputs;
    *nowhere = 0x1234u; /* FAULT_HERE */
    return 0;
}
