/*
 * det_driver.h — a deterministic driver for a real machine, for the
 * snapshot tests and benchmark.
 *
 * The live driver runs the guest against host time, so two runs from one
 * snapshot would differ. This one derives time from the guest's progress:
 * the clock advances DET_NS_PER_EXIT at every synchronous exit and, while
 * the guest halts with nothing pending, jumps to the next device deadline
 * (the same rule as the live driver's, minus the waiting). Interrupts are
 * injected only at entries after exits (VMM_INJECT_NOW_ONLY: no interrupt
 * windows, which this host reports late), serial input is fed from a
 * string whenever the UART has room at a poll. Everything the driver keeps
 * is in struct det_state, so a test saves it beside the machine's snapshot
 * and two runs from the pair agree exactly.
 *
 * Header-only, all static, like fake_bus.h.
 */
#ifndef RRVM_TESTS_DET_DRIVER_H
#define RRVM_TESTS_DET_DRIVER_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/vmm.h"

#define DET_NS_PER_EXIT 20000ull                /* 20 us of guest time per exit */
#define DET_REALTIME_BASE 1700000000000000000ull /* 2023-11-14, for the RTC */
#define DET_OUT_MAX (1u << 20)

enum det_end { DET_RUNNING, DET_EXITED, DET_HALTED, DET_IDLE, DET_CRASHED, DET_ERROR };

/* What the driver carries from step to step: saved with a snapshot. */
struct det_state {
	uint64_t now;           /* the clock, ns */
	size_t out_len;         /* output bytes so far */
	size_t in_pos;          /* serial input bytes fed so far */
	enum det_end end;
	uint32_t exit_value;
	bool have_ev;           /* ev returned by vmm_step, not handled yet */
	struct vmm_event ev;
};

struct det {
	struct vmm *vm;
	struct det_state st;
	const char *input;      /* serial input, or NULL */
	char out[DET_OUT_MAX];  /* serial and debug-console bytes in order */
	char why[256];          /* for DET_ERROR / DET_CRASHED */
};

static inline uint64_t det_clock(void *ctx, enum vmm_clock_kind kind)
{
	struct det *d = ctx;

	return kind == VMM_CLOCK_REALTIME ? DET_REALTIME_BASE + d->st.now : d->st.now;
}

static inline void det_output(void *ctx, enum vmm_output_stream s, const uint8_t *buf, size_t len)
{
	struct det *d = ctx;

	if (s == VMM_OUT_ANNOTATION)
		return;
	for (size_t i = 0; i < len && d->st.out_len < DET_OUT_MAX; i++)
		d->out[d->st.out_len++] = (char)buf[i];
}

/* Boot kernel under the deterministic driver. d must stay put (the
 * machine's clock and output point at it). */
static inline int det_create(struct det *d, const char *kernel, uint64_t mem, const char *input,
		      struct vmm_error *err)
{
	struct vmm_config cfg = { 0 };

	memset(&d->st, 0, sizeof(d->st));
	d->st.now = 1000000000ull;
	d->input = input;
	d->why[0] = 0;
	cfg.mem_size = mem;
	cfg.kernel_path = kernel;
	cfg.clock = (struct vmm_clock){ det_clock, d };
	cfg.output = (struct vmm_output){ det_output, d };
	if (vmm_create(&cfg, &d->vm, err))
		return -1;
	vmm_set_inject_mode(d->vm, VMM_INJECT_NOW_ONLY);
	return 0;
}

static inline void det_poll(struct det *d)
{
	vmm_poll_devices(d->vm);
	if (d->input && d->input[d->st.in_pos]) {
		size_t left = strlen(d->input + d->st.in_pos);
		size_t room = vmm_serial_rx_space(d->vm);

		d->st.in_pos += vmm_serial_rx_push(d->vm, (const uint8_t *)d->input + d->st.in_pos,
						   left < room ? left : room);
	}
}

/* Act on the event vmm_step returned. */
static inline void det_handle(struct det *d, const struct vmm_event *ev)
{
	switch (ev->kind) {
	case VMM_EV_IO:
		d->st.now += DET_NS_PER_EXIT;
		det_poll(d);
		break;
	case VMM_EV_HLT:
		d->st.now += DET_NS_PER_EXIT;
		det_poll(d);
		if (!vmm_guest_if(d->vm) && vmm_irq_pending(d->vm) < 0) {
			d->st.end = DET_HALTED;
			break;
		}
		for (unsigned polls = 0; vmm_irq_pending(d->vm) < 0; polls++) {
			uint64_t next = vmm_next_deadline(d->vm);

			if (polls == 100000 || (next == UINT64_MAX && !(d->input &&
			    d->input[d->st.in_pos] && vmm_serial_rx_space(d->vm)))) {
				d->st.end = DET_IDLE;   /* nothing will ever wake it */
				break;
			}
			if (next != UINT64_MAX && next > d->st.now)
				d->st.now = next;
			det_poll(d);
		}
		break;
	case VMM_EV_GUEST_EXIT:
		d->st.end = DET_EXITED;
		d->st.exit_value = ev->u.exit_value;
		break;
	case VMM_EV_KICK:
	case VMM_EV_IRQ_WINDOW:
	case VMM_EV_WRITE:      /* a protected page: rrvm completed the write */
		break;
	case VMM_EV_DEBUG:
	case VMM_EV_SHUTDOWN:
	case VMM_EV_ERROR:
		d->st.end = DET_CRASHED;
		snprintf(d->why, sizeof(d->why), "event %d at rip 0x%llx exits %llu", (int)ev->kind,
			 (unsigned long long)ev->rip, (unsigned long long)ev->exits);
		break;
	}
}

/* One step: handle an event left by a stop, or run the vCPU once. Returns
 * the event it handled through *ev when it ran the vCPU, without handling
 * it when keep is true (the caller stops there and handles it later). */
static inline int det_step(struct det *d, struct vmm_event *ev, bool keep)
{
	struct vmm_error err = { "" };

	if (d->st.have_ev) {
		d->st.have_ev = false;
		det_handle(d, &d->st.ev);
		*ev = d->st.ev;
		return 0;
	}
	if (vmm_step(d->vm, ev, &err)) {
		d->st.end = DET_ERROR;
		snprintf(d->why, sizeof(d->why), "vmm_step: %s", err.msg);
		return -1;
	}
	if (keep) {
		d->st.ev = *ev;
		d->st.have_ev = true;
		return 0;
	}
	det_handle(d, ev);
	return 0;
}

/* Run until the guest ends or the exit count reaches limit. */
static inline void det_run(struct det *d, uint64_t limit)
{
	struct vmm_event ev;

	while (d->st.end == DET_RUNNING && (d->st.have_ev || vmm_exits(d->vm) < limit))
		if (det_step(d, &ev, false))
			return;
}

static inline const char *det_end_name(enum det_end e)
{
	static const char *const names[] = { "running", "exited", "halted", "idle", "crashed",
					     "error" };
	return names[e];
}

#endif
