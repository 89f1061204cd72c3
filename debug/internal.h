/*
 * internal.h — the debugger core's private parts (see debug.h).
 *
 *   target.c   the gdb target (struct gdb_target_ops), the same for a live
 *              machine and a replay: registers, memory, breakpoints and
 *              monitor go to the shared code; resume, position and restart
 *              to the machine's half (live.c or replay.c); serving;
 *   regs.c     registers between vmm and the stub, guest memory through
 *              the introspection view with our int3s hidden;
 *   bp.c       the breakpoint table: int3s planted in guest memory (live),
 *              the debug registers, write watchpoints kept in software,
 *              and which of them a debug exit reports;
 *   wp.c       write watchpoints kept by write-protecting their pages;
 *   monitor.c  the monitor command table;
 *   ptdiff.c   `monitor pt-diff` on a recording;
 *   live.c     resume on a live guest: the interrupt-aware single step,
 *              the stepping clock, continue through the live driver;
 *   replay.c   resume on a replay;
 *   timeline.c checkpoints of a replay, positions and goto, and the moves
 *              the reverse operations are made of;
 *   rstep.c    reverse-stepi;
 *   rcont.c    reverse-continue.
 *
 * On this project's KVM backend int3 at CPL0 is not emulated: it ends in
 * a KVM internal error at the int3's address, which debug_sw_hit()
 * recognises as the breakpoint; on hardware KVM the #BP debug exit
 * (KVM_GUESTDBG_USE_SW_BP) is used. A replay never writes guest memory:
 * there, Z0 takes a debug register like Z1.
 */
#ifndef RRVM_DEBUG_INTERNAL_H
#define RRVM_DEBUG_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "debug/debug.h"
#include "gdbstub/gdbstub.h"
#include "introspect/view.h"

#define DEBUG_HW_SLOTS 4        /* x86 debug registers DR0-DR3 */
#define DEBUG_MAX_SW 256        /* software breakpoints planted at once */
#define DEBUG_DR6_BS (1ull << 14)
#define DEBUG_HLT 0xf4

/* gdb's signal numbers for a guest that crashed or a replay that died. */
#define DEBUG_SIGILL 4
#define DEBUG_SIGABRT 6
#define DEBUG_SIGSEGV 11

/* One debug register. A watchpoint wider than one register allows (or
 * unaligned) takes several; they share the Z packet's addr/len. */
struct debug_hw {
	bool used;
	enum gdb_bp_type type;  /* GDB_BP_SW: a Z0 served by a debug register */
	uint64_t addr;          /* what the debug register watches */
	unsigned len;
	uint64_t z_addr, z_len; /* the Z packet this register serves */
};

/* A write watchpoint kept by single-stepping and comparing, on hosts whose
 * debug registers do not catch data accesses (vmm_host_caps.data_bp_cpl0). */
#define DEBUG_SOFT_WATCHES 4
#define DEBUG_SOFT_WATCH_MAX 256
struct debug_soft {
	bool used;
	bool phys;              /* addr is guest-physical */
	bool mapped;            /* old[] holds the bytes (else they were unmapped) */
	bool wp;                /* kept by write-protecting its pages (wp.c) */
	uint64_t addr, len;
	uint64_t pa[2];         /* wp: where its first split bytes are, and the rest */
	uint64_t split;
	uint8_t old[DEBUG_SOFT_WATCH_MAX];
};

/* A watchpoint gdb set that this host cannot keep: refused at resume
 * (bp.c, refuse_later). */
#define DEBUG_REFUSED_MAX 4
struct debug_refused {
	bool used;
	enum gdb_bp_type type;
	uint64_t addr, len;
	char why[200];
};

/* One planted int3. */
struct debug_sw {
	uint64_t addr;          /* as gdb gave it (virtual, or physical in phys mode) */
	uint64_t gpa;           /* where the int3 byte is */
	uint8_t orig;           /* the byte it replaced */
};

/* A checkpoint of a replay (timeline.c): the machine and the replayer's
 * state at one position. boundary: pos.steps == 0 (taken right after exit
 * pos.exits, a replay stopped there by position). id: stable while it
 * lives (indices move as checkpoints come and go). cost: the bytes it
 * holds beside shared pages (snapshot state, page map, replayer state). */
