/*
 * machine.c — the devices of the machine and the exit dispatcher.
 *
 * The machine owns one state block per device of vmm_devices[], a table
 * mapping each of the 65536 ports to its device, and the bus through which
 * devices reach the outside: the interrupt lines (wired to the PIC), the
 * one clock, the output streams and the guest's request to exit.
 * vmm_machine_dispatch() turns the I/O part of a struct kvm_run into device
 * calls; it needs no KVM file descriptor, so it is unit-tested with fake
 * exits.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmm/internal.h"

static void bus_set_irq(void *ctx, unsigned irq, int level)
{
	struct vmm_machine *m = ctx;

	if (m->pic_index >= 0)
		vmm_pic_set_irq(m->dev_state[m->pic_index], irq, level);
}

static uint64_t bus_clock_ns(void *ctx, enum vmm_clock_kind kind)
{
	struct vmm_machine *m = ctx;

	return m->clock.now(m->clock.ctx, kind);
}

static void bus_output(void *ctx, enum vmm_output_stream stream, const uint8_t *buf, size_t len)
{
	struct vmm_machine *m = ctx;

	m->output.write(m->output.ctx, stream, buf, len);
}

static void bus_guest_exit(void *ctx, uint32_t value)
{
	struct vmm_machine *m = ctx;

	/* The first request wins: a guest that keeps writing does not change
	 * the status already decided. */
	if (!m->exit_requested) {
		m->exit_requested = true;
		m->exit_value = value;
	}
}

/* Serial to stdout, debug console to stderr: the defaults of `rrvm run`.
 * Short writes are retried; a closed stdout drops output rather than
 * stopping the guest, as a disconnected serial line would. */
static void default_output(void *ctx, enum vmm_output_stream stream, const uint8_t *buf, size_t len)
{
	int fd = stream == VMM_OUT_SERIAL ? STDOUT_FILENO : STDERR_FILENO;

	if (stream == VMM_OUT_ANNOTATION)
		return;         /* for the trace database, not the console */
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

int vmm_machine_init(struct vmm_machine *m, uint8_t *ram, uint64_t ram_size,
		     const struct vmm_clock *clock, const struct vmm_output *output,
		     bool trace_io, struct vmm_error *err)
{
	memset(m, 0, sizeof(*m));
	m->ram = ram;
	m->ram_size = ram_size;
	m->trace_io = trace_io;
	m->clock = clock && clock->now ? *clock : (struct vmm_clock){ vmm_clock_host, NULL };
	m->output = output && output->write ? *output : (struct vmm_output){ default_output, NULL };
	m->bus = (struct vmm_bus){
		.ctx = m,
		.set_irq = bus_set_irq,
		.clock_ns = bus_clock_ns,
		.output = bus_output,
		.guest_exit = bus_guest_exit,
	};
	m->pic_index = m->uart_index = -1;
	memset(m->port_owner, VMM_PORT_NONE, sizeof(m->port_owner));

	if (vmm_device_count > sizeof(m->dev_state) / sizeof(m->dev_state[0])) {
		vmm_error_set(err, "internal: %u devices, room for %zu", vmm_device_count,
			      sizeof(m->dev_state) / sizeof(m->dev_state[0]));
		return -EINVAL;
	}
	for (unsigned i = 0; i < vmm_device_count; i++) {
		const struct vmm_device *d = vmm_devices[i];

		m->dev_state[i] = calloc(1, d->state_size ? d->state_size : 1);
		if (!m->dev_state[i]) {
			vmm_error_set(err, "out of memory for device %s", d->name);
			vmm_machine_fini(m);
			return -ENOMEM;
		}
		d->reset(m->dev_state[i]);
		if (d == &vmm_dev_pic)
			m->pic_index = (int)i;
		if (d == &vmm_dev_uart)
			m->uart_index = (int)i;
		for (unsigned r = 0; r < VMM_DEVICE_MAX_RANGES && d->ports[r].count; r++) {
			for (unsigned p = d->ports[r].base; p < d->ports[r].base + d->ports[r].count; p++) {
				if (p > 0xffff || m->port_owner[p] != VMM_PORT_NONE) {
					vmm_error_set(err, "internal: device %s claims port 0x%x twice",
						      d->name, p);
					vmm_machine_fini(m);
					return -EINVAL;
				}
				m->port_owner[p] = (uint8_t)i;
			}
		}
	}
	return 0;
}

void vmm_machine_fini(struct vmm_machine *m)
{
	for (unsigned i = 0; i < vmm_device_count && i < 16; i++) {
		free(m->dev_state[i]);
		m->dev_state[i] = NULL;
	}
}

static uint32_t port_in(struct vmm_machine *m, uint16_t port, unsigned size)
{
	uint8_t owner = m->port_owner[port];

	if (owner == VMM_PORT_NONE) {
		/* An ISA bus with nothing on it floats high, as PCs do. */
		if (m->trace_io)
			fprintf(stderr, "rrvm: in%c from unknown port 0x%04x\n",
				size == 1 ? 'b' : size == 2 ? 'w' : 'l', port);
		return size == 4 ? 0xffffffffu : (1u << (size * 8)) - 1;
	}
	return vmm_devices[owner]->pio_in(m->dev_state[owner], &m->bus, port, size);
}

static void port_out(struct vmm_machine *m, uint16_t port, unsigned size, uint32_t value)
{
	uint8_t owner = m->port_owner[port];

	if (owner == VMM_PORT_NONE) {
		if (m->trace_io)
			fprintf(stderr, "rrvm: out%c 0x%x to unknown port 0x%04x\n",
				size == 1 ? 'b' : size == 2 ? 'w' : 'l', value, port);
		return;
	}
	vmm_devices[owner]->pio_out(m->dev_state[owner], &m->bus, port, size, value);
}

static uint32_t load_le(const uint8_t *p, unsigned size)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < size; i++)
		v |= (uint32_t)p[i] << (8 * i);
	return v;
}

