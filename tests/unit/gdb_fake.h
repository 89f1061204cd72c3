/*
 * gdb_fake.h — a fake gdbstub target and a tiny protocol client, shared by
 * the gdb unit tests and by tests/tools/gdbfake (which the integration test
 * drives with the real gdb). Header-only; everything is static.
 *
 * The fake machine: 64 KiB of memory at FAKE_BASE filled with NOPs (0x90),
 * everything else unmapped. Its "program" executes one byte per step: rip
 * advances by one and wraps inside the loop [FAKE_BASE, FAKE_BASE +
 * FAKE_LOOP); each time rip reaches FAKE_COUNTER_PC it increments the
 * 64-bit counter at FAKE_COUNTER_ADDR, so watchpoints see real writes.
 * Continue runs until a breakpoint, a watchpoint, an interrupt, or
 * step_limit steps (0 = forever). Four debug-register slots are shared by
 * hardware breakpoints and watchpoints, as on x86. With can_reverse the
 * fake keeps a position (steps since start) so bs/bc can run backwards,
 * stopping at position 0 with a replaylog:begin stop.
 */
#ifndef RRVM_TESTS_GDB_FAKE_H
#define RRVM_TESTS_GDB_FAKE_H

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "gdbstub/gdbstub.h"

#define FAKE_BASE 0x100000ull
#define FAKE_MEM_SIZE 0x10000ull
#define FAKE_LOOP 0x40ull
#define FAKE_COUNTER_PC (FAKE_BASE + 0x20)
#define FAKE_COUNTER_ADDR (FAKE_BASE + 0x8000)
#define FAKE_NSLOTS 4
#define FAKE_NSW 64

struct fake_slot {
	bool used;
	enum gdb_bp_type type;
	uint64_t addr, len;
};

struct gdb_fake {
	struct gdb_x86_regs regs;
	uint8_t mem[FAKE_MEM_SIZE];
	struct fake_slot hw[FAKE_NSLOTS];
	uint64_t sw[FAKE_NSW];
	int nsw;
	long step_limit;		/* continue stops (SIGTRAP) after this many steps; 0: never */
	bool exit_at_limit;		/* ... or exits with exit_status instead */
	int exit_status;
	bool can_reverse;
	uint64_t position;		/* steps since the start, for reverse */
	uint64_t replay_end;		/* forward stop with replaylog:end here; 0: none */
	bool has_forced;		/* the next resume returns forced at once */
	struct gdb_stop forced;
	pthread_mutex_t lock;
	bool interrupted;
	/* statistics for the tests */
	int resumes, interrupts, kills, detaches, monitors;
	enum gdb_resume last_how;
	char last_monitor[256];
};

static void fake_init(struct gdb_fake *f)
{
	memset(f, 0, sizeof(*f));
	pthread_mutex_init(&f->lock, NULL);
	memset(f->mem, 0x90, sizeof(f->mem));
	memset(f->mem + (FAKE_COUNTER_ADDR - FAKE_BASE), 0, 8);
	f->regs.rip = FAKE_BASE;
	f->regs.rsp = FAKE_BASE + 0xf000;
	f->regs.rbp = FAKE_BASE + 0xf000;
	f->regs.rax = 0x1122334455667788ull;
	f->regs.eflags = 0x2;
	f->regs.cs = 0x8;
	f->regs.ss = f->regs.ds = f->regs.es = 0x10;
	f->regs.fctrl = 0x37f;
	f->regs.mxcsr = 0x1f80;
	f->regs.fs_base = 0x7f0000001000ull;
	f->regs.gs_base = 0xffff888000000000ull;
	f->regs.k_gs_base = 0x7f0000002000ull;
	f->regs.cr0 = 0x80000011ull;
	f->regs.cr3 = 0x1000;
	f->regs.cr4 = 0x20;
	f->regs.efer = 0x500;
}

