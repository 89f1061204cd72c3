/*
 * replay.h — recording and replaying a guest.
 *
 * A recording is a directory (DESIGN.md): manifest, kernel, events.lz4.
 * The recorder is a set of hooks on vmm's live driver plus a clock that
 * logs every value it returns; the replayer is a driver of its own that
 * runs the same machine, feeds back the logged clock values and serial
 * input, and finds each asynchronous poll point by exit count, hardware
 * breakpoint and state fingerprint. Both sides compute the same running
 * checksum of synchronous exits, so the replay stops at the first
 * divergence and says where.
 */
#ifndef RRVM_REPLAY_H
#define RRVM_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "replay/eventlog.h"
#include "vmm/vmm.h"

#define REPLAY_FORMAT_VERSION 2         /* of the recording directory (manifest) */
#define REPLAY_FORMAT_VERSION_MIN 1     /* the oldest this rrvm still reads */
/* The oldest format whose machine this rrvm reproduces. Format 1 was
 * recorded on the machine of rrvm 0.1 (8259/8254 only, the Multiboot
 * information at a fixed address, x2APIC hidden, MXCSR not fingerprinted):
 * its manifest still reads (index metadata, messages), its replay would
 * diverge, so replay refuses it by version. Raise this with any change to
 * what the guest sees or to the fingerprint. */
#define REPLAY_MACHINE_VERSION_MIN 2
#define REPLAY_CHECKSUM_EVERY 1024      /* exits between CHECKSUM events */

/* Exit statuses a replay adds to DESIGN.md's list. */
#define REPLAY_EXIT_DIVERGED 3
#define REPLAY_EXIT_TRUNCATED 5
/* `rrvm record`: the recording could not be written completely (disk full,
 * directory removed); even, so no guest status (V << 1) | 1 can be it. */
#define REPLAY_EXIT_INCOMPLETE 6

void replay_sha256(const void *data, size_t len, char hex[65]);
/* The same, fed in pieces. */
struct replay_sha256_ctx {
	uint32_t h[8];
	uint64_t len;
	uint8_t buf[64];
	size_t used;
};
void replay_sha256_init(struct replay_sha256_ctx *c);
void replay_sha256_update(struct replay_sha256_ctx *c, const void *data, size_t len);
void replay_sha256_final(struct replay_sha256_ctx *c, char hex[65]);

/* ---- the manifest ------------------------------------------------------ */

#define REPLAY_KERNEL_PATH_MAX 4095     /* bytes: PATH_MAX less the NUL */
#define REPLAY_CMDLINE_MAX 32767        /* bytes: above what the loader accepts */

struct replay_manifest {
	int format_version;
	int log_version;
	char rrvm_version[32];
	/* Text fields hold any byte but NUL; the recorder refuses a value that
	 * does not fit, and so does the reader. */
	char kernel[REPLAY_KERNEL_PATH_MAX + 1];  /* the path the kernel was recorded from */
	char kernel_sha256[65];
	char cmdline[REPLAY_CMDLINE_MAX + 1];
	uint64_t mem_size;
	char cpuid_policy[128];
	bool chaos;
	uint64_t chaos_seed;
	uint64_t poll_latency_ns;
	/* Filled at the end of the recording ("running" until then). */
	char result[32];                /* vmm_stop_reason_name, or "running" */
	int exit_status;
	uint32_t exit_value;
	uint64_t exits;
	uint64_t events;
	uint64_t state_hash;
};

/* Write DIR/manifest atomically (temporary file, fsync, rename). */
int replay_manifest_write(const char *dir, const struct replay_manifest *m,
			  struct vmm_error *err) VMM_MUST_CHECK;
/* Read and check DIR/manifest: unknown versions are refused by name, and
 * so are values that do not fit their field, repeated keys, a manifest
 * that is not a regular file. */
int replay_manifest_read(const char *dir, struct replay_manifest *m,
			 struct vmm_error *err) VMM_MUST_CHECK;
