/*
 * debug_step_test.c — the interrupt-aware single step's breakpoint swap
 * (vmm_debug_step_to_handler, vmm_debug_step_done), which the gdb core on
 * a live guest and the replayer share: no KVM needed.
 */
#include <string.h>

#include "tests/unit/tap.h"
#include "vmm/vmm.h"

#define DR6_BS (1ull << 14)

int main(void)
{
	struct vmm_debug d;
	struct vmm_event ev;
	int slot;

	memset(&d, 0, sizeof(d));
	d.single_step = true;
	d.hw[0].enabled = true;
	d.hw[0].addr = 0x1000;
	slot = vmm_debug_step_to_handler(&d, 0x2000, -1);
	is_int(slot, 1, "the first free slot takes the handler breakpoint");
	ok(!d.single_step, "no single step on the injecting entry");
	ok(d.hw[1].enabled && d.hw[1].addr == 0x2000 && d.hw[1].type == 0 && d.hw[1].len == 1,
	   "an instruction breakpoint at the handler");
	ok(d.hw[0].enabled && d.hw[0].addr == 0x1000, "the debugger's breakpoint is kept");

	memset(&d, 0, sizeof(d));
	d.single_step = true;
	for (int i = 0; i < 3; i++)
		d.hw[i].enabled = true;
	slot = vmm_debug_step_to_handler(&d, 0x3000, 3);
	is_int(slot, 0, "all debugger slots used, one reserved: the first is borrowed");
	ok(d.hw[0].addr == 0x3000 && !d.hw[3].enabled, "the reserved slot is left alone");

	memset(&ev, 0, sizeof(ev));
	ev.kind = VMM_EV_DEBUG;
	ev.u.debug.dr6 = 1ull << 2;
	vmm_debug_step_done(&ev, 2);
	is_int(ev.u.debug.dr6, DR6_BS, "the handler breakpoint's hit reads as a finished step");
	ev.u.debug.dr6 = 1ull << 1;
	vmm_debug_step_done(&ev, 2);
	is_int(ev.u.debug.dr6, 1ull << 1, "another slot's hit is left as it is");
	ev.u.debug.dr6 = 1ull << 2;
	vmm_debug_step_done(&ev, -1);
	is_int(ev.u.debug.dr6, 1ull << 2, "no handler breakpoint: nothing changes");
	ev.kind = VMM_EV_IO;
	vmm_debug_step_done(&ev, 2);
	is_int(ev.u.debug.dr6, 1ull << 2, "not a debug exit: nothing changes");
	return tap_done();
}
