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
	       "The exit status is the guest's, as with 'rrvm run'; 2 for bad input or a DIR that\n"
	       "is taken (not empty, or another rrvm is using it); 6 when the recording could not\n"
	       "be written completely (disk full, DIR removed): what was written still replays.\n"
	       "\nOptions:\n"
	       "  -o, --output DIR       the recording directory (must not exist, or be empty)\n"
	       "      --chaos[=SEED]     perturb timer delivery at random to shake out races;\n"
	       "                         the seed (random if not given) goes into the manifest\n"
	       CLI_GUEST_OPTS_HELP);
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
	struct replay_manifest m = { .events = 0 };
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
	if (!o.quiet && ro.chaos)
		cli_msg("chaos mode, seed %" PRIu64, ro.chaos_seed);
	rc = cli_record_run(&o, &ro, in_fd, &m);
	if (!o.quiet && m.events)
		cli_msg("recorded %" PRIu64 " events, %" PRIu64 " exits to %s (guest %s, status %d)",
			m.events, m.exits, ro.dir, m.result, m.exit_status);
	if (o.verbose && m.events)
		cli_msg("final state hash 0x%016" PRIx64, m.state_hash);
out:
	if (in_fd > STDIN_FILENO)
		close(in_fd);
	cli_guest_opts_free(&o);
	return rc;
}