static bool fake_mapped(uint64_t addr, size_t len)
{
	return addr >= FAKE_BASE && len <= FAKE_MEM_SIZE && addr - FAKE_BASE <= FAKE_MEM_SIZE - len;
}

static int fake_read_regs(void *ctx, struct gdb_x86_regs *regs)
{
	*regs = ((struct gdb_fake *)ctx)->regs;
	return 0;
}

static int fake_write_regs(void *ctx, const struct gdb_x86_regs *regs)
{
	((struct gdb_fake *)ctx)->regs = *regs;
	return 0;
}

static int fake_read_mem(void *ctx, uint64_t addr, void *buf, size_t len)
{
	struct gdb_fake *f = ctx;

	if ((addr & ~0xfffull) != ((addr + len - 1) & ~0xfffull))
		return -EINVAL;	/* the stub promised page-sized pieces */
	if (!fake_mapped(addr, len))
		return -EFAULT;
	memcpy(buf, f->mem + (addr - FAKE_BASE), len);
	return 0;
}

static int fake_write_mem(void *ctx, uint64_t addr, const void *buf, size_t len)
{
	struct gdb_fake *f = ctx;

	if (!fake_mapped(addr, len))
		return -EFAULT;
	memcpy(f->mem + (addr - FAKE_BASE), buf, len);
	return 0;
}

static int fake_insert_bp(void *ctx, enum gdb_bp_type type, uint64_t addr, uint64_t kind,
			  char *msg, size_t msg_size)
{
	struct gdb_fake *f = ctx;

	if (type == GDB_BP_SW) {
		if (f->nsw == FAKE_NSW)
			return -ENOSPC;
		f->sw[f->nsw++] = addr;
		return 0;
	}
	if (type != GDB_BP_HW && kind != 1 && kind != 2 && kind != 4 && kind != 8) {
		snprintf(msg, msg_size, "watch length %llu is not 1, 2, 4 or 8",
			 (unsigned long long)kind);
		return -EINVAL;
	}
	for (int i = 0; i < FAKE_NSLOTS; i++) {
		if (!f->hw[i].used) {
			f->hw[i] = (struct fake_slot){ true, type, addr, kind };
			return 0;
		}
	}
	snprintf(msg, msg_size, "all %d debug registers are in use", FAKE_NSLOTS);
	return -ENOSPC;
}

static int fake_remove_bp(void *ctx, enum gdb_bp_type type, uint64_t addr, uint64_t kind,
			  char *msg, size_t msg_size)
{
	struct gdb_fake *f = ctx;

	if (type == GDB_BP_SW) {
		for (int i = 0; i < f->nsw; i++) {
			if (f->sw[i] == addr) {
				f->sw[i] = f->sw[--f->nsw];
				return 0;
			}
		}
		return -EINVAL;
	}
	for (int i = 0; i < FAKE_NSLOTS; i++) {
		if (f->hw[i].used && f->hw[i].type == type && f->hw[i].addr == addr) {
			f->hw[i].used = false;
			return 0;
		}
	}
	snprintf(msg, msg_size, "no such breakpoint");
	return -EINVAL;
}

/* A breakpoint at the current rip, as the stop kind it causes; -1 if none. */
static int fake_bp_here(struct gdb_fake *f)
{
	for (int i = 0; i < f->nsw; i++)
		if (f->sw[i] == f->regs.rip)
			return GDB_STOP_SWBREAK;
	for (int i = 0; i < FAKE_NSLOTS; i++)
		if (f->hw[i].used && f->hw[i].type == GDB_BP_HW && f->hw[i].addr == f->regs.rip)
			return GDB_STOP_HWBREAK;
	return -1;
}