/* Every "key: value" line of DIR/manifest in file order, the value decoded
 * (format 2 escapes), blank lines skipped; the first must be the format
 * version, which must be one this rrvm reads. fn returns 0 to go on or
 * -errno (having set err) to stop; that is what this returns. */
typedef int (*replay_manifest_line_fn)(void *ctx, const char *key, const char *value,
				       unsigned lineno, struct vmm_error *err);
int replay_manifest_each(const char *dir, replay_manifest_line_fn fn, void *ctx,
			 struct vmm_error *err) VMM_MUST_CHECK;

/* ---- positions ----------------------------------------------------------
 * A position in a recording: `exits` synchronous exits since reset, then
 * `steps` raw units of execution after the boundary right after that exit
 * (where replay_stop_at(exits) stops): an instruction, an interrupt's
 * entry, a HLT run to its exit. Positions are totally ordered (exits,
 * then steps); the end of a recording is (its exit count, 0). Written
 * "E" (steps 0: the boundary, the same number as an exit count) or "E+N",
 * by replay_pos_format only, and read back by replay_pos_parse. */
struct replay_pos {
	uint64_t exits, steps;
};
#define REPLAY_POS_STRLEN 44
/* Writes p into buf and returns buf. */
const char *replay_pos_format(struct replay_pos p, char buf[REPLAY_POS_STRLEN]);
/* "E" or "E+N", decimal, nothing else (no sign, no blanks): 0 or -EINVAL. */
int replay_pos_parse(const char *s, struct replay_pos *p) VMM_MUST_CHECK;
/* <0, 0, >0 as a is before, at or after b. */
int replay_pos_cmp(struct replay_pos a, struct replay_pos b);
/* The position at exit count e (its boundary). */
#define REPLAY_POS_AT(e) ((struct replay_pos){ .exits = (e), .steps = 0 })

/* ---- fingerprints of a point in the execution ------------------------- */

/* The general registers rax..r15 as an array, in struct vmm_regs order:
 * what POLL_REGS logs (replay/stride.c). */
#define REPLAY_GPRS 16
void replay_stride_regs(const struct vmm_regs *r, uint64_t gpr[REPLAY_GPRS]);
/* Hash of the general registers, rip and rflags: the cheap first test. */
uint64_t replay_fp_regs(const struct vmm_regs *r);
/* Hash of everything else that defines the future: segment and control
 * registers, x87/SSE state, and the contents of the pages in the dirty
 * bitmap (pages written since the previous poll), whose frame numbers are
 * stored in pages (at most max; *npages gets the count). */
int replay_fp_rest(struct vmm *vm, const uint64_t *dirty, size_t words, uint64_t *pages,
		   uint32_t max, uint32_t *npages, uint64_t *hash) VMM_MUST_CHECK;

/* The running checksum of synchronous exits. */
uint64_t replay_checksum_add(uint64_t sum, const struct vmm_event *ev);
bool replay_event_is_sync(const struct vmm_event *ev);
/* The exit count at which this step's injection happened (on entry). */
uint64_t replay_inject_exits(const struct vmm_event *ev);

/* ---- recorder ------------------------------------------------------------ */

struct replay_recorder;

struct replay_record_options {
	const char *dir;
	const char *kernel;             /* path as the user gave it */
	const char *cmdline;
	uint64_t mem_size;
	bool chaos;
	uint64_t chaos_seed;
	uint64_t poll_latency_ns;
	bool trace_io;
	struct vmm_output output;       /* NULL write: serial to stdout */
};

/* Create DIR (which must not exist or be empty), copy the kernel into it,
 * write the manifest, open the log and create the machine from DIR/kernel.
 * *vm is the machine to run with the hooks and clock below. */
int replay_recorder_create(const struct replay_record_options *o, struct replay_recorder **out,
			   struct vmm **vm, struct vmm_error *err) VMM_MUST_CHECK;
/* Delete the files a recording directory holds (and the directory, if
 * that leaves it empty): what `rrvm capture` does with passing runs. */
void replay_recording_remove(const char *dir);
/* Hooks for vmm_live_create, and the logging clock that must wrap the
 * live clock (call after vmm_live_create). */
