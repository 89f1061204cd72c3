/*
 * machine.c — the devices of the machine and the exit dispatcher.
 *
 * The machine owns one state block per device of vmm_devices[], the range
 * table (port, MMIO and MSR ranges, each owned by one device), and the bus through which
 * devices reach the outside: the interrupt lines (wired to the PIC), the
 * one clock, the output streams and the guest's request to exit.
 * vmm_machine_dispatch() turns the I/O, MMIO or MSR part of a struct
 * kvm_run into one device access; it needs no KVM file descriptor, so it is unit-tested with fake
 * exits.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmm/internal.h"

/* An ISA line goes to both interrupt controllers, as on a PC: the 8259
 * pair and the I/O APIC pin the MADT names for it (IRQ0, the PIT, is
 * wired to pin 2; the others to the pin of their number). */
static void bus_set_irq(void *ctx, unsigned irq, int level)
{
	struct vmm_machine *m = ctx;

	if (m->pic_index >= 0)
		vmm_pic_set_irq(m->dev_state[m->pic_index], irq, level);
	if (m->ioapic_index >= 0 && irq < 16 && irq != 2)
		vmm_ioapic_set_pin(m->dev_state[m->ioapic_index], &m->bus, irq == 0 ? 2 : irq, level);
}

static void bus_apic_message(void *ctx, const struct vmm_apic_msg *msg)
{
	struct vmm_machine *m = ctx;

	if (m->lapic_index >= 0)
		vmm_lapic_message(m->dev_state[m->lapic_index], &m->bus, msg);
}

static void bus_apic_eoi(void *ctx, uint8_t vector)
{
	struct vmm_machine *m = ctx;

	if (m->ioapic_index >= 0)
		vmm_ioapic_eoi(m->dev_state[m->ioapic_index], &m->bus, vector);
}

static uint64_t bus_clock_ns(void *ctx, enum vmm_clock_kind kind)
{
	struct vmm_machine *m = ctx;

	return m->clock.now(m->clock.ctx, kind);
}

static void bus_output(void *ctx, enum vmm_output_stream stream, const uint8_t *buf, size_t len)
{
	struct vmm_machine *m = ctx;

	if (m->exit_count && *m->exit_count < m->mute_below)
		return;         /* a debugger replays this again: said before */
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

static uint64_t range_base(const struct vmm_machine *m, const struct vmm_range_row *row)
{
	const struct vmm_device *d = vmm_devices[row->dev];

	return d->range_base ? d->range_base(m->dev_state[row->dev], row->r) : d->ranges[row->r].base;
}

static const char *space_name(unsigned space)
{
	return space == VMM_SPACE_PIO ? "port" : space == VMM_SPACE_MMIO ? "MMIO" : "MSR";
}

/* Add device i's ranges to the table; two devices may not claim one
 * address (at their power-on bases). */
static int add_ranges(struct vmm_machine *m, unsigned i, struct vmm_error *err)
{
	const struct vmm_device *d = vmm_devices[i];

	for (unsigned r = 0; r < VMM_DEVICE_MAX_RANGES && d->ranges[r].space; r++) {
		const struct vmm_range *nr = &d->ranges[r];
		struct vmm_range_row row = { nr->space, (uint8_t)i, (uint8_t)r, nr->len };
		uint64_t base = range_base(m, &row);

		if (nr->len == 0 || base + nr->len < base ||
		    (nr->space == VMM_SPACE_PIO && base + nr->len > 0x10000)) {
			vmm_error_set(err, "internal: device %s has a bad %s range 0x%llx+0x%llx",
				      d->name, space_name(nr->space), (unsigned long long)base,
				      (unsigned long long)nr->len);
			return -EINVAL;
		}
		for (unsigned k = 0; k < m->nranges; k++) {
			const struct vmm_range_row *o = &m->ranges[k];
			uint64_t ob = range_base(m, o);

			if (o->space == nr->space && base < ob + o->len && ob < base + nr->len) {
				vmm_error_set(err, "internal: device %s claims %s 0x%llx, which %s has",
					      d->name, space_name(nr->space),
					      (unsigned long long)(base > ob ? base : ob),
					      vmm_devices[o->dev]->name);
				return -EINVAL;
			}
		}
		m->ranges[m->nranges++] = row;
	}
	return 0;
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
		.apic_message = bus_apic_message,
		.apic_eoi = bus_apic_eoi,
		.trace_io = trace_io,
	};
	m->pic_index = m->uart_index = m->lapic_index = m->ioapic_index = -1;

	if (vmm_device_count > VMM_MAX_DEVICES) {
		vmm_error_set(err, "internal: %u devices, room for %d", vmm_device_count,
			      VMM_MAX_DEVICES);
		return -EINVAL;
	}
	for (unsigned i = 0; i < vmm_device_count; i++) {
		const struct vmm_device *d = vmm_devices[i];
		int rc;

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
		if (d == &vmm_dev_lapic)
			m->lapic_index = (int)i;
		if (d == &vmm_dev_ioapic)
			m->ioapic_index = (int)i;
		rc = add_ranges(m, i, err);
		if (rc) {
			vmm_machine_fini(m);
			return rc;
		}
	}
	return 0;
}

