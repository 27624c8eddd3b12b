/* Forced-included into model.c for host debug builds: per-layer output dumps. */
#ifndef TINYFORGE_HOST_HOOK_H
#define TINYFORGE_HOST_HOOK_H
#ifndef __ASSEMBLER__
void host_layer_hook(int n);
#define MODEL_LAYER_HOOK(n) host_layer_hook(n)
#endif
#endif
