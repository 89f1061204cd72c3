/*
 * devices.h — the machine's device models, and the few extra entry points
 * the machine needs beyond struct vmm_device (interrupt acknowledge on the
 * PIC, receive on the UART).
 *
 * Legacy PC layout: PIC pair 0x20/0xa0 (IRQ2 cascade, vectors set by the
 * guest's ICW2), PIT 0x40-0x43 and 0x61, RTC 0x70-0x71 (IRQ8), COM1 0x3f8
 * (IRQ4), isa-debug-exit 0xf4, debug console 0xe9, rrvm annotations 0xe8.
 */
#ifndef RRVM_VMM_DEVICES_H
#define RRVM_VMM_DEVICES_H

#include <stdbool.h>
#include "vmm/device.h"

extern const struct vmm_device vmm_dev_pic;      /* dev_pic.c  */
extern const struct vmm_device vmm_dev_pit;      /* dev_pit.c  */
extern const struct vmm_device vmm_dev_rtc;      /* dev_rtc.c  */
extern const struct vmm_device vmm_dev_uart;     /* dev_uart.c: COM1 */
extern const struct vmm_device vmm_dev_debugexit;/* dev_debugexit.c: 0xf4 */
extern const struct vmm_device vmm_dev_debugcon; /* dev_debugcon.c: 0xe9 */
extern const struct vmm_device vmm_dev_rrvmport; /* dev_rrvmport.c: 0xe8 annotations */

/* The machine's device table, in reset order, and its length. */
extern const struct vmm_device *const vmm_devices[];
extern const unsigned vmm_device_count;

/* 8259A pair. set_irq drives ISA line irq (0-15) on the pair. */
void vmm_pic_set_irq(void *pic_state, unsigned irq, int level);
/* The vector the pair would deliver now (highest-priority unmasked request
 * not blocked by an in-service interrupt), or -1. Does not change state. */
int vmm_pic_pending(const void *pic_state);
/* Interrupt acknowledge: the vector delivered (IRR -> ISR, auto-EOI if
 * programmed); a spurious IRQ7/IRQ15 vector if the request went away. */
int vmm_pic_ack(void *pic_state);

/* 16550 receive side: how many bytes the receive FIFO can take now, and
 * push up to n bytes (returns how many were taken; raises the receive
 * interrupt when enabled). */
size_t vmm_uart_rx_space(const void *uart_state);
size_t vmm_uart_rx_push(void *uart_state, const struct vmm_bus *bus, const uint8_t *buf, size_t n);

/* ---- time for timer devices (devtime.c) ----------------------------------- */

#define VMM_NS_PER_S 1000000000ull

/* The one clock, read at most once per port access or poll: start each
 * access with { .bus = bus } (or .ns/.have = 1 when the time is given). */
struct vmm_dev_clock {
	const struct vmm_bus *bus;
	uint64_t ns;
	int have;
};
/* Monotonic ns, read from the bus on the first call only. */
uint64_t vmm_dev_clock_now(struct vmm_dev_clock *clk);
/* Whole ticks of a hz clock elapsed in ns nanoseconds (rounded down). */
uint64_t vmm_ns_to_ticks(uint64_t ns, uint64_t hz);
/* The first nanosecond by which ticks ticks of a hz clock have elapsed
 * (rounded up); UINT64_MAX when that is beyond 64 bits. */
uint64_t vmm_ticks_to_ns(uint64_t ticks, uint64_t hz);
/* a / b rounded towards minus infinity. */
int64_t vmm_floor_div(int64_t a, int64_t b);

#endif
