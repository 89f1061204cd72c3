/*
 * internal.h — what the replayer's files share, and its seam.
 *
 * The replayer is split by job: replayer.c consumes events and checks the
 * machine against them (the run loop, polls, the fingerprint search,
 * divergence and the end), lookahead.c holds the queue of events read
 * ahead of the one being consumed, replaystate.c saves and restores the
 * replayer's state, and machine_vmm.c opens a recording on a real vmm.
 *
 * The seam: the replayer reaches the machine only through struct
 * replay_machine_ops, so its logic runs the same against a real KVM guest
 * (machine_vmm.c) and against a scripted fake in the unit tests
 * (tests/unit/replayer_test.c). The machine calls back replay_clock_read()
 * whenever a device model reads the clock, inside step and poll_devices,
 * as vmm does through struct vmm_clock.
 */
#ifndef RRVM_REPLAY_INTERNAL_H
#define RRVM_REPLAY_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "replay/replay.h"

/* The machine, as the replayer uses it; each member has the contract of
 * the vmm function of the same name (vmm.h). */
struct replay_machine_ops {
	int (*step)(void *m, struct vmm_event *ev, struct vmm_error *err);
	uint64_t (*exits)(void *m);
	void (*set_inject_mode)(void *m, enum vmm_inject_mode mode);
	bool (*can_inject)(void *m);
	int (*irq_pending)(void *m);
	bool (*guest_if)(void *m);
	int (*set_debug)(void *m, const struct vmm_debug *dbg);
	int (*get_regs)(void *m, struct vmm_regs *regs);
	/* OR the pages written since the last call into acc. */
	int (*dirty_collect)(void *m, uint64_t *acc);
	/* replay_fp_rest on this machine. */
	int (*fp_rest)(void *m, const uint64_t *dirty, size_t words, uint64_t *pages,
		       uint32_t max, uint32_t *npages, uint64_t *hash);
	void (*poll_devices)(void *m);
	size_t (*serial_rx_push)(void *m, const uint8_t *buf, size_t n);
	int (*state_hash)(void *m, uint64_t *hash);
	void (*kick)(void *m);
	bool (*take_kick)(void *m);
};

/* One event read ahead, copied out of the reader (which reuses its
 * storage), with the log position where it starts. */
struct replay_lookahead {
	struct replay_event ev;
	enum replay_log_status status;
	struct replay_log_pos pos;
	uint8_t bytes[REPLAY_SERIAL_IN_MAX];
	uint64_t *pages;
};

#define REPLAY_LOOKAHEAD 2

struct replay {
	char *dir;                      /* for messages */
	struct replay_manifest manifest;
	struct vmm *vm;                 /* NULL when the machine is not a vmm */
	const struct replay_machine_ops *mops;
	void *mctx;
	struct replay_log_reader *log;

	/* The next events: the replayer must see one event past an INJECT
	 * to arm a search before the injecting entry. A cache of the log:
	 * the state saved is the position of q[qhead], not the queue. */
	struct replay_lookahead q[REPLAY_LOOKAHEAD];
	unsigned qhead, qn;             /* q[(qhead + i) % 2] is the i-th next */
	enum replay_log_status next_status;     /* of the next event, or of the log */
	uint64_t events;

	uint64_t *dirty;
	size_t dirty_words;
	uint64_t *pages;
	uint64_t checksum;
	uint64_t last_clock[2];

	bool stopped;                   /* a stop was decided inside a callback */
	struct replay_result pending;
	atomic_bool interrupt;

	struct replay_observer observer;
	int (*symbolize)(void *ctx, uint64_t addr, char *buf, size_t len);
	void *symbolize_ctx;
	uint64_t stop_at;
	struct vmm_debug user_dbg;
	struct vmm_debug applied;
	bool applied_valid;
	bool searching, stepping_over;
	/* Injection is allowed only on entries the recording could have
	 * injected on without logging a point: after a synchronous exit or a
	 * poll. Never after a breakpoint or single-step exit of our own. */
	bool may_inject;
	uint64_t search_rip, search_hits;
	/* The debugger's single steps into interrupt handlers. */
	int (*handler_lookup)(void *ctx, int vector, uint64_t *addr);
	void *handler_ctx;
	int handler_slot;               /* this entry's handler breakpoint, or -1 */
	/* A vector injected on an entry that a kick cut short: KVM may still
	 * hold it, to deliver at the next entry. */
	int queued_vector;
	struct replay_stats stats;
};

/* ---- construction (replayer.c) ------------------------------------------ */

/* A replayer with no machine and no log yet; dir names the recording in
 * messages. NULL when out of memory. */
struct replay *replay_alloc(const char *dir, const struct replay_options *o);
/* Drive the machine (ops, m) from the log at logpath: allocates the dirty
 * bitmap (words of 64 pages) and reads the first event, so that a damaged
 * log is refused before the guest runs. 0 or -errno with err set. */
int replay_attach(struct replay *r, const struct replay_machine_ops *ops, void *m,
		  size_t dirty_words, const char *logpath, struct vmm_error *err) VMM_MUST_CHECK;
/* The replay's clock: the next logged value of that kind (ctx: the replay). */
uint64_t replay_clock_read(void *ctx, enum vmm_clock_kind kind);

/* ---- the lookahead queue (lookahead.c) ----------------------------------- */

int replay_q_init(struct replay *r) VMM_MUST_CHECK;
void replay_q_free(struct replay *r);
/* The i-th next event (i < REPLAY_LOOKAHEAD), or NULL when the log has
 * none: then r->next_status (for i == 0) says why. */
const struct replay_event *replay_q_peek_at(struct replay *r, unsigned i);
const struct replay_event *replay_q_peek(struct replay *r);
/* The next event is done with (the observer sees it now). */
void replay_q_consume(struct replay *r);
/* What the log holds next, in words, for messages. */
void replay_q_describe_next(struct replay *r, char *buf, size_t len);
/* Where the next unconsumed event starts in the log. */
void replay_q_position(struct replay *r, struct replay_log_pos *pos);
/* Forget what was read ahead and read on from pos. 0 or -errno. */
int replay_q_seek(struct replay *r, const struct replay_log_pos *pos) VMM_MUST_CHECK;

#endif
