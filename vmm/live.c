/*
 * live.c — the live driver: a guest running against the host's time and
 * input, for `rrvm run` and (through hooks) for the recorder.
 *
 * Everything nondeterministic enters here, and only at polls: the clock is
 * read by the devices when they are polled or accessed, and serial input
 * is moved into the UART only at a poll. A poll happens
 *   - right after a synchronous exit, when a device deadline has passed or
 *     input is waiting (cheap to replay: the exit count says where), or
 *   - at a kick, when no synchronous exit came within poll_latency_ns of a
 *     deadline (replay must find the exact instruction: see DESIGN.md), or
 *   - at HLT, after sleeping until the next deadline or input.
 *
 * Chaos mode (rr's idea, our mechanism): delivery latency is drawn at
 * random, and at random moments the live clock jumps forward to the next
 * device deadline, so that a timer interrupt lands at an arbitrary
 * instruction. The jump is a change of the clock, which is recorded like
 * any clock value, so chaotic runs replay like any other.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vmm/internal.h"

#define INPUT_CHECK_NS 5000000ull      /* how often an idle input fd is looked at */
#define CHAOS_MAX_LATENCY_NS 500000ull
#define CHAOS_MAX_GAP_NS 1000000ull
#define KICK_RETRY_NS 20000ull
#define KICK_RETRY_MAX_NS 5000000ull

struct vmm_live {
	struct vmm *vm;
	struct vmm_live_options opt;
	struct vmm_live_hooks hooks;
	atomic_bool stop;

	uint64_t start_ns;              /* host monotonic at creation */
	/* live clock = host + offset: chaos moves it forward, a debugger's
	 * hold leaves it behind host time. */
	int64_t clock_offset;
	bool held;                      /* vmm_live_clock_hold: frozen at held_at */
	uint64_t held_at[2];
	bool deferred;                  /* a poll is owed at the next sync exit */

	uint8_t in[4096];
	size_t in_len;
	bool in_eof;
	uint64_t next_input_check;

	uint64_t rng;
	uint64_t latency;               /* current delivery latency */
	uint64_t next_chaos;            /* host time of the next chaos kick */
	uint64_t retry_at;              /* after idle kicks: no kick before then */
	uint64_t retry_gap;             /* doubles with each idle kick in a row */
};

static uint64_t host_now(void)
{
	return vmm_clock_host(NULL, VMM_CLOCK_MONOTONIC);
}

static uint64_t rng_next(struct vmm_live *l)
{
	/* xorshift64*: small, seedable, good enough to shake schedules. */
	l->rng ^= l->rng >> 12;
	l->rng ^= l->rng << 25;
	l->rng ^= l->rng >> 27;
	return l->rng * 0x2545f4914f6cdd1dull;
}

static uint64_t rng_below(struct vmm_live *l, uint64_t n)
{
	return n ? rng_next(l) % n : 0;
}

const char *vmm_stop_reason_name(enum vmm_stop_reason r)
{
	static const char *const names[] = {
		[VMM_STOP_GUEST_EXIT] = "guest-exit", [VMM_STOP_HALTED] = "halted",
		[VMM_STOP_SHUTDOWN] = "triple-fault", [VMM_STOP_ERROR] = "internal-error",
		[VMM_STOP_TIMEOUT] = "timeout", [VMM_STOP_DEBUG] = "debug",
		[VMM_STOP_REQUESTED] = "stopped", [VMM_STOP_HOOK] = "hook",
	};
	return (unsigned)r < sizeof(names) / sizeof(names[0]) && names[r] ? names[r] : "unknown";
}

int vmm_exit_status(enum vmm_stop_reason r, uint32_t exit_value)
{
	switch (r) {
	case VMM_STOP_GUEST_EXIT:
		/* QEMU's isa-debug-exit rule; the shell sees the low 8 bits. */
		return (int)(((exit_value << 1) | 1) & 0xff);
	case VMM_STOP_HALTED:
		return 0;
	case VMM_STOP_TIMEOUT:
		return 124;
	case VMM_STOP_REQUESTED:
		return 130;
	default:
		return 4;
	}
}

bool vmm_guest_if(const struct vmm *vm)
{
	return vm->run->if_flag;
}

uint64_t vmm_live_clock(void *live, enum vmm_clock_kind kind)
{
	struct vmm_live *l = live;

	if (l->held)
		return l->held_at[kind == VMM_CLOCK_REALTIME];
	return vmm_clock_host(NULL, kind) + (uint64_t)l->clock_offset;
}

