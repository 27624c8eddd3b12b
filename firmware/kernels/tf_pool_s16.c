/* AVERAGE_POOL_2D / MAX_POOL_2D int16 reference kernels: see tf_pool_s16.h; the loops are in
 * tf_pool_loops.h, shared with the int8 kernels. */
#include "tf_pool_s16.h"

#define TF_POOL_T int16_t
#define TF_POOL_LOWEST INT16_MIN
#define TF_POOL_FN(name) name##_s16
#include "tf_pool_loops.h"