static void store_le(uint8_t *p, unsigned size, uint32_t v)
{
	for (unsigned i = 0; i < size; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void dispatch_io(struct vmm_machine *m, struct kvm_run *run, struct vmm_event *ev)
{
	unsigned size = run->io.size;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool out = run->io.direction == KVM_EXIT_IO_OUT;
	uint32_t value = 0;

	ev->kind = VMM_EV_IO;
	ev->u.io.addr = run->io.port;
	ev->u.io.size = size;
	ev->u.io.write = out;
	ev->u.io.mmio = false;
	if (size != 1 && size != 2 && size != 4)
		size = 1; /* KVM never does this; don't trust it with our buffer */
	/* String I/O (rep ins/outs) arrives as count back-to-back items. */
	for (uint32_t i = 0; i < run->io.count; i++, data += size) {
		if (out) {
			value = load_le(data, size);
			port_out(m, run->io.port, size, value);
		} else {
			value = port_in(m, run->io.port, size);
			store_le(data, size, value);
		}
		if (m->exit_requested)
			break;
	}
	ev->u.io.value = value;
	if (m->exit_requested) {
		ev->kind = VMM_EV_GUEST_EXIT;
		ev->u.exit_value = m->exit_value;
	}
}

static void dispatch_mmio(struct vmm_machine *m, struct kvm_run *run, struct vmm_event *ev)
{
	unsigned len = run->mmio.len <= 8 ? run->mmio.len : 8;
	uint64_t value = 0;

	/* No MMIO devices yet: outside RAM, reads float high and writes vanish. */
	if (run->mmio.is_write) {
		for (unsigned i = 0; i < len; i++)
			value |= (uint64_t)run->mmio.data[i] << (8 * i);
	} else {
		memset(run->mmio.data, 0xff, len);
		value = len == 8 ? ~0ull : (1ull << (8 * len)) - 1;
	}
	if (m->trace_io)
		fprintf(stderr, "rrvm: mmio %s of %u bytes at 0x%llx (no device)\n",
			run->mmio.is_write ? "write" : "read", len,
			(unsigned long long)run->mmio.phys_addr);
	ev->kind = VMM_EV_IO;
	ev->u.io.addr = run->mmio.phys_addr;
	ev->u.io.size = len;
	ev->u.io.write = run->mmio.is_write;
	ev->u.io.mmio = true;
	ev->u.io.value = value;
}

bool vmm_machine_dispatch(struct vmm_machine *m, struct kvm_run *run, struct vmm_event *ev)
{
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		dispatch_io(m, run, ev);
		return true;
	case KVM_EXIT_MMIO:
		dispatch_mmio(m, run, ev);
		return true;
	default:
		return false;
	}
}

void vmm_machine_poll(struct vmm_machine *m)
{
	uint64_t now = m->clock.now(m->clock.ctx, VMM_CLOCK_MONOTONIC);

	for (unsigned i = 0; i < vmm_device_count; i++)
		if (vmm_devices[i]->poll)
			vmm_devices[i]->poll(m->dev_state[i], &m->bus, now);
}

uint64_t vmm_machine_deadline(const struct vmm_machine *m)
{
	uint64_t best = UINT64_MAX;

	for (unsigned i = 0; i < vmm_device_count; i++) {
		if (vmm_devices[i]->next_deadline) {
			uint64_t d = vmm_devices[i]->next_deadline(m->dev_state[i]);
			if (d < best)
				best = d;
		}
	}
	return best;
}

int vmm_machine_pending(const struct vmm_machine *m)
{
	return m->pic_index < 0 ? -1 : vmm_pic_pending(m->dev_state[m->pic_index]);
}

int vmm_machine_ack(struct vmm_machine *m)
{
	return m->pic_index < 0 ? -1 : vmm_pic_ack(m->dev_state[m->pic_index]);
}
