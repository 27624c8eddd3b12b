/*
 * tinyforge's serial bootloader for the emulated bench: the AN3155 engine (an3155.c) on the BSP
 * console UART. It lives in the first BL_APP_OFFSET bytes of the board's flash, writes what the
 * host sends into the flash after it, and on GO starts the application: VTOR = its vector table,
 * MSP = its initial stack pointer, jump to its reset handler. Built by tinyforge (flash/emulated_bench.py)
 * with `build_program(board, [main.c, an3155.c])`; prints nothing of its own, as a ROM
 * bootloader would not.
 *
 * Built with BL_SECURE (a public key in bl_key.h; tinyforge build-bootloader --key) it is a
 * secure second-stage bootloader instead (bl_boot.c): the flash holds two MCUboot image slots
 * (bl_layout.h); at reset it starts the newest valid image (hash and Ed25519 signature checked
 * after copying it to BL_LOAD_ADDR) and prints one `TF BOOT` line, unless the bench's BOOT0 strap
 * (tf_boot.h) keeps it in the serial protocol. There GO never jumps to an address: it resets into
 * the slot check (the flasher's "reset"). The status block at TF_BOOT_SHARED_ADDR tells the
 * flasher what each slot holds and the application where to confirm itself.
 */
#include <stdint.h>

#include "an3155.h"
#include "bl_layout.h"
#include "bsp.h"
#include "cortexm.h"
#ifdef BL_SECURE
#include "bl_boot.h"
#include "bl_key.h" /* generated: bl_public_key[32] */
#endif

#ifndef BL_FLASH_CPU_BASE
#define BL_FLASH_CPU_BASE 0x00000000u /* where the CPU executes the flash bytes (mps2: SSRAM1) */
#endif

#define SCB_ICSR_PENDSTCLR (1u << 25)
#define BL_MPU_CTRL TF_REG32(0xE000ED94u) /* same address on ARMv7-M and ARMv8-M */

/*
 * Idle in WFI instead of spinning on the UART (BL_CMSDK_RX_IRQ = the console UART's RX interrupt
 * number, set by the build for CMSDK UART consoles): an emulated core that polls a device register
 * keeps a host CPU busy and slows the emulator's I/O thread, which delivers every received byte.
 * The RX interrupt only wakes the core; its handler (in a RAM copy of the vector table) clears it.
 */
#ifdef BL_CMSDK_RX_IRQ
#include "bsp_config.h"

#define NVIC_ISER0 TF_REG32(0xE000E100u)
#define NVIC_ICER0 TF_REG32(0xE000E180u)
#define NVIC_ICPR0 TF_REG32(0xE000E280u)
#define UART_STATE TF_REG32(BSP_CONSOLE_BASE + 0x04u)
#define UART_CTRL TF_REG32(BSP_CONSOLE_BASE + 0x08u)
#define UART_INTCLEAR TF_REG32(BSP_CONSOLE_BASE + 0x0Cu)
#define UART_STATE_RX_FULL (1u << 1)
#define UART_CTRL_RX_INT (1u << 3)
#define UART_INT_RX (1u << 1)
#define BL_NUM_VECTORS (16u + BSP_NUM_IRQS)

typedef void (*bl_vector_t)(void);
static bl_vector_t g_vectors[BL_NUM_VECTORS] __attribute__((aligned(512)));

static void bl_uart_rx_irq(void)
{
    UART_INTCLEAR = UART_INT_RX; /* the main loop reads the byte */
}

static void idle_init(void)
{
    const bl_vector_t *bsp = (const bl_vector_t *)(uintptr_t)SCB_VTOR;
    unsigned i;
    for (i = 0; i < BL_NUM_VECTORS; ++i) {
        g_vectors[i] = bsp[i];
    }
    g_vectors[16u + BL_CMSDK_RX_IRQ] = bl_uart_rx_irq;
    SCB_VTOR = (uint32_t)(uintptr_t)g_vectors;
    tf_dsb_isb();
    UART_INTCLEAR = UART_INT_RX;
    UART_CTRL |= UART_CTRL_RX_INT;
    NVIC_ISER0 = 1u << BL_CMSDK_RX_IRQ;
}

