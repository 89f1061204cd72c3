/*
 * internal.h — what the replayer's files share, and its seam.
 *
 * The replayer is split by job: replayer.c consumes events and checks the
 * machine against them (the run loop, polls, the fingerprint search,
 * divergence and the end), lookahead.c holds the queue of events read
 * ahead of the one being consumed, replaystate.c saves and restores the
 * replayer's state, fastsearch.c and stride.c find asynchronous points in
 * fewer breakpoint hits, and replayopen.c opens a recording on a real vmm.
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
	/* Optional (NULL: no fast search): snapshots of the whole machine,
	 * the kick timer (vmm_kick_at), and output muting (set_mute is
	 * vmm_mute_output_below returning the value it replaces). */
	int (*snap_save)(void *m, void **snap, struct vmm_error *err);
	int (*snap_restore)(void *m, const void *snap, struct vmm_error *err);
	void (*snap_free)(void *m, void *snap);
	int (*kick_at)(void *m, uint64_t deadline_ns);
	uint64_t (*set_mute)(void *m, uint64_t below);
	/* Optional (NULL: exits are always finished): vmm_finish_exit. */
	int (*finish_exit)(void *m, struct vmm_error *err);
};

/* The fast search's state (fastsearch.c). */
#define REPLAY_FAST_LEARN_HITS 3      /* hits watched before an estimate */
enum replay_fast_phase {
	REPLAY_FAST_OFF,        /* plain hits */
	REPLAY_FAST_LEARN,      /* plain hits, watching the registers */
	REPLAY_FAST_RUN,        /* the next entry free-runs until the kick */
	REPLAY_FAST_APPROACH,   /* breakpoint armed; a hit says how far */
};

/* What the fast search learnt about the loop through one searched rip:
 * its counter register and step, and the host time per pass. A cache: it
 * only chooses which hits are skipped (fastsearch.c). */
#define REPLAY_FAST_LOOPS 1024          /* direct-mapped by rip */
struct replay_fast_loop {
	uint64_t rip;                   /* 0: empty */
	unsigned reg;
	int64_t step;
	double ns_per_pass;             /* 0 before the first measurement */
};

struct replay_fast {
	enum replay_fast_phase phase;
	bool disabled;                  /* replay_options.plain_search */
	uint64_t target[REPLAY_GPRS];   /* the point's registers (POLL_REGS) */
	uint64_t obs[REPLAY_FAST_LEARN_HITS][REPLAY_GPRS]; /* at the last hits */
	unsigned nobs;
	unsigned reg;                   /* the counter and its step per hit */
	int64_t step;
	int64_t snap_left;              /* passes to go at the snapshot */
	int64_t run_from;               /* passes to go when the stretch began */
	uint64_t run_ns, run_start, run_took;
	uint64_t run_cpu0, run_cpu;     /* this thread's CPU time in the stretch */
	double ns_per_pass;             /* measured; 0 before the first */
	bool after_run;                 /* the next hit ends a stretch */
	unsigned rollbacks_here, runs_here;
	uint64_t run_goal;              /* passes the stretch aims at */
	bool live;                      /* a snapshot is held */
	uint64_t snap_exits;            /* the machine's exit count in it */
	bool probing;                   /* clock reads take nothing from the log */
	void *snap;
	void *rstate;
	size_t rstate_len;
	uint64_t saved_mute;
	struct replay_fast_loop loops[REPLAY_FAST_LOOPS];
	struct replay_fast_loop *loop;  /* this point's rip's, or NULL */
};

/* One event read ahead, copied out of the reader (which reuses its
 * storage), with the log position where it starts. */
struct replay_lookahead {
	struct replay_event ev;
	enum replay_log_status status;
	struct replay_log_pos pos;
	uint8_t bytes[REPLAY_SERIAL_IN_MAX];
	uint64_t *pages;
	/* A POLL_ASYNC preceded by POLL_REGS (log version 2) carries the
	 * registers here; pos is then where the POLL_REGS starts. */
	bool has_regs;
	unsigned extra;                 /* POLL_REGS events folded in */
	uint64_t gpr[16];
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
	/* replay_stop_before_search: one stop, at the boundary where the
	 * search for an asynchronous point would begin. */
	bool stop_before_search;
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
	struct replay_fast fast;
	int fast_failed;                /* a restore failed: -errno */
	char fast_error[256];
};

/* ---- internal invariants ------------------------------------------------ */

/* VMM_CHECK (vmm.h) for the replayer's own invariants: the machine's state
 * (none when the machine is the unit tests' fake), then where the replay
 * is (replay_check_context). */
#define REPLAY_CHECK(r, cond, ...)                                                      \
	do {                                                                            \
		if (__builtin_expect(!(cond), 0))                                       \
			vmm_check_fail((r)->vm, replay_check_context, (r), __FILE__, __LINE__, \
				       __func__, #cond, __VA_ARGS__);                   \
	} while (0)
/* Print the replay's position for a failed check (ctx: the replay): the
 * machine's exit count, the events consumed, the next event, the search. */
void replay_check_context(void *ctx, FILE *f);

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
/* The registers the recording logged for the next event (a POLL_ASYNC
 * of a version 2 log), or NULL. */
const uint64_t *replay_q_regs(struct replay *r);
/* The next event is done with (the observer sees it now). */
void replay_q_consume(struct replay *r);
/* What the log holds next, in words, for messages. */
void replay_q_describe_next(struct replay *r, char *buf, size_t len);
/* Where the next unconsumed event starts in the log. */
void replay_q_position(struct replay *r, struct replay_log_pos *pos);
/* Forget what was read ahead and read on from pos. 0 or -errno. */
int replay_q_seek(struct replay *r, const struct replay_log_pos *pos) VMM_MUST_CHECK;

/* ---- the fast search (stride.c, fastsearch.c) ---------------------------- */

/* Passes still to go by register reg of step `step`: false unless the
 * difference to the target is a whole number of steps. */
bool replay_stride_remaining(const uint64_t now[REPLAY_GPRS], const uint64_t target[REPLAY_GPRS],
			     unsigned reg, int64_t step, int64_t *left);
/* From the registers at nobs (2 or more) consecutive hits, obs[0] the
 * first: a register with the same nonzero step between all of them, its
 * step and the passes left to the target (the nearest such estimate, at
 * most max). False if there is none, or if such a register says the
 * point is behind. */
bool replay_stride_learn(const uint64_t (*obs)[REPLAY_GPRS], unsigned nobs,
			 const uint64_t target[REPLAY_GPRS], int64_t max, unsigned *reg,
			 int64_t *step, int64_t *left);

/* A search begins (the next event is its POLL_ASYNC) / found its point. */
void replay_fast_begin(struct replay *r);
void replay_fast_end(struct replay *r);
void replay_fast_free(struct replay *r);
/* An unmatched hit at the searched rip: true if the fast search took the
 * next step over (no plain step-over then). */
bool replay_fast_hit(struct replay *r);
/* The next entry runs without the search breakpoint. */
bool replay_fast_running(const struct replay *r);
/* Around the machine's step: arms the kick; after it, true if the event
 * was the fast search's own (the replayer ignores it). */
int replay_fast_before_step(struct replay *r) VMM_MUST_CHECK;
bool replay_fast_after_step(struct replay *r, const struct vmm_event *ev);
/* Back to a state the replay saw itself (before a stop from outside). */
void replay_fast_abandon(struct replay *r);

#endif
