/* AVERAGE_POOL_2D / MAX_POOL_2D int8 reference kernels: see tf_pool.h; the loops are in
 * tf_pool_loops.h, shared with the int16 kernels. */
#include "tf_pool.h"

#define TF_POOL_T int8_t
#define TF_POOL_LOWEST INT8_MIN
#define TF_POOL_FN(name) name##_s8
#include "tf_pool_loops.h"
