/*
 * debug.h — rrvm's debugger core: what gdb drives, on a live guest
 * (`rrvm run --gdb`) or on a recording (`rrvm replay --gdb`).
 *
 * One gdb target serves both machines (a struct gdb_target for gdbstub/):
 * one breakpoint and watchpoint table, one interrupt-aware single step,
 * the monitor command table, and the time rule while the debugger holds
 * the guest (see below). cli/ only parses argv, installs signal handlers
 * and turns the result into an exit status.
 *
 * Time while gdb holds a live guest (QEMU's default single-step mode,
 * SSTEP_NOIRQ | SSTEP_NOTIMER): the guest's clock does not run while the
 * guest is stopped in gdb, and while gdb steps it (stepi, next, step, and
 * watchpoints kept by single-stepping) guest time advances only with the
 * instructions executed, DEBUG_STEP_NS each; timer interrupts then come
 * when that virtual time reaches their deadline. A plain stepi holds
 * interrupts altogether; a continue runs on host time again, from the
 * guest time reached.
 *
 * Typical use (cli/cmd_run.c):
 *     struct debug *d;
 *     debug_create_live(&cfg, &d);
 *     cli_on_interrupt(on_signal, d);       // on_signal: debug_interrupt()
 *     status = debug_serve(d);
 *     debug_live_result(d, &res);
 *     debug_destroy(d);
 */
#ifndef RRVM_DEBUG_H
#define RRVM_DEBUG_H

#include <stdbool.h>
#include <stdint.h>

#include "replay/replay.h"
#include "vmm/vmm.h"

/* Where gdb is served when --gdb names no address. */
#define DEBUG_DEFAULT_ADDR "127.0.0.1:1234"

/* Guest time one stepped instruction takes while the debugger steps. */
#define DEBUG_STEP_NS 1000ull

/* Messages for the user (rrvm's stderr). */
typedef void (*debug_log_fn)(void *ctx, const char *msg);

struct debug_live_config {
	struct vmm *vm;
	struct vmm_live *live;          /* its live driver (clock installed) */
	const char *kernel;             /* host path of the kernel ELF */
	const char *addr;               /* where to listen (gdbstub syntax) */
	bool quiet, verbose;
	/*
	 * gdb's `run` (extended-remote): replace the machine with a fresh
	 * boot of the same kernel and arguments. The callee destroys *vm and
	 * *live and creates new ones (or leaves them and returns -errno).
	 * NULL: `run` is refused.
	 */
	int (*reboot)(void *ctx, struct vmm **vm, struct vmm_live **live);
	void *reboot_ctx;
	debug_log_fn log;
	void *log_ctx;
};

struct debug_replay_config {
	struct replay *r;               /* opened on dir; the core owns it now */
	const char *dir;
	const struct replay_options *ropts;     /* to reopen it for gdb's `run` */
	const char *addr;
	bool quiet, verbose;
	debug_log_fn log;
	void *log_ctx;
	/* Bytes the checkpoints may hold (pages and replayer state; see
	 * debug/timeline.c); 0: DEBUG_CHECKPOINT_MEMORY_DEFAULT. */
	uint64_t checkpoint_memory;
	/* Raw units only (debug/units.c, for rrvm index): no reverse
	 * execution, and the replay's observer stays the caller's. */
	bool units_only;
};

/* The default bound of a replay's checkpoint memory (--checkpoint-memory). */
#define DEBUG_CHECKPOINT_MEMORY_DEFAULT (512ull << 20)

struct debug;

/* -ENOMEM or 0. */
int debug_create_live(const struct debug_live_config *c, struct debug **out) VMM_MUST_CHECK;
int debug_create_replay(const struct debug_replay_config *c, struct debug **out) VMM_MUST_CHECK;
/* Frees the core; on a replay target also closes the replay it holds. */
void debug_destroy(struct debug *d);

/* How the session ended. */
enum debug_end {
	DEBUG_END_KILLED = 1,           /* gdb's kill: the guest is stopped for good */
	DEBUG_END_FINISHED,             /* the guest (or the replay) ran to its end */
	DEBUG_END_BAD_ADDR,             /* could not listen on addr (usage error) */
	DEBUG_END_FAILED,               /* serving failed; a message was logged */
};
/* Listen and serve gdb until it kills, or the guest ends (after a detach
 * the guest runs on to its end here). */
enum debug_end debug_serve(struct debug *d);

/* SIGINT to rrvm: stop a guest that runs for gdb (true), or false when gdb
 * holds it stopped (the caller then ends the program). Async-signal-safe. */
bool debug_interrupt(struct debug *d);

/* After serve: the machine now (gdb's `run` may have replaced it). */
struct vmm *debug_vm(struct debug *d);
struct vmm_live *debug_live(struct debug *d);
/* Live: how the guest ended (KILLED: reason VMM_STOP_REQUESTED). */
void debug_live_result(struct debug *d, struct vmm_live_result *res);
/* Replay: the replay now, and its result (KILLED: REPLAY_STOP_INTERRUPTED). */
struct replay *debug_replay(struct debug *d);
/* Replay: go to position pos (EXITS[+STEPS], replay.h), before serving or
 * instead (`rrvm replay --goto`); what went wrong goes to the log. 0;
 * -EINVAL malformed, -ERANGE not in the recording (the replay stays where
 * it was); -EIO the replay could not get there (debug_replay_result says
 * why: diverged, truncated). */
int debug_replay_goto(struct debug *d, const char *pos) VMM_MUST_CHECK;
/* Replay: where it is, one line: position, rip, state hash. */
int debug_replay_describe(struct debug *d, char *buf, size_t len) VMM_MUST_CHECK;
void debug_replay_result(struct debug *d, struct replay_result *res);

/* ---- raw units without gdb (units.c: the trace database's counter) ------
 * A core over the open replay r of dir (r stays the caller's) that steps
 * raw units exactly as goto counts them. */
int debug_units_open(struct replay *r, const char *dir, struct debug **out) VMM_MUST_CHECK;
void debug_units_close(struct debug *d);
/* One raw unit: 0 done; 1 the replay stopped instead (the end, a
 * divergence, Ctrl-C: *res says which); -EOPNOTSUPP the guest is in user
 * mode (CPL3) or this unit is an iretq there, which this host cannot
 * single-step (nothing ran); another -errno. */
int debug_units_step(struct debug *d, struct replay_result *res) VMM_MUST_CHECK;

#endif