static void idle_wait(void)
{
    /* with interrupts masked, a byte arriving after the check still ends the WFI */
    tf_irq_disable();
    if ((UART_STATE & UART_STATE_RX_FULL) == 0u) {
        __asm__ volatile("wfi");
    }
    tf_irq_enable();
}

static void idle_done(void)
{
    UART_CTRL &= ~UART_CTRL_RX_INT;
    UART_INTCLEAR = UART_INT_RX;
    NVIC_ICER0 = 1u << BL_CMSDK_RX_IRQ;
    NVIC_ICPR0 = 1u << BL_CMSDK_RX_IRQ;
}
#else
static void idle_init(void)
{
}
static void idle_wait(void)
{
}
static void idle_done(void)
{
}
#endif

static void bl_tx(void *ctx, const uint8_t *data, unsigned n)
{
    (void)ctx;
    while (n-- > 0u) {
        bsp_putc((char)*data++);
    }
}

__attribute__((noreturn)) static void bl_go(void *ctx, uint32_t vtor, uint32_t msp, uint32_t entry)
{
    (void)ctx;
    /* hand over a quiet core, as after reset: no MPU, no SysTick, nothing pending, interrupts
     * masked until the application's bsp_init() enables them */
    tf_irq_disable();
    idle_done();
    BL_MPU_CTRL = 0u; /* the BSP's stack guard belongs to the bootloader's memory layout */
    SYST_CSR = 0u;
    SCB_ICSR = SCB_ICSR_PENDSTCLR;
    SCB_VTOR = vtor;
    tf_dsb_isb();
    __asm__ volatile("msr msp, %0\n\t"
                     "bx %1\n\t"
                     :
                     : "r"(msp), "r"(entry)
                     : "memory");
    for (;;) {
    }
}

/* A pointer to absolute address `a` that the compiler cannot prove is NULL (flash starts at 0). */
static uint8_t *mem_at(uint32_t a)
{
    uintptr_t p = (uintptr_t)a;
    __asm__("" : "+r"(p));
    return (uint8_t *)p;
}

#ifdef BL_SECURE
static uint8_t g_key_hash[32];

static tf_boot_shared_t *shared(void)
{
    return (tf_boot_shared_t *)(void *)mem_at(TF_BOOT_SHARED_ADDR);
}

/* GO in secure mode: whatever the address, reset and let the slot check decide what runs. */
static void bl_go_reset(void *ctx, uint32_t address)
{
    (void)ctx;
    (void)address;
    shared()->request = TF_BOOT_REQUEST_BOOT;
    tf_irq_disable();
    idle_done();
    tf_dsb_isb();
    SCB_AIRCR = SCB_AIRCR_VECTKEY | SCB_AIRCR_SYSRESETREQ;
    tf_dsb_isb();
    for (;;) {
    }
}

/* At reset: look at the slots; start the newest valid image unless the strap keeps the serial
 * bootloader. Returns only to run the serial protocol (strap set, or nothing to start). */
static void secure_start(void)
{
    static bl_boot_config_t cfg;
    static bl_boot_result_t result;
    tf_boot_shared_t *st = shared();
    int boot = st->request == TF_BOOT_REQUEST_BOOT || st->strap != TF_BOOT_STRAP_SERIAL;
    st->request = 0u;
    if (st->magic != TF_BOOT_MAGIC) {
        st->boots = 0u; /* power-on: the block holds nothing yet */
    }
    bl_key_hash(bl_public_key, g_key_hash);
    cfg.slot[0] = mem_at(BL_STORAGE_BASE + BL_SLOT0_OFFSET);
    cfg.slot[1] = mem_at(BL_STORAGE_BASE + BL_SLOT1_OFFSET);
    cfg.slot_cpu_addr[0] = BL_STORAGE_BASE + BL_SLOT0_OFFSET;
    cfg.slot_cpu_addr[1] = BL_STORAGE_BASE + BL_SLOT1_OFFSET;
    cfg.slot_size = BL_SLOT_SIZE;
    cfg.load = mem_at(BL_LOAD_ADDR);
    cfg.load_addr = BL_LOAD_ADDR;
    cfg.load_size = BL_SLOT_SIZE;
    cfg.public_key = bl_public_key;
    cfg.key_hash = g_key_hash;
    bl_boot_evaluate(&cfg, st, boot, &result);
    if (!boot) {
        return; /* the serial bootloader, quiet as before a sync */
    }
    bsp_puts(result.line);
    bsp_puts("\n");
    if (result.chosen != TF_BOOT_NONE) {
        const uint8_t *v = mem_at(result.entry);
        uint32_t msp = (uint32_t)v[0] | ((uint32_t)v[1] << 8) | ((uint32_t)v[2] << 16) | ((uint32_t)v[3] << 24);
        uint32_t pc = (uint32_t)v[4] | ((uint32_t)v[5] << 8) | ((uint32_t)v[6] << 16) | ((uint32_t)v[7] << 24);
        bl_go(0, result.entry, msp, pc);
    }
}
#endif