void vmm_live_clock_hold(struct vmm_live *l)
{
	if (l->held)
		return;
	l->held_at[0] = vmm_live_clock(l, VMM_CLOCK_MONOTONIC);
	l->held_at[1] = vmm_live_clock(l, VMM_CLOCK_REALTIME);
	l->held = true;
}

void vmm_live_clock_advance(struct vmm_live *l, uint64_t ns)
{
	if (!l->held)
		return;
	l->held_at[0] += ns;
	l->held_at[1] += ns;
}

void vmm_live_clock_release(struct vmm_live *l)
{
	if (!l->held)
		return;
	/* Go on from the guest time reached, at host speed. */
	l->clock_offset = (int64_t)(l->held_at[0] - host_now());
	l->held = false;
}

int vmm_live_create(struct vmm *vm, const struct vmm_live_options *opts,
		    const struct vmm_live_hooks *hooks, struct vmm_live **out, struct vmm_error *err)
{
	struct vmm_live *l = calloc(1, sizeof(*l));

	if (!l) {
		vmm_error_set(err, "out of memory");
		return -ENOMEM;
	}
	l->vm = vm;
	l->opt = *opts;
	if (hooks)
		l->hooks = *hooks;
	l->in_eof = opts->serial_in_fd < 0;
	l->start_ns = host_now();
	l->rng = opts->chaos_seed * 0x9e3779b97f4a7c15ull + 1;
	l->latency = opts->poll_latency_ns;
	l->next_chaos = opts->chaos ? l->start_ns + rng_below(l, CHAOS_MAX_GAP_NS) : UINT64_MAX;
	l->retry_at = UINT64_MAX;
	*out = l;
	return 0;
}

void vmm_live_destroy(struct vmm_live *l)
{
	free(l);
}

void vmm_live_request_stop(struct vmm_live *l)
{
	atomic_store(&l->stop, true);
	vmm_kick(l->vm);
}

/* The device deadline in host time, or UINT64_MAX. */
static uint64_t device_due(struct vmm_live *l)
{
	uint64_t d = vmm_next_deadline(l->vm);
	int64_t host;

	if (d == UINT64_MAX)
		return d;
	host = (int64_t)d - l->clock_offset;
	return host > 0 ? (uint64_t)host : 0;
}

static void read_input(struct vmm_live *l, uint64_t now)
{
	struct pollfd p = { .fd = l->opt.serial_in_fd, .events = POLLIN };
	ssize_t n;

	l->next_input_check = now + INPUT_CHECK_NS;
	if (l->in_eof || l->in_len == sizeof(l->in))
		return;
	if (poll(&p, 1, 0) <= 0)
		return;
	n = read(l->opt.serial_in_fd, l->in + l->in_len, sizeof(l->in) - l->in_len);
	if (n > 0)
		l->in_len += (size_t)n;
	else if (n == 0 || (errno != EINTR && errno != EAGAIN))
		l->in_eof = true;
}

/* When serial input wants a poll (host time), or UINT64_MAX: bytes already
 * read wait for room in the UART; more are looked for every INPUT_CHECK_NS.
 * With the FIFO full only the guest can make room, at an exit, so no kick
 * is needed: kicking for it would only stop the guest from draining it. */
static uint64_t input_due(struct vmm_live *l)
{
	if (vmm_serial_rx_space(l->vm) == 0)
		return UINT64_MAX;
	if (l->in_len > 0)
		return 0;
	return l->in_eof ? UINT64_MAX : l->next_input_check;
}

static bool input_waiting(struct vmm_live *l, uint64_t now)
{
	return now >= input_due(l);
}

static bool poll_due(struct vmm_live *l, uint64_t now)
{
	return l->deferred || now >= device_due(l) || input_waiting(l, now);
}

static int do_poll(struct vmm_live *l, bool async, uint64_t now)
{
	int rc;

	l->deferred = false;
	l->retry_at = UINT64_MAX;
	l->retry_gap = 0;
	vmm_set_inject_mode(l->vm, VMM_INJECT_LIVE);
	if (l->hooks.before_poll) {
		rc = l->hooks.before_poll(l->hooks.ctx, l->vm, async);
		if (rc)
			return rc;
	}
	vmm_poll_devices(l->vm);
	if (!l->in_eof || l->in_len) {
		size_t n;

		read_input(l, now);
		n = vmm_serial_rx_push(l->vm, l->in, l->in_len);
		if (n > 0) {
			if (l->hooks.serial_in) {
				rc = l->hooks.serial_in(l->hooks.ctx, l->in, n);
				if (rc)
					return rc;
			}
			memmove(l->in, l->in + n, l->in_len - n);
			l->in_len -= n;
		}
	}
	if (l->opt.chaos)
		l->latency = rng_below(l, CHAOS_MAX_LATENCY_NS);
	return 0;
}

