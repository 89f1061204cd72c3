/*
 * dispatch_test.c — the exit dispatcher, fed fake KVM exits: port and MMIO
 * accesses reach the right device (or float high), the range table's
 * lookup in each space, MSR exits, string I/O, the guest's
 * exit request, the one clock, and an interrupt travelling from a device
 * through the PIC to a vector. No KVM needed.
 */
#include <stdlib.h>
#include <string.h>

#include "tests/unit/tap.h"
#include "vmm/internal.h"

struct sink {
	uint8_t serial[256], debugcon[256];
	size_t nserial, ndebugcon;
	unsigned clock_reads;
	uint64_t now;
};

static void sink_write(void *ctx, enum vmm_output_stream s, const uint8_t *buf, size_t len)
{
	struct sink *k = ctx;

	for (size_t i = 0; i < len; i++) {
		if (s == VMM_OUT_SERIAL && k->nserial < sizeof(k->serial))
			k->serial[k->nserial++] = buf[i];
		if (s == VMM_OUT_DEBUGCON && k->ndebugcon < sizeof(k->debugcon))
			k->debugcon[k->ndebugcon++] = buf[i];
	}
}

static uint64_t sink_clock(void *ctx, enum vmm_clock_kind kind)
{
	struct sink *k = ctx;

	k->clock_reads++;
	return kind == VMM_CLOCK_REALTIME ? 1700000000000000000ull + k->now : k->now;
}

static union {
	struct kvm_run run;
	uint8_t page[4096];
} fake;

static struct kvm_run *io_exit(int out, uint16_t port, unsigned size, uint32_t count,
			       const void *data)
{
	memset(&fake, 0, sizeof(fake));
	fake.run.exit_reason = KVM_EXIT_IO;
	fake.run.io.direction = out ? KVM_EXIT_IO_OUT : KVM_EXIT_IO_IN;
	fake.run.io.port = port;
	fake.run.io.size = (uint8_t)size;
	fake.run.io.count = count;
	fake.run.io.data_offset = 2048;
	if (data)
		memcpy(fake.page + 2048, data, size * count);
	return &fake.run;
}

static uint32_t in_value(unsigned size)
{
	uint32_t v = 0;

	memcpy(&v, fake.page + 2048, size);
	return v;
}

static void outb(struct vmm_machine *m, uint16_t port, uint8_t v)
{
	struct vmm_event ev;

	vmm_machine_dispatch(m, io_exit(1, port, 1, 1, &v), &ev);
}