/* Execute one instruction; returns a watch stop kind if one fired, else -1. */
static int fake_exec_one(struct gdb_fake *f, uint64_t *watch_addr)
{
	int hit = -1;

	if (f->regs.rip == FAKE_COUNTER_PC) {
		uint64_t v;
		uint8_t *p = f->mem + (FAKE_COUNTER_ADDR - FAKE_BASE);

		memcpy(&v, p, 8);
		v++;
		memcpy(p, &v, 8);
		for (int i = 0; i < FAKE_NSLOTS; i++) {
			const struct fake_slot *s = &f->hw[i];

			if (!s->used || s->type == GDB_BP_HW || s->type == GDB_WATCH_READ)
				continue;
			if (s->addr < FAKE_COUNTER_ADDR + 8 && FAKE_COUNTER_ADDR < s->addr + s->len) {
				hit = s->type == GDB_WATCH_WRITE ? GDB_STOP_WATCH : GDB_STOP_AWATCH;
				*watch_addr = s->addr;
			}
		}
	}
	f->regs.rip++;
	if (f->regs.rip < FAKE_BASE || f->regs.rip >= FAKE_BASE + FAKE_LOOP)
		f->regs.rip = FAKE_BASE;
	f->position++;
	return hit;
}

static bool fake_take_interrupt(struct gdb_fake *f)
{
	bool r;

	pthread_mutex_lock(&f->lock);
	r = f->interrupted;
	f->interrupted = false;
	pthread_mutex_unlock(&f->lock);
	return r;
}

static int fake_reverse(struct gdb_fake *f, bool step, struct gdb_stop *stop)
{
	do {
		if (f->position == 0) {
			stop->kind = GDB_STOP_REPLAY_BEGIN;
			return 0;
		}
		f->position--;
		f->regs.rip = f->regs.rip == FAKE_BASE ? FAKE_BASE + FAKE_LOOP - 1 : f->regs.rip - 1;
		if (!step && fake_bp_here(f) >= 0) {
			stop->kind = (enum gdb_stop_kind)fake_bp_here(f);
			return 0;
		}
	} while (!step);
	stop->kind = GDB_STOP_SIGNAL;
	stop->signal = GDB_SIGTRAP;
	return 0;
}

static int fake_resume(void *ctx, enum gdb_resume how, struct gdb_stop *stop)
{
	struct gdb_fake *f = ctx;
	uint64_t waddr = 0;
	long steps = 0;
	int k;

	pthread_mutex_lock(&f->lock);
	f->resumes++;
	pthread_mutex_unlock(&f->lock);
	f->last_how = how;
	memset(stop, 0, sizeof(*stop));
	if (f->has_forced) {
		f->has_forced = false;
		*stop = f->forced;
		return 0;
	}
	if (how == GDB_RESUME_REVERSE_STEP || how == GDB_RESUME_REVERSE_CONTINUE) {
		if (!f->can_reverse)
			return -EOPNOTSUPP;
		return fake_reverse(f, how == GDB_RESUME_REVERSE_STEP, stop);
	}
	for (;;) {
		if (f->replay_end && f->position >= f->replay_end) {
			stop->kind = GDB_STOP_REPLAY_END;
			return 0;
		}
		k = fake_exec_one(f, &waddr);
		steps++;
		if (k >= 0) {
			stop->kind = (enum gdb_stop_kind)k;
			stop->addr = waddr;
			return 0;
		}
		if (how == GDB_RESUME_STEP)
			break;
		k = fake_bp_here(f);
		if (k >= 0) {
			stop->kind = (enum gdb_stop_kind)k;
			return 0;
		}
		if (f->step_limit && steps >= f->step_limit) {
			if (f->exit_at_limit) {
				stop->kind = GDB_STOP_EXITED;
				stop->status = f->exit_status;
				return 0;
			}
			break;
		}
		if (fake_take_interrupt(f)) {
			stop->kind = GDB_STOP_SIGNAL;
			stop->signal = GDB_SIGINT;
			return 0;
		}
		if (steps % 64 == 0)
			nanosleep(&(struct timespec){ 0, 200000 }, NULL);
	}
	stop->kind = GDB_STOP_SIGNAL;
	stop->signal = GDB_SIGTRAP;
	return 0;
}

