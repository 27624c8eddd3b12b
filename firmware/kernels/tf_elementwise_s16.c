/* ADD / SUB / MUL int16 reference kernels: see tf_elementwise_s16.h; the loops are in
 * tf_elementwise_loops.h, shared with the int8 kernels. */
#include "tf_elementwise_s16.h"

#define TF_EW_T int16_t
#define TF_EW_FN(name) name##_s16
#include "tf_elementwise_loops.h"
