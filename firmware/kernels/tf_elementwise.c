/* ADD / SUB / MUL int8 reference kernels: see tf_elementwise.h; the loops are in
 * tf_elementwise_loops.h, shared with the int16 kernels. */
#include "tf_elementwise.h"

#define TF_EW_T int8_t
#define TF_EW_FN(name) name##_s8
#include "tf_elementwise_loops.h"
