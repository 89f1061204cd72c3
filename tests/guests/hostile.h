/*
 * hostile.h - helpers shared by the hostile guest kernels (tests/guests):
 * a deterministic pseudo-random generator, 16/32-bit port reads, an
 * annotation on the rrvm port, and the end of a run. The kernels try to
 * break rrvm, not to test the devices: what they check is that rrvm
 * survives, replays them exactly and stays within bounded memory.
 */
#ifndef HOSTILE_H
#define HOSTILE_H

#include "io.h"
#include "kernel.h"

#define RRVM_PORT 0xe8

/* xorshift64: the same sequence in every run, recorded or not. */
static inline uint64_t hostile_rand(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

static inline uint16_t inw(uint16_t port)
{
	uint16_t v;

	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;

	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

/* One annotation: the text, then the newline that ends it. */
static inline void hostile_annotate(const char *text)
{
	while (*text)
		outb(RRVM_PORT, (uint8_t)*text++);
	outb(RRVM_PORT, '\n');
}

/* Print the summary line and end the run with exit value 0 (status 1). */
static inline __attribute__((noreturn)) void hostile_done(const char *name, uint64_t n)
{
	kprintf("%s: done, %lu accesses\n", name, (unsigned long)n);
	kexit(0);
}

#endif