static uint32_t now_ms(uint32_t ticks_per_ms)
{
    return (uint32_t)(bsp_ticks() / ticks_per_ms);
}

int main(void)
{
    static const uint32_t sectors[] = BL_SECTORS;
    static an3155_region_t regions[3];
    static an3155_config_t cfg;
    static an3155_t bl;
    uint32_t ticks_per_ms;

    bsp_init();
    ticks_per_ms = bsp_tick_hz() / 1000u;
    if (ticks_per_ms == 0u) {
        ticks_per_ms = 1u;
    }
#ifdef BL_SECURE
    secure_start();
#endif

#ifdef BL_SECURE
    /* the flash's bytes are in BL_STORAGE_BASE; nothing in it may be started directly (GO resets
     * into the slot check); 0x0..BL_APP_OFFSET shows the bootloader and its status block */
    regions[0].bus_base = BL_FLASH_BUS_BASE;
    regions[0].size = BL_FLASH_SIZE;
    regions[0].mem = mem_at(BL_STORAGE_BASE);
    regions[0].cpu_base = BL_STORAGE_BASE;
    regions[0].protect_below = BL_APP_OFFSET;
    regions[0].flags = AN3155_R | AN3155_W | AN3155_FLASH;
    regions[1].bus_base = BL_FLASH_CPU_BASE;
    regions[1].size = BL_APP_OFFSET;
    regions[1].mem = mem_at(BL_FLASH_CPU_BASE);
    regions[1].cpu_base = BL_FLASH_CPU_BASE;
    regions[1].protect_below = 0u;
    regions[1].flags = AN3155_R;
#else
    regions[0].bus_base = BL_FLASH_BUS_BASE;
    regions[0].size = BL_FLASH_SIZE;
    regions[0].mem = mem_at(BL_FLASH_CPU_BASE);
    regions[0].cpu_base = BL_FLASH_CPU_BASE;
    regions[0].protect_below = BL_APP_OFFSET;
    regions[0].flags = AN3155_R | AN3155_W | AN3155_FLASH | AN3155_X;
    regions[1] = regions[0];
    regions[1].bus_base = BL_FLASH_CPU_BASE;
#endif
    regions[2].bus_base = BL_RAM_BUS_BASE;
    regions[2].size = BL_RAM_SIZE;
    regions[2].mem = mem_at(BL_RAM_BUS_BASE);
    regions[2].cpu_base = BL_RAM_BUS_BASE;
    regions[2].protect_below = 0u;
    regions[2].flags = AN3155_R | AN3155_W | AN3155_X;

    cfg.regions = regions;
    cfg.n_regions = 3u;
    cfg.sectors = sectors;
    cfg.n_sectors = BL_N_SECTORS;
    cfg.pid = BL_PID;
    cfg.version = BL_VERSION;
    cfg.erase_cmd = BL_ERASE_CMD;
    cfg.idle_timeout_ms = BL_IDLE_TIMEOUT_MS;
    cfg.tx = bl_tx;
    cfg.go = bl_go;
#ifdef BL_SECURE
    cfg.go_raw = bl_go_reset;
#endif
    cfg.ctx = 0;
    an3155_init(&bl, &cfg);
    idle_init();

    for (;;) {
        int c = bsp_getc();
        if (c >= 0) {
            an3155_feed(&bl, (uint8_t)c, now_ms(ticks_per_ms));
        } else {
            an3155_poll(&bl, now_ms(ticks_per_ms));
            idle_wait();
        }
    }
}
