/*
 * record_run.c — one recording, start to finish: the core shared by
 * `rrvm record` and `rrvm capture`.
 *
 * A recording that could not be written completely (disk full, directory
 * removed) ends with REPLAY_EXIT_INCOMPLETE, never with a status a guest
 * could have produced: a script must not take it for a pass.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "cli/guest.h"

/* Errors that mean "the disk did not take it", as opposed to bad input. */
static bool write_failed(int rc)
{
	return rc == -ENOSPC || rc == -EDQUOT || rc == -EIO || rc == -EFBIG;
}

static void stop_live(void *ctx)
{
	vmm_live_request_stop(ctx);
}

int cli_record_run(const struct cli_guest_opts *o, struct replay_record_options *ro, int in_fd,
		   struct replay_manifest *m)
{
	struct replay_recorder *rec = NULL;
	struct vmm *vm = NULL;
	struct vmm_live *live = NULL;
	struct vmm_live_result res;
	struct vmm_error err = { "" };
	int rc;

	ro->kernel = o->kernel;
	ro->cmdline = o->cmdline;
	ro->mem_size = o->mem_size;
	ro->trace_io = o->trace_io;
	if (!ro->poll_latency_ns)
		ro->poll_latency_ns = CLI_POLL_LATENCY_NS;
	rc = replay_recorder_create(ro, &rec, &vm, &err);
	if (rc) {
		cli_msg("%s", err.msg);
		return write_failed(rc) ? REPLAY_EXIT_INCOMPLETE : CLI_EXIT_USAGE;
	}
	{
		struct vmm_live_options lo = {
			.serial_in_fd = in_fd,
			.timeout_ns = (uint64_t)(o->timeout * 1e9),
			.poll_latency_ns = ro->poll_latency_ns,
			.chaos = ro->chaos,
			.chaos_seed = ro->chaos_seed,
			.defer_cpl3 = true,
		};
		struct vmm_live_hooks hooks = replay_recorder_hooks(rec);
		if (vmm_live_create(vm, &lo, &hooks, &live, &err)) {
			cli_msg("%s; the recording %s is incomplete", err.msg, ro->dir);
			rc = REPLAY_EXIT_INCOMPLETE;
			goto out;
		}
	}
	replay_recorder_attach(rec, live);
	cli_on_interrupt(stop_live, live);
	if (vmm_live_run(live, &res, &err)) {
		cli_msg("%s", err.msg);
		res.reason = VMM_STOP_ERROR;
	}
	cli_on_interrupt(NULL, NULL);
	rc = cli_guest_report(vm, &res, o);
	if (replay_recorder_finish(rec, &res, m, &err)) {
		cli_msg("the recording %s is incomplete: %s (what was written replays up to where "
			"it ends)", ro->dir, err.msg);
		rc = REPLAY_EXIT_INCOMPLETE;
	}
out:
	vmm_live_destroy(live);
	vmm_destroy(vm);
	replay_recorder_free(rec);
	return rc;
}
