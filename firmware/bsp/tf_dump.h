/* Forced-included into model.c (gcc -include tf_dump.h, with -DMODEL_DEBUG_LAYERS) to find the
 * first layer that differs from the reference: the harness (main.c built with -DTF_DUMP_LAYERS)
 * prints every layer's output as `TF LOG layer n=.. op=.. data=<hex>`. */
#ifndef TINYFORGE_DUMP_H
#define TINYFORGE_DUMP_H
void tf_dump_layer(int n);
#define MODEL_LAYER_HOOK(n) tf_dump_layer(n)
#endif