struct debug_ckpt {
	uint64_t exits;
	bool boundary;
	struct replay_pos pos;
	uint64_t id;
	uint64_t cost;
	struct vmm_regs regs;
	struct vmm_snapshot *snap;
	void *rstate;
	size_t rstate_len;
};
/* Raw units from one boundary that reverse-stepi walked (rstep.c):
 * snapshots every DEBUG_CHAIN_EVERY units (the walk back to a unit replays
 * few), and the injections met on the way, by unit and the hash of the
 * registers before them. A few chains are kept, the least recently used
 * given up. */
#define DEBUG_CHAIN_EVERY 32
#define DEBUG_CHAIN_MAX 128
#define DEBUG_CHAIN_INJ 64
#define DEBUG_CHAINS 4
struct debug_chain {
	bool valid;
	uint64_t e;                     /* from the boundary after exit e */
	uint64_t stamp;                 /* last use */
	uint64_t hi;                    /* units walked: injections below it are noted */
	uint64_t len;                   /* the unit that crosses into exit e+1 is len-1 (0: not known) */
	size_t nsnap, ninj;
	struct {
		uint64_t k;
		struct debug_ckpt c;
	} snap[DEBUG_CHAIN_MAX];
	struct {
		uint64_t k, key;
	} inj[DEBUG_CHAIN_INJ];
};
/* An injection the replay made: the exit count it came after and the
 * hash of the registers before it (rstep.c's index, filled as the replay
 * goes, kept by exits). */
struct debug_inj {
	uint64_t exits, key;
};
struct debug_timeline {
	struct vmm_pagestore *ps;
	struct debug_ckpt *c;           /* by position, a boundary first among equals */
	size_t n, cap;
	uint64_t spacing;               /* exits between automatic checkpoints (0: none) */
	bool told_full, told_limit;
	uint64_t high;                  /* the furthest exit count reached */
	uint64_t limit;                 /* --checkpoint-memory, bytes */
	uint64_t next_id;
	uint64_t pin;                   /* the checkpoint a reverse operation works from (0: none) */
	uint64_t evicted;               /* checkpoints given up for the limit */
	bool busy;                      /* a reverse operation replays (no end messages) */
	/* reverse-stepi (rstep.c): the chains it walked, and the index of
	 * injections with the registers of the step before (the observer's). */
	struct debug_chain *chains;     /* DEBUG_CHAINS of them, made on first use */
	uint64_t chain_clock;
	struct debug_inj *inj;
	size_t ninj, capinj;
	bool obs_valid;
	uint64_t obs_key;
	/* The last position computed (debug_tl_position), for the state it was at. */
	bool here_valid;
	uint64_t here_exits;
	struct vmm_regs here_regs;
	struct replay_pos here;
};
struct debug {
	bool is_replay;
	struct vmm *vm;
	struct introspect_view *view;
	char *exec_file;        /* the kernel ELF gdb may read */
	const char *addr;
	bool quiet, verbose;
	debug_log_fn log;
	void *log_ctx;

	bool phys;              /* monitor phys on: m/M/X/Z0 take physical addresses */
	bool read_only;         /* a replay: refuse register and memory writes */
	bool units_only;        /* debug/units.c: forward raw units, no timeline observer */
	bool sw_in_memory;      /* Z0 plants int3 (live); else it takes a debug register */
	bool cpl3_traps;        /* the host intercepts debug events in guest user mode */
	bool data_traps;        /* debug registers catch data accesses in kernel mode */
	unsigned hw_slots;      /* debug registers gdb may use: 4 live, 3 on a replay */
	struct debug_hw hw[DEBUG_HW_SLOTS];
	struct debug_sw sw[DEBUG_MAX_SW];
	unsigned nsw;
	struct debug_soft soft[DEBUG_SOFT_WATCHES];
	struct debug_refused refused[DEBUG_REFUSED_MAX];
	/* Set while the guest runs for gdb: a SIGINT to rrvm then stops it. */
	atomic_bool running;
	/* Why the last target call failed, for gdb (gdb_target_ops.last_error). */
	char why[256], why_taken[256];
	/* gdb's Ctrl-C, for the stepping loops. */
	atomic_bool stop_req;

