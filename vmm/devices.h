/*
 * devices.h — the machine's device models, and the few extra entry points
 * the machine needs beyond struct vmm_device (interrupt acknowledge on the
 * PIC, receive on the UART).
 *
 * Legacy PC layout: PIC pair 0x20/0xa0 (IRQ2 cascade, vectors set by the
 * guest's ICW2), PIT 0x40-0x43 and 0x61, RTC 0x70-0x71 (IRQ8), COM1 0x3f8
 * (IRQ4), isa-debug-exit 0xf4, debug console 0xe9, rrvm annotations 0xe8;
 * local APIC at 0xfee00000 (and its MSRs), I/O APIC at 0xfec00000, fw_cfg
 * 0x510-0x511, ACPI PM registers 0x600-0x63f.
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
extern const struct vmm_device vmm_dev_lapic;    /* dev_lapic.c: local APIC, 0xfee00000 */
extern const struct vmm_device vmm_dev_ioapic;   /* dev_ioapic.c: I/O APIC, 0xfec00000 */
extern const struct vmm_device vmm_dev_fwcfg;    /* dev_fwcfg.c: QEMU fw_cfg, 0x510-0x511 */
extern const struct vmm_device vmm_dev_acpipm;   /* dev_acpipm.c: ACPI PM registers, 0x600 */

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

/* Local APIC. message: an interrupt message from the I/O APIC. pending:
 * the vector it would have the CPU take now (VMM_LAPIC_NMI for an NMI),
 * or -1; ack moves it from IRR to ISR and returns it. accepts_pic: whether
 * the 8259's INTR reaches the CPU (LINT0 unmasked, or APIC disabled).
 * last_source: where the last acknowledged vector came from. The TPR is
 * also CR8, which the vCPU keeps: get and set it. */
#define VMM_LAPIC_NMI 0x102
void vmm_lapic_message(void *lapic_state, const struct vmm_bus *bus, const struct vmm_apic_msg *m);
int vmm_lapic_pending(const void *lapic_state);
int vmm_lapic_ack(void *lapic_state);
bool vmm_lapic_accepts_pic(const void *lapic_state);
unsigned vmm_lapic_last_source(const void *lapic_state, unsigned *detail);
uint8_t vmm_lapic_tpr(const void *lapic_state);
void vmm_lapic_set_tpr(void *lapic_state, uint8_t tpr);

/* I/O APIC: drive pin (0-23) to level; EOI for a level-triggered vector. */
void vmm_ioapic_set_pin(void *ioapic_state, const struct vmm_bus *bus, unsigned pin, int level);
void vmm_ioapic_eoi(void *ioapic_state, const struct vmm_bus *bus, uint8_t vector);

/* fw_cfg's configuration: RAM size and the command line (kernel path
 * first; fw_cfg serves what follows it, and only for the Linux boot
 * protocol, as QEMU). Kept in its state block. */
void vmm_fwcfg_configure(void *fwcfg_state, uint64_t ram_size, const char *cmdline, bool linux_boot);

/* A --trace-io line from device dev about what the guest did (printf
 * format); nothing when tracing is off. */
void vmm_dev_trace(const struct vmm_bus *bus, const char *dev, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

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