/* When the vCPU must be kicked out of guest code next. */
static uint64_t next_kick(struct vmm_live *l)
{
	uint64_t due = device_due(l), t = UINT64_MAX;

	if (due != UINT64_MAX)
		t = due + l->latency;
	if (input_due(l) != UINT64_MAX && input_due(l) + l->latency < t)
		t = input_due(l) + l->latency;
	if (l->opt.timeout_ns && l->start_ns + l->opt.timeout_ns < t)
		t = l->start_ns + l->opt.timeout_ns;
	if (l->next_chaos < t)
		t = l->next_chaos;
	if (l->retry_at != UINT64_MAX && t < l->retry_at)
		t = l->retry_at;
	return t;
}

static bool timed_out(struct vmm_live *l, uint64_t now)
{
	return l->opt.timeout_ns && now >= l->start_ns + l->opt.timeout_ns;
}

/* The guest halted with interrupts on: sleep until something can wake it. */
static void wait_halted(struct vmm_live *l)
{
	for (;;) {
		uint64_t now = host_now(), wake = device_due(l);
		struct timespec ts;

		if (atomic_load(&l->stop) || timed_out(l, now) || poll_due(l, now))
			return;
		if (l->opt.timeout_ns && l->start_ns + l->opt.timeout_ns < wake)
			wake = l->start_ns + l->opt.timeout_ns;
		if (l->hooks.idle)
			l->hooks.idle(l->hooks.ctx, wake);
		if (!l->in_eof) {
			struct pollfd p = { .fd = l->opt.serial_in_fd, .events = POLLIN };
			uint64_t left = wake == UINT64_MAX ? UINT64_MAX : wake - now;
			int ms = left == UINT64_MAX ? -1 : (int)((left + 999999) / 1000000);

			if (vmm_serial_rx_space(l->vm) == 0)
				p.fd = -1;      /* no room: don't spin on a readable fd */
			if (poll(&p, 1, ms) > 0)
				l->next_input_check = 0;
			continue;
		}
		if (wake == UINT64_MAX) {
			pause();        /* only a signal (stop, kick) can help now */
			continue;
		}
		ts.tv_sec = (time_t)(wake / 1000000000u);
		ts.tv_nsec = (long)(wake % 1000000000u);
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	}
}

/* Chaos: make the next timer interrupt happen now, wherever the guest is. */
static void chaos_preempt(struct vmm_live *l, uint64_t now)
{
	uint64_t d = vmm_next_deadline(l->vm), live_now = now + (uint64_t)l->clock_offset;

	l->next_chaos = now + rng_below(l, CHAOS_MAX_GAP_NS);
	if (d != UINT64_MAX && d > live_now && rng_below(l, 2))
		l->clock_offset += (int64_t)(d - live_now);
}

/* A kick that found nothing to do here. Back off: kicking again at once
 * would keep the backend from making progress (delivering an interrupt on
 * this one can take longer than a short gap), so each such kick in a row
 * doubles the time before the next. A poll or an exit resets it. */
static void kick_idle(struct vmm_live *l, uint64_t now)
{
	l->retry_gap = l->retry_gap ? l->retry_gap * 2 : KICK_RETRY_NS;
	if (l->retry_gap > KICK_RETRY_MAX_NS)
		l->retry_gap = KICK_RETRY_MAX_NS;
	l->retry_at = now + l->retry_gap;
}

static int kick_point(struct vmm_live *l, struct vmm_live_result *res)
{
	uint64_t now = host_now();
	int rc;

	vmm_take_kick(l->vm);
	if (now >= l->next_chaos)
		chaos_preempt(l, now);
	/* An interrupt the guest can take now will be injected at this
	 * asynchronous point: that needs a poll too, so that a recording
	 * names the point (an interrupt-window exit, or a kick that came
	 * before it). */
	if (!poll_due(l, now) && !vmm_can_inject(l->vm)) {
		kick_idle(l, now);
		return 0;
	}
	/* Just after an injection, before the guest took it, or inside an
	 * interrupt shadow: no fingerprint names this point. Let the guest
	 * move on a little and try again. */
	if (vmm_interrupt_blocked(l->vm)) {
		kick_idle(l, now);
		return 0;
	}
	if (l->opt.defer_cpl3 && vmm_cpl(l->vm) == 3) {
		/* Hold any injection too, until the next poll. */
		l->deferred = true;
		vmm_set_inject_mode(l->vm, VMM_INJECT_HOLD);
		kick_idle(l, now);
		return 0;
	}
	rc = do_poll(l, true, now);
	if (rc) {
		res->reason = VMM_STOP_HOOK;
		res->hook_rc = rc;
		return 1;
	}
	return 0;
}

