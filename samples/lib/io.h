/*
 * io.h - x86 port I/O and CPU control primitives for the sample guest
 * kernels. Everything here is a static inline wrapper around one
 * instruction, so the samples stay free of inline assembly elsewhere.
 */
#ifndef SAMPLES_IO_H
#define SAMPLES_IO_H

#include <stdint.h>

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void cpu_cli(void)
{
	__asm__ volatile("cli" ::: "memory");
}

static inline void cpu_sti(void)
{
	__asm__ volatile("sti" ::: "memory");
}

/*
 * Enable interrupts and halt as one step: sti delays interrupt delivery by
 * one instruction, so an interrupt that became pending while IF was clear
 * wakes the hlt instead of being taken before it (the lost-wakeup race).
 */
static inline void cpu_sti_hlt(void)
{
	__asm__ volatile("sti; hlt" ::: "memory");
}

static inline void cpu_hlt(void)
{
	__asm__ volatile("hlt" ::: "memory");
}

static inline void cpu_pause(void)
{
	__asm__ volatile("pause" ::: "memory");
}

static inline uint64_t cpu_read_flags(void)
{
	uint64_t f;

	__asm__ volatile("pushfq; popq %0" : "=r"(f) : : "memory");
	return f;
}

#define barrier() __asm__ volatile("" ::: "memory")

#endif
