/*
 * The running image, for firmware started by tinyforge's bench bootloader from a signed
 * (MCUboot-format) image: a companion to model.h. Built into `tinyforge build --sign/--mcuboot`
 * firmware; the generated harness calls tf_image_confirm() when its run passes (before TF DONE).
 *
 *     tf_image_info_t info;
 *     if (tf_image_info(&info) == 0) { ... info.slot, info.major ... }
 *     tf_image_confirm();   mark the running image good: the bootloader keeps it from now on
 *
 * An image that is never confirmed (it faults, hangs or fails its checks) is rolled back at the
 * next reset: the bootloader starts the previous image again.
 */
#ifndef TINYFORGE_TF_IMAGE_H
#define TINYFORGE_TF_IMAGE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    uint32_t slot;
    uint32_t major, minor, revision, build;
    int confirmed; /* 1 if image_ok is set */
} tf_image_info_t;

/* 0 and the running image's slot and version; -1 if no bootloader started it from a slot. */
int tf_image_info(tf_image_info_t *info);

/* Mark the running image good. 0: confirmed (now or before); -1: not started from a slot. */
int tf_image_confirm(void);

#ifdef __cplusplus
}
#endif

#endif /* TINYFORGE_TF_IMAGE_H */
