/*
 * The STM32 system-memory USART bootloader protocol (ST application note AN3155), device side,
 * as a byte-driven state machine in portable C99: no I/O, no globals, no malloc. The platform
 * feeds every received byte to an3155_feed(), calls an3155_poll() now and then for the idle
 * timeout, and supplies the memory map, a transmit function and a jump function.
 *
 * Commands: GET 0x00, GET_VERSION 0x01, GET_ID 0x02, READ_MEMORY 0x11, GO 0x21,
 * WRITE_MEMORY 0x31, and ERASE 0x43 or EXTENDED_ERASE 0x44 (one of them, as configured; GET
 * reports which). Replies: ACK 0x79, NACK 0x1F.
 *
 * Flash regions behave like NOR flash: erase sets bytes to 0xFF, a write can only clear bits
 * (new = old & data), so a write without an erase is caught by the read-back verify, as on a
 * real chip. Sectors below a region's `protect_below` offset (the bootloader itself) refuse
 * writes and erases with a NACK; a mass erase skips them.
 *
 * Extension (documented, not in AN3155): GO refuses with NACK an address whose vector table
 * is erased or does not point into executable memory, instead of jumping into the void. A
 * platform that decides itself what to start (the bootloader built with a key, which only starts
 * images it has checked) sets `go_raw`: GO then ACKs any address and hands it over.
 */
#ifndef TINYFORGE_AN3155_H
#define TINYFORGE_AN3155_H

#include <stdint.h>

#define AN3155_ACK 0x79u
#define AN3155_NACK 0x1Fu
#define AN3155_SYNC 0x7Fu

#define AN3155_CMD_GET 0x00u
#define AN3155_CMD_GET_VERSION 0x01u
#define AN3155_CMD_GET_ID 0x02u
#define AN3155_CMD_READ_MEMORY 0x11u
#define AN3155_CMD_GO 0x21u
#define AN3155_CMD_WRITE_MEMORY 0x31u
#define AN3155_CMD_ERASE 0x43u
#define AN3155_CMD_EXTENDED_ERASE 0x44u

/* Region flags */
#define AN3155_R 0x01u     /* readable */
#define AN3155_W 0x02u     /* writable (RAM: plain stores) */
#define AN3155_FLASH 0x04u /* NOR semantics, erasable by sector */
#define AN3155_X 0x08u     /* GO may start code here */

#define AN3155_MAX_SECTORS 32u
#define AN3155_MAX_ERASE_LIST 64u

typedef struct {
    uint32_t bus_base;      /* address as seen over the protocol */
    uint32_t size;          /* bytes */
    uint8_t *mem;           /* where the bytes live for the platform */
    uint32_t cpu_base;      /* address the CPU executes this memory at (for GO) */
    uint32_t protect_below; /* offset: writes/erases below it are refused (0 = none) */
    uint8_t flags;
} an3155_region_t;

typedef struct {
    const an3155_region_t *regions;
    unsigned n_regions;
    /* Flash sector sizes in bytes, in order from the start of the first AN3155_FLASH region
     * (sector numbers are the page numbers of the erase commands). */
    const uint32_t *sectors;
    unsigned n_sectors;
    uint16_t pid;      /* GET_ID answer, e.g. 0x413 (STM32F405/407) */
    uint8_t version;   /* bootloader protocol version, e.g. 0x31 */
    uint8_t erase_cmd; /* AN3155_CMD_ERASE or AN3155_CMD_EXTENDED_ERASE */
    uint32_t idle_timeout_ms; /* a command left incomplete this long is dropped (0 = never) */
    /* transmit n bytes */
    void (*tx)(void *ctx, const uint8_t *data, unsigned n);
    /* start code: msp and entry (thumb bit set) from the vector table at cpu address `vtor`.
     * On a target it does not return; a host simulator may return (the engine then goes on). */
    void (*go)(void *ctx, uint32_t vtor, uint32_t msp, uint32_t entry);
    /* optional (NULL: use `go`): GO with any address, after its ACK */
    void (*go_raw)(void *ctx, uint32_t address);
    void *ctx;
} an3155_config_t;

typedef struct {
    uint32_t commands;
    uint32_t nacks;
    uint32_t bytes_written;
    uint32_t bytes_read;
    uint32_t timeouts;
} an3155_stats_t;

typedef struct {
    const an3155_config_t *cfg;
    int state;
    uint8_t cmd;
    uint8_t xor_acc;
    uint8_t msb;     /* extended erase: first byte of a page number */
    unsigned have;   /* bytes collected for the current field */
    unsigned need;   /* bytes expected for the current field */
    uint32_t addr;   /* bus address of the current READ/WRITE/GO */
    uint16_t count;  /* erase: pages - 1 */
    unsigned n_list; /* erase: pages collected (only the first AN3155_MAX_ERASE_LIST kept) */
    uint16_t list[AN3155_MAX_ERASE_LIST];
    uint8_t buf[260];
    uint32_t last_ms;
    an3155_stats_t stats;
} an3155_t;

void an3155_init(an3155_t *bl, const an3155_config_t *cfg);

/* One received byte at time now_ms. */
void an3155_feed(an3155_t *bl, uint8_t byte, uint32_t now_ms);

/* Drop a half-received command after the idle timeout (a host that went away mid-command). */
void an3155_poll(an3155_t *bl, uint32_t now_ms);

/* 1 once the initial 0x7F has been answered. */
int an3155_synced(const an3155_t *bl);

#endif /* TINYFORGE_AN3155_H */