/* Only Multiboot kernels so far: fw_cfg has no command line for them. */
void vmm_machine_configure(struct vmm_machine *m, uint64_t ram_size, const char *cmdline)
{
	for (unsigned i = 0; i < vmm_device_count; i++)
		if (vmm_devices[i] == &vmm_dev_fwcfg)
			vmm_fwcfg_configure(m->dev_state[i], ram_size, cmdline, false);
}

void vmm_machine_fini(struct vmm_machine *m)
{
	for (unsigned i = 0; i < vmm_device_count && i < VMM_MAX_DEVICES; i++) {
		free(m->dev_state[i]);
		m->dev_state[i] = NULL;
	}
}

int vmm_machine_owner(const struct vmm_machine *m, unsigned space, uint64_t addr)
{
	for (unsigned k = 0; k < m->nranges; k++) {
		const struct vmm_range_row *row = &m->ranges[k];

		if (row->space == space && addr - range_base(m, row) < row->len)
			return row->dev;
	}
	return -1;
}

static uint64_t all_ones(unsigned size)
{
	return size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

void vmm_machine_access(struct vmm_machine *m, struct vmm_io *io)
{
	int owner = vmm_machine_owner(m, io->space, io->addr);

	if (owner >= 0) {
		vmm_devices[owner]->access(m->dev_state[owner], &m->bus, io);
		if (!io->write && io->space != VMM_SPACE_MSR)
			io->value &= all_ones(io->size);
		return;
	}
	/* Nothing there: an ISA bus or an unclaimed MMIO hole floats high and
	 * drops writes, as PCs do; an unimplemented MSR raises #GP. */
	if (io->space == VMM_SPACE_MSR)
		io->fault = true;
	else if (!io->write)
		io->value = all_ones(io->size);
	if (!m->trace_io)
		return;
	if (io->space == VMM_SPACE_PIO && io->write)
		fprintf(stderr, "rrvm: out%c 0x%llx to unknown port 0x%04llx\n",
			io->size == 1 ? 'b' : io->size == 2 ? 'w' : 'l',
			(unsigned long long)io->value, (unsigned long long)io->addr);
	else if (io->space == VMM_SPACE_PIO)
		fprintf(stderr, "rrvm: in%c from unknown port 0x%04llx\n",
			io->size == 1 ? 'b' : io->size == 2 ? 'w' : 'l', (unsigned long long)io->addr);
	else if (io->space == VMM_SPACE_MMIO)
		fprintf(stderr, "rrvm: mmio %s of %u bytes at 0x%llx (no device)\n",
			io->write ? "write" : "read", io->size, (unsigned long long)io->addr);
	else
		fprintf(stderr, "rrvm: %s of unknown MSR 0x%llx: #GP\n", io->write ? "wrmsr" : "rdmsr",
			(unsigned long long)io->addr);
}

static uint64_t load_le(const uint8_t *p, unsigned size)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < size; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void store_le(uint8_t *p, unsigned size, uint64_t v)
{
	for (unsigned i = 0; i < size; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void dispatch_io(struct vmm_machine *m, struct kvm_run *run, struct vmm_event *ev)
{
	unsigned size = run->io.size;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool out = run->io.direction == KVM_EXIT_IO_OUT;
	uint64_t value = 0;

	ev->kind = VMM_EV_IO;
	ev->u.io.addr = run->io.port;
	ev->u.io.size = size;
	ev->u.io.write = out;
	ev->u.io.mmio = false;
	if (size != 1 && size != 2 && size != 4)
		size = 1; /* KVM never does this; don't trust it with our buffer */
	/* String I/O (rep ins/outs) arrives as count back-to-back items. */
	for (uint32_t i = 0; i < run->io.count; i++, data += size) {
		struct vmm_io io = { .space = VMM_SPACE_PIO, .write = out, .size = (uint8_t)size,
				     .addr = run->io.port };

		if (out)
			io.value = load_le(data, size);
		vmm_machine_access(m, &io);
		if (!out)
			store_le(data, size, io.value);
		value = io.value;
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
	struct vmm_io io = { .space = VMM_SPACE_MMIO, .write = run->mmio.is_write,
			     .size = (uint8_t)len, .addr = run->mmio.phys_addr };

	if (io.write)
		io.value = load_le(run->mmio.data, len);
	vmm_machine_access(m, &io);
	if (!io.write)
		store_le(run->mmio.data, len, io.value);
	ev->kind = VMM_EV_IO;
	ev->u.io.addr = run->mmio.phys_addr;
	ev->u.io.size = len;
	ev->u.io.write = run->mmio.is_write;
	ev->u.io.mmio = true;
	ev->u.io.value = io.value;
}

/* rdmsr/wrmsr that KVM sent to userspace (KVM_CAP_X86_USER_SPACE_MSR):
 * MSRs a device claims (the APIC base, x2APIC registers), and the ones
 * KVM does not know, which fault as before. */
static void dispatch_msr(struct vmm_machine *m, struct kvm_run *run, struct vmm_event *ev)
{
	struct vmm_io io = { .space = VMM_SPACE_MSR, .size = 8, .addr = run->msr.index,
			     .write = run->exit_reason == KVM_EXIT_X86_WRMSR };

	if (io.write)
		io.value = run->msr.data;
	vmm_machine_access(m, &io);
	if (!io.write)
		run->msr.data = io.fault ? 0 : io.value;
	run->msr.error = io.fault;
	ev->kind = VMM_EV_IO;
	ev->u.io.addr = run->msr.index;
	ev->u.io.size = 8;
	ev->u.io.write = io.write;
	ev->u.io.msr = true;
	ev->u.io.value = io.fault ? 0 : io.value;
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
	case KVM_EXIT_X86_RDMSR:
	case KVM_EXIT_X86_WRMSR:
		dispatch_msr(m, run, ev);
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

/*
 * The interrupt path: device line -> I/O APIC or 8259 -> local APIC -> the
 * CPU. The local APIC's own vectors (I/O APIC messages, its timer, IPIs)
 * come first, in priority order against the TPR; the 8259's INTR reaches
 * the CPU through LINT0 (ExtINT) when the APIC lets it, as QEMU's
 * cpu_get_pic_interrupt() orders them. A PIC-only kernel never touches the
 * APIC, whose power-on LINT0 passes INTR through: the same path.
 */
int vmm_machine_pending(const struct vmm_machine *m)
{
	if (m->lapic_index >= 0) {
		const void *lapic = m->dev_state[m->lapic_index];
		int v = vmm_lapic_pending(lapic);

		if (v >= 0)
			return v;
		if (!vmm_lapic_accepts_pic(lapic))
			return -1;
	}
	return m->pic_index < 0 ? -1 : vmm_pic_pending(m->dev_state[m->pic_index]);
}

int vmm_machine_ack(struct vmm_machine *m)
{
	int v;

	if (m->lapic_index >= 0) {
		void *lapic = m->dev_state[m->lapic_index];

		if (vmm_lapic_pending(lapic) >= 0) {
			unsigned detail;
			v = vmm_lapic_ack(lapic);
			m->last_source = vmm_lapic_last_source(lapic, &detail);
			m->last_detail = detail;
			return v;
		}
		if (!vmm_lapic_accepts_pic(lapic))
			return -1;
	}
	if (m->pic_index < 0)
		return -1;
	v = vmm_pic_ack(m->dev_state[m->pic_index]);
	m->last_source = VMM_IRQ_SRC_PIC;
	m->last_detail = 0;     /* the IRQ follows from the vector and ICW2 */
	return v;
}
