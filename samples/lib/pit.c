/*
 * pit.c - 8254 PIT channel 0. The samples use it in mode 2 (rate
 * generator) as the periodic timer on IRQ 0, and read it back with the
 * counter-latch command to check the device model's count.
 */
#include "io.h"
#include "kernel.h"

#define PIT_CH0 0x40
#define PIT_CMD 0x43
#define PIT_CMD_CH0_LOHI_MODE2 0x34 /* channel 0, lo/hi byte, mode 2, binary */
#define PIT_CMD_CH0_LATCH 0x00

uint16_t pit_start_periodic(unsigned hz)
{
	uint32_t div;

	if (hz == 0)
		hz = 1;
	div = (PIT_INPUT_HZ + hz / 2) / hz;
	if (div < 2)
		div = 2;
	if (div > 0xffff)
		div = 0xffff;
	outb(PIT_CMD, PIT_CMD_CH0_LOHI_MODE2);
	outb(PIT_CH0, (uint8_t)div);
	outb(PIT_CH0, (uint8_t)(div >> 8));
	return (uint16_t)div;
}

uint16_t pit_latch_read(void)
{
	uint8_t lo, hi;

	outb(PIT_CMD, PIT_CMD_CH0_LATCH);
	lo = inb(PIT_CH0);
	hi = inb(PIT_CH0);
	return (uint16_t)(lo | (hi << 8));
}
