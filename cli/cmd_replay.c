/*
 * cmd_replay.c — `rrvm replay`: re-execute a recording, checking it as it
 * goes, with the guest's serial output on stdout as when it was recorded.
 */
#include <errno.h>
#include <getopt.h>
#include <string.h>
#include <unistd.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "debug/debug.h"
#include "introspect/introspect.h"
#include "replay/replay.h"

static int symbolize(void *ctx, uint64_t addr, char *buf, size_t len)
{
	return introspect_symtab_symbolize(ctx, addr, buf, len);
}

static void usage(void)
{
	printf("Usage: rrvm replay [OPTIONS] [--gdb[=ADDR]] DIR|FILE\n"
	       "Re-execute the recording in DIR exactly: the same serial output, the same exit\n"
	       "status, the same final state, with no access to the original kernel, input or\n"
	       "clock. The first difference from the recording stops the replay. A FILE made\n"
	       "by 'rrvm pack' is unpacked (checked) into a private temporary directory first.\n\n"
	       "Options:\n"
	       "      --gdb[=ADDR]  serve gdb on ADDR (default 127.0.0.1:1234; HOST:PORT, :PORT or\n"
	       "                    unix:PATH) and wait for it before the first instruction; gdb\n"
	       "                    then breaks, steps and continues through the replay (forward\n"
	       "                    only; register and memory writes are refused). `--gdb ADDR DIR`\n"
	       "                    works too\n"
	       "  -v, --verbose   print the final state hash and replay statistics (with --gdb:\n"
	       "                  also each continue)\n"
	       "  -q, --quiet     no messages from rrvm itself\n"
	       "  -h, --help      show this help and exit\n\n"
	       "Exit status: the recorded guest's status when the replay matches it; 3 when the\n"
	       "replay diverged; 5 when the recording is truncated (replayed up to its end);\n"
	       "2 for a missing or damaged recording.\n");
}

/*
 * A packed recording (rrvm pack: a file, not a directory) is unpacked into
 * a private temporary directory (mode 0700, removed afterwards) and
 * replayed from there; replay_unpack refuses anything unsafe. *dir is the
 * directory to replay. 0, or the exit status after a message.
 */
static int unpack_if_packed(const char *arg, char *tmp, size_t len, const char **dir)
{
	struct vmm_error err = { "" };
	const char *base = getenv("TMPDIR");
	struct stat st;

	*dir = arg;
	*tmp = '\0';
	if (stat(arg, &st) < 0 || !S_ISREG(st.st_mode))
		return 0;
	snprintf(tmp, len, "%s/rrvm-replay.XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(tmp)) {
		cli_msg("%s: %s", tmp, strerror(errno));
		*tmp = '\0';
		return 1;
	}
	if (replay_unpack(arg, tmp, &err)) {
		cli_msg("%s", err.msg);
		rmdir(tmp);
		*tmp = '\0';
		return CLI_EXIT_USAGE;
	}
	*dir = tmp;
	return 0;
}

static void stop_replay(void *ctx)
{
	replay_interrupt(ctx);
}

static void log_msg(void *ctx, const char *msg)
{
	cli_msg("%s", msg);
}

/* SIGINT/SIGTERM to rrvm: stop a replay running for gdb; while gdb holds
 * it, end. */
static void stop_debug(void *ctx)
{
	if (!debug_interrupt(ctx))
		_exit(130);
}

/* `replay --gdb`: serve gdb; *r becomes the replay the core ends with
 * (gdb's `run` opens the recording again). 0 with *res, or an exit status. */
static int replay_gdb(struct replay **r, const char *dir, const struct replay_options *ro,
		      const char *addr, bool quiet, bool verbose, struct replay_result *res,
		      struct replay_stats *st)
{
	struct debug_replay_config c = {
		.r = *r, .dir = dir, .ropts = ro, .addr = addr, .quiet = quiet,
		.verbose = verbose, .log = log_msg,
	};
	struct debug *d;
	enum debug_end end;

	if (debug_create_replay(&c, &d)) {
		cli_msg("gdb: out of memory");
		return 1;
	}
	*r = NULL;              /* the core's now */
	cli_on_interrupt(stop_debug, d);
	end = debug_serve(d);
	cli_on_interrupt(NULL, NULL);
	debug_replay_result(d, res);
	replay_get_stats(debug_replay(d), st);
	debug_destroy(d);
	if (end == DEBUG_END_BAD_ADDR)
		return CLI_EXIT_USAGE;
	return end == DEBUG_END_FAILED ? 1 : 0;
}

