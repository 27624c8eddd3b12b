/* The running image's slot, version and confirmation: see tf_image.h and tf_boot.h. */
#include "tf_image.h"

#include "bsp_config.h"
#include "tf_boot.h"

#ifdef TF_BOOT_SHARED_ADDR

#define BOOT_FLAG_SET 0x01u

static volatile tf_boot_shared_t *shared(void)
{
    uintptr_t p = (uintptr_t)TF_BOOT_SHARED_ADDR;
    __asm__("" : "+r"(p)); /* an absolute address the compiler must not reason about */
    return (volatile tf_boot_shared_t *)p;
}

static int started_from_slot(void)
{
    volatile tf_boot_shared_t *s = shared();
    return s->magic == TF_BOOT_MAGIC && s->layout == TF_BOOT_LAYOUT && s->booted_slot < 2u &&
           s->image_ok_addr != 0u && s->image_ok_addr != TF_BOOT_NONE;
}

int tf_image_info(tf_image_info_t *info)
{
    volatile tf_boot_shared_t *s = shared();
    volatile const tf_boot_slot_t *slot;
    if (!started_from_slot()) {
        return -1;
    }
    slot = &s->slot[s->booted_slot];
    info->slot = s->booted_slot;
    info->major = slot->major;
    info->minor = slot->minor;
    info->revision = slot->revision;
    info->build = slot->build;
    info->confirmed = *(volatile const uint8_t *)(uintptr_t)s->image_ok_addr == BOOT_FLAG_SET;
    return 0;
}

int tf_image_confirm(void)
{
    volatile uint8_t *image_ok;
    if (!started_from_slot()) {
        return -1;
    }
    image_ok = (volatile uint8_t *)(uintptr_t)shared()->image_ok_addr;
    if (*image_ok != BOOT_FLAG_SET) {
        /* The bench's flash is memory: a store programs it (clearing bits 0xFF -> 0x01, as a
         * real flash write would). A board with real flash programs the byte through its flash
         * controller here. */
        *image_ok = BOOT_FLAG_SET;
    }
    shared()->slot[shared()->booted_slot].trailer = TF_BOOT_TRAILER_CONFIRMED;
    return 0;
}

#else

int tf_image_info(tf_image_info_t *info)
{
    (void)info;
    return -1;
}

int tf_image_confirm(void)
{
    return -1;
}

#endif