struct vmm_live_hooks replay_recorder_hooks(struct replay_recorder *rec);
void replay_recorder_attach(struct replay_recorder *rec, struct vmm_live *live);
/* Log the end, close the log, finish the manifest. Returns the manifest. */
int replay_recorder_finish(struct replay_recorder *rec, const struct vmm_live_result *res,
			   struct replay_manifest *m, struct vmm_error *err) VMM_MUST_CHECK;
void replay_recorder_free(struct replay_recorder *rec);

/* ---- packed recordings (pack.c; the format is in FORMAT.md) ------------ */

/* One file that holds a recording's manifest, kernel and events.lz4: an
 * LZ4 frame around a small archive with the size and SHA-256 of each. */
#define REPLAY_PACK_VERSION 1
#define REPLAY_PACK_MAX_FILE (1ull << 32)       /* bytes in one packed file */

/* Write DIR's recording to path (a temporary file renamed into place). */
int replay_pack(const char *dir, const char *path, struct vmm_error *err) VMM_MUST_CHECK;
/* Unpack path into the directory dest (which must exist, be empty and be
 * private to the caller: mkdtemp). Only the three files of a recording are
 * accepted, each once, by plain name, of at most REPLAY_PACK_MAX_FILE
 * bytes, matching its SHA-256, with nothing after the end; anything else
 * is refused with a message naming the file and what is wrong, and the
 * files written so far are removed. */
int replay_unpack(const char *path, const char *dest, struct vmm_error *err) VMM_MUST_CHECK;

/* ---- replayer ------------------------------------------------------------ */

enum replay_stop {
	REPLAY_STOP_END,        /* the recording's end was reached and matched */
	REPLAY_STOP_DIVERGED,   /* msg says where and what differed */
	REPLAY_STOP_TRUNCATED,  /* the log ended early; replayed up to its last event */
	REPLAY_STOP_CORRUPT,    /* the log is damaged */
	REPLAY_STOP_DEBUG,      /* a breakpoint, watchpoint or single step (gdb) */
	REPLAY_STOP_INTERRUPTED,/* replay_interrupt() */
	REPLAY_STOP_POSITION,   /* reached the exit count set with replay_stop_at() */
	REPLAY_STOP_ERROR,      /* a host failure */
};
const char *replay_stop_name(enum replay_stop s);

struct replay_result {
	enum replay_stop stop;
	char msg[768];
	uint64_t exits;                 /* where the replay stopped */
	uint64_t events;                /* events consumed */
	struct vmm_event ev;            /* the last machine event */
	int exit_status;                /* for END: the recorded guest status */
	uint64_t state_hash;            /* for END: the replay's final state */
};

struct replay_stats {
	uint64_t async_points;          /* asynchronous polls found */
	uint64_t bp_hits;               /* breakpoint hits spent finding them */
	uint64_t bp_hits_max;           /* the most for one point */
	uint64_t fp_full_checks;        /* hits whose registers matched */
	/* The fast search (replay/fastsearch.c): */
	uint64_t snapshots;             /* points searched from a snapshot */
	uint64_t free_runs;             /* timed stretches without the breakpoint */
	uint64_t rollbacks;             /* restores of that snapshot */
};

struct replay_options {
	bool trace_io;
	struct vmm_output output;       /* NULL write: serial to stdout */
	/* Optional: names guest addresses in divergence messages
	 * ("name+0x12"); returns 0 when it found a name. */
	int (*symbolize)(void *ctx, uint64_t addr, char *buf, size_t len);
	void *symbolize_ctx;
	/* Search every point with breakpoint hits only, never free-running
	 * (replay/fastsearch.c): for comparisons. */
	bool plain_search;
};

struct replay;
int replay_open(const char *dir, const struct replay_options *o, struct replay **out,
		struct vmm_error *err) VMM_MUST_CHECK;