int main(void)
{
	static struct vmm_machine m;
	static struct sink k;
	struct vmm_clock clock = { sink_clock, &k };
	struct vmm_output output = { sink_write, &k };
	struct vmm_error err = { "" };
	struct vmm_event ev;
	uint8_t ram[4096];

	is_int(vmm_machine_init(&m, ram, sizeof(ram), &clock, &output, false, &err), 0,
	       "machine with every device: %s", err.msg);

	ok(vmm_machine_dispatch(&m, io_exit(1, 0x3f8, 1, 1, "A"), &ev), "port exit handled");
	ok(ev.kind == VMM_EV_IO && ev.u.io.addr == 0x3f8 && ev.u.io.write && ev.u.io.value == 'A',
	   "event describes the write");
	ok(k.nserial == 1 && k.serial[0] == 'A', "COM1 THR byte reached the serial stream");

	ok(vmm_machine_dispatch(&m, io_exit(1, 0x3f8, 1, 3, "xyz"), &ev) && k.nserial == 4 &&
	   memcmp(k.serial + 1, "xyz", 3) == 0, "rep outsb: each item dispatched in order");

	vmm_machine_dispatch(&m, io_exit(1, 0xe9, 1, 1, "d"), &ev);
	ok(k.ndebugcon == 1 && k.debugcon[0] == 'd', "port 0xe9 goes to the debug console");

	vmm_machine_dispatch(&m, io_exit(0, 0x1234, 1, 1, NULL), &ev);
	is_int(in_value(1), 0xff, "unknown port reads 0xff");
	vmm_machine_dispatch(&m, io_exit(0, 0x1234, 2, 1, NULL), &ev);
	is_int(in_value(2), 0xffff, "unknown port, word read: 0xffff");
	vmm_machine_dispatch(&m, io_exit(0, 0x1234, 4, 1, NULL), &ev);
	is_int(in_value(4), 0xffffffffu, "unknown port, dword read: all ones");
	ok(ev.kind == VMM_EV_IO && !ev.u.io.write && ev.u.io.value == 0xffffffffu,
	   "the event carries the value returned to the guest");
	vmm_machine_dispatch(&m, io_exit(1, 0x1234, 1, 1, "q"), &ev);
	ok(ev.kind == VMM_EV_IO && k.nserial == 4, "a write to an unknown port is ignored");

	vmm_machine_dispatch(&m, io_exit(0, 0x3fd, 1, 1, NULL), &ev);
	ok(in_value(1) & 0x20, "UART LSR says THR empty (0x%x)", in_value(1));

	memset(&fake, 0, sizeof(fake));
	fake.run.exit_reason = KVM_EXIT_MMIO;
	fake.run.mmio.phys_addr = 0xfed00000;
	fake.run.mmio.len = 4;
	ok(vmm_machine_dispatch(&m, &fake.run, &ev) && ev.u.io.mmio, "MMIO exit handled");
	ok(fake.run.mmio.data[0] == 0xff && fake.run.mmio.data[3] == 0xff, "MMIO read floats high");
	memset(&fake, 0, sizeof(fake));
	fake.run.exit_reason = KVM_EXIT_MMIO;
	fake.run.mmio.phys_addr = 0xfee00030;
	fake.run.mmio.len = 4;
	ok(vmm_machine_dispatch(&m, &fake.run, &ev) && fake.run.mmio.data[0] == 0x14 &&
	   fake.run.mmio.data[2] == 5, "MMIO 0xfee00030 reaches the local APIC (version)");

	/* The range table: one lookup for every space. */
	is_int(vmm_machine_owner(&m, VMM_SPACE_PIO, 0x3f8), m.uart_index, "port 0x3f8 is the UART's");
	is_int(vmm_machine_owner(&m, VMM_SPACE_PIO, 0x21), m.pic_index, "port 0x21 is the PIC's");
	is_int(vmm_machine_owner(&m, VMM_SPACE_PIO, 0x1234), -1, "port 0x1234 is nobody's");
	is_int(vmm_machine_owner(&m, VMM_SPACE_MMIO, 0x3f8), -1, "spaces are apart: MMIO 0x3f8");
	{
		struct vmm_io io = { .space = VMM_SPACE_MMIO, .size = 8, .addr = 0xe0000000 };
		vmm_machine_access(&m, &io);
		ok(io.value == ~0ull && !io.fault, "unclaimed 8-byte MMIO read: all ones");
		io = (struct vmm_io){ .space = VMM_SPACE_MSR, .size = 8, .addr = 0x12345678 };
		vmm_machine_access(&m, &io);
		ok(io.fault, "unclaimed MSR read faults (#GP)");
	}
	/* A range the guest moves: the local APIC's page follows IA32_APIC_BASE. */
	{
		struct vmm_io io = { .space = VMM_SPACE_MSR, .write = true, .size = 8, .addr = 0x1b,
				     .value = 0xfed00900 };
		vmm_machine_access(&m, &io);
		ok(!io.fault, "wrmsr IA32_APIC_BASE 0xfed00900 accepted");
		is_int(vmm_machine_owner(&m, VMM_SPACE_MMIO, 0xfed00030), m.lapic_index,
		       "the table finds the APIC at its new page");
		is_int(vmm_machine_owner(&m, VMM_SPACE_MMIO, 0xfee00030), -1, "and not at the old one");
		io.value = 0xfee00900;
		vmm_machine_access(&m, &io);
		is_int(vmm_machine_owner(&m, VMM_SPACE_MMIO, 0xfee00030), m.lapic_index, "moved back");
		is_int(vmm_machine_owner(&m, VMM_SPACE_MMIO, 0xfec00010), m.ioapic_index,
		       "the I/O APIC's window");
		is_int(vmm_machine_owner(&m, VMM_SPACE_PIO, 0x511), vmm_machine_owner(&m, VMM_SPACE_PIO, 0x510),
		       "fw_cfg's two ports, one device");
	}
	memset(&fake, 0, sizeof(fake));
	fake.run.exit_reason = KVM_EXIT_X86_RDMSR;
	fake.run.msr.index = 0x12345678;
	ok(vmm_machine_dispatch(&m, &fake.run, &ev) && ev.u.io.msr && !ev.u.io.write,
	   "MSR exit handled and counted as an access");
	is_int(fake.run.msr.error, 1, "an unknown MSR gets #GP back");
	memset(&fake, 0, sizeof(fake));
	fake.run.exit_reason = KVM_EXIT_X86_WRMSR;
	fake.run.msr.index = 0x12345678;
	fake.run.msr.data = 5;
	ok(vmm_machine_dispatch(&m, &fake.run, &ev) && ev.u.io.msr && ev.u.io.write &&
	   fake.run.msr.error == 1, "an unknown MSR write: #GP");

	memset(&fake, 0, sizeof(fake));
	fake.run.exit_reason = KVM_EXIT_HLT;
	ok(!vmm_machine_dispatch(&m, &fake.run, &ev), "HLT is not the dispatcher's");

	/* The PIT through the PIC to a vector, with time from the one clock. */
	outb(&m, 0x20, 0x11), outb(&m, 0x21, 0x20), outb(&m, 0x21, 0x04), outb(&m, 0x21, 0x01);
	outb(&m, 0xa0, 0x11), outb(&m, 0xa1, 0x28), outb(&m, 0xa1, 0x02), outb(&m, 0xa1, 0x01);
	outb(&m, 0x21, 0xfe);                   /* only IRQ0 */
	outb(&m, 0xa1, 0xff);
	is_int(vmm_machine_pending(&m), -1, "nothing pending before the PIT runs");
	k.now = 1000000;
	k.clock_reads = 0;
	outb(&m, 0x43, 0x34);                   /* channel 0, lo/hi, mode 2 */
	outb(&m, 0x40, 0x9c), outb(&m, 0x40, 0x2e);    /* 11932: 100 Hz */
	ok(k.clock_reads >= 1 && k.clock_reads <= 2, "programming the PIT read the clock (%u)",
	   k.clock_reads);
	{
		uint64_t d = vmm_machine_deadline(&m);
		ok(d > k.now && d < k.now + 20000000, "a deadline about 10 ms ahead (%llu)",
		   (unsigned long long)(d - k.now));
		k.now = d + 1;
	}
	k.clock_reads = 0;
	vmm_machine_poll(&m);
	is_int(k.clock_reads, 1, "a poll reads the clock exactly once");
	is_int(vmm_machine_pending(&m), 0x20, "IRQ0 pending as vector 0x20");
	is_int(vmm_machine_ack(&m), 0x20, "acknowledged");
	is_int(vmm_machine_pending(&m), -1, "in service: nothing more pending");
	outb(&m, 0x20, 0x20);                   /* EOI */

	vmm_machine_dispatch(&m, io_exit(1, 0xf4, 4, 1, "\x2a\0\0\0"), &ev);
	ok(ev.kind == VMM_EV_GUEST_EXIT && ev.u.exit_value == 0x2a, "isa-debug-exit ends the run");
	is_int(vmm_exit_status(VMM_STOP_GUEST_EXIT, 0x2a), 85, "status (0x2a << 1) | 1 = 85");
	is_int(vmm_exit_status(VMM_STOP_GUEST_EXIT, 0), 1, "value 0 gives status 1");
	is_int(vmm_exit_status(VMM_STOP_HALTED, 0), 0, "halted: 0");
	is_int(vmm_exit_status(VMM_STOP_SHUTDOWN, 0), 4, "triple fault: 4");
	is_int(vmm_exit_status(VMM_STOP_TIMEOUT, 0), 124, "timeout: 124");
	vmm_machine_dispatch(&m, io_exit(1, 0xf4, 1, 1, "\x07"), &ev);
	ok(ev.kind == VMM_EV_GUEST_EXIT && ev.u.exit_value == 0x2a, "the first exit request wins");

	vmm_machine_fini(&m);
	return tap_done();
}