	/* Live. */
	struct vmm_live *live;
	int (*reboot)(void *ctx, struct vmm **vm, struct vmm_live **live);
	void *reboot_ctx;
	bool ended;                     /* exited, or crashed and reported */
	bool detached;
	bool killed;                    /* gdb's kill ended the session */
	int crash_signal;
	struct vmm_live_result end;     /* how it ended */
	/* A vector injected on an entry that a kick cut short: KVM may still
	 * hold it, to deliver at the next entry (-1: none). */
	int queued_vector;

	/* Replay. */
	struct replay *r;
	char *dir;
	const struct replay_options *ropts;
	bool at_end;                    /* the recording's end was reached */
	bool failed;                    /* diverged or damaged: cannot go on */
	bool have_result;
	struct replay_result last;      /* of the last replay_run */
	uint64_t stop_at;               /* exit count to stop at (UINT64_MAX: none) */
	uint64_t ckpt_limit;            /* --checkpoint-memory (0: the default) */
	struct debug_timeline tl;
	/* While a monitor command runs: the stub's context for its output
	 * (gdb_monitor_watch), else NULL. */
	void *mon_ctx;
};

void debug_msg(struct debug *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The guest stopped: let the view pick up page-table changes. */
void debug_stopped(struct debug *d);
/* Where the guest's handler for vector starts (introspect_view_handler). */
int debug_handler_of(struct debug *d, int vector, uint64_t *addr);

/* ---- regs.c --------------------------------------------------------------- */

int debug_read_regs(struct debug *d, struct gdb_x86_regs *regs);
/* GPRs, rip, rflags, fs_base, gs_base and cr0/2/3/4/8/efer can change;
 * a changed selector, k_gs_base or x87/SSE register is refused (-EINVAL
 * or -EOPNOTSUPP, with the reason in why) and nothing is written. */
int debug_write_regs(struct debug *d, const struct gdb_x86_regs *regs, char *why, size_t why_size);
/* Guest-virtual (physical with d->phys) memory; int3s we planted read as
 * the bytes they replaced, and writes over them update those bytes. */
int debug_read_mem(struct debug *d, uint64_t addr, void *buf, size_t len);
int debug_write_mem(struct debug *d, uint64_t addr, const void *buf, size_t len);
/* The same read at a virtual address whatever monitor phys says (code at rip). */
int debug_read_mem_virt(struct debug *d, uint64_t addr, void *buf, size_t len);
/* Is the instruction at rip a HLT? */
bool debug_at_hlt(struct debug *d, uint64_t rip);

/* ---- monitor.c -------------------------------------------------------------- */

/* Run one monitor command: the output goes to out; a failing or unknown
 * command prints a one-line reason (and the 'monitor help' hint). */
int debug_monitor(struct debug *d, const char *cmd, gdb_output_fn out, void *out_ctx);
/*
 * Around a stretch of a monitor command that runs the replay without
 * printing (a goto): on, gdb's Ctrl-C (or its next command, or its going
 * away) interrupts the replay at once; off, an interrupt that came after
 * the replay's last run is dropped. Nothing outside a monitor command.
 */
void debug_monitor_watch(struct debug *d, bool on);
/* A goto to position `to` was interrupted: say where the replay is. */
void debug_monitor_goto_interrupted(struct debug *d, const char *to, struct introspect_out *o);
/* A goto that single-steps this many units or more says so first (it takes
 * seconds: about 10-20 s per million units). */
#define DEBUG_GOTO_NOTE_STEPS 100000

/* ---- ptdiff.c ----------------------------------------------------------------- */

#define DEBUG_PTDIFF_HELP                                                                      \
	"pt-diff [--ad] POS_A POS_B  mappings added (+), removed (-) and changed (~) from\n"      \
	"                            position POS_A to POS_B of the recording; --ad: count changes\n" \
	"                            of the accessed/dirty bits too\n"
/* args: "[--ad] POS_A POS_B". Goes to each position on the timeline,
 * lists the mappings there, diffs them and comes back. 0, -EINVAL for bad
 * arguments, -ERANGE past the end, another -errno when it cannot replay. */
int debug_ptdiff(struct debug *d, const char *args, struct introspect_out *out);

/* ---- bp.c: breakpoints, watchpoints, debug exits ---------------------------- */

int debug_insert_bp(struct debug *d, enum gdb_bp_type type, uint64_t addr, uint64_t kind,
		    char *msg, size_t msg_size);
int debug_remove_bp(struct debug *d, enum gdb_bp_type type, uint64_t addr, uint64_t kind,
		    char *msg, size_t msg_size);
/* Remove every breakpoint and watchpoint (detach, run). */
void debug_remove_all(struct debug *d);
/* Debug registers for the table. Instruction breakpoints at skip_at are
 * left out (to step over them: KVM reports a hardware breakpoint again at
 * once when the vCPU resumes on it); UINT64_MAX skips nothing. */
void debug_regs_for(const struct debug *d, uint64_t skip_at, bool single_step,
		    struct vmm_debug *dbg);
/* Are the len bytes at insn (len may be short: the end of a mapping) an
 * iretq? The one place that knows its encoding. */
bool debug_insn_is_iretq(const uint8_t *insn, size_t len);
/* A single step from r over an iretq (insn: the two bytes at r->rip)
 * also stops at the address it returns to (this backend reports the step
 * one instruction late): an instruction breakpoint there in a slot of dbg
 * gdb left free. */
void debug_step_stops_after_iretq(struct debug *d, const struct vmm_regs *r,
				  const uint8_t insn[2], struct vmm_debug *dbg);
/* A breakpoint (hardware, or a planted int3) at rip? */
bool debug_bp_at(struct debug *d, uint64_t rip);
/* Put back (lift = true) or re-plant the original bytes under our int3s
 * at rip, to single-step over them. */
int debug_sw_lift(struct debug *d, uint64_t rip, bool lift) VMM_MUST_CHECK;
/* Did the guest stop on one of our int3s: an internal-error exit (this
 * backend) or a #BP debug exit (hardware KVM) at rip where we planted one? */
bool debug_sw_hit(struct debug *d, uint64_t rip);
/* Write watchpoints kept in software (when !data_traps): is there any kept
 * by single-stepping (not by protected pages); take the watched values of
 * all (at each resume: gdb may have written memory); after a step or a
 * write to a protected page, did one change (fills *stop with the
 * watchpoint and takes the new value)? */
bool debug_soft_watching(const struct debug *d);
/* A watchpoint is set that cannot be kept here: true with the reason in
 * d->why (and on stderr); the resume must be refused. */
bool debug_refusal(struct debug *d);
void debug_soft_snapshot(struct debug *d);
bool debug_soft_check(struct debug *d, struct gdb_stop *stop);
/* Which of our debug registers a debug exit reports (DR6): fills *stop
 * with a watchpoint (and its address), a breakpoint, or a finished single
 * step (stepping) and returns true; false if it is none of ours. */
bool debug_explain(struct debug *d, const struct vmm_event *ev, bool stepping,
		   struct gdb_stop *stop);

/* ---- wp.c: write watchpoints by write-protected pages ------------------- */

/* Keep w (filled but for pa/split) by protecting its pages; -errno with
 * the reason in why when it cannot be (the caller single-steps then). */
int debug_wp_keep(struct debug *d, struct debug_soft *w, char *why, size_t why_size);
/* Protect exactly the pages of the protected watchpoints now in the table. */
int debug_wp_sync(struct debug *d, char *why, size_t why_size);
/* The watched bytes of a protected watchpoint, by their physical pages. */
int debug_wp_read(struct debug *d, const struct debug_soft *w, uint8_t *buf);
/* Is any watchpoint kept by protection? Is ev a write to a protected page? */
bool debug_wp_watching(const struct debug *d);
bool debug_wp_event(const struct vmm_event *ev);
/* vmm_protect_set_translate's translator: the view's (ctx: the debug). */
int debug_wp_translate(void *ctx, uint64_t va, uint64_t *pa);

/* ---- live.c / replay.c: the machine's half ---------------------------------- */

int debug_live_resume(struct debug *d, enum gdb_resume how, struct gdb_stop *stop);
void debug_live_interrupt(struct debug *d);
void debug_live_position(struct debug *d, struct introspect_out *o);
int debug_live_restart(struct debug *d, struct gdb_stop *stop);
void debug_live_detach(struct debug *d);
/* Run the detached guest to its end. */
int debug_live_finish(struct debug *d);

int debug_replay_resume(struct debug *d, enum gdb_resume how, struct gdb_stop *stop);
/* Where a raw unit starts: the vCPU's registers and the first bytes of
 * the instruction at their rip (len of them could be read: 2, 1 at the
 * end of a mapping, 0 where rip is not mapped; the rest are 0). */
struct debug_insn {
	struct vmm_regs regs;
	uint8_t bytes[2];
	size_t len;
};
/* Read them: one register read and one page walk (debug_read_mem_virt). */
int debug_insn_read(struct debug *d, struct debug_insn *in) VMM_MUST_CHECK;
/* One raw unit of the replay (an instruction, an interrupt's entry, a HLT
 * to its exit), and gdb's stepi (interrupts run through). _from steps from
 * what the caller has read already (debug_insn_read, nothing run since). */
int debug_replay_step_raw(struct debug *d, uint64_t skip_at, struct gdb_stop *stop);
int debug_replay_step_raw_from(struct debug *d, const struct debug_insn *in, uint64_t skip_at,
			       struct gdb_stop *stop);
int debug_replay_step(struct debug *d, uint64_t skip_at, struct gdb_stop *stop);
void debug_replay_interrupt(struct debug *d);
/* Drop an interrupt the replay was given but did not meet, so that the
 * next run does not stop at once for it. Runs nothing. */
void debug_replay_drop_interrupt(struct debug *d);
void debug_replay_position(struct debug *d, struct introspect_out *o);
int debug_replay_restart(struct debug *d, struct gdb_stop *stop);
void debug_replay_detach(struct debug *d);
int debug_replay_finish(struct debug *d);

/* ---- timeline.c: checkpoints and reverse execution on a replay ------------- */

/* Exits between automatic checkpoints (see timeline.c for the measure). */
#define DEBUG_CKPT_SPACING 50
/* The memory they may hold unless --checkpoint-memory says (timeline.c). */
#define DEBUG_CKPT_MEMORY_DEFAULT DEBUG_CHECKPOINT_MEMORY_DEFAULT
/* tlpolicy.c: of n checkpoints at exits[] (ascending), the one to give up
 * when the user is at exit count here (keep[i]: never i), or -1. */
long debug_tl_victim(const uint64_t *exits, const bool *keep, size_t n, uint64_t here);
/* Bytes the timeline holds: the page store and every checkpoint's own. */
uint64_t debug_tl_bytes(struct debug *d);
/* Where the replay is: exits and raw units after that exit's boundary
 * (counted by replaying from the checkpoint before, when not known). */
int debug_tl_position(struct debug *d, struct replay_pos *p) VMM_MUST_CHECK;
/* Go to a position, either direction; on failure back to where it was,
 * with the reason in out. 0, -EINVAL (malformed), -ERANGE (not in the
 * recording), -EINTR (Ctrl-C: stays where it stopped), another -errno. */
int debug_tl_go(struct debug *d, const char *pos, struct introspect_out *o) VMM_MUST_CHECK;
/* Save where the replay is (not in the list: pt-diff's way back) and go back there. */
int debug_tl_mark(struct debug *d, struct debug_ckpt *c) VMM_MUST_CHECK;
int debug_tl_return(struct debug *d, struct debug_ckpt *c) VMM_MUST_CHECK;
void debug_tl_unmark(struct debug_ckpt *c);
/* Start the timeline: a page store and a checkpoint here (the start). */
int debug_tl_init(struct debug *d) VMM_MUST_CHECK;
void debug_tl_free(struct debug *d);
/* The exit count of the next automatic checkpoint ahead (UINT64_MAX: none),
 * and take it (the replay stopped there by position). */
uint64_t debug_tl_next_auto(struct debug *d);
void debug_tl_auto(struct debug *d);
/* monitor checkpoints / checkpoint / goto. */
int debug_tl_list(struct debug *d, struct introspect_out *o);
int debug_tl_take_cmd(struct debug *d, struct introspect_out *o);
int debug_tl_goto(struct debug *d, const char *arg, struct introspect_out *o);

/* The moves of the reverse operations (timeline.c). */
static inline bool debug_tl_regs_eq(const struct vmm_regs *a, const struct vmm_regs *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}
/* vmm_get_regs as 0 or -errno. */
int debug_tl_regs(struct debug *d, struct vmm_regs *r) VMM_MUST_CHECK;
void debug_tl_ckpt_free(struct debug_ckpt *c);
/* The index of the checkpoint with this id, or -1. */
long debug_tl_index(struct debug *d, uint64_t id);
/* Give up checkpoints (tlpolicy.c) until the timeline fits its limit. */
void debug_tl_enforce(struct debug *d);
/* A snapshot of the machine and the replayer as they are now, at pos
 * (not in the list). */
int debug_tl_snap(struct debug *d, struct replay_pos pos, struct debug_ckpt *c) VMM_MUST_CHECK;
/* A boundary checkpoint here, into the list (the replay stands right
 * after its exit). */
int debug_tl_take(struct debug *d) VMM_MUST_CHECK;
/* The boundary checkpoint at exits, if any. */
const struct debug_ckpt *debug_tl_boundary_at(struct debug *d, uint64_t exits);
/* Put the machine and the replayer back to checkpoint c. */
int debug_tl_restore(struct debug *d, const struct debug_ckpt *c) VMM_MUST_CHECK;
/* The latest checkpoint from which the boundary after exit e is reached by
 * running forward (index), or -1. */
long debug_tl_ckpt_for_boundary(struct debug *d, uint64_t e);
/* A stop that ends a walk: Ctrl-C, a failure. */
bool debug_tl_aborted(struct debug *d, const struct gdb_stop *stop);
/* Run from here (or from checkpoint id) to the boundary after exit e,
 * breakpoints off; a Ctrl-C comes back as a SIGINT stop with 0. */
int debug_tl_run_plain(struct debug *d, uint64_t e, struct gdb_stop *stop) VMM_MUST_CHECK;
int debug_tl_to_boundary(struct debug *d, uint64_t id, uint64_t e, struct gdb_stop *stop)
	VMM_MUST_CHECK;
/* gdb's stepi here (raw: one raw unit), over breakpoints at rip. */
int debug_tl_step(struct debug *d, bool raw, struct gdb_stop *stop) VMM_MUST_CHECK;
/* Remember that the replay stands at position p (its state now). */
void debug_tl_here_is(struct debug *d, struct replay_pos p);
/* The replaylog:begin stop, said once. */
void debug_tl_at_begin(struct debug *d, struct gdb_stop *stop);
/* Go to position `to` of the recording; -ERANGE when there is no such
 * unit after the boundary (d->why says why). */
int debug_tl_move(struct debug *d, struct replay_pos to, struct gdb_stop *stop) VMM_MUST_CHECK;

/* rstep.c and rcont.c. */
int debug_tl_reverse_step(struct debug *d, struct gdb_stop *stop);
int debug_tl_reverse_continue(struct debug *d, struct gdb_stop *stop);
/* rstep.c: the raw units from the boundary after exit E to (E, R), at
 * most max (-ENOENT past it or past exit E+1); a Ctrl-C comes back as a
 * SIGINT stop with 0. The replay stands there after it. */
int debug_tl_count_units(struct debug *d, uint64_t E, const struct vmm_regs *R, uint64_t max,
			 uint64_t *n, struct gdb_stop *stop) VMM_MUST_CHECK;
/* rstep.c: watch the replay for injections (debug_tl_init), and tell it
 * the machine was put back to a checkpoint (debug_tl_restore), whose
 * registers the caller may have read already (r; NULL: read them). */
int debug_tl_watch(struct debug *d) VMM_MUST_CHECK;
void debug_tl_restored(struct debug *d, const struct vmm_regs *r);
/* rstep.c: forget the chains and the index (debug_tl_free). */
void debug_tl_chain_drop(struct debug *d);
/* rstep.c: the chains' own bytes (their pages are in the page store) and
 * the index's, which count against --checkpoint-memory. */
uint64_t debug_tl_chain_bytes(const struct debug *d);
/* rstep.c: give up the chains' snapshots, keeping the index (a memory
 * limit; never while a reverse operation walks them). True if any were
 * held. */
bool debug_tl_chain_release(struct debug *d);

/* Common to both: set (or drop) the debugger's use of the view and the
 * replay's handler lookup after the machine changed. -ENOMEM or 0. */
int debug_attach_machine(struct debug *d, struct vmm *vm) VMM_MUST_CHECK;
void debug_detach_machine(struct debug *d);

#endif