/* Wait (from the test's thread) until the target has been resumed at
 * least n times in all: the event "the stub is running the target", on
 * which a test may send Ctrl-C. 0 when it came, -1 after a minute. */
static inline int fake_wait_resumes(struct gdb_fake *f, int n)
{
	for (int ms = 0; ms < 60000; ms++) {
		int r;

		pthread_mutex_lock(&f->lock);
		r = f->resumes;
		pthread_mutex_unlock(&f->lock);
		if (r >= n)
			return 0;
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	}
	return -1;
}

static void fake_interrupt(void *ctx)
{
	struct gdb_fake *f = ctx;

	pthread_mutex_lock(&f->lock);
	f->interrupted = true;
	f->interrupts++;
	pthread_mutex_unlock(&f->lock);
}

static int fake_monitor(void *ctx, const char *cmd, gdb_output_fn out, void *out_ctx)
{
	struct gdb_fake *f = ctx;
	char line[300];
	int n;

	f->monitors++;
	snprintf(f->last_monitor, sizeof(f->last_monitor), "%s", cmd);
	if (strcmp(cmd, "fail") == 0) {
		out(out_ctx, "fail: as requested\n", 19);
		return -EINVAL;
	}
	if (strcmp(cmd, "endless") == 0) {
		/* Lines until the client wants no more (Ctrl-C or a new
		 * packet); the cap ends it for a client that never says so. */
		int i;

		for (i = 0; i < 1000000 && !gdb_monitor_interrupted(out_ctx); i++) {
			n = snprintf(line, sizeof(line), "endless line %d\n", i);
			out(out_ctx, line, (size_t)n);
		}
		n = snprintf(line, sizeof(line), "endless: %s after %d lines\n",
			     i < 1000000 ? "interrupted" : "not interrupted", i);
		out(out_ctx, line, (size_t)n);
		return 0;
	}
	if (strcmp(cmd, "big") == 0) {
		for (int i = 0; i < 100; i++) {
			n = snprintf(line, sizeof(line), "line %03d of a long monitor output\n", i);
			out(out_ctx, line, (size_t)n);
		}
		return 0;
	}
	n = snprintf(line, sizeof(line), "echo: %s\n", cmd);
	out(out_ctx, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
	return 0;
}

static void fake_kill(void *ctx)
{
	((struct gdb_fake *)ctx)->kills++;
}

static void fake_detach(void *ctx)
{
	((struct gdb_fake *)ctx)->detaches++;
}

static const struct gdb_target_ops fake_ops = {
	.read_regs = fake_read_regs,
	.write_regs = fake_write_regs,
	.read_mem = fake_read_mem,
	.write_mem = fake_write_mem,
	.insert_bp = fake_insert_bp,
	.remove_bp = fake_remove_bp,
	.resume = fake_resume,
	.interrupt = fake_interrupt,
	.monitor = fake_monitor,
	.kill = fake_kill,
	.detach = fake_detach,
};

static inline struct gdb_target fake_target(struct gdb_fake *f)
{
	struct gdb_target t = {
		.ops = &fake_ops,
		.ctx = f,
		.flags = f->can_reverse ? GDB_TARGET_CAN_REVERSE : 0,
	};

	return t;
}

#ifdef GDB_FAKE_WITH_CLIENT
/*
 * The client side for unit tests: frames packets the way gdb does and
 * checks every reply's checksum. Reads time out after 5 s so that a stub
 * that fails to answer makes a test fail instead of hanging.
 */
struct gdb_client {
	int fd;
	bool noack;
	bool bad_reply;			/* a reply had a bad checksum */
	char buf[70000];
	size_t len;
};

#define CLIENT_TIMEOUT_MS 5000

static __attribute__((unused)) int cl_getc(struct gdb_client *c, int timeout_ms)
{
	struct pollfd p = { .fd = c->fd, .events = POLLIN };
	unsigned char ch;

	if (poll(&p, 1, timeout_ms) <= 0)
		return -1;
	if (recv(c->fd, &ch, 1, 0) != 1)
		return -2;
	return ch;
}

static __attribute__((unused)) int cl_send_raw(struct gdb_client *c, const void *data, size_t len)
{
	return send(c->fd, data, len, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
}

/* Frame data (len bytes) and send it; returns the ack byte ('+', '-') or 0 in no-ack mode. */
static __attribute__((unused)) int cl_send_len(struct gdb_client *c, const char *data, size_t len)
{
	static char frame[70010];
	unsigned sum = 0;

	for (size_t i = 0; i < len; i++)
		sum += (unsigned char)data[i];
	frame[0] = '$';
	memcpy(frame + 1, data, len);
	snprintf(frame + 1 + len, 4, "#%02x", sum & 0xff);
	if (cl_send_raw(c, frame, len + 4))
		return -1;
	return c->noack ? 0 : cl_getc(c, CLIENT_TIMEOUT_MS);
}

static __attribute__((unused)) int cl_send(struct gdb_client *c, const char *data)
{
	return cl_send_len(c, data, strlen(data));
}

/* Next packet from the stub (NUL-terminated in c->buf), or NULL. */
static __attribute__((unused)) const char *cl_recv(struct gdb_client *c)
{
	unsigned sum = 0, want;
	char cs[3] = { 0 };
	int ch;

	do
		ch = cl_getc(c, CLIENT_TIMEOUT_MS);
	while (ch >= 0 && ch != '$');
	if (ch < 0)
		return NULL;
	c->len = 0;
	for (;;) {
		ch = cl_getc(c, CLIENT_TIMEOUT_MS);
		if (ch < 0)
			return NULL;
		if (ch == '#')
			break;
		sum += (unsigned)ch;
		if (c->len < sizeof(c->buf) - 1)
			c->buf[c->len++] = (char)ch;
	}
	for (int i = 0; i < 2; i++) {
		ch = cl_getc(c, CLIENT_TIMEOUT_MS);
		if (ch < 0)
			return NULL;
		cs[i] = (char)ch;
	}
	c->buf[c->len] = '\0';
	if (sscanf(cs, "%2x", &want) != 1 || want != (sum & 0xff))
		c->bad_reply = true;
	if (!c->noack)
		cl_send_raw(c, "+", 1);
	return c->buf;
}

static __attribute__((unused)) const char *cl_call(struct gdb_client *c, const char *data)
{
	int ack = cl_send(c, data);

	if (ack < 0 || (!c->noack && ack != '+'))
		return NULL;
	return cl_recv(c);
}

/* A stub serving one end of a socketpair in its own thread. */
struct served {
	struct gdb_server *srv;
	int fd;
	int result;
	pthread_t tid;
};

static __attribute__((unused)) void *served_main(void *arg)
{
	struct served *sv = arg;

	sv->result = gdb_server_serve_fd(sv->srv, sv->fd);
	return NULL;
}

/* Start serving srv; the client end goes into *c. 0 or -1. */
static __attribute__((unused)) int served_start(struct served *sv, struct gdb_server *srv, struct gdb_client *c)
{
	int fds[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds))
		return -1;
	sv->srv = srv;
	sv->fd = fds[0];
	sv->result = 0;
	memset(c, 0, sizeof(*c));
	c->fd = fds[1];
	if (pthread_create(&sv->tid, NULL, served_main, sv)) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	return 0;
}

/* Close the client side (unless already closed), wait for the stub, return its result. */
static __attribute__((unused)) int served_stop(struct served *sv, struct gdb_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	pthread_join(sv->tid, NULL);
	close(sv->fd);
	return sv->result;
}
#endif

#endif
