/* Forced-included into model.c (gcc -include tf_profile.h) for per-layer profiling: the harness
 * (main.c built with -DTF_PROFILE_LAYERS) times every layer with bsp_ticks(). */
#ifndef TINYFORGE_PROFILE_H
#define TINYFORGE_PROFILE_H
void tf_profile_layer(int n);
#define MODEL_LAYER_HOOK(n) tf_profile_layer(n)
#endif