/* The guest is halted (vmm_halt_state): stay so until an interrupt is
 * pending, polling (each poll is logged at this same exit) rather than
 * waking the guest for nothing. 1 when the run must return (res set). */
static int stay_halted(struct vmm_live *l, struct vmm_live_result *res)
{
	int rc;

	for (;;) {
		uint64_t now;

		switch (vmm_halt_state(l->vm)) {
		case VMM_HALT_DEAD:
			res->reason = VMM_STOP_HALTED;
			return 1;
		case VMM_HALT_WAIT:
			break;
		default:
			return 0;
		}
		wait_halted(l);
		now = host_now();
		if (atomic_load(&l->stop))
			return 0;       /* the caller's check reports it */
		if (timed_out(l, now)) {
			res->reason = VMM_STOP_TIMEOUT;
			return 1;
		}
		rc = do_poll(l, false, now);
		if (rc) {
			res->reason = VMM_STOP_HOOK;
			res->hook_rc = rc;
			return 1;
		}
	}
}

int vmm_live_wait_halted(struct vmm_live *l, struct vmm_live_result *res)
{
	memset(res, 0, sizeof(*res));
	if (!atomic_load(&l->stop) && stay_halted(l, res))
		return 1;
	if (atomic_exchange(&l->stop, false)) {
		res->reason = VMM_STOP_REQUESTED;
		return 1;
	}
	return 0;
}

int vmm_live_run(struct vmm_live *l, struct vmm_live_result *res, struct vmm_error *err)
{
	struct vmm_event *ev = &res->ev;
	int rc;

	memset(res, 0, sizeof(*res));
	for (;;) {
		uint64_t now;

		if (atomic_exchange(&l->stop, false)) {
			res->reason = VMM_STOP_REQUESTED;
			return 0;
		}
		/* Halted before this run (a debugger stopped it there). */
		if (vmm_halt_state(l->vm) != VMM_HALT_RUNNING) {
			if (stay_halted(l, res))
				return 0;
			if (atomic_load(&l->stop))
				continue;
		}
		rc = vmm_kick_at(l->vm, next_kick(l));
		if (rc) {
			vmm_error_set(err, "arming the kick timer: %s", strerror(-rc));
			return rc;
		}
		rc = vmm_step(l->vm, ev, err);
		if (rc)
			return rc;
		if (l->hooks.on_event) {
			rc = l->hooks.on_event(l->hooks.ctx, l->vm, ev);
			if (rc) {
				res->reason = VMM_STOP_HOOK;
				res->hook_rc = rc;
				return 0;
			}
		}
		now = host_now();
		switch (ev->kind) {
		case VMM_EV_IO:
			l->retry_at = UINT64_MAX;       /* the guest is moving */
			l->retry_gap = 0;
			if (timed_out(l, now)) {
				res->reason = VMM_STOP_TIMEOUT;
				return 0;
			}
			/* In chaos mode a due poll may skip an exit, to land later. */
			if (poll_due(l, now) && !(l->opt.chaos && rng_below(l, 2))) {
				rc = do_poll(l, false, now);
				if (rc) {
					res->reason = VMM_STOP_HOOK;
					res->hook_rc = rc;
					return 0;
				}
			}
			break;
		case VMM_EV_HLT:
			if (stay_halted(l, res))
				return 0;
			break;
		case VMM_EV_KICK:
		case VMM_EV_IRQ_WINDOW:
			if (timed_out(l, now)) {
				res->reason = VMM_STOP_TIMEOUT;
				return 0;
			}
			if (kick_point(l, res))
				return 0;
			break;
		case VMM_EV_GUEST_EXIT:
			res->reason = VMM_STOP_GUEST_EXIT;
			res->exit_value = ev->u.exit_value;
			return 0;
		case VMM_EV_DEBUG:
		case VMM_EV_WRITE:      /* a page the debugger protected */
			res->reason = VMM_STOP_DEBUG;
			return 0;
		case VMM_EV_SHUTDOWN:
			res->reason = VMM_STOP_SHUTDOWN;
			return 0;
		case VMM_EV_ERROR:
			res->reason = VMM_STOP_ERROR;
			return 0;
		}
	}
}