int cli_cmd_replay(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "verbose", no_argument, 0, 'v' }, { "quiet", no_argument, 0, 'q' },
		{ "gdb", optional_argument, 0, 'g' },
		{ "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
	};
	struct replay *r = NULL;
	struct introspect_symtab *syms = NULL;
	struct replay_result res;
	struct replay_stats st;
	struct replay_options ro = { .symbolize = symbolize };
	struct vmm_error err = { "" };
	bool verbose = false, quiet = false, gdb = false;
	const char *gdb_addr = NULL, *dir;
	char unpacked[4200];
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+vqh", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage();
			return 0;
		case 'v':
			verbose = true;
			break;
		case 'q':
			quiet = true;
			break;
		case 'g':
			gdb = true;
			gdb_addr = optarg;
			break;
		default:
			return cli_usage_error("replay", "bad option");
		}
	}
	/* `--gdb ADDR DIR`: with two operands the first is the address. */
	if (gdb && !gdb_addr && argc - optind == 2)
		gdb_addr = argv[optind++];
	if (gdb && !gdb_addr)
		gdb_addr = DEBUG_DEFAULT_ADDR;
	if (optind != argc - 1)
		return cli_usage_error("replay", optind >= argc ? "missing DIR" : "too many arguments");
	rc = unpack_if_packed(argv[optind], unpacked, sizeof(unpacked), &dir);
	if (rc)
		return rc;
	{
		/* Divergence messages name the function, from the recorded
		 * kernel's symbols (none if it has no symbol table). */
		char path[4096], why[256];

		snprintf(path, sizeof(path), "%s/kernel", dir);
		if (introspect_symtab_load_file(path, &syms, why, sizeof(why)) == 0)
			ro.symbolize_ctx = syms;
		else
			ro.symbolize = NULL;
		/* For benchmarks: the search without free-running stretches. */
		ro.plain_search = getenv("RRVM_PLAIN_SEARCH") != NULL;
		if (replay_open(dir, &ro, &r, &err)) {
			cli_msg("%s", err.msg);
			rc = CLI_EXIT_USAGE;
			goto out;
		}
	}
	if (gdb) {
		rc = replay_gdb(&r, dir, &ro, gdb_addr, quiet, verbose, &res, &st);
		if (rc)
			goto out;
	} else {
		cli_on_interrupt(stop_replay, r);
		if (replay_run(r, &res)) {
			rc = 1;
			goto out;
		}
		replay_get_stats(r, &st);
	}
	switch (res.stop) {
	case REPLAY_STOP_END:
		rc = res.exit_status;
		if (verbose) {
			cli_msg("%s", res.msg);
			cli_msg("final state hash 0x%016" PRIx64, res.state_hash);
		}
		break;
	case REPLAY_STOP_DIVERGED:
		cli_msg("%s", res.msg);
		rc = REPLAY_EXIT_DIVERGED;
		break;
	case REPLAY_STOP_TRUNCATED:
		cli_msg("%s", res.msg);
		rc = REPLAY_EXIT_TRUNCATED;
		break;
	case REPLAY_STOP_CORRUPT:
		cli_msg("%s", res.msg);
		rc = CLI_EXIT_USAGE;
		break;
	case REPLAY_STOP_INTERRUPTED:
		if (!quiet)
			cli_msg("%s", res.msg);
		rc = 130;
		break;
	default:
		cli_msg("%s", res.msg);
		rc = 1;
		break;
	}
	if (verbose)
		cli_msg("asynchronous points %" PRIu64 ", breakpoint hits %" PRIu64 " (max %" PRIu64
			" for one point), full fingerprint checks %" PRIu64 ", fast searches %" PRIu64
			", free runs %" PRIu64 ", rollbacks %" PRIu64, st.async_points, st.bp_hits,
			st.bp_hits_max, st.fp_full_checks, st.snapshots, st.free_runs, st.rollbacks);
out:
	cli_on_interrupt(NULL, NULL);
	replay_close(r);
	introspect_symtab_free(syms);
	if (*unpacked)
		replay_recording_remove(unpacked);
	return rc;
}