void replay_close(struct replay *r);
struct vmm *replay_vm(struct replay *r);
const struct replay_manifest *replay_manifest(const struct replay *r);
/* Run until the end of the recording, a divergence, or a debug stop. */
int replay_run(struct replay *r, struct replay_result *res) VMM_MUST_CHECK;
/* Make replay_run return REPLAY_STOP_POSITION as soon as the guest has made
 * `exits` synchronous exits (right after that exit, before any poll there).
 * UINT64_MAX (the default) for never. */
void replay_stop_at(struct replay *r, uint64_t exits);
/*
 * Make replay_run return REPLAY_STOP_POSITION once, right before it would
 * begin the search for the next asynchronous point of the log (at the
 * boundary after that point's exit, the polls logged there done): the
 * trace database counts the raw units from there to the point (false:
 * no such stop, the default). The setting is dropped when it stops.
 */
void replay_stop_before_search(struct replay *r, bool on);
/* Will the replay, before the next synchronous exit, still find an
 * asynchronous point of the log or inject a logged interrupt (it is
 * searching, or the next event is a POLL_ASYNC or INJECT at the current
 * exit count)? */
bool replay_async_ahead(struct replay *r);
/* Make a running replay_run return REPLAY_STOP_INTERRUPTED (any thread). */
void replay_interrupt(struct replay *r);
void replay_get_stats(const struct replay *r, struct replay_stats *st);
/* Watching a replay (the trace database does): every machine step after the
 * replayer has checked it, and every log event as the replay consumes it
 * (with the exit count at that moment). Either may be NULL. */
struct replay_observer {
	void *ctx;
	void (*on_step)(void *ctx, struct vmm *vm, const struct vmm_event *ev);
	void (*on_log)(void *ctx, const struct replay_event *ev, uint64_t exits);
};
/* One observer per replay: -EBUSY if another is set (NULL removes it). */
int replay_set_observer(struct replay *r, const struct replay_observer *o) VMM_MUST_CHECK;

/*
 * The replayer's state: everything that decides its future apart from the
 * machine (the position in the log, the running checksum, the last clock
 * values, the state of a fingerprint search, the pages written since the
 * last poll). A snapshot of the machine taken at the same moment plus this
 * state is a checkpoint: restore both and the replay goes on exactly as it
 * did from there. Plain bytes, replay_state_size() of them, meaningful to
 * a replay of the same recording by the same rrvm build. The debugger's
 * settings (replay_set_debug, replay_stop_at, observer) are not part of it.
 * Save: 0, or -ENOSPC when len is too small, -errno from the machine.
 * Restore (after the machine's own restore): 0, or -EINVAL with a message
 * in err for bytes that are not such a state, or a log position the log
 * does not have.
 */
size_t replay_state_size(const struct replay *r);
int replay_state_save(struct replay *r, void *buf, size_t len, struct vmm_error *err)
	VMM_MUST_CHECK;
int replay_state_restore(struct replay *r, const void *buf, size_t len, struct vmm_error *err)
	VMM_MUST_CHECK;

/* The debug register (DR0-DR3) the replayer keeps for itself, to find
 * asynchronous points; a debugger gets the others. */
#define REPLAY_SEARCH_SLOT 3
/* Debug registers and single-step wanted by a debugger (gdb); the replayer
 * merges them with its own use of one hardware breakpoint (-ENOSPC if dbg
 * uses REPLAY_SEARCH_SLOT). */
int replay_set_debug(struct replay *r, const struct vmm_debug *dbg) VMM_MUST_CHECK;
/*
 * Where the handler of interrupt vector `vector` starts, for a debugger's
 * single step whose entry injects an interrupt (the debugger reads the IDT
 * through the guest's page tables): 0 and *addr, or -errno. Stepping
 * through an injection would make KVM push RFLAGS.TF into the guest's
 * interrupt frame and the replay would diverge, so that entry runs without
 * the single step, to a breakpoint at the handler; the step ends there as
 * a single-step stop (DR6.BS) before the handler's first instruction.
 * Without a lookup (or when it fails) such a step runs on instead, like a
 * continue.
 */
void replay_set_handler_lookup(struct replay *r,
			       int (*lookup)(void *ctx, int vector, uint64_t *addr), void *ctx);

#endif
