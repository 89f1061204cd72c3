/*
 * devices_fuzz.c — libFuzzer target for the device state machines.
 *
 * Every device of the machine's table (vmm_devices[]: PIC pair, PIT, RTC,
 * UART, isa-debug-exit, debug console, annotation port, and whatever is
 * added there later) is reset on a fake bus (tests/unit/fake_bus.h), then
 * the input drives a sequence of accesses (port, MMIO or MSR, in any range
 * the device registers), clock steps, polls, PIC
 * acknowledges and UART receives, 8 bytes per operation:
 *   op, device, port offset, size, value (4 bytes).
 * Devices must never crash, never drive an interrupt line other than 0-15
 * or to a level other than 0/1, never read the monotonic clock more than
 * once per access (nor the realtime clock more than once in all), and poll() must move a deadline that has passed into the future.
 * Built by `make fuzz`.
 */
#include <stdlib.h>
#include <string.h>

#include "tests/unit/fake_bus.h"
#include "vmm/devices.h"

#define MAX_DEVICES 16

/* The state of the device called name, or NULL if the table has none. */
static void *state_of(struct fake_dev *devs, const char *name)
{
	for (unsigned i = 0; i < vmm_device_count; i++)
		if (strcmp(vmm_devices[i]->name, name) == 0)
			return devs[i].state;
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fake_bus *f = calloc(1, sizeof(*f));
	struct fake_dev devs[MAX_DEVICES];
	unsigned n = vmm_device_count;

	if (!f || n > MAX_DEVICES)
		abort();
	fake_bus_init(f);
	for (unsigned i = 0; i < n; i++)
		fake_dev_init(&devs[i], vmm_devices[i]);
	for (size_t p = 0; p + 8 <= size; p += 8) {
		const uint8_t *op = data + p;
		const struct vmm_device *d = vmm_devices[op[1] % n];
		void *st = devs[op[1] % n].state;
		unsigned sz = (op[3] & 3) == 3 ? 4 : (op[3] & 3) ? (op[3] & 3) : 1;
		uint32_t value;
		unsigned reads = f->mono_reads;
		const struct vmm_range *r;
		struct vmm_io io;
		unsigned nr = 0;

		memcpy(&value, op + 4, 4);
		while (nr < VMM_DEVICE_MAX_RANGES && d->ranges[nr].space != VMM_SPACE_NONE)
			nr++;
		switch (op[0] % 6) {
		case 0:         /* out */
		case 1:         /* in */
			if (!nr)
				break;
			/* Any range of the device: ports, MMIO or MSRs, through
			 * the one access handler the machine calls. */
			r = &d->ranges[op[2] % nr];
			io = (struct vmm_io){ .space = r->space, .write = op[0] % 6 == 0,
					      .size = (uint8_t)(r->space == VMM_SPACE_PIO ? sz :
								(op[3] & 4) ? 8 : sz),
					      .addr = r->base + ((uint64_t)(op[2] >> 2) | (uint64_t)op[3] << 6) % r->len,
					      .value = value };
			if (r->space == VMM_SPACE_MMIO)
				io.addr &= ~(uint64_t)(io.size - 1);    /* aligned, as the CPU issues them */
			d->access(st, &f->bus, &io);
			/* One monotonic read per access at most; the RTC reads
			 * the time of day once, on its first time access. */
			if (f->mono_reads - reads > 1 || f->real_reads > 1)
				abort();
			break;
		case 2:         /* time passes */
			f->mono += (uint64_t)value * ((op[2] & 1) ? 1000 : 1);
			f->real += (uint64_t)value * 1000;
			break;
		case 3:         /* the machine polls devices that are due */
			for (unsigned i = 0; i < n; i++) {
				const struct vmm_device *e = vmm_devices[i];

				if (!e->next_deadline || !e->poll)
					continue;
				if (e->next_deadline(devs[i].state) <= f->mono) {
					e->poll(devs[i].state, &f->bus, f->mono);
					if (e->next_deadline(devs[i].state) <= f->mono)
						abort();        /* poll left it due */
				}
			}
			break;
		case 4: {       /* the CPU acknowledges an interrupt */
			void *pic = state_of(devs, "pic");

			if (pic && vmm_pic_pending(pic) >= 0)
				vmm_pic_ack(pic);
			if (pic)
				vmm_pic_set_irq(pic, op[2] & 15, op[3] & 1);
			break;
		}
		case 5: {       /* serial input arrives */
			void *uart = state_of(devs, "uart");

			if (uart && vmm_uart_rx_space(uart))
				vmm_uart_rx_push(uart, &f->bus, op + 4, (size_t)(op[2] & 3) + 1);
			break;
		}
		}
		if (f->bad_irq)
			abort();
	}
	for (unsigned i = 0; i < n; i++)
		fake_dev_free(&devs[i]);
	free(f);
	return 0;
}
