/*
 * cmd_record.c — `rrvm record`: run a guest live and record everything that
 * enters it into a recording directory.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/guest.h"
#include "replay/replay.h"

static void usage(void)
{
	printf("Usage: rrvm record -o DIR [--chaos[=SEED]] [OPTIONS] KERNEL [-- ARGS...]\n"
	       "Run KERNEL like 'rrvm run' and record every input that enters it (clock reads,\n"
	       "serial input, interrupt points) into the new directory DIR, for 'rrvm replay'.\n"
	       "The exit status is the guest's, as with 'rrvm run'.\n\nOptions:\n"
	       "  -o, --output DIR       the recording directory (must not exist, or be empty)\n"
	       "      --chaos[=SEED]     perturb timer delivery at random to shake out races;\n"
	       "                         the seed (random if not given) goes into the manifest\n"
	       CLI_GUEST_OPTS_HELP);
}

static void stop_live(void *ctx)
{
	vmm_live_request_stop(ctx);
}

static uint64_t random_seed(void)
{
	uint64_t seed = 0;
	FILE *f = fopen("/dev/urandom", "rb");

	if (!f || fread(&seed, sizeof(seed), 1, f) != 1)
		seed = vmm_clock_host(NULL, VMM_CLOCK_REALTIME) ^ (uint64_t)getpid();
	if (f)
		fclose(f);
	return seed % 1000000000u;      /* short enough to type back in */
}

int cli_cmd_record(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, 0, 'o' },
		{ "chaos", optional_argument, 0, 'C' },
		CLI_GUEST_LONGOPTS, { 0, 0, 0, 0 }
	};
	struct cli_guest_opts o;
	struct replay_record_options ro = { .poll_latency_ns = CLI_POLL_LATENCY_NS };
	struct replay_recorder *rec = NULL;
	struct replay_manifest m;
	struct vmm *vm = NULL;
	struct vmm_live *live = NULL;
	struct vmm_live_result res;
	struct vmm_error err = { "" };
	int c, rc, in_fd = -1;
	char *end;

	cli_guest_opts_init(&o);
	optind = 1;
	while ((c = getopt_long(argc, argv, "+o:qvh", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage();
			return 0;
		case 'o':
			ro.dir = optarg;
			continue;
		case 'C':
			ro.chaos = true;
			ro.chaos_seed = optarg ? strtoull(optarg, &end, 10) : random_seed();
			if (optarg && (*end || end == optarg))
				return cli_usage_error("record", "--chaos=%s: the seed must be a number",
						       optarg);
			continue;
		case '?':
			return cli_usage_error("record", "bad option");
		}
		rc = cli_guest_opt(&o, c, optarg);
		if (rc)
			return rc;
	}
	if (!ro.dir)
		return cli_usage_error("record", "missing -o DIR");
	rc = cli_guest_operands(&o, "record", argc, argv, optind);
	if (rc)
		return rc;
	if (o.gdb) {
		rc = cli_usage_error("record", "--gdb is for 'rrvm run' and 'rrvm replay'");
		goto out;
	}
	in_fd = cli_guest_open_input(&o);
	if (in_fd < 0) {
		rc = CLI_EXIT_USAGE;
		goto out;
	}
	ro.kernel = o.kernel;
	ro.cmdline = o.cmdline;
	ro.mem_size = o.mem_size;
	ro.trace_io = o.trace_io;
	if (replay_recorder_create(&ro, &rec, &vm, &err)) {
		cli_msg("%s", err.msg);
		rc = CLI_EXIT_USAGE;
		goto out;
	}
	{
		struct vmm_live_options lo = {
			.serial_in_fd = in_fd,
			.timeout_ns = (uint64_t)(o.timeout * 1e9),
			.poll_latency_ns = ro.poll_latency_ns,
			.chaos = ro.chaos,
			.chaos_seed = ro.chaos_seed,
			.defer_cpl3 = true,
		};
		struct vmm_live_hooks hooks = replay_recorder_hooks(rec);
		if (vmm_live_create(vm, &lo, &hooks, &live, &err)) {
			cli_msg("%s", err.msg);
			rc = 1;
			goto out;
		}
	}
	replay_recorder_attach(rec, live);
	if (!o.quiet && ro.chaos)
		cli_msg("chaos mode, seed %" PRIu64, ro.chaos_seed);
	cli_on_interrupt(stop_live, live);
	if (vmm_live_run(live, &res, &err)) {
		cli_msg("%s", err.msg);
		res.reason = VMM_STOP_ERROR;
	}
	rc = cli_guest_report(vm, &res, &o);
	if (replay_recorder_finish(rec, &res, &m, &err)) {
		cli_msg("recording %s is incomplete: %s", ro.dir, err.msg);
		rc = 1;
		goto out;
	}
	if (!o.quiet)
		cli_msg("recorded %" PRIu64 " events, %" PRIu64 " exits to %s (guest %s, status %d)",
			m.events, m.exits, ro.dir, m.result, m.exit_status);
	if (o.verbose)
		cli_msg("final state hash 0x%016" PRIx64, m.state_hash);
out:
	cli_on_interrupt(NULL, NULL);
	if (in_fd > STDIN_FILENO)
		close(in_fd);
	vmm_live_destroy(live);
	vmm_destroy(vm);
	replay_recorder_free(rec);
	cli_guest_opts_free(&o);
	return rc;
}
